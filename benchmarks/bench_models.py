#!/usr/bin/env python
"""Model instances through serde's serializers, against serde's dict path and against
confluent-kafka with hand-written ``to_dict`` / ``from_dict`` callbacks, in the same run.

Per format (avro, json) and direction, per message (``ser(obj, ctx)``, the
``SerializingProducer`` path), best of ``--repeats`` runs over ``--n`` records:

* ``serde model``   ``serializer(fmt, model=Order)(order)`` / ``deserializer(fmt, model=Order)(data)``
* ``serde dict``    the same schema, taking and returning the equivalent dicts
* ``ckp callbacks`` confluent-kafka's ``AvroSerializer(to_dict=...)`` / ``AvroDeserializer(from_dict=...)``
  (JSON: ``JSONSerializer`` / ``JSONDeserializer``) with hand-written callbacks

The target (issue 18): model ≤ dict × 1.2. Bytes are asserted equal (Avro) and decoded
instances equal before timing. The record: a dataclass ``Order`` with 8 fields, a nested
list of 3 ``Line`` records, a Decimal, a datetime and an enum.

    .venv/bin/python benchmarks/bench_models.py [--n 20000] [--repeats 5] [--json]
"""
from __future__ import annotations

import argparse
import datetime as dt
import enum
import json
import platform
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Optional

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

import serde
from serde.models import Int32, Precision, schema, to_dict

UTC = dt.timezone.utc


class Status(enum.Enum):
    NEW = "NEW"
    PAID = "PAID"


@dataclass
class Line:
    sku: str
    qty: Annotated[int, Int32]
    price: float


@dataclass
class Order:
    __serde_name__ = "bench.Order"
    id: int
    customer: str
    status: Status
    created: dt.datetime
    total: Annotated[Decimal, Precision(12, 2)]
    lines: list[Line]
    note: Optional[str] = None
    paid: bool = False


def make(i: int) -> Order:
    return Order(i, f"customer-{i % 97}", Status.PAID if i % 2 else Status.NEW,
                 dt.datetime(2024, 1, 1, 12, 0, i % 60, 1000 * (i % 1000), tzinfo=UTC), Decimal(f"{i % 1000}.50"),
                 [Line(f"sku-{j}", j + 1, 9.99 * (j + 1)) for j in range(3)], None if i % 3 else "gift", bool(i % 2))


def ckp_to_dict(o: Order, ctx) -> dict:  # what a confluent-kafka user writes by hand
    return {"id": o.id, "customer": o.customer, "status": o.status.value, "created": o.created, "total": o.total,
            "lines": [{"sku": x.sku, "qty": x.qty, "price": x.price} for x in o.lines], "note": o.note, "paid": o.paid}


def ckp_from_dict(d: dict, ctx) -> Order:
    return Order(d["id"], d["customer"], Status(d["status"]), d["created"], d["total"],
                 [Line(x["sku"], x["qty"], x["price"]) for x in d["lines"]], d["note"], d["paid"])


def ckp_json_to_dict(o: Order, ctx) -> dict:
    d = ckp_to_dict(o, ctx)
    d["created"] = o.created.isoformat()
    d["total"] = str(o.total)
    return d


def ckp_json_from_dict(d: dict, ctx) -> Order:
    return Order(d["id"], d["customer"], Status(d["status"]), dt.datetime.fromisoformat(d["created"]), Decimal(d["total"]),
                 [Line(x["sku"], x["qty"], x["price"]) for x in d["lines"]], d["note"], d["paid"])


def per_message(fn, items, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for x in items:
            fn(x)
        best = min(best, (time.perf_counter() - start) / len(items))
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    client = SchemaRegistryClient.new_client({"url": "mock://bench-models"})
    ctx = SerializationContext("orders", MessageField.VALUE)
    orders = [make(i) for i in range(args.n)]
    results = []
    for fmt in ("avro", "json"):
        text = schema(Order, fmt)
        dicts = [to_dict(o, fmt) for o in orders]
        model_ser = serde.serializer(fmt, model=Order, registry=client)
        dict_ser = serde.serializer(fmt, text, client)
        if fmt == "avro":
            ckp_ser = AvroSerializer(client, text, to_dict=ckp_to_dict)
            ckp_de = AvroDeserializer(client, text, from_dict=ckp_from_dict)
        else:
            ckp_ser = JSONSerializer(text, client, to_dict=ckp_json_to_dict)
            ckp_de = JSONDeserializer(text, from_dict=ckp_json_from_dict, schema_registry_client=client)
        model_de = serde.deserializer(fmt, client, model=Order)
        dict_de = serde.deserializer(fmt, client, reader_schema=text)
        datas = [model_ser(o, ctx) for o in orders]
        assert datas[0] == dict_ser(dicts[0], ctx)
        if fmt == "avro":
            assert datas[0] == ckp_ser(orders[0], ctx)
        assert model_de(datas[0], ctx) == orders[0] == ckp_de(datas[0], ctx)
        rows = {
            "serialize": {"serde model": per_message(lambda o: model_ser(o, ctx), orders, args.repeats),
                          "serde dict": per_message(lambda d: dict_ser(d, ctx), dicts, args.repeats),
                          "ckp callbacks": per_message(lambda o: ckp_ser(o, ctx), orders, args.repeats)},
            "deserialize": {"serde model": per_message(lambda b: model_de(b, ctx), datas, args.repeats),
                            "serde dict": per_message(lambda b: dict_de(b, ctx), datas, args.repeats),
                            "ckp callbacks": per_message(lambda b: ckp_de(b, ctx), datas, args.repeats)},
        }
        for op, times in rows.items():
            results.append({"format": fmt, "op": op, **{k: round(v, 3) for k, v in times.items()},
                            "model/dict": round(times["serde model"] / times["serde dict"], 3),
                            "ckp/model": round(times["ckp callbacks"] / times["serde model"], 2)})
    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "machine": platform.machine(), "n": args.n, "results": results}, indent=2))
        return
    print(f"Python {sys.version.split()[0]}, {platform.machine()}, n={args.n}, best of {args.repeats}; µs per message")
    print(f"{'format':<6} {'op':<12} {'serde model':>12} {'serde dict':>11} {'ckp callbacks':>14} {'model/dict':>11} {'ckp/model':>10}")
    for r in results:
        print(f"{r['format']:<6} {r['op']:<12} {r['serde model']:>12.2f} {r['serde dict']:>11.2f} {r['ckp callbacks']:>14.2f} "
              f"{r['model/dict']:>11.2f} {r['ckp/model']:>9.1f}x")


if __name__ == "__main__":
    main()
