#!/usr/bin/env python
"""Cost per record of field-level encryption (ENCRYPT rules): serde against
confluent-kafka's own executors, in the same run, on one registry.

Both sides talk to one ``serde registry serve`` (started in process on a free port), so
KEKs and DEKs are shared and deterministic ciphertexts can be compared. Per side and per
operation, ``ser(record, ctx)`` / ``de(data, ctx)`` one message at a time over ``--n``
records, best and median of ``--repeats`` interleaved runs, GC off during a run:

* ``plain``        Avro with ``use_latest_version`` on a subject without rules (the floor)
* ``encrypt GCM``  three tagged string fields encrypted with AES256_GCM (randomized)
* ``encrypt SIV``  the same with AES256_SIV (deterministic)
* ``decrypt GCM`` / ``decrypt SIV``  reading those messages back

DEKs are created and unwrapped once, before timing (both sides cache them), so the
numbers are the per-record cost: the field walk, AES and base64. The "added" column is
encrypt minus plain (or decrypt minus plain), the cost of the rule itself. Before timing
the script asserts that each side reads the other's messages and that SIV messages are
byte-identical (the same DEK, the same bytes).

    .venv/bin/python benchmarks/bench_encryption.py [--n 5000] [--repeats 5] [--json]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

from confluent_kafka.schema_registry import RuleSet, Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import FieldEncryptionExecutor as CkField
from confluent_kafka.schema_registry.rules.encryption.localkms.local_driver import LocalKmsDriver as CkLocalKms
from confluent_kafka.serialization import MessageField, SerializationContext

import serde
from serde.registry import RegistryServer

CONF = {"secret": "bench-secret"}
SCHEMA = {"type": "record", "name": "User", "namespace": "bench", "fields": [
    {"name": "id", "type": "long"},
    {"name": "name", "type": "string", "confluent:tags": ["PII"]},
    {"name": "email", "type": "string", "confluent:tags": ["PII"]},
    {"name": "ssn", "type": "string", "confluent:tags": ["PII"]},
    {"name": "country", "type": "string"},
    {"name": "age", "type": "int"},
    {"name": "score", "type": "double"},
]}


def make(i: int) -> dict[str, Any]:
    return {"id": i, "name": f"User Number {i}", "email": f"user{i}@example.com", "ssn": f"{i % 1000:03d}-12-{i % 10000:04d}",
            "country": ("FR", "DE", "US")[i % 3], "age": 20 + i % 50, "score": i / 7}


def register(sr: SchemaRegistryClient, topic: str, algorithm: str | None) -> None:
    rules = None
    if algorithm is not None:
        rules = RuleSet.from_dict({"domainRules": [{
            "name": "encryptPII", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "ENCRYPT", "tags": ["PII"],
            "params": {"encrypt.kek.name": f"bench-{algorithm.lower()}", "encrypt.kms.type": "local-kms",
                       "encrypt.kms.key.id": "bench", "encrypt.dek.algorithm": algorithm},
            "onFailure": "ERROR,ERROR"}]})
    sr.register_schema(f"{topic}-value", Schema(json.dumps(SCHEMA), "AVRO", [], rule_set=rules))


def ck_rules() -> RuleRegistry:
    registry = RuleRegistry()
    registry.register_executor(CkField())
    return registry


def timed(fn: Callable[[Any], Any], inputs: list[Any]) -> float:
    """Seconds for fn over every input, GC off."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for item in inputs:
            fn(item)
        return (time.perf_counter_ns() - start) / 1e9
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="records per run (default 5000)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved runs per measurement (default 5)")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    args = parser.parse_args()

    CkLocalKms.register()
    records = [make(i) for i in range(args.n)]
    with tempfile.TemporaryDirectory() as tmp, RegistryServer(os.path.join(tmp, "bench.db")) as server:
        sr = SchemaRegistryClient({"url": server.url})
        topics = {"plain": "bench-plain", "GCM": "bench-gcm", "SIV": "bench-siv"}
        for key, topic in topics.items():
            register(sr, topic, None if key == "plain" else {"GCM": "AES256_GCM", "SIV": "AES256_SIV"}[key])
        text = json.dumps(SCHEMA)
        sides: dict[str, dict[str, Any]] = {
            "serde": {
                "ser": serde.serializer("avro", text, server.url, auto_register=False, use_latest_version=True,
                                        rule_conf=CONF),
                "de": serde.deserializer("avro", registry=server.url, rule_conf=CONF),
            },
            "confluent-kafka": {
                "ser": AvroSerializer(sr, text, conf={"auto.register.schemas": False, "use.latest.version": True},
                                      rule_conf=CONF, rule_registry=ck_rules()),
                "de": AvroDeserializer(sr, rule_conf=CONF, rule_registry=ck_rules()),
            },
        }
        ctx = {key: SerializationContext(topic, MessageField.VALUE) for key, topic in topics.items()}

        # fairness: both read each other's messages; SIV messages are byte-identical
        messages: dict[tuple[str, str], list[bytes]] = {}
        for side, funcs in sides.items():
            for key in topics:
                messages[side, key] = [funcs["ser"](dict(r), ctx[key]) for r in records]
        for key in topics:
            for writer in sides:
                for reader in sides:
                    sample = messages[writer, key][:50]
                    got = [sides[reader]["de"](m, ctx[key]) for m in sample]
                    assert got == records[:50], f"{reader} cannot read {writer}'s {key} messages"
        assert messages["serde", "SIV"] == messages["confluent-kafka", "SIV"], "SIV messages differ"
        assert b"User Number" not in messages["serde", "GCM"][0]

        results: dict[tuple[str, str], list[float]] = {}
        operations = [("plain serialize", "ser", "plain"), ("encrypt GCM", "ser", "GCM"), ("encrypt SIV", "ser", "SIV"),
                      ("plain deserialize", "de", "plain"), ("decrypt GCM", "de", "GCM"), ("decrypt SIV", "de", "SIV")]
        for _ in range(args.repeats):
            for op, kind, key in operations:
                for side, funcs in sides.items():
                    fn = funcs[kind]
                    c = ctx[key]
                    if kind == "ser":
                        inputs: list[Any] = [dict(r) for r in records]  # serializers change records in place
                        run = lambda r, fn=fn, c=c: fn(r, c)  # noqa: E731
                    else:
                        inputs = messages[side, key]
                        run = lambda m, fn=fn, c=c: fn(m, c)  # noqa: E731
                    results.setdefault((op, side), []).append(timed(run, inputs) / args.n * 1e6)
        sr._rest_client.session.close()

    table = []
    for op, kind, key in operations:
        floor_op = "plain serialize" if kind == "ser" else "plain deserialize"
        for side in sides:
            best, median = min(results[op, side]), statistics.median(results[op, side])
            added = best - min(results[floor_op, side]) if key != "plain" else 0.0
            table.append({"operation": op, "side": side, "best_us": round(best, 2), "median_us": round(median, 2),
                          "added_us": round(added, 2)})
    if args.json:
        print(json.dumps({"n": args.n, "repeats": args.repeats, "results": table}, indent=2))
        return
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus; n={args.n}, "
          f"repeats={args.repeats}; microseconds per record (best / median); 'added' = best minus plain best")
    print(f"{'operation':<18} {'side':<16} {'best':>8} {'median':>8} {'added':>8}   {'ckp/serde (added)':>18}")
    by_key = {(row["operation"], row["side"]): row for row in table}
    for op, _, key in operations:
        for side in sides:
            row = by_key[op, side]
            ratio = ""
            if side == "confluent-kafka" and key != "plain" and by_key[op, "serde"]["added_us"] > 0:
                ratio = f"{row['added_us'] / by_key[op, 'serde']['added_us']:.2f}x"
            print(f"{op:<18} {side:<16} {row['best_us']:>8.2f} {row['median_us']:>8.2f} {row['added_us']:>8.2f}   {ratio:>18}")


if __name__ == "__main__":
    sys.exit(main())
