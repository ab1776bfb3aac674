"""to_model for Avro and JSON Schema: every mapped construct, references, error paths."""
from __future__ import annotations

import json

import pytest

from serde import SchemaParseError
from serde import _model as m
from serde.translate import to_model

S = m.Scalar


def avro(fields, **extra):
    return json.dumps({"type": "record", "name": "Order", "namespace": "com.acme", "fields": fields, **extra})


def field_type(model, name):
    return model.field(name).type


class TestAvro:
    def test_scalars_and_logical_types(self):
        model = to_model(
            "avro",
            avro(
                [
                    {"name": "b", "type": "boolean"},
                    {"name": "i", "type": "int"},
                    {"name": "l", "type": "long"},
                    {"name": "f", "type": "float"},
                    {"name": "d", "type": "double"},
                    {"name": "s", "type": "string"},
                    {"name": "y", "type": "bytes"},
                    {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
                    {"name": "date", "type": {"type": "int", "logicalType": "date"}},
                    {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
                    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
                    {"name": "tu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
                    {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
                    {"name": "fx", "type": {"type": "fixed", "name": "Hash", "size": 16}},
                    {"name": "fx2", "type": "Hash"},
                    {"name": "fd", "type": {"type": "fixed", "name": "Money", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 4}},
                    {"name": "unknown_logical", "type": {"type": "string", "logicalType": "mystery"}},
                ]
            ),
        )
        assert isinstance(model, m.Record) and model.name == "com.acme.Order"
        expected = {
            "b": S(m.BOOLEAN), "i": S(m.INT32), "l": S(m.INT64), "f": S(m.FLOAT32), "d": S(m.FLOAT64),
            "s": S(m.STRING), "y": S(m.BYTES), "dec": m.Decimal(10, 2), "date": S(m.DATE),
            "tm": S(m.TIME_MILLIS), "ts": S(m.TIMESTAMP_MILLIS), "tu": S(m.TIMESTAMP_MICROS), "u": S(m.UUID),
            "fx": S(m.BYTES), "fx2": S(m.BYTES), "fd": m.Decimal(18, 4), "unknown_logical": S(m.STRING),
        }  # fmt: skip
        assert {f.name: f.type for f in model.fields} == expected

    def test_unions_defaults_named_types(self):
        model = to_model(
            "avro",
            avro(
                [
                    {"name": "note", "type": ["null", "string"], "default": None, "doc": "a note"},
                    {"name": "late", "type": ["string", "null"], "default": "x"},
                    {"name": "either", "type": ["int", "string"]},
                    {"name": "maybe", "type": ["null", "int", "string"]},
                    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["A", "B"], "default": "A"}},
                    {"name": "status2", "type": "com.acme.Status"},
                    {"name": "ship", "type": {"type": "record", "name": "Address", "namespace": "geo", "fields": [{"name": "city", "type": "string"}]}},
                    {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
                    {"name": "attrs", "type": {"type": "map", "values": "long"}},
                ],
                doc="An order",
            ),
        )
        assert model.doc == "An order"
        note = model.field("note")
        assert note == m.Field("note", m.Optional(S(m.STRING)), None, True, "a note")
        assert model.field("late") == m.Field("late", m.Optional(S(m.STRING)), "x", True)
        assert field_type(model, "either") == m.Union_((S(m.INT32), S(m.STRING)))
        assert field_type(model, "maybe") == m.Optional(m.Union_((S(m.INT32), S(m.STRING))))
        status = m.Enum("com.acme.Status", ("A", "B"), "A")
        assert field_type(model, "status") == status and field_type(model, "status2") == status
        assert field_type(model, "ship") == m.Record("geo.Address", (m.Field("city", S(m.STRING)),))
        assert model.field("tags") == m.Field("tags", m.Array(S(m.STRING)), [], True)
        assert field_type(model, "attrs") == m.Map(S(m.INT64))

    def test_references(self):
        address = json.dumps({"type": "record", "name": "Address", "namespace": "geo", "fields": [{"name": "city", "type": "string"}]})
        model = to_model("AVRO", avro([{"name": "ship", "type": "geo.Address"}]), {"geo.Address": address})
        assert field_type(model, "ship").name == "geo.Address"

    def test_primitive_top_level(self):
        assert to_model("avro", '"string"') == S(m.STRING)
        assert to_model("avro", '["null", "long"]') == m.Optional(S(m.INT64))

    def test_recursive_type_is_a_ref_to_the_record(self):
        model = to_model("avro", avro([{"name": "next", "type": ["null", "Order"]}]))
        assert field_type(model, "next") == m.Optional(m.Ref("com.acme.Order"))
        assert field_type(model, "next").type.record is model

    def test_invalid_schema(self):
        with pytest.raises(SchemaParseError, match="not JSON"):
            to_model("avro", "{")
        with pytest.raises(SchemaParseError):
            to_model("avro", avro([{"name": "x", "type": "Nope"}]))


def js(schema):
    return json.dumps(schema)


class TestJsonSchema:
    def test_object_and_scalars(self):
        model = to_model(
            "json",
            js(
                {
                    "title": "com.acme.Order",
                    "description": "An order",
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "qty": {"type": "integer", "minimum": 0, "maximum": 1000},
                        "big": {"type": "integer", "minimum": 0},
                        "n32": {"type": "integer", "format": "int32"},
                        "price": {"type": "number"},
                        "ratio": {"type": "number", "format": "float"},
                        "ok": {"type": "boolean"},
                        "name": {"type": "string", "description": "who"},
                        "at": {"type": "string", "format": "date-time"},
                        "atu": {"type": "string", "format": "date-time", "x-timestamp-unit": "micros"},
                        "day": {"type": "string", "format": "date"},
                        "tm": {"type": "string", "format": "time"},
                        "uid": {"type": "string", "format": "uuid"},
                        "dec": {"type": "string", "format": "decimal", "x-precision": 9, "x-scale": 3},
                        "raw": {"type": "string", "contentEncoding": "base64"},
                        "anything": {},
                    },
                    "required": ["id", "qty", "big", "n32", "price", "ratio", "ok", "name", "at", "atu", "day", "tm", "uid", "dec", "raw", "anything"],
                }
            ),
        )
        assert model.name == "com.acme.Order" and model.doc == "An order"
        expected = {
            "id": S(m.INT64), "qty": S(m.INT32), "big": S(m.INT64), "n32": S(m.INT32), "price": S(m.FLOAT64),
            "ratio": S(m.FLOAT32), "ok": S(m.BOOLEAN), "name": S(m.STRING), "at": S(m.TIMESTAMP_MILLIS),
            "atu": S(m.TIMESTAMP_MICROS), "day": S(m.DATE), "tm": S(m.TIME_MILLIS), "uid": S(m.UUID),
            "dec": m.Decimal(9, 3), "raw": S(m.BYTES), "anything": S(m.ANY),
        }  # fmt: skip
        assert {f.name: f.type for f in model.fields} == expected
        assert model.field("name").doc == "who"

    def test_optional_rules(self):
        model = to_model(
            "json",
            js(
                {
                    "type": "object",
                    "properties": {
                        "a": {"type": "string"},
                        "b": {"type": ["string", "null"]},
                        "c": {"type": ["string", "null"]},
                        "d": {"type": "integer", "default": 3},
                        "e": {"type": "integer", "default": 3},
                    },
                    "required": ["a", "b", "e"],
                }
            ),
        )
        assert model.name == "Record"
        assert model.field("a") == m.Field("a", S(m.STRING))
        assert model.field("b") == m.Field("b", m.Optional(S(m.STRING)))  # present, may be null: no default
        assert model.field("c") == m.Field("c", m.Optional(S(m.STRING)), None, True)  # absent reads as null
        assert model.field("d") == m.Field("d", m.Optional(S(m.INT64)), 3, True)
        assert model.field("e") == m.Field("e", S(m.INT64), 3, True)

    def test_nested_names_enums_maps_unions_refs(self):
        model = to_model(
            "json",
            js(
                {
                    "title": "Order",
                    "type": "object",
                    "properties": {
                        "shipping_address": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                        "billing": {"$ref": "#/definitions/Address"},
                        "other": {"$ref": "#/$defs/Place"},
                        "status": {"enum": ["NEW", "DONE"]},
                        "color": {"type": "string", "enum": ["RED", None], "title": "Colour", "x-enum-default": "RED"},
                        "attrs": {"type": "object", "additionalProperties": {"type": "number"}},
                        "loose": {"type": "object"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "any_items": {"type": "array"},
                        "either": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
                        "maybe": {"anyOf": [{"$ref": "#/definitions/Address"}, {"type": "null"}]},
                        "multi": {"type": ["integer", "string", "null"]},
                        "merged": {"allOf": [{"$ref": "#/definitions/Address"}], "description": "merged"},
                    },
                    "required": ["shipping_address", "billing", "other", "status", "color", "attrs", "loose", "tags", "any_items", "either", "maybe", "multi", "merged"],
                    "definitions": {"Address": {"type": "object", "properties": {"street": {"type": "string"}}, "required": ["street"]}},
                    "$defs": {"Place": {"title": "geo.Place", "type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}},
                }
            ),
        )
        types = {f.name: f.type for f in model.fields}
        assert types["shipping_address"] == m.Record("ShippingAddress", (m.Field("city", S(m.STRING)),))
        address = m.Record("Address", (m.Field("street", S(m.STRING)),))
        assert types["billing"] == address and types["merged"] == address
        assert types["other"].name == "geo.Place"
        assert types["status"] == m.Enum("Status", ("NEW", "DONE"))
        assert types["color"] == m.Optional(m.Enum("Colour", ("RED",), "RED"))
        assert types["attrs"] == m.Map(S(m.FLOAT64))
        assert types["loose"] == m.Map(S(m.ANY))
        assert types["tags"] == m.Array(S(m.STRING)) and types["any_items"] == m.Array(S(m.ANY))
        assert types["either"] == m.Union_((S(m.INT64), S(m.STRING)))
        assert types["maybe"] == m.Optional(address)
        assert types["multi"] == m.Optional(m.Union_((S(m.INT64), S(m.STRING))))

    def test_references_to_other_texts(self):
        address = js({"$id": "https://example.com/address.json", "title": "Address", "type": "object", "properties": {"city": {"type": "string"}}})
        root = js({"type": "object", "properties": {"a": {"$ref": "address.json"}, "b": {"$ref": "https://example.com/address.json"}}, "required": ["a"]})
        model = to_model("json", root, {"address.json": address})
        assert model.field("a").type.name == "Address"
        assert model.field("b").type == m.Optional(model.field("a").type)

    def test_errors_name_the_path(self):
        # overlapping anyOf branches are a union taken in order (as Avro takes its branches)
        overlapping = to_model("json", js({"type": "object", "properties": {"x": {"anyOf": [{"type": "string"}, {"type": "string", "format": "date"}]}}}))
        assert overlapping.field("x").type == m.Optional(m.Union_((S(m.STRING), S(m.DATE))))
        with pytest.raises(SchemaParseError, match=r"\$\.l\[\]: recursive \$ref '#/definitions/L': only an object schema"):
            to_model("json", js({"type": "object", "properties": {"l": {"$ref": "#/definitions/L"}},
                                 "definitions": {"L": {"type": "array", "items": {"$ref": "#/definitions/L"}}}}))
        with pytest.raises(SchemaParseError, match=r"\$\.t: tuple arrays"):
            to_model("json", js({"type": "object", "properties": {"t": {"type": "array", "items": [{"type": "string"}]}}}))
        with pytest.raises(SchemaParseError, match=r"\$\.e: enum values must be strings"):
            to_model("json", js({"type": "object", "properties": {"e": {"enum": [1, 2]}}}))
        with pytest.raises(SchemaParseError, match=r"\$\.d: a decimal string needs"):
            to_model("json", js({"type": "object", "properties": {"d": {"type": "string", "format": "decimal"}}}))
        with pytest.raises(SchemaParseError, match="allOf can only combine"):
            to_model("json", js({"allOf": [{"type": "string"}, {"type": "object", "properties": {"a": {}}}]}))
        with pytest.raises(SchemaParseError):
            to_model("json", js({"type": "object", "properties": {"a": {"$ref": "missing.json"}}}))

    def test_unknown_schema_type(self):
        from serde import ConfigError

        with pytest.raises(ConfigError, match="unknown schema type"):
            to_model("xml", "<a/>")
