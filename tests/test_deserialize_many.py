"""Deserializer.deserialize_many shares work across a batch (issue 19): runs of records
with one frame share its lookup and, for JSON, one validation call. Whatever the batch
holds (tombstones, other schema ids, bad frames, invalid JSON, invalid documents, integers
beyond 64 bits), the result must be the one of before: the same values, or the same
first error (kind, message, location, field path)."""
import json
import random
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext

import serde
from serde._errors import SerdeError
from serde.serializers._core import Decoded, _as_serialization_error

ROOT = Path(__file__).resolve().parent.parent
ORDER_JSON = (ROOT / "schemas" / "json" / "order.schema.json").read_text().strip()
ORDER_AVRO = (ROOT / "schemas" / "avro" / "order.avsc").read_text().strip()
EXAMPLES = [json.loads(line) for line in (ROOT / "schemas" / "examples" / "orders.ndjson").read_text().splitlines() if line.strip()]
PERSON = json.dumps({"title": "Person", "type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"],
                     "additionalProperties": False})
CTX = SerializationContext("orders", MessageField.VALUE)


def before(de, datas, ctx):
    """deserialize_many as it was before issue 19 (the reference)."""
    out = []
    by_id = de._by_id
    plain = (de._format.schema_type != "PROTOBUF" and de._static is None and not de._use_latest
             and (ctx is None or not getattr(ctx, "headers", None)))
    for position, data in enumerate(datas):
        try:
            if data is None:
                out.append(None)
                continue
            found = by_id.get(int.from_bytes(data[1:5], "big")) if plain and data[:1] == b"\x00" else None
            if found is not None:
                value = found[1](data[5:])
                out.append(Decoded(value, found[2]) if de._return_schema else value)
            else:
                out.append(de(data, ctx))
        except SerdeError as exc:
            raise _as_serialization_error(exc.at(f"record {position}")) from exc.__cause__
    return out


def outcome(call):
    try:
        return ("ok", [json.dumps(v, default=repr, sort_keys=True) if v is not None else None for v in call()])
    except SerdeError as exc:
        return (type(exc).__name__, str(exc), exc.location, exc.path)


def batches_agree(format, client, good, odd, rng, rounds, longest):
    """Random batches (mostly good frames, some odd ones) read by deserialize_many and by
    the code of before, on fresh deserializers (half of them warmed by one read first);
    returns the kinds of outcome seen."""
    kinds = set()
    for _ in range(rounds):
        batch = [rng.choice(good) if rng.random() < 0.85 else rng.choice(odd) for _ in range(rng.randint(1, longest))]
        new, old = serde.deserializer(format, registry=client), serde.deserializer(format, registry=client)
        if rng.random() < 0.5:  # warmed: frames known before the batch
            new(good[0], CTX), old(good[0], CTX)
        got, want = outcome(lambda: new.deserialize_many(batch, CTX)), outcome(lambda: before(old, batch, CTX))
        assert got == want, batch
        kinds.add(got[0])
    return kinds


@pytest.fixture()
def frames():
    client = SchemaRegistryClient.new_client({"url": "mock://many"})
    order = serde.serializer("json", ORDER_JSON, registry=client)
    person = serde.serializer("json", PERSON, registry=client)
    good = [order(dict(e, order_id=i), CTX) for i, e in enumerate(EXAMPLES)]
    prefix = good[0][:5]
    odd = [
        None, person({"name": "x"}, SerializationContext("people", MessageField.VALUE)),
        prefix + json.dumps(dict(EXAMPLES[0], order_id=2**70)).encode(),  # exact big integer
        prefix + json.dumps(dict(EXAMPLES[0], order_id=-1)).encode(),  # invalid: minimum 0
        prefix + b'{"order_id": 1,',  # invalid JSON
        prefix + b"NaN", prefix, prefix[:3], b"\x07abcde", b"\x00\x00\x00\x7f\x7f{}",  # unknown schema id
    ]
    return client, good, odd


def test_json_batches_agree_with_before(frames):
    client, good, odd = frames
    kinds = batches_agree("json", client, good, odd, random.Random(19), 300, 30)
    assert {"ok", "ValidationError", "DecodeError"} <= kinds


def test_json_batch_reads_big_integers_exactly(frames):
    client, good, odd = frames
    de = serde.deserializer("json", registry=client)
    values = de.deserialize_many([good[0], good[1], odd[2], good[2]], CTX)
    assert values[2]["order_id"] == 2**70 and type(values[2]["order_id"]) is int
    assert values == [de(d, CTX) for d in [good[0], good[1], odd[2], good[2]]]


def test_an_invalid_record_in_a_run_is_named_by_its_position(frames):
    client, good, odd = frames
    de = serde.deserializer("json", registry=client)
    with pytest.raises(serde.ValidationError) as info:
        de.deserialize_many(good[:3] + [odd[3]] + good[3:6], CTX)
    assert info.value.location in ("record 3", "schema id 1") and info.value.path == "$.order_id"


def test_avro_batches_agree_with_before():
    import datetime as dt
    import decimal
    import uuid

    client = SchemaRegistryClient.new_client({"url": "mock://many-avro"})
    ser = serde.serializer("avro", ORDER_AVRO, registry=client)
    records = []
    for i, e in enumerate(EXAMPLES):
        records.append(dict(e, order_id=i, order_uuid=uuid.UUID(e["order_uuid"]),
                            created_at=dt.datetime.fromisoformat(e["created_at"].replace("Z", "+00:00")),
                            delivery_date=dt.date.fromisoformat(e["delivery_date"]), total=decimal.Decimal(e["total"]),
                            items=[dict(item, price=decimal.Decimal(item["price"])) for item in e["items"]]))
    good = ser.serialize_many(records, CTX)
    odd = [None, good[0][:9], good[0][:5], b"\x00\x00\x00\x7f\x7f\x02", b"\x01\x02"]
    batches_agree("avro", client, good, odd, random.Random(7), 200, 20)
    de = serde.deserializer("avro", registry=client)
    assert de.deserialize_many(good, CTX) == records


def test_protobuf_batches_agree_with_before():
    client = SchemaRegistryClient.new_client({"url": "mock://many-pb"})
    text = 'syntax = "proto3"; package t; message A { int64 id = 1; string name = 2; repeated int32 xs = 3; }'
    ser = serde.serializer("protobuf", text, registry=client)
    good = [ser({"id": i, "name": f"n{i}", "xs": [i, i + 1]}, CTX) for i in range(10)]
    odd = [None, good[0][:6] + b"\xff\xff", good[0][:5], b"\x00\x00\x00\x7f\x7f\x00", b"\x01\x02"]
    batches_agree("protobuf", client, good, odd, random.Random(3), 200, 20)
