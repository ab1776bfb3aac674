"""The gateway end to end on a real broker, against a raw copy and a naive confluent-kafka loop.

One run starts a Kafka broker (tests/kafka/broker.py; or --bootstrap), fills two source
topics (4 partitions each) and lets each contender copy one of them to a fresh target
topic, in its own process(es):

* raw passthrough: Consumer -> Producer, bytes unchanged (acks=all, idempotent);
* naive: DeserializingConsumer(AvroDeserializer) -> SerializingProducer(JSONSerializer,
  validation on), the usual hand-written confluent-kafka loop, with a to_dict that turns
  Avro's UUID/datetime/date/Decimal into JSON text;
* serde gateway, Avro -> JSON (derived JSON Schema) and CSV -> Avro, with one and two
  processes in one group, at-least-once and exactly-once.

Target topics use ``message.timestamp.type=LogAppendTime``: throughput is records /
(last append - first append), the steady rate, start-up and group join excluded; "wall"
is from process start until a read_committed consumer saw every record.

    python benchmarks/bench_gateway.py            # 100,000 records per contender (naive: 10,000)
    python benchmarks/bench_gateway.py --quick    # 8,000 (naive: 1,500)
    python benchmarks/bench_gateway.py --json
    python benchmarks/bench_gateway.py --repeat 3 # the median of 3 runs per contender (shared cores are noisy)
    python benchmarks/bench_gateway.py --baseline /tmp/before   # each gateway contender also on older code
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

AVSC = ROOT / "schemas" / "avro" / "order.avsc"
JSON_SCHEMA = ROOT / "schemas" / "json" / "order.schema.json"
EXAMPLES = ROOT / "schemas" / "examples" / "orders.ndjson"
SERDE = str(Path(sys.executable).with_name("serde"))
PARTITIONS = 4


# -- data -------------------------------------------------------------------------------
def order_records(n: int) -> list[dict]:
    from bench_serializers import to_avro

    examples = [json.loads(line) for line in EXAMPLES.read_text().splitlines() if line.strip()]
    out = []
    for i in range(n):
        record = dict(examples[i % len(examples)])
        record["order_id"] = 1_000_000 + i
        out.append(to_avro(record))
    return out


def csv_lines(n: int, directory: Path) -> list[bytes]:
    import bench_csv_to_avro as c2a

    path = directory / "sales.csv"
    c2a.generate(path, n)
    lines = path.read_bytes().splitlines()[1:]  # without the header row
    return lines[:n]


def to_json_native(value: Any, _ctx: Any = None) -> Any:
    """What a naive loop writes by hand: Avro's Python types as JSON text."""
    if isinstance(value, dict):
        return {k: to_json_native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_native(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, (dt.date, uuid.UUID, Decimal)):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    return value


# -- workers (run in their own processes) ------------------------------------------------
def worker_raw(args: argparse.Namespace) -> None:
    from confluent_kafka import Consumer, Producer

    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": f"raw-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": True})
    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": 5, "enable.idempotence": True,
                         "acks": "all"})
    consumer.subscribe([args.source])
    done = 0
    while done < args.count:
        for msg in consumer.consume(500, 0.5):
            if msg.error():
                continue
            while True:
                try:
                    producer.produce(args.target, msg.value(), msg.key(), headers=msg.headers())
                    break
                except BufferError:
                    producer.poll(0.05)
            done += 1
        producer.poll(0)
    producer.flush(30)
    consumer.close()


def worker_naive(args: argparse.Namespace) -> None:
    from confluent_kafka import DeserializingConsumer, SerializingProducer
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.schema_registry.json_schema import JSONSerializer

    from serde.registry import EmbeddedRegistry

    client = EmbeddedRegistry(args.registry).client
    consumer = DeserializingConsumer({
        "bootstrap.servers": args.bootstrap, "group.id": f"naive-{uuid.uuid4().hex}", "auto.offset.reset": "earliest",
        "value.deserializer": AvroDeserializer(client)})
    producer = SerializingProducer({
        "bootstrap.servers": args.bootstrap, "linger.ms": 5, "enable.idempotence": True, "acks": "all",
        "value.serializer": JSONSerializer(JSON_SCHEMA.read_text().strip(), client, to_dict=to_json_native)})
    consumer.subscribe([args.source])
    done = 0
    while done < args.count:
        msg = consumer.poll(0.5)
        if msg is None or msg.error():
            continue
        while True:
            try:
                producer.produce(args.target, key=msg.key(), value=msg.value())
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        done += 1
    producer.flush(30)
    consumer.close()


# -- the driver ---------------------------------------------------------------------------
def gateway_config(directory: Path, bootstrap: str, registry: str, route: str, source: str, target: str,
                   delivery: str, name: str, max_in_flight: int | None = None) -> Path:
    sale_avsc = directory / "sale.avsc"
    if not sale_avsc.exists():
        import bench_csv_to_avro as c2a

        sale_avsc.write_text(json.dumps(c2a.SCHEMA))
    if route == "avro-json":
        sides = ('value = { format = "avro" }', 'value = { format = "json", derive = true }')
    else:
        sides = (f'value = {{ format = "csv", schema_file = "{sale_avsc}", schema_type = "AVRO" }}',
                 f'value = {{ format = "avro", schema_file = "{sale_avsc}" }}')
    text = f"""
[kafka]
"bootstrap.servers" = "{bootstrap}"
[kafka.consumer]
"session.timeout.ms" = 6000
"heartbeat.interval.ms" = 500
[registry]
path = "{registry}"
[gateway]
group = "bench-{uuid.uuid4().hex[:10]}"
delivery = "{delivery}"
commit_interval = 1.0
status_interval = 0
{f"max_in_flight = {max_in_flight}" if max_in_flight else ""}
[[routes]]
name = "bench"
dead_letter_topic = "{target}.dlq"
[routes.source]
topic = "{source}"
{sides[0]}
[routes.target]
topic = "{target}"
{sides[1]}
"""
    path = directory / f"{name}.toml"
    path.write_text(text)
    return path


def wait_for(bootstrap: str, topic: str, n: int, procs: list[subprocess.Popen], timeout: float) -> tuple[int, int, float]:
    """Read ``topic`` (read_committed) until n records: (first append ms, last append ms, when done)."""
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"count-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": "read_committed"})
    consumer.subscribe([topic])
    seen, first, last = 0, None, 0
    deadline = time.monotonic() + timeout
    try:
        while seen < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{topic}: {seen} of {n} records within {timeout}s")
            for proc in procs:
                if proc.poll() not in (None, 0):
                    raise RuntimeError(f"a worker exited with {proc.returncode}")
            for msg in consumer.consume(1000, 0.2):
                if msg.error():
                    continue
                ts = msg.timestamp()[1]
                first = ts if first is None else min(first, ts)
                last = max(last, ts)
                seen += 1
        return first or 0, last, time.monotonic()
    finally:
        consumer.close()


def run_contender(spec: dict, ctx: dict) -> dict:
    from tests.kafka.broker import create_topic

    bootstrap, directory = ctx["bootstrap"], ctx["dir"]
    target = f"bench-{spec['name'].replace(' ', '-').replace('>', '').replace(',', '').replace('=', '')}-{uuid.uuid4().hex[:6]}"
    create_topic(bootstrap, target, PARTITIONS, config={"message.timestamp.type": "LogAppendTime"})
    create_topic(bootstrap, target + ".dlq", 1)
    source = ctx["sources"][spec["source"]]
    n = spec["count"]
    procs: list[subprocess.Popen] = []
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if spec.get("pythonpath"):  # --baseline: the gateway processes import serde from that tree
        env["PYTHONPATH"] = spec["pythonpath"]
    started = time.monotonic()
    logs = []
    try:
        if spec["kind"] in ("raw", "naive"):
            procs.append(subprocess.Popen([sys.executable, __file__, "--worker", spec["kind"], "--bootstrap", bootstrap,
                                           "--source", source, "--target", target, "--count", str(n),
                                           "--registry", ctx["registry"]], env=env, cwd=str(ROOT)))
        else:
            for i in range(spec["processes"]):
                config = gateway_config(directory, bootstrap, ctx["registry"], spec["route"], source, target,
                                        spec["delivery"], f"{target}-{i}", spec.get("max_in_flight"))
                log = directory / f"{target}-{i}.log"
                logs.append(log)
                with open(log, "wb") as err:
                    procs.append(subprocess.Popen([SERDE, "gateway", "run", str(config), "--log-level", "warning",
                                                   "--instance-id", f"p{i}"], env=env, cwd=str(ROOT),
                                                  stdout=subprocess.DEVNULL, stderr=err))
        first, last, done = wait_for(bootstrap, target, n, procs, timeout=600)
    except Exception:
        for log in logs:
            sys.stderr.write(log.read_text(errors="replace")[-2000:])
        raise
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    span = max(last - first, 1) / 1000.0
    return {"name": spec["name"], "records": n, "msgs_per_s": n / span, "span_s": span,
            "wall_s": done - started}


def in_flight_variants(specs: list[dict], values: list[int]) -> list[dict]:
    """Each gateway contender once per max_in_flight value (labelled, one after the other),
    so the values are compared within one run on one broker."""
    out = []
    for spec in specs:
        if spec["kind"] != "gateway":
            out.append(spec)
            continue
        for value in values:
            out.append(dict(spec, name=f"{spec['name']} mif={value}", max_in_flight=value))
    return out


def baseline_variants(specs: list[dict], tree: str) -> list[dict]:
    """Each gateway contender twice, right after each other: on this tree and on ``tree``
    (another checkout of serde, e.g. ``git worktree add /tmp/before <rev>``, whose
    ``serde`` package the gateway processes import instead), so that code before and after
    a change are compared in one run on one broker."""
    out = []
    for spec in specs:
        if spec["kind"] == "gateway":
            out.append(dict(spec, name=f"{spec['name']} before", pythonpath=tree))
        out.append(spec)
    return out


def contenders(n: int, naive_n: int) -> list[dict]:
    out = [
        {"name": "raw passthrough", "kind": "raw", "source": "avro", "count": n},
        {"name": "naive confluent-kafka avro>json", "kind": "naive", "source": "avro", "count": naive_n},
    ]
    for route, source in (("avro-json", "avro"), ("csv-avro", "csv")):
        for delivery, procs in (("at-least-once", 1), ("exactly-once", 1), ("at-least-once", 2), ("exactly-once", 2)):
            label = "avro>json" if route == "avro-json" else "csv>avro"
            out.append({"name": f"gateway {label} {'ALOS' if delivery == 'at-least-once' else 'EOS'} x{procs}",
                        "kind": "gateway", "route": route, "source": source, "count": n,
                        "delivery": delivery, "processes": procs})
    return out


def fill_sources(bootstrap: str, registry_path: str, n: int, directory: Path) -> dict[str, str]:
    from confluent_kafka import Producer
    from confluent_kafka.serialization import MessageField, SerializationContext

    import serde
    from serde.registry import EmbeddedRegistry
    from tests.kafka.broker import create_topic

    avro_topic = create_topic(bootstrap, f"bench-avro-src-{uuid.uuid4().hex[:6]}", PARTITIONS)
    csv_topic = create_topic(bootstrap, f"bench-csv-src-{uuid.uuid4().hex[:6]}", PARTITIONS)
    with EmbeddedRegistry(registry_path) as registry:
        ser = serde.serializer("avro", AVSC.read_text().strip(), registry)
        ctx = SerializationContext(avro_topic, MessageField.VALUE)
        avro_values = [ser(r, ctx) for r in order_records(n)]
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.size": 1_000_000})
    now = int(time.time() * 1000)

    def produce(topic: str, value: bytes, key: bytes) -> None:
        while True:
            try:
                producer.produce(topic, value, key, timestamp=now)
                return
            except BufferError:  # the local queue is full: let deliveries drain it
                producer.poll(0.1)

    for i, value in enumerate(avro_values):
        produce(avro_topic, value, str(i).encode())
    for i, line in enumerate(csv_lines(n, directory)):
        produce(csv_topic, line, str(i).encode())
    assert producer.flush(60) == 0
    return {"avro": avro_topic, "csv": csv_topic}


def converter_costs(n: int) -> list[dict]:
    """µs per record of each route's fast converter (what the gateway loop calls per
    record, bytes in, bytes out), with serde's C transcoders and on the Python path, in
    this process: no broker, so the conversion's own cost."""
    from confluent_kafka.serialization import MessageField, SerializationContext

    import serde
    from serde.gateway import _transcode
    from serde.gateway.config import load_config
    from serde.gateway.pipeline import Pipeline
    from serde.registry import EmbeddedRegistry

    out = []
    with tempfile.TemporaryDirectory(prefix="bench-conv-") as tmp:
        directory = Path(tmp)
        registry = str(directory / "registry.db")
        with EmbeddedRegistry(registry) as reg:
            ser = serde.serializer("avro", AVSC.read_text().strip(), reg)
            ctx = SerializationContext("src-avro", MessageField.VALUE)
            inputs = {"avro-json": [ser(r, ctx) for r in order_records(n)], "csv-avro": csv_lines(n, directory)}
        speedups = _transcode._speedups
        for route, source in (("avro-json", "src-avro"), ("csv-avro", "src-csv")):
            row = {"route": route.replace("-", ">")}
            for mode in ("c", "python"):
                _transcode._speedups = speedups if mode == "c" else None  # type: ignore[assignment]
                config = gateway_config(directory, "127.0.0.1:9", registry, route, source,
                                        f"out-{route}-{mode}", "at-least-once", f"{route}-{mode}")
                pipeline = Pipeline(load_config(config))
                pipeline.prepare()
                _, _, convert = pipeline.fast(source)
                data = inputs[route]
                outputs = [convert(v) for v in data]  # the first record fetches the writer schema
                best = float("inf")
                for _ in range(5):
                    started = time.perf_counter()
                    for value in data:
                        convert(value)
                    best = min(best, time.perf_counter() - started)
                row[mode] = best / len(data) * 1e6
                row.setdefault("outputs", []).append(outputs)
            _transcode._speedups = speedups  # type: ignore[assignment]
            same = row.pop("outputs")
            row["same_bytes"] = same[0] == same[1]
            out.append(row)
    return out


def versions() -> dict:
    from importlib import metadata

    import confluent_kafka

    return {"python": platform.python_version(), "confluent-kafka": confluent_kafka.version()[0],
            "librdkafka": confluent_kafka.libversion()[0], "serde": metadata.version("serde") if _installed("serde") else "dev",
            "cpus": os.cpu_count(), "machine": platform.machine(), "system": f"{platform.system()} {platform.release()}"}


def _installed(name: str) -> bool:
    from importlib import metadata

    try:
        metadata.version(name)
        return True
    except metadata.PackageNotFoundError:
        return False


def table(results: list[dict], raw: float, naive: float) -> str:
    lines = [f"{'contender':38} {'records':>8} {'msgs/s':>9} {'vs raw':>7} {'vs naive':>9} {'wall s':>7}",
             "-" * 82]
    for r in results:
        lines.append(f"{r['name']:38} {r['records']:>8} {r['msgs_per_s']:>9.0f} {r['msgs_per_s'] / raw:>6.0%} "
                     f"{r['msgs_per_s'] / naive:>8.1f}x {r['wall_s']:>7.1f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--bootstrap", help="an existing broker (default: start one with tests/kafka/broker.py)")
    parser.add_argument("--records", type=int)
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each contender this many times and report the median run (default 1)")
    parser.add_argument("--only", help="run only contenders whose name contains this text (plus raw and naive)")
    parser.add_argument("--max-in-flight", metavar="N[,N...]",
                        help="run each gateway contender with these gateway.max_in_flight values (default: the gateway's)")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also run each gateway contender on the serde package of this source tree "
                             "(labelled 'before'), right before the same contender on this tree")
    parser.add_argument("--converters", action="store_true",
                        help="only time each route's per-record converter, C transcoder vs Python path (no broker)")
    # worker mode (internal)
    parser.add_argument("--worker", choices=["raw", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--registry", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        (worker_raw if args.worker == "raw" else worker_naive)(args)
        return

    if args.converters:
        from serde.gateway import _transcode

        if not _transcode.available():
            sys.exit("serde.gateway._speedups is not built (no C compiler at install time)")
        rows = converter_costs(args.records or 20_000)
        if args.json:
            print(json.dumps({"versions": versions(), "converters": rows}, indent=2))
        else:
            print(f"{'route':10} {'C us/rec':>9} {'Python us/rec':>14} {'speedup':>8}  same bytes")
            for row in rows:
                print(f"{row['route']:10} {row['c']:>9.2f} {row['python']:>14.2f} {row['python'] / row['c']:>7.1f}x  "
                      f"{row['same_bytes']}")
        return
    n = args.records or (8_000 if args.quick else 100_000)
    naive_n = max(500, n // 10) if not args.quick else 1_500
    broker = None
    if args.bootstrap is None:
        from tests.kafka.broker import KafkaBroker

        broker = KafkaBroker().start()
        bootstrap = broker.bootstrap
    else:
        bootstrap = args.bootstrap
    try:
        with tempfile.TemporaryDirectory(prefix="bench-gw-") as tmp:
            directory = Path(tmp)
            registry = str(directory / "registry.db")
            sources = fill_sources(bootstrap, registry, n, directory)
            ctx = {"bootstrap": bootstrap, "dir": directory, "registry": registry, "sources": sources}
            results = []
            specs = contenders(n, naive_n)
            if args.max_in_flight:
                specs = in_flight_variants(specs, [int(v) for v in args.max_in_flight.split(",")])
            if args.baseline:
                tree = str(Path(args.baseline).resolve())
                if not (Path(tree) / "serde" / "__init__.py").is_file():
                    sys.exit(f"--baseline {args.baseline}: no serde package there")
                specs = baseline_variants(specs, tree)
            for spec in specs:
                if args.only and spec["kind"] == "gateway" and args.only not in spec["name"]:
                    continue
                runs = [run_contender(spec, ctx) for _ in range(max(1, args.repeat))]
                # the median run: the cores are shared with the broker (and, on a busy
                # machine, with other jobs), so single runs swing by 2x
                runs.sort(key=lambda r: r["msgs_per_s"])
                result = dict(runs[len(runs) // 2], runs=[round(r["msgs_per_s"]) for r in runs])
                results.append(result)
                if not args.json:
                    print(f"  {result['name']}: {result['msgs_per_s']:.0f} msgs/s (runs: {result['runs']})",
                          file=sys.stderr, flush=True)
    finally:
        if broker is not None:
            broker.stop()
    raw = results[0]["msgs_per_s"]
    naive = results[1]["msgs_per_s"]
    by_name = {r["name"]: r for r in results}
    checks = {}
    for label in ("avro>json", "csv>avro"):
        one = by_name.get(f"gateway {label} ALOS x1")
        eos = by_name.get(f"gateway {label} EOS x1")
        if one:
            checks[f"{label}: >= 25% of raw"] = one["msgs_per_s"] / raw >= 0.25
            if eos:
                checks[f"{label}: EOS within 20% of ALOS"] = eos["msgs_per_s"] >= 0.8 * one["msgs_per_s"]
    if "gateway avro>json ALOS x1" in by_name:
        checks["avro>json: >= 10x naive"] = by_name["gateway avro>json ALOS x1"]["msgs_per_s"] / naive >= 10
    if args.json:
        print(json.dumps({"versions": versions(), "records": n, "naive_records": naive_n, "results": results,
                          "targets": checks}, indent=2))
    else:
        print(table(results, raw, naive))
        print()
        for name, ok in checks.items():
            print(f"{name}: {'ok' if ok else 'MISS'}")
        print(json.dumps(versions()))


if __name__ == "__main__":
    main()
