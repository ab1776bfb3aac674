"""The JSON Schema decoder's fast path (issue 19): orjson's reading, accepted by a
validator of the schema with every number bounded strictly within +-(2**63 - 1), is
returned without looking at the text for long runs of digits. Every document must come
out exactly as the text check and the schema's own validator give it: the same value,
types included (an integer beyond 64 bits stays an exact int), or the same error."""
import copy
import json
import random

import pytest

from serde._errors import SerdeError
from serde.formats import get_format
from serde.formats.jsonschema import _bounded_document

from .test_jsonschema_fast import EXAMPLES, NULLABLE_NUMBERS, ORDER_SCHEMA, mutate, nullable_records

BIG = [2**63 - 2, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 2**70 + 1, -(2**63) + 1, -(2**63), -(2**63) - 1, -(2**70),
       10**30, 1e19, -1e19, 9.3e18, 1.5e300, 0.1234567890123456789]


def decoders(text: str, monkeypatch: pytest.MonkeyPatch, **options):
    """(fast, slow) decoders for one schema: the slow one is the path of before alone."""
    fmt = get_format("json")
    fast = fmt.decoder(fmt.parse_schema(text), **options)
    with monkeypatch.context() as m:
        m.setattr("serde.formats.jsonschema._bounded_document", lambda document: None)
        slow = fmt.decoder(fmt.parse_schema(text), **options)
    return fast, slow


def typed(value):
    """The value with every leaf's type beside it: 10**20 == 1e20, but they differ."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, value)


def outcome(decode, data: bytes):
    try:
        return ("ok", typed(decode(data)))
    except SerdeError as exc:
        return (type(exc).__name__, str(exc), exc.path)
    except Exception as exc:  # noqa: BLE001 - whatever it is, both sides must agree
        return (type(exc).__name__, str(exc))


def text_of(record, rng: random.Random) -> bytes:
    text = json.dumps(record, default=str)  # NaN/Infinity literals too: orjson refuses them, json.loads not
    roll = rng.random()
    if roll < 0.05:
        text = text[: rng.randrange(len(text))]  # truncated
    elif roll < 0.1 and text.startswith("{") and len(text) > 2:
        text = '{"order_id": 1, ' + text[1:]  # a duplicate key
    return text.encode()


def documents(rng: random.Random, n: int):
    for i in range(n):
        record = copy.deepcopy(dict(rng.choice(EXAMPLES), order_id=1_000_000 + i))
        if rng.random() < 0.5:
            record = mutate(record, rng)
        if rng.random() < 0.5:  # a big number somewhere a number may (or may not) sit
            spot = rng.choice(["order_id", "total", "customer", "note", "extra"])
            record[spot] = rng.choice(BIG)
            items = record.get("items")
            if rng.random() < 0.5 and isinstance(items, list) and items:
                item = items[0]
                if isinstance(item, dict):
                    item[rng.choice(["qty", "price"])] = rng.choice(BIG)
        yield text_of(record, rng)


def nullable_documents(rng: random.Random, n: int):
    for record in nullable_records(rng, n):
        record = copy.deepcopy(record)
        if rng.random() < 0.5:
            spot = rng.choice(["id", "score", "when", "values", "tree", "extra"])
            value = rng.choice(BIG)
            record[spot] = [1.0, value] if spot == "values" else {"v": value, "kids": []} if spot == "tree" else value
        yield text_of(record, rng)


def test_the_order_schema_gets_the_bounded_validator():
    assert _bounded_document(json.loads(ORDER_SCHEMA)) is not None
    assert _bounded_document(json.loads(NULLABLE_NUMBERS)) is not None


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"n": {"type": "number"}}},  # open: a number may sit unchecked
    {"type": "object", "properties": {"n": {"oneOf": [{"type": "number"}, {"const": 1}]}}, "additionalProperties": False},
    {"$schema": "http://json-schema.org/draft-04/schema#", "type": "number"},  # boolean exclusive bounds
    {"enum": [1, 2**64]}, {"const": 1e20},  # a constant a big float could equal
    {"type": "number", "exclusiveMaximum": True},
])
def test_schemas_that_keep_the_text_check(schema):
    assert _bounded_document(schema) is None


def test_bounds_are_added_and_never_widened():
    bounded = _bounded_document({"type": "object", "additionalProperties": False, "properties": {
        "a": {"type": "integer", "minimum": 0, "exclusiveMaximum": 10},
        "b": {"type": ["string", "number"]},
        "c": {"type": "number", "not": {"type": "integer"}},
        "d": {"type": "string"},
    }})
    props = bounded["properties"]
    assert props["a"] == {"type": "integer", "minimum": 0, "exclusiveMaximum": 10, "exclusiveMinimum": -(2**63 - 1)}
    assert props["b"]["exclusiveMaximum"] == 2**63 - 1 and props["b"]["exclusiveMinimum"] == -(2**63 - 1)
    assert props["c"]["not"] == {"type": "integer"}  # under not, a bound would accept more
    assert props["c"]["exclusiveMaximum"] == 2**63 - 1
    assert props["d"] == {"type": "string"}


@pytest.mark.parametrize("text,make", [(ORDER_SCHEMA, documents), (NULLABLE_NUMBERS, nullable_documents)])
def test_fast_and_slow_paths_agree_document_by_document(text, make, monkeypatch):
    fast, slow = decoders(text, monkeypatch)
    rng = random.Random(1919)
    seen = set()
    for data in make(rng, 3000):
        got, want = outcome(fast, data), outcome(slow, data)
        assert got == want, data
        seen.add(got[0])
    assert {"ok", "ValidationError", "DecodeError"} <= seen


@pytest.mark.parametrize("value", [2**64, 2**70 + 1, -(2**63) - 1, 10**30, 2**63, -(2**63)])
def test_big_integers_are_read_exactly(value, monkeypatch):
    fast, slow = decoders(NULLABLE_NUMBERS, monkeypatch)
    for doc in ({"id": value}, {"score": value}, {"values": [1, value]}, {"tree": {"v": value, "kids": []}}):
        data = json.dumps(doc).encode()
        assert typed(fast(data)) == typed(slow(data)) == typed(doc)


def test_memoryview_and_str_input_agree(monkeypatch):
    fast, slow = decoders(ORDER_SCHEMA, monkeypatch)
    data = json.dumps(dict(EXAMPLES[0], order_id=2**70)).encode()
    for form in (data, bytearray(data), memoryview(data), data.decode()):
        assert outcome(fast, form) == outcome(slow, form)
    for form in (data, bytearray(data), data.decode()):
        assert outcome(fast, form)[1]["order_id"] == ("int", 2**70)
