"""The JSON Schema encoder's fast path (issue 19): a record the validator accepts as it is,
under a schema whose validation refuses NaN and Infinity everywhere, is written without a
walk looking for NaN. Every record must come out exactly as the slow path writes it: the
same bytes, or the same error (kind, message, field path)."""
import copy
import datetime as dt
import decimal
import json
import math
import random
import uuid
from pathlib import Path

import pytest

import serde
from serde._errors import SerdeError
from serde.formats import get_format
from serde.formats import jsonschema as js_module
from serde.formats.jsonschema import _validation_refuses_nan

ROOT = Path(__file__).resolve().parents[2]
ORDER_SCHEMA = (ROOT / "schemas" / "json" / "order.schema.json").read_text()
EXAMPLES = [json.loads(line) for line in (ROOT / "schemas" / "examples" / "orders.ndjson").read_text().splitlines() if line.strip()]

NULLABLE_NUMBERS = json.dumps({
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "score": {"type": ["number", "null"]},
        "when": {"type": "string"},
        "values": {"type": "array", "items": {"type": ["number", "null"]}},
        "tree": {"$ref": "#/definitions/node"},
    },
    "additionalProperties": False,
    "definitions": {"node": {"type": "object", "properties": {"v": {"type": "number"}, "kids": {"type": "array", "items": {"$ref": "#/definitions/node"}}},
                             "additionalProperties": False}},
})
TIME_FORMAT = json.dumps({
    "type": "object",
    "properties": {"at": {"type": "string", "format": "time"}, "n": {"type": ["number", "null"]}},
    "additionalProperties": False,
})
OPEN = json.dumps({"type": "object", "properties": {"n": {"type": ["number", "null"]}}})


def encoders(text: str, monkeypatch: pytest.MonkeyPatch, **options):
    """(fast, slow) encoders for one schema: the slow one is today's path alone."""
    fmt = get_format("json")
    fast = fmt.encoder(fmt.parse_schema(text), **options)
    with monkeypatch.context() as m:
        m.setattr(js_module, "_validation_refuses_nan", lambda document: False)
        slow = fmt.encoder(fmt.parse_schema(text), **options)
    return fast, slow


def outcome(encode, record):
    try:
        return ("ok", encode(record))
    except SerdeError as exc:
        return (type(exc).__name__, str(exc), exc.path)
    except Exception as exc:  # noqa: BLE001 - whatever it is, both sides must agree
        return (type(exc).__name__, str(exc))


ODD_VALUES = [
    float("nan"), float("inf"), -float("inf"), 2**64, 2**70, -(2**70), 10**30, 2**63 - 1, -(2**63),
    decimal.Decimal("12.30"), decimal.Decimal("1E-10"), decimal.Decimal("NaN"),
    dt.datetime(2024, 5, 1, 8, 0, 11, 332000), dt.datetime(2024, 5, 1, 8, 0, 11, tzinfo=dt.timezone.utc),
    dt.date(2024, 5, 6), dt.time(8, 0, 11), uuid.UUID("ffa9b9f1-5c14-4c4a-829e-07b0829a48d4"),
    b"\x00\xffbytes", bytearray(b"ab"), None, True, 0, -1, 1.5, "", "text", "1631.44", [], {}, (1, 2), {1, 2}, object(),
]


def mutate(record, rng: random.Random):
    """A copy of ``record`` with one to three values (anywhere, nested too) replaced, a key
    added or a key dropped."""
    record = copy.deepcopy(record)
    for _ in range(rng.randint(1, 3)):
        containers = []

        def collect(node):
            if isinstance(node, dict):
                containers.append(node)
                for v in node.values():
                    collect(v)
            elif isinstance(node, list):
                containers.append(node)
                for v in node:
                    collect(v)

        collect(record)
        target = rng.choice(containers)
        choice = rng.random()
        value = copy.deepcopy(rng.choice(ODD_VALUES))
        if isinstance(target, dict):
            if choice < 0.1 and target:
                target.pop(rng.choice(list(target)))
            elif choice < 0.2:
                target["extra"] = value
            elif target:
                target[rng.choice(list(target))] = value
        elif target:
            target[rng.randrange(len(target))] = value
        else:
            target.append(value)
    return record


def order_records(rng: random.Random, n: int):
    out = []
    for i in range(n):
        record = dict(rng.choice(EXAMPLES), order_id=1_000_000 + i)
        out.append(record if rng.random() < 0.3 else mutate(record, rng))
    return out


def nullable_records(rng: random.Random, n: int):
    base = {"id": 1, "score": 0.5, "when": "x", "values": [1.0, None, 2], "tree": {"v": 1.0, "kids": [{"v": 2.0, "kids": []}]}}
    return [base if rng.random() < 0.2 else mutate(base, rng) for _ in range(n)]


def test_the_order_schema_and_closed_schemas_take_the_fast_path():
    assert _validation_refuses_nan(json.loads(ORDER_SCHEMA))
    assert _validation_refuses_nan(json.loads(NULLABLE_NUMBERS))
    assert _validation_refuses_nan(json.loads(TIME_FORMAT))


@pytest.mark.parametrize("schema", [
    True, {}, {"type": "object"},  # open: anything may sit anywhere
    {"type": "object", "properties": {"n": {"type": "number"}}},  # no additionalProperties: extra keys are open
    {"type": "array"},
    {"type": "array", "items": [{"type": "number"}]},  # no additionalItems
    {"type": "object", "properties": {"n": {"maximum": 5}}, "additionalProperties": False},
    {"type": "object", "properties": {"n": {"anyOf": [{"type": "number"}, {}]}}, "additionalProperties": False},
    {"type": "object", "properties": {"n": {"not": {"type": "string"}}}, "additionalProperties": False},
    {"type": "object", "properties": {"n": {"$ref": "other.json"}}, "additionalProperties": False},
    {"type": "object", "properties": {"n": {"$ref": "#/definitions/missing"}}, "additionalProperties": False},
    {"definitions": {"loop": {"allOf": [{"$ref": "#/definitions/loop"}]}}, "$ref": "#/definitions/loop"},
    {"type": "object", "properties": {"n": {"$id": "inner.json", "type": "number"}}, "additionalProperties": False},
])
def test_schemas_where_nan_could_pass_validation_keep_the_slow_path(schema):
    assert not _validation_refuses_nan(schema)


@pytest.mark.parametrize("schema", [
    {"type": "number"}, {"enum": [1, None]}, {"const": None}, {"type": ["number", "null"]},
    {"anyOf": [{"type": "number"}, {"type": "null"}]},
    {"allOf": [{"type": "object", "additionalProperties": {"type": "number"}}, {"required": ["a"]}]},
    {"$defs": {"n": {"type": "number"}}, "type": "array", "prefixItems": [{"$ref": "#/$defs/n"}], "items": False},
])
def test_schemas_whose_validation_refuses_nan(schema):
    assert _validation_refuses_nan(schema)


@pytest.mark.parametrize("text,make", [(ORDER_SCHEMA, order_records), (NULLABLE_NUMBERS, nullable_records)])
def test_fast_and_slow_paths_agree_record_by_record(text, make, monkeypatch):
    rng = random.Random(19)
    records = make(rng, 1500)
    for record in records:
        fast, slow = encoders(text, monkeypatch)  # fresh: no stream state
        assert outcome(fast, record) == outcome(slow, record), record


@pytest.mark.parametrize("text,make", [(ORDER_SCHEMA, order_records), (NULLABLE_NUMBERS, nullable_records)])
def test_fast_and_slow_paths_agree_over_a_stream(text, make, monkeypatch):
    # the encoder keeps state across records (the written-form check, once needed, stays)
    for seed in range(8):
        rng = random.Random(seed)
        fast, slow = encoders(text, monkeypatch)
        for record in make(rng, 200):
            assert outcome(fast, record) == outcome(slow, record), record


def test_plain_order_records_are_written_as_before(monkeypatch):
    fast, slow = encoders(ORDER_SCHEMA, monkeypatch)
    for i, example in enumerate(EXAMPLES):
        record = dict(example, order_id=10**6 + i)
        assert fast(record) == slow(record) == json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_nan_behind_a_nullable_number_is_refused_on_the_fast_path(value, monkeypatch):
    fast, slow = encoders(NULLABLE_NUMBERS, monkeypatch)
    for record in ({"score": value}, {"values": [1.0, value]}, {"tree": {"v": 1.0, "kids": [{"v": value}]}}):
        got = outcome(fast, record)
        assert got[0] == "RecordInvalid" and "NaN and Infinity" in got[1]
        assert got == outcome(slow, record)


def test_big_integers_are_written_exactly_on_the_fast_path(monkeypatch):
    fast, slow = encoders(NULLABLE_NUMBERS, monkeypatch)
    record = {"id": 2**70 + 1, "score": None, "values": [10**30]}
    assert fast(record) == slow(record) == b'{"id":1180591620717411303425,"score":null,"values":[1000000000000000000000000000000]}'


def test_temporal_values_in_a_schema_without_format(monkeypatch):
    fast, slow = encoders(NULLABLE_NUMBERS, monkeypatch)
    when = dt.datetime(2024, 5, 1, 8, 0, 11, 332000, tzinfo=dt.timezone.utc)
    for record in ({"when": when, "score": 1.0}, {"when": when, "score": None}, {"when": dt.date(2024, 5, 6)}):
        assert outcome(fast, record) == outcome(slow, record)
    assert fast({"when": when}) == b'{"when":"2024-05-01T08:00:11.332000Z"}'


def test_time_format_schema_agrees(monkeypatch):
    fast, slow = encoders(TIME_FORMAT, monkeypatch)
    for record in ({"at": dt.time(8, 0, 11)}, {"at": "08:00:11Z", "n": None}, {"at": "08:00:11Z", "n": float("nan")},
                   {"at": "nope"}, {"at": dt.time(8, 0, 11), "n": 2**70}):
        assert outcome(fast, record) == outcome(slow, record)


def test_open_schema_keeps_looking_for_nan(monkeypatch):
    fast, _ = encoders(OPEN, monkeypatch)
    for record in ({"n": float("nan")}, {"other": float("nan")}, {"other": [{"x": float("inf")}]}):
        assert outcome(fast, record)[0] == "RecordInvalid"


def test_tuple_items_in_draft_2020_12_keep_the_slow_path():
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "array",
              "items": [{"type": "number"}], "additionalItems": False}
    assert not _validation_refuses_nan(schema)
    assert _validation_refuses_nan({k: v for k, v in schema.items() if k != "$schema"})


def test_nan_in_a_string_or_null_field_is_refused_not_written_as_null():
    """The Python form fails validation (NaN is not a string), and the written form would
    have read as a valid null: the record is refused instead."""
    fmt = serde.get_format("json")
    schema = fmt.parse_schema(json.dumps({"type": "object", "properties": {"note": {"type": ["string", "null"]}},
                                          "additionalProperties": False}))
    encode = fmt.encoder(schema)
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(serde.RecordInvalid, match="NaN and Infinity"):
            encode({"note": bad})
    assert encode({"note": None}) == b'{"note":null}'
    assert encode({"note": "x"}) == b'{"note":"x"}'
