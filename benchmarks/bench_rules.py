#!/usr/bin/env python
"""Cost per record of CEL rules: serde against confluent-kafka's own executors, in the
same run, on one ``mock://`` registry, with the rule-less serializer as the floor.

Per side, ``ser(record, ctx)`` one message at a time over ``--n`` records, best and
median of ``--repeats`` interleaved runs, GC off during a run:

* ``plain``          Avro with ``use_latest_version`` on a subject without rules (the floor)
* ``CEL condition``  ``message.qty > 0 && message.price >= 0.0`` (WRITE)
* ``CEL_FIELD``      a transform of every string field (``typeName == 'STRING' ; value + '!'``)
* ``JSONata read``   a v1 record read as v2 through an UPGRADE migration (deserializer)

Both sides run the same expression engines (cel-python and jsonata-python), so the
ratio measures what is around them. Before timing, the script asserts both sides write
the same bytes (and read the same value).

    .venv/bin/python benchmarks/bench_rules.py [--n 3000] [--repeats 5] [--json]
"""
from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
from typing import Any, Callable

from confluent_kafka.schema_registry import Metadata, MetadataProperties, Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.schema_registry.rules.cel.cel_executor import CelExecutor
from confluent_kafka.schema_registry.rules.cel.cel_field_executor import CelFieldExecutor
from confluent_kafka.schema_registry.rules.jsonata.jsonata_executor import JsonataExecutor
from confluent_kafka.schema_registry.schema_registry_client import RuleSet, ServerConfig
from confluent_kafka.serialization import MessageField, SerializationContext

import serde

ORDER = {"type": "record", "name": "Order", "namespace": "bench", "fields": [
    {"name": "id", "type": "long"}, {"name": "customer", "type": "string"}, {"name": "sku", "type": "string"},
    {"name": "qty", "type": "int"}, {"name": "price", "type": "double"}, {"name": "note", "type": "string"}]}
RULES = {
    "plain": None,
    "CEL condition": {"domainRules": [{"name": "valid", "kind": "CONDITION", "mode": "WRITE", "type": "CEL",
                                       "expr": "message.qty > 0 && message.price >= 0.0"}]},
    "CEL_FIELD": {"domainRules": [{"name": "bang", "kind": "TRANSFORM", "mode": "WRITE", "type": "CEL_FIELD",
                                   "expr": "typeName == 'STRING' ; value + '!'"}]},
}


def records(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "customer": f"c{i % 97}", "sku": f"sku-{i % 13}", "qty": 1 + i % 5, "price": 9.5 + i % 7,
             "note": "leave at the door"} for i in range(n)]


def timed(fn: Callable[[Any, Any], Any], items: list[Any], ctx: Any) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for item in items:
            fn(item, ctx)
        return (time.perf_counter() - start) / len(items) * 1e6
    finally:
        gc.enable()


def ckp_rules() -> RuleRegistry:
    registry = RuleRegistry()
    for executor in (CelExecutor(), CelFieldExecutor(), JsonataExecutor()):
        registry.register_executor(executor)
    return registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    client = SchemaRegistryClient.new_client({"url": "mock://bench-rules"})
    data = records(args.n)
    rows: list[dict[str, Any]] = []
    for case, rule_set in RULES.items():
        topic = case.replace(" ", "-").lower()
        client.register_schema(f"{topic}-value", Schema(json.dumps(ORDER), "AVRO", [], None,
                                                        RuleSet.from_dict(rule_set) if rule_set else None))
        ctx = SerializationContext(topic, MessageField.VALUE)
        ckp = AvroSerializer(client, None, conf={"auto.register.schemas": False, "use.latest.version": True},
                             rule_registry=ckp_rules())
        ours = serde.serializer("avro", None, client, auto_register=False, use_latest_version=True)
        assert ckp(dict(data[0]), ctx) == ours(dict(data[0]), ctx), case
        times: dict[str, list[float]] = {"serde": [], "confluent-kafka": []}
        for _ in range(args.repeats):
            times["confluent-kafka"].append(timed(ckp, [dict(r) for r in data], ctx))
            times["serde"].append(timed(ours, [dict(r) for r in data], ctx))
        rows.append({"case": case, **{f"{side} best": min(v) for side, v in times.items()},
                     **{f"{side} median": statistics.median(v) for side, v in times.items()}})

    # JSONata: v1 data read as v2 through an UPGRADE rule
    subject = "migrate-value"
    client.set_config(subject, ServerConfig(compatibility_group="application.version"))
    v1 = dict(ORDER, fields=ORDER["fields"][:5] + [{"name": "comment", "type": "string"}])
    client.register_schema(subject, Schema(json.dumps(v1), "AVRO", [], Metadata(None, MetadataProperties(
        {"application.version": "v1"}), None)))
    client.register_schema(subject, Schema(json.dumps(ORDER), "AVRO", [], Metadata(None, MetadataProperties(
        {"application.version": "v2"}), None), RuleSet.from_dict({"migrationRules": [
            {"name": "rename", "kind": "TRANSFORM", "mode": "UPGRADE", "type": "JSONATA",
             "expr": "$merge([$sift($, function($v,$k){$k != 'comment'}), {'note': $.'comment'}])"}]})))
    ctx = SerializationContext("migrate", MessageField.VALUE)
    write = serde.serializer("avro", None, client, auto_register=False,
                             use_latest_with_metadata={"application.version": "v1"})
    frames = [write({**{k: v for k, v in r.items() if k != "note"}, "comment": r["note"]}, ctx) for r in data]
    latest = {"application.version": "v2"}
    ckp_de = AvroDeserializer(client, conf={"use.latest.with.metadata": latest}, rule_registry=ckp_rules())
    ours_de = serde.deserializer("avro", client, use_latest_with_metadata=latest)
    assert ckp_de(frames[0], ctx) == ours_de(frames[0], ctx) == data[0]
    plain_de = serde.deserializer("avro", client)
    times = {"serde": [], "confluent-kafka": [], "floor": []}
    for _ in range(args.repeats):
        times["confluent-kafka"].append(timed(ckp_de, frames, ctx))
        times["serde"].append(timed(ours_de, frames, ctx))
        times["floor"].append(timed(plain_de, frames, ctx))
    rows.append({"case": "JSONata read", **{f"{side} best": min(v) for side, v in times.items()},
                 **{f"{side} median": statistics.median(v) for side, v in times.items()}})

    floor = next(r for r in rows if r["case"] == "plain")
    for row in rows:
        base = row.get("floor best", floor["serde best"])
        row["ratio vs confluent-kafka"] = row["confluent-kafka best"] / row["serde best"]
        row["serde added us"] = row["serde best"] - base
        row["confluent-kafka added us"] = row["confluent-kafka best"] - (
            row.get("floor best") and row["floor best"] or floor["confluent-kafka best"])
    if args.json:
        print(json.dumps({"python": platform.python_version(), "n": args.n, "rows": rows}, indent=1))
        return
    print(f"python {platform.python_version()}, {args.n} records, best of {args.repeats} (us/record)")
    print(f"{'case':<16}{'serde':>9}{'CKP':>9}{'CKP/serde':>11}{'serde added':>13}{'CKP added':>11}")
    for row in rows:
        print(f"{row['case']:<16}{row['serde best']:>9.2f}{row['confluent-kafka best']:>9.2f}"
              f"{row['ratio vs confluent-kafka']:>10.2f}x{row['serde added us']:>13.2f}{row['confluent-kafka added us']:>11.2f}")


if __name__ == "__main__":
    sys.exit(main())
