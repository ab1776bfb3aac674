"""A → B → A gives the same model, for every pair; derived schemas parse in their format."""
from __future__ import annotations

import json

import pytest

from serde import _model as m
from serde.formats import get_format
from serde.translate import derive, from_model, to_model

TYPES = ("avro", "json", "protobuf")
FORMATS = {"avro": "avro", "json": "json", "protobuf": "protobuf"}


def parses(schema_type: str, text: str) -> None:
    get_format(FORMATS[schema_type]).parse_schema(text)


@pytest.mark.parametrize("middle", TYPES)
def test_avro_through_every_type_and_back(order_avro, middle):
    model = to_model("avro", order_avro)
    text = from_model(model, middle)
    parses(middle, text)
    assert to_model(middle, text) == model
    back = derive(middle, text, "avro")
    parses("avro", back)
    assert to_model("avro", back) == model


@pytest.mark.parametrize("first", TYPES)
@pytest.mark.parametrize("second", TYPES)
def test_every_ordered_pair(order_avro, first, second):
    model = to_model("avro", order_avro)
    a = from_model(model, first)
    b = derive(first, a, second)
    parses(second, b)
    again = derive(second, b, first)
    assert to_model(first, again) == to_model(first, a) == model


def test_json_native_schema_round_trips_through_avro_and_protobuf():
    text = json.dumps(
        {
            "title": "Person",
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "full name"},
                "age": {"type": "integer", "minimum": 0, "maximum": 150},
                "email": {"type": ["string", "null"]},
                "address": {"type": "object", "properties": {"street": {"type": "string"}}, "required": ["street"]},
                "kind": {"enum": ["A", "B"]},
                "scores": {"type": "object", "additionalProperties": {"type": "number"}},
            },
            "required": ["name", "age", "address", "kind", "scores"],
        }
    )
    model = to_model("json", text)
    for middle in ("avro", "protobuf"):
        assert to_model("json", derive(middle, derive("json", text, middle), "json")) == model


def test_protobuf_native_schema_round_trips():
    proto = """
syntax = "proto3";
package shop.v1;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

// A customer.
message Customer {
  enum Tier { TIER_UNSPECIFIED = 0; GOLD = 1; SILVER = 2; }
  string id = 1;
  optional int32 age = 2;
  Tier tier = 3;
  repeated string emails = 4;
  map<string, Address> addresses = 5;
  Address home = 6;
  google.protobuf.Timestamp since = 7;
  google.protobuf.StringValue nickname = 8;
  oneof contact { string phone = 9; Address post = 10; }
  sint64 points = 11;
  uint32 visits = 12;
}
message Address { string city = 1; }
"""
    model = to_model("protobuf", proto)
    assert model.name == "shop.v1.Customer" and model.doc == "A customer."
    types = {f.name: f.type for f in model.fields}
    address = m.Record("shop.v1.Address", (m.Field("city", m.Scalar(m.STRING)),))
    assert types["age"] == m.Optional(m.Scalar(m.INT32))
    assert types["tier"] == m.Enum("shop.v1.Customer.Tier", ("TIER_UNSPECIFIED", "GOLD", "SILVER"), "TIER_UNSPECIFIED")
    assert types["emails"] == m.Array(m.Scalar(m.STRING))
    assert types["addresses"] == m.Map(address)
    assert types["home"] == m.Optional(address)
    assert types["since"] == m.Optional(m.Scalar(m.TIMESTAMP_MILLIS))
    assert types["nickname"] == m.Optional(m.Scalar(m.STRING))
    assert types["contact"] == m.Optional(m.Union_((m.Scalar(m.STRING), address)))  # a native oneof may be unset
    assert types["points"] == m.Scalar(m.INT64) and types["visits"] == m.Scalar(m.INT64)
    for middle in TYPES:
        text = from_model(model, middle)
        parses(middle, text)
        back = derive(middle, text, "protobuf")
        parses("protobuf", back)
        assert to_model("protobuf", back) == model


def test_protobuf_message_selection_and_references():
    common = 'syntax = "proto3";\npackage common;\nmessage Money { string currency = 1; int64 units = 2; }\n'
    main = 'syntax = "proto3";\npackage shop;\nimport "common.proto";\nmessage A { int32 x = 1; }\nmessage B { common.Money price = 1; }\n'
    assert to_model("protobuf", main, {"common.proto": common}).name == "shop.A"
    b = to_model("protobuf", main, {"common.proto": common}, message="B")
    assert b.field("price").type == m.Optional(m.Record("common.Money", (m.Field("currency", m.Scalar(m.STRING)), m.Field("units", m.Scalar(m.INT64)))))
    assert to_model("protobuf", from_model(b, "protobuf")) == b


def test_enum_zero_value_rule():
    enum = m.Enum("E", ("A", "B"))
    record = m.Record("R", (m.Field("e", enum),))
    text = from_model(record, "protobuf")
    assert "E_UNSPECIFIED = 0;" in text and "A = 1;" in text
    with_default = m.Record("R", (m.Field("e", m.Enum("E", ("A", "B"), "A")),))
    assert "A = 0;" in from_model(with_default, "protobuf")
    default_not_first = m.Record("R", (m.Field("e", m.Enum("E", ("A", "B"), "B")),))
    assert to_model("protobuf", from_model(default_not_first, "protobuf")) == default_not_first


def test_json_int_rule():
    for kind in (m.INT32, m.INT64):
        record = m.Record("R", (m.Field("n", m.Scalar(kind)),))
        assert to_model("json", from_model(record, "json")) == record


def test_derive_options_and_top_level_types():
    assert to_model("avro", from_model(m.Scalar(m.STRING), "avro")) == m.Scalar(m.STRING)
    assert to_model("json", from_model(m.Array(m.Scalar(m.UUID)), "json")) == m.Array(m.Scalar(m.UUID))
    with pytest.raises(TypeError, match="unknown Avro option"):
        from_model(m.Scalar(m.STRING), "avro", bogus=1)
