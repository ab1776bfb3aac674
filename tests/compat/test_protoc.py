"""serde._protoc: .proto text (plus references) to descriptors with the bundled protoc."""
from __future__ import annotations

import pytest

from serde._errors import SchemaParseError
from serde._protoc import compile_proto

MONEY = 'syntax = "proto3";\npackage shop;\nmessage Money { int64 cents = 1; }\n'
ORDER = ('syntax = "proto3";\npackage shop;\nimport "money.proto";\n'
         'import "google/protobuf/timestamp.proto";\n'
         'message Order { Money total = 1; google.protobuf.Timestamp at = 2; }\n')


def test_compiles_with_references_and_well_known_types_in_dependency_order():
    compiled = compile_proto(ORDER, {"money.proto": MONEY}, name="order.proto")
    assert compiled.file.name == "order.proto"
    assert [m.name for m in compiled.file.message_type] == ["Order"]
    names = [f.name for f in compiled.files]
    assert names[-1] == "order.proto"
    assert set(names) == {"money.proto", "google/protobuf/timestamp.proto", "order.proto"}
    assert compiled.file.message_type[0].field[0].type_name == ".shop.Money"


def test_results_are_cached_by_content():
    first = compile_proto(MONEY)
    assert compile_proto(MONEY) is first
    assert compile_proto(MONEY.replace("cents", "units")) is not first


@pytest.mark.parametrize(("text", "where"), [
    ('syntax = "proto3";\nmessage M { strin x = 1; }\n', "schema.proto:2:13"),
    ('syntax = "proto3";\nmessage M { string x = 1 }\n', "schema.proto:2:26"),
])
def test_errors_carry_protoc_line_and_column(text, where):
    with pytest.raises(SchemaParseError) as info:
        compile_proto(text)
    assert where in str(info.value)


def test_missing_import_is_a_parse_error():
    with pytest.raises(SchemaParseError) as info:
        compile_proto(ORDER)
    assert "money.proto" in str(info.value)


def test_reference_names_cannot_escape_the_source_tree():
    with pytest.raises(SchemaParseError):
        compile_proto(MONEY, {"../evil.proto": MONEY})
