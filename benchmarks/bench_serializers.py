#!/usr/bin/env python
"""serde's serializers against confluent-kafka's, on the same records, in the same run.

What is measured (issue 2, "Show: benchmarks"):

* Avro serialize     serde ``serializer("avro")``      vs ``AvroSerializer``
* Avro deserialize   serde ``deserializer("avro")``    vs ``AvroDeserializer``
* JSON serialize     serde ``serializer("json")``      vs ``JSONSerializer``   (validation on)
* JSON deserialize   serde ``deserializer("json")``    vs ``JSONDeserializer`` (validation on)
* the codec floor of each operation (issue 19), the codecs alone doing the same work on
  the same records, each adding the 5-byte frame on write / skipping it on read:
  Avro = ``cavro alone`` (cavro with its own logical types) or ``fastavro alone``
  (``schemaless_writer``/``schemaless_reader``), whichever is faster in the run;
  JSON = jsonschema-rs ``is_valid`` + ``orjson.dumps`` (write), ``orjson.loads`` +
  ``is_valid`` (read). The ``floor`` column is serde's time / the floor's.
  ``--json-slow-path`` also times serde's JSON serializer without its fast path;
  ``--avro-python-writer`` serde's Avro serializer without its C writer.

Two records (``--record``, default both): ``order``, the project's 12-field nested
``Order`` (``schemas/examples/orders.ndjson`` with ``schemas/avro/order.avsc`` and
``schemas/json/order.schema.json``: uuid, timestamp-millis, date and decimal logical types,
``format`` keywords), and ``plain``, the same 12 fields with nested items, an address,
tags and a nullable note, without logical types (a string uuid, epoch milliseconds and
days, double amounts) and with no ``format`` keyword in its JSON Schema (derived from the
order schemas by ``plain_avro_schema``/``plain_json_schema``). Records are cycled to the
batch size with distinct order ids; every implementation talks to the same in-memory
registry (``mock://``), so schema ids match. Before any
timing, serde's Avro bytes are asserted equal to ``AvroSerializer``'s, JSON frames
equal in header and equal once parsed, and decoded values equal on both sides.

Two modes per operation:

* ``batch``   - a whole batch: ``Serializer.serialize_many(records, ctx)`` for serde
  (``Deserializer.deserialize_many`` if it exists, else a list comprehension), a list
  comprehension of single calls for confluent-kafka and fastavro. Reported as
  total time / number of records.
* ``message`` - one call at a time, each timed on its own with ``perf_counter_ns``
  (the ``SerializingProducer`` / ``DeserializingConsumer`` path: ``ser(record, ctx)``).
  Reported as the median per-call latency, minus the timer's own cost.

Each measurement is repeated (``--repeats``, interleaved across implementations so that
load from neighbours hits all sides alike) and the best and the median of the repeats
are reported; ratios (peer time / serde time, so higher is better for serde) use the
best. When the slowest implementation of an operation cannot get through the whole
batch within ``--budget`` seconds per repeat, every implementation of that operation is
timed on the same shorter prefix (a multiple of the 20 example records): all sides then
hold the same number of results in memory. The ``n`` column says how many were used.

    .venv/bin/python benchmarks/bench_serializers.py            # full run, < ~60 s on 2 cores
    .venv/bin/python benchmarks/bench_serializers.py --quick    # smoke run, a few seconds
    .venv/bin/python benchmarks/bench_serializers.py --json     # machine-readable results
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import json
import os
import platform
import statistics
import sys
import time
import uuid
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import cavro  # noqa: E402
import fastavro  # noqa: E402
import jsonschema_rs  # noqa: E402
import orjson  # noqa: E402
from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer  # noqa: E402
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

import serde  # noqa: E402

AVSC = ROOT / "schemas" / "avro" / "order.avsc"
JSON_SCHEMA = ROOT / "schemas" / "json" / "order.schema.json"
EXAMPLES = ROOT / "schemas" / "examples" / "orders.ndjson"

# Issue 19 targets (issue 2 had 1.5x, 5x, 50x, 40x): peer time / serde time, batch mode.
TARGETS = {
    "avro serialize": 2.5,
    "avro deserialize": 6.0,
    "json serialize": 80.0,
    "json deserialize": 60.0,
}
# rows that are the codecs alone: the floor of an operation is the fastest of them
FLOOR_ROWS = ("codec floor", "cavro alone", "fastavro alone")
FRAME = b"\x00\x00\x00\x00\x01"  # a 5-byte frame, the length of serde's; headers are not compared


# -- records --------------------------------------------------------------------------
def load_examples() -> list[dict]:
    with EXAMPLES.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def json_records(examples: list[dict], n: int) -> list[dict]:
    """JSON-native records (ISO-8601 text, decimals as text), as in the NDJSON file."""
    out = []
    for i in range(n):
        record = dict(examples[i % len(examples)])
        record["order_id"] = 1_000_000 + i
        out.append(record)
    return out


def to_avro(record: dict) -> dict:
    """The same record with the Python types Avro's logical types take."""
    out = dict(record)
    out["order_uuid"] = uuid.UUID(record["order_uuid"])
    out["created_at"] = dt.datetime.fromisoformat(record["created_at"].replace("Z", "+00:00"))
    out["delivery_date"] = dt.date.fromisoformat(record["delivery_date"])
    out["total"] = Decimal(record["total"])
    out["items"] = [dict(item, price=Decimal(item["price"])) for item in record["items"]]
    return out


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def plain_avro_schema(order: dict) -> dict:
    """The order schema without logical types: uuid -> string, timestamp-millis -> long
    (epoch ms), date -> int (days), decimal -> double. Same 12 fields and nesting."""
    def strip(node: Any) -> Any:
        if isinstance(node, list):
            return [strip(n) for n in node]
        if not isinstance(node, dict):
            return node
        logical = node.get("logicalType")
        if logical == "decimal":
            return "double"
        if logical is not None:
            return node["type"]
        return {k: strip(v) for k, v in node.items()}

    out = strip(order)
    out["name"] = "PlainOrder"
    return out


def plain_json_schema(order: dict) -> dict:
    """The order JSON Schema with no ``format`` keyword anywhere."""
    def strip(node: Any) -> Any:
        if isinstance(node, list):
            return [strip(n) for n in node]
        if not isinstance(node, dict):
            return node
        return {k: strip(v) for k, v in node.items() if not (k == "format" and isinstance(v, str))}

    out = strip(order)
    out["title"] = "PlainOrder"
    return out


def to_plain_avro(record: dict) -> dict:
    """A JSON record in the plain Avro schema's Python types."""
    out = dict(record)
    created = dt.datetime.fromisoformat(record["created_at"].replace("Z", "+00:00"))
    out["created_at"] = (created - EPOCH) // dt.timedelta(milliseconds=1)
    out["delivery_date"] = (dt.date.fromisoformat(record["delivery_date"]) - EPOCH.date()).days
    out["total"] = float(record["total"])
    out["items"] = [dict(item, price=float(item["price"])) for item in record["items"]]
    return out


def schema_text(path: Path) -> str:
    # confluent-kafka strips schema text before registering it (``_schema_loads``), and
    # the mock registry compares texts byte for byte: strip here so both sides register
    # the very same text and get the same id (see benchmarks/README.md).
    return path.read_text(encoding="utf-8").strip()


# -- timing ---------------------------------------------------------------------------
_TIMER_COST_NS = 0


def timer_cost_ns() -> int:
    """The cost of one ``perf_counter_ns()`` pair, subtracted from per-call times."""
    clock = time.perf_counter_ns
    samples = []
    for _ in range(2000):
        t0 = clock()
        t1 = clock()
        samples.append(t1 - t0)
    return int(statistics.median(samples))


def per_msg_ns(fn: Callable[[Any, Any], Any], items: list, ctx: Any, mode: str) -> float:
    """One repeat: ns per record, for a whole batch or per single call."""
    clock = time.perf_counter_ns
    gc.collect()
    gc.disable()
    try:
        if mode == "batch":
            t0 = clock()
            fn(items, ctx)
            return (clock() - t0) / len(items)
        samples = []
        append = samples.append
        for item in items:
            t0 = clock()
            fn(item, ctx)
            append(clock() - t0)
        return max(statistics.median(samples) - _TIMER_COST_NS, 1.0)
    finally:
        gc.enable()


def records_for(impls: list, items: list, ctx: Any, budget: float, unit: int) -> int:
    """How many records every implementation of one operation is timed on: the most the
    slowest one gets through in ``budget`` seconds (a multiple of ``unit``, at most all).
    The same count for everyone, so each side keeps the same number of results alive."""
    n = len(items)
    probe = items[: min(len(items), unit * 2)]
    for _name, single, _many in impls:
        for item in probe[:unit]:  # warm caches (registry lookups, parsed schemas)
            single(item, ctx)
        t0 = time.perf_counter()
        for item in probe:
            single(item, ctx)
        per_record = (time.perf_counter() - t0) / len(probe)
        fits = int(budget / max(per_record, 1e-9))
        n = min(n, max(unit, fits - fits % unit))
    return n


def summarize(n: int, runs_ns: list[float]) -> dict:
    """Best and median of the repeats, in µs per record."""
    return {"n": n, "best_us": min(runs_ns) / 1000, "median_us": statistics.median(runs_ns) / 1000, "runs_us": [r / 1000 for r in runs_ns]}


# -- the contenders -------------------------------------------------------------------
def loop(single: Callable[[Any, Any], Any]) -> Callable[[list, Any], list]:
    def batch(items: list, ctx: Any) -> list:
        return [single(item, ctx) for item in items]

    return batch


def slow_path_json_serializer(registry: Any, json_schema: str, ctx: Any) -> Any:
    """serde's JSON serializer as it was before the fast path (issue 19): every record
    through the general path, which walks it for NaN. For before/after in one run."""
    from serde.formats import jsonschema as serde_jsonschema

    saved = serde_jsonschema._validation_refuses_nan
    serde_jsonschema._validation_refuses_nan = lambda document: False
    try:
        ser = serde.serializer("json", schema=json_schema, registry=registry)
        ser(json_records(load_examples(), 1)[0], ctx)  # builds the encoder now
    finally:
        serde_jsonschema._validation_refuses_nan = saved
    return ser


def python_writer_avro_serializer(registry: Any, avsc: str, ctx: Any, record: str) -> Any:
    """serde's Avro serializer without its C writer (the Python path of before, cavro
    behind the logical-type pass), for before/after in one run."""
    from serde.formats import _avro_fast

    saved = _avro_fast._avro_native
    _avro_fast._avro_native = None  # type: ignore[assignment]
    try:
        ser = serde.serializer("avro", schema=avsc, registry=registry)
        sample = json_records(load_examples(), 1)[0]
        ser(to_avro(sample) if record == "order" else to_plain_avro(sample), ctx)  # builds the encoder now
    finally:
        _avro_fast._avro_native = saved
    assert type(ser._by_target[(ctx.topic, False)][1]).__name__ != "Writer"
    return ser


def build(registry: Any, avsc: str, json_schema: str, json_slow_path: bool = False, record: str = "order",
          avro_python_writer: bool = False) -> dict:
    avro_ctx = SerializationContext(f"{record}s-avro", MessageField.VALUE)
    json_ctx = SerializationContext(f"{record}s-json", MessageField.VALUE)

    serde_avro_ser = serde.serializer("avro", schema=avsc, registry=registry)
    serde_avro_de = serde.deserializer("avro", registry=registry)
    serde_json_ser = serde.serializer("json", schema=json_schema, registry=registry)
    serde_json_de = serde.deserializer("json", registry=registry)
    conf_avro_ser = AvroSerializer(registry, avsc)
    conf_avro_de = AvroDeserializer(registry)
    conf_json_ser = JSONSerializer(json_schema, registry)
    conf_json_de = JSONDeserializer(None, schema_registry_client=registry)

    parsed = fastavro.parse_schema(json.loads(avsc))
    writer, reader = fastavro.schemaless_writer, fastavro.schemaless_reader

    def fastavro_write(record: Any, _ctx: Any) -> bytes:
        buffer = io.BytesIO()
        buffer.write(FRAME)  # the frame, as every serializer writes (and the JSON floor)
        writer(buffer, parsed, record)
        return buffer.getvalue()

    def fastavro_read(data: bytes, _ctx: Any) -> Any:
        return reader(io.BytesIO(data[5:]), parsed)  # the payload after the 5-byte frame

    # cavro alone, with its own logical types, returning what fastavro returns (dicts,
    # UUID objects): the other Avro floor; the faster of the two is the floor
    cavro_schema = cavro.Schema(json.loads(avsc), options=cavro.Options(record_decodes_to_dict=True, return_uuid_object=True))
    cavro_encode, cavro_decode = cavro_schema.binary_encode, cavro_schema.binary_decode

    def cavro_write(record: Any, _ctx: Any) -> bytes:
        return FRAME + cavro_encode(record)

    def cavro_read(data: bytes, _ctx: Any) -> Any:
        return cavro_decode(data[5:])

    # The JSON codec floor: what jsonschema-rs and orjson cost alone on the same record,
    # plus the 5-byte frame every serializer adds. The frame is not only fair: a batch
    # that keeps orjson's own bytes alive is 2-3 µs a record slower (orjson's buffers are
    # oversized), while a concatenation gives compact copies and frees them.
    json_validator = jsonschema_rs.validator_for(json.loads(json_schema))
    is_valid, dumps = json_validator.is_valid, orjson.dumps
    loads = orjson.loads

    def json_floor(record: Any, _ctx: Any) -> bytes:
        if not is_valid(record):
            raise ValueError("invalid record")
        return FRAME + dumps(record)

    def json_read_floor(data: bytes, _ctx: Any) -> Any:
        value = loads(data[5:])
        if not is_valid(value):
            raise ValueError("invalid record")
        return value

    def serde_batch_de(de: Any) -> Callable:
        many = getattr(de, "deserialize_many", None)
        return (lambda items, ctx: many(items, ctx)) if many is not None else loop(de)

    contenders = {
        "avro_ctx": avro_ctx,
        "json_ctx": json_ctx,
        # operation -> [(implementation, single call, batch call)]
        "avro serialize": [
            ("serde", serde_avro_ser, serde_avro_ser.serialize_many),
            ("confluent-kafka", conf_avro_ser, loop(conf_avro_ser)),
            ("cavro alone", cavro_write, loop(cavro_write)),
            ("fastavro alone", fastavro_write, loop(fastavro_write)),
        ],
        "avro deserialize": [
            ("serde", serde_avro_de, serde_batch_de(serde_avro_de)),
            ("confluent-kafka", conf_avro_de, loop(conf_avro_de)),
            ("cavro alone", cavro_read, loop(cavro_read)),
            ("fastavro alone", fastavro_read, loop(fastavro_read)),
        ],
        "json serialize": [
            ("serde", serde_json_ser, serde_json_ser.serialize_many),
            ("confluent-kafka", conf_json_ser, loop(conf_json_ser)),
            ("codec floor", json_floor, loop(json_floor)),
        ],
        "json deserialize": [
            ("serde", serde_json_de, serde_batch_de(serde_json_de)),
            ("confluent-kafka", conf_json_de, loop(conf_json_de)),
            ("codec floor", json_read_floor, loop(json_read_floor)),
        ],
    }
    if json_slow_path:
        slow = slow_path_json_serializer(registry, json_schema, json_ctx)
        contenders["json serialize"].insert(1, ("serde slow path", slow, slow.serialize_many))
    if avro_python_writer:
        python = python_writer_avro_serializer(registry, avsc, avro_ctx, record)
        contenders["avro serialize"].insert(1, ("serde Python writer", python, python.serialize_many))
    return contenders


def check_equivalence(c: dict, avro_records: list, json_records_: list) -> None:
    """Assert, once and before timing, that both sides produce and read the same thing."""
    actx, jctx = c["avro_ctx"], c["json_ctx"]
    aser = {name: single for name, single, _ in c["avro serialize"]}
    s_ser, c_ser, k_ser, f_ser = aser["serde"], aser["confluent-kafka"], aser["cavro alone"], aser["fastavro alone"]
    s_de, c_de, k_de, f_de = (impl[1] for impl in c["avro deserialize"])
    ours = [s_ser(r, actx) for r in avro_records]
    theirs = [c_ser(r, actx) for r in avro_records]
    assert ours[0][:5] == theirs[0][:5], f"Avro schema ids differ: serde {ours[0][:5].hex()} vs confluent {theirs[0][:5].hex()}"
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"Avro bytes differ on record {i}:\n serde     {a.hex()}\n confluent {b.hex()}"
        assert a[5:] == f_ser(avro_records[i], actx)[5:], f"Avro payload differs from fastavro's on record {i}"
        assert a[5:] == k_ser(avro_records[i], actx)[5:], f"Avro payload differs from cavro's on record {i}"
        if "serde Python writer" in aser:
            assert aser["serde Python writer"](avro_records[i], actx) == a, f"serde's C and Python Avro writers differ on record {i}"
        assert s_de(a, actx) == c_de(a, actx) == avro_records[i], f"Avro values differ on record {i}"
        assert k_de(a, actx) == f_de(a, actx) == avro_records[i], f"Avro values of cavro/fastavro alone differ on record {i}"
    jser = {name: single for name, single, _ in c["json serialize"]}
    s_jser, c_jser, floor_jser = jser["serde"], jser["confluent-kafka"], jser["codec floor"]
    s_jde, c_jde, floor_jde = (impl[1] for impl in c["json deserialize"])
    for i, record in enumerate(json_records_):
        a, b = s_jser(record, jctx), c_jser(record, jctx)
        assert a[:5] == b[:5], f"JSON frame headers differ on record {i}: {a[:5].hex()} vs {b[:5].hex()}"
        assert json.loads(a[5:]) == json.loads(b[5:]) == record, f"JSON documents differ on record {i}"
        assert a[5:] == floor_jser(record, jctx)[5:], f"serde's JSON payload differs from the codec floor's on record {i}"
        if "serde slow path" in jser:
            assert jser["serde slow path"](record, jctx) == a, f"serde's slow and fast paths differ on record {i}"
        assert s_jde(a, jctx) == c_jde(b, jctx) == floor_jde(a, jctx) == record, f"JSON values differ on record {i}"


# -- report ---------------------------------------------------------------------------
def versions() -> dict:
    out = {"python": platform.python_version(), "implementation": platform.python_implementation()}
    for dist in ("serde-kafka", "confluent-kafka", "fastavro", "cavro", "jsonschema", "jsonschema-rs", "orjson"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def machine() -> dict:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count()
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": cpus, "cpu_model": model, "platform": platform.platform()}


def table(results: list[dict]) -> str:
    head = (f"{'operation':<17} {'mode':<8} {'implementation':<19} {'n':>6} {'best µs/msg':>12} {'median':>9} {'ratio':>8} {'target':>7}"
            f" {'floor':<14}")
    lines = [head, "-" * len(head)]
    for r in results:
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else ""
        target = ""
        if r["implementation"] == "serde" and r["target"] is not None:
            target = f"{r['target']:g}x " + ("ok" if r["ratio"] >= r["target"] else "MISS")
        floor = f"{r['vs_floor']:.2f}x" if r.get("vs_floor") is not None else ""
        if floor and r["floor"] != "codec floor":
            floor += f" {r['floor'].split()[0]}"
        lines.append(
            f"{r['operation']:<17} {r['mode']:<8} {r['implementation']:<19} {r['n']:>6} "
            f"{r['best_us']:>12.2f} {r['median_us']:>9.2f} {ratio:>8} {target:>7} {floor:<14}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small batch, 2 repeats, short budget")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument("--batch", type=int, default=None, help="records per batch (default 10000; --quick 1000)")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per measurement (default 5; --quick 2)")
    parser.add_argument("--budget", type=float, default=None, help="seconds per repeat for slow implementations (default 0.75; --quick 0.03)")
    parser.add_argument("--avro-python-writer", action="store_true",
                        help="also time serde's Avro serializer without its C writer (before/after in one run)")
    parser.add_argument("--json-slow-path", action="store_true",
                        help="also time serde's JSON serializer without its fast path (before/after in one run)")
    parser.add_argument("--only", action="append", default=None, choices=sorted(TARGETS), help="run only this operation (repeatable)")
    parser.add_argument("--record", action="append", default=None, choices=("order", "plain"),
                        help="run only this record (repeatable; default both): the order record with logical types and formats, or the plain one")
    args = parser.parse_args(argv)
    batch = args.batch or (1000 if args.quick else 10_000)
    repeats = args.repeats or (2 if args.quick else 5)
    budget = args.budget or (0.03 if args.quick else 0.75)

    global _TIMER_COST_NS
    _TIMER_COST_NS = timer_cost_ns()
    started = time.perf_counter()

    examples = load_examples()
    unit = len(examples)
    batch = max(unit, batch - batch % unit)
    jrecords = json_records(examples, batch)
    registry = SchemaRegistryClient.new_client({"url": "mock://bench"})
    order_avsc, order_json = schema_text(AVSC), schema_text(JSON_SCHEMA)
    schemas = {
        "order": (order_avsc, order_json, [to_avro(r) for r in jrecords]),
        "plain": (json.dumps(plain_avro_schema(json.loads(order_avsc))), json.dumps(plain_json_schema(json.loads(order_json))),
                  [to_plain_avro(r) for r in jrecords]),
    }

    results: list[dict] = []
    for record in args.record or ("order", "plain"):
        avsc, json_schema, arecords = schemas[record]
        contenders = build(registry, avsc, json_schema, args.json_slow_path, record, args.avro_python_writer)
        check_equivalence(contenders, arecords[:unit], jrecords[:unit])

        # the inputs: Avro/JSON records to serialize, framed bytes to deserialize
        actx, jctx = contenders["avro_ctx"], contenders["json_ctx"]
        avro_frames = dict((name, single) for name, single, _ in contenders["avro serialize"])["confluent-kafka"]  # asserted equal to serde's
        json_frames = dict((name, single) for name, single, _ in contenders["json serialize"])["serde"]
        inputs = {
            "avro serialize": (arecords, actx),
            "avro deserialize": ([avro_frames(r, actx) for r in arecords], actx),
            "json serialize": (jrecords, jctx),
            "json deserialize": ([json_frames(r, jctx) for r in jrecords], jctx),
        }

        for operation in TARGETS:
            if args.only and operation not in args.only:
                continue
            items, ctx = inputs[operation]
            items = items[: records_for(contenders[operation], items, ctx, budget, unit)]
            for mode in ("batch", "message"):
                # repeats interleaved (serde, confluent, fastavro, serde, ...): a burst of load
                # from a neighbour on a shared machine then hits every side alike
                runs: dict[str, list[float]] = {name: [] for name, _, _ in contenders[operation]}
                for _ in range(repeats):
                    for name, single, many in contenders[operation]:
                        runs[name].append(per_msg_ns(many if mode == "batch" else single, items, ctx, mode))
                rows = [
                    {"record": record, "operation": operation, "mode": mode, "implementation": name, **summarize(len(items), r)}
                    for name, r in runs.items()
                ]
                peer = next(r for r in rows if r["implementation"] == "confluent-kafka")
                floors = [r for r in rows if r["implementation"] in FLOOR_ROWS]
                floor = min(floors, key=lambda r: r["best_us"]) if floors else None
                for r in rows:
                    r["ratio"] = round(peer["best_us"] / r["best_us"], 2)
                    r["target"] = TARGETS[operation] if r["implementation"] == "serde" and mode == "batch" else None
                    r["meets_target"] = r["ratio"] >= r["target"] if r["target"] is not None else None
                    # serde's time / the codec floor's (the fastest codec alone on the same records)
                    r["vs_floor"] = round(r["best_us"] / floor["best_us"], 2) if floor and r["implementation"].startswith("serde") else None
                    r["floor"] = floor["implementation"] if floor and r["implementation"].startswith("serde") else None
                results.append(rows)

    flat = [r for rows in results for r in rows]
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "settings": {"batch": batch, "repeats": repeats, "budget_s": budget, "quick": args.quick, "timer_cost_ns": _TIMER_COST_NS},
        "machine": machine(),
        "versions": versions(),
        "results": flat,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        m, v = report["machine"], report["versions"]
        print(f"machine: {m['cpus']} cores, {m['cpu_model']}; Python {v['python']}")
        print("versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if k not in ("python", "implementation")))
        print(f"batch {batch} records, {repeats} repeats, budget {budget}s/repeat; ratio = confluent-kafka time / this time (best)")
        print("serde and confluent-kafka Avro bytes asserted equal; JSON frames equal once parsed; decoded values equal")
        print("floor = serde time / the fastest codec alone (Avro: cavro or fastavro; JSON: orjson + jsonschema-rs is_valid); payloads asserted equal")
        for record in args.record or ("order", "plain"):
            rows = [r for r in flat if r["record"] == record]
            if rows:
                print()
                print(f"record: {record}")
                print(table(rows))
        print()
        print(f"elapsed {report['elapsed_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
