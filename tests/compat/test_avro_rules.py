"""Avro reader/writer resolution: one case per rule ID plus promotions, aliases, defaults."""
from __future__ import annotations

import json

import pytest

from serde._errors import SchemaParseError
from serde.compat import check, rules
from tests.compat._helpers import emitted


def record(*fields, name="Order", **extra) -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "shop", "fields": list(fields), **extra})


def f(name, type_, **extra):
    return {"name": name, "type": type_, **extra}


ENUM_AB = {"type": "enum", "name": "Color", "symbols": ["A", "B"]}
ENUM_A = {"type": "enum", "name": "Color", "symbols": ["A"]}

# (rule ID, writer = old, reader = new): BACKWARD, the new schema reads old data
CASES = [
    ("NAME_MISMATCH", record(f("a", "int")), record(f("a", "int"), name="Purchase")),
    ("FIXED_SIZE_MISMATCH", record(f("h", {"type": "fixed", "name": "H", "size": 16})),
     record(f("h", {"type": "fixed", "name": "H", "size": 32}))),
    ("MISSING_ENUM_SYMBOLS", record(f("c", ENUM_AB)), record(f("c", ENUM_A))),
    ("READER_FIELD_MISSING_DEFAULT_VALUE", record(f("a", "int")), record(f("a", "int"), f("b", "string"))),
    ("TYPE_MISMATCH", record(f("a", "long")), record(f("a", "int"))),
    ("MISSING_UNION_BRANCH", record(f("a", ["null", "string", "int"])), record(f("a", ["null", "string"]))),
]


@pytest.mark.parametrize(("rule_id", "old", "new"), CASES, ids=[c[0] for c in CASES])
def test_rule_is_detected_and_breaks(rule_id, old, new):
    assert rule_id in emitted("AVRO", old, new)
    result = check("AVRO", new, [old])
    assert not result.compatible
    assert result.messages[0].startswith(rule_id + " /fields/0") or result.messages[0].startswith(rule_id + " /")


def test_every_rule_has_a_case():
    assert {r.id for r in rules("avro")} - {c[0] for c in CASES} == set()


@pytest.mark.parametrize(("writer", "reader"), [
    ("int", "long"), ("int", "float"), ("int", "double"), ("long", "float"), ("long", "double"),
    ("float", "double"), ("string", "bytes"), ("bytes", "string"),
])
def test_promotions_are_readable(writer, reader):
    assert check("AVRO", record(f("a", reader)), [record(f("a", writer))]).compatible
    # and the reverse (except string/bytes) is not
    reverse = check("AVRO", record(f("a", writer)), [record(f("a", reader))])
    assert reverse.compatible is ({writer, reader} == {"string", "bytes"})


def test_enum_default_lets_a_reader_miss_symbols():
    reader = record(f("c", {**ENUM_A, "default": "A"}))
    assert check("AVRO", reader, [record(f("c", ENUM_AB))]).compatible


def test_alias_is_qualified_with_the_reader_namespace():
    # Java qualifies "Order" to "shop.Order"; the Python avro port compares the raw string
    reader = record(f("a", "int"), name="Purchase", aliases=["Order"])
    assert check("AVRO", reader, [record(f("a", "int"))]).compatible


def test_field_alias_reads_a_renamed_field():
    reader = record(f("amount", "int", aliases=["qty"]))
    assert check("AVRO", reader, [record(f("qty", "int"))]).compatible


def test_namespace_only_change_is_compatible():
    old = json.dumps({"type": "record", "name": "Order", "namespace": "a", "fields": [f("x", "int")]})
    new = json.dumps({"type": "record", "name": "Order", "namespace": "b", "fields": [f("x", "int")]})
    assert check("AVRO", new, [old]).compatible


def test_recursive_records_terminate():
    node = json.dumps({"type": "record", "name": "Node", "fields": [
        f("value", "int"), f("next", ["null", "Node"], default=None)]})
    assert check("AVRO", node, [node], level="FULL").compatible


def test_named_type_from_a_reference():
    money = json.dumps({"type": "record", "name": "Money", "namespace": "shop", "fields": [f("cents", "long")]})
    money_v2 = json.dumps({"type": "record", "name": "Money", "namespace": "shop", "fields": [f("cents", "int")]})
    order = record(f("total", "shop.Money"))
    result = check("AVRO", (order, {"money.avsc": money_v2}), [(order, {"money.avsc": money})])
    assert [m.split(":")[0] for m in result.messages] == ["TYPE_MISMATCH /fields/0/type/fields/0/type"]


@pytest.mark.parametrize("bad", [
    record(f("a", "int", default="x")),          # invalid default
    record(f("a", "Nope")),                       # unknown type
    '{"type": "record", "name": "R", "fields": [',  # syntax error
    record(f("c", {**ENUM_A, "default": "Z"})),  # enum default not a symbol
])
def test_invalid_schema_is_a_parse_error_never_incompatible(bad):
    with pytest.raises(SchemaParseError):
        check("AVRO", bad, [record(f("a", "int"))])
    with pytest.raises(SchemaParseError) as info:
        check("AVRO", record(f("a", "int")), [bad], level="BACKWARD")
    assert "previous version 1" in str(info.value)
