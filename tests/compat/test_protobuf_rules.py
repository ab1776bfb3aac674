"""One case per Protobuf rule ID: the change is detected, and judged as Confluent does."""
from __future__ import annotations

import pytest

from serde._errors import SchemaParseError
from serde.compat import check, rules
from tests.compat._helpers import emitted


def proto(body: str, package: str = "shop") -> str:
    return f'syntax = "proto3";\npackage {package};\n{body}\n'


def proto2(body: str) -> str:
    return f'syntax = "proto2";\npackage shop;\n{body}\n'


BASE = "message Order { string id = 1; int32 qty = 2; }"

CASES = [
    ("PACKAGE_CHANGED", proto(BASE), proto(BASE, package="store")),
    ("MESSAGE_ADDED", proto(BASE), proto(BASE + " message Item { string sku = 1; }")),
    ("MESSAGE_REMOVED", proto(BASE + " message Item { string sku = 1; }"), proto(BASE)),
    ("MESSAGE_MOVED", proto(BASE + " message Item { string sku = 1; }"), proto("message Item { string sku = 1; } " + BASE)),
    ("ENUM_ADDED", proto(BASE), proto(BASE + " enum Color { RED = 0; }")),
    ("ENUM_REMOVED", proto(BASE + " enum Color { RED = 0; }"), proto(BASE)),
    ("ENUM_CONST_ADDED", proto("enum Color { RED = 0; }"), proto("enum Color { RED = 0; BLUE = 1; }")),
    ("ENUM_CONST_CHANGED", proto("enum Color { RED = 0; BLUE = 1; }"), proto("enum Color { RED = 0; AZURE = 1; }")),
    ("ENUM_CONST_REMOVED", proto("enum Color { RED = 0; BLUE = 1; }"), proto("enum Color { RED = 0; }")),
    ("FIELD_ADDED", proto(BASE), proto("message Order { string id = 1; int32 qty = 2; string note = 3; }")),
    ("FIELD_REMOVED", proto(BASE), proto("message Order { string id = 1; }")),
    ("FIELD_NAME_CHANGED", proto(BASE), proto("message Order { string id = 1; int32 quantity = 2; }")),
    ("FIELD_KIND_CHANGED", proto(BASE + " message Q { int32 n = 1; }"), proto("message Order { string id = 1; Q qty = 2; } message Q { int32 n = 1; }")),
    ("FIELD_SCALAR_KIND_CHANGED", proto(BASE), proto("message Order { string id = 1; string qty = 2; }")),
    ("FIELD_NAMED_TYPE_CHANGED", proto("message Order { A a = 1; } message A { int32 n = 1; } message B { int32 n = 1; }"),
     proto("message Order { B a = 1; } message A { int32 n = 1; } message B { int32 n = 1; }")),
    ("FIELD_STRING_OR_BYTES_LABEL_CHANGED", proto(BASE), proto("message Order { repeated string id = 1; int32 qty = 2; }")),
    ("FIELD_NUMERIC_LABEL_CHANGED", proto(BASE), proto("message Order { string id = 1; repeated int32 qty = 2; }")),
    ("REQUIRED_FIELD_ADDED", proto2("message Order { optional string id = 1; }"), proto2("message Order { optional string id = 1; required int32 qty = 2; }")),
    ("REQUIRED_FIELD_REMOVED", proto2("message Order { optional string id = 1; required int32 qty = 2; }"), proto2("message Order { optional string id = 1; }")),
    ("ONEOF_ADDED", proto(BASE), proto("message Order { string id = 1; oneof q { int32 qty = 2; } }")),
    ("ONEOF_REMOVED", proto("message Order { string id = 1; oneof q { int32 qty = 2; } }"), proto(BASE)),
    ("ONEOF_FIELD_ADDED", proto("message Order { oneof q { int32 qty = 2; } }"), proto("message Order { oneof q { int32 qty = 2; string all = 3; } }")),
    ("ONEOF_FIELD_REMOVED", proto("message Order { oneof q { int32 qty = 2; string all = 3; } }"), proto("message Order { oneof q { int32 qty = 2; } }")),
    ("ONEOF_FIELD_MOVED_TO_TOP_LEVEL", proto("message Order { string id = 1; oneof q { int32 qty = 2; } }"), proto(BASE)),
    ("MULTIPLE_FIELDS_MOVED_TO_ONEOF", proto(BASE), proto("message Order { oneof q { string id = 1; int32 qty = 2; } }")),
    ("FIELD_MOVED_TO_EXISTING_ONEOF", proto("message Order { string id = 1; oneof q { int32 qty = 2; } }"),
     proto("message Order { oneof q { string id = 1; int32 qty = 2; } }")),
]

RULES = {rule.id: rule for rule in rules("protobuf")}


@pytest.mark.parametrize(("rule_id", "old", "new"), CASES, ids=[c[0] for c in CASES])
def test_rule_is_detected_and_judged(rule_id, old, new):
    assert rule_id in emitted("PROTOBUF", old, new)
    result = check("PROTOBUF", new, [old])
    if RULES[rule_id].compatible:
        assert result.compatible, result.messages
    else:
        assert not result.compatible
        assert any(m.startswith(rule_id + " ") for m in result.messages), result.messages


def test_every_rule_has_a_case():
    assert set(RULES) - {c[0] for c in CASES} == set()


def test_interchangeable_integer_types_are_compatible():
    old = proto("message M { int32 a = 1; sint32 b = 2; fixed32 c = 3; string d = 4; }")
    new = proto("message M { uint64 a = 1; sint64 b = 2; sfixed32 c = 3; bytes d = 4; }")
    assert check("PROTOBUF", new, [old]).compatible


def test_message_says_field_and_types():
    result = check("PROTOBUF", proto("message Order { string id = 1; string qty = 2; }"), [proto(BASE)])
    assert result.messages == [
        "FIELD_SCALAR_KIND_CHANGED #/Order/2: field 2 changed to a wire-incompatible scalar type: "
        "'qty' int32 → string (old version 1)"
    ]


def test_imported_type_changed_in_a_reference_is_found():
    main = proto('import "money.proto";\nmessage Order { shop.Money total = 1; }')
    old_ref = {"money.proto": proto("message Money { int64 cents = 1; }")}
    new_ref = {"money.proto": proto("message Money { string cents = 1; }")}
    result = check("PROTOBUF", (main, new_ref), [(main, old_ref)])
    assert not result.compatible
    assert {m.split(" ")[0] + " " + m.split(" ")[1] for m in result.messages} == {
        "FIELD_SCALAR_KIND_CHANGED #/Money/1:", "FIELD_NAMED_TYPE_CHANGED #/Order/1:"}


def test_map_value_type_change_is_found():
    old = proto("message M { map<string, int32> counts = 1; }")
    new = proto("message M { map<string, string> counts = 1; }")
    assert emitted("PROTOBUF", old, new) == ["FIELD_SCALAR_KIND_CHANGED"]


def test_syntax_error_is_a_parse_error_with_line_and_column():
    with pytest.raises(SchemaParseError) as info:
        check("PROTOBUF", proto("message M { strin x = 1; }"), [proto(BASE)])
    assert "schema.proto:3:13" in str(info.value)
    assert "new schema" in str(info.value)
