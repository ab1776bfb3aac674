"""Constructs a target cannot express: a SchemaParseError that names the path."""
from __future__ import annotations

import pytest

from serde import SchemaParseError
from serde import _model as m
from serde.translate import from_model, to_model

S = m.Scalar


def record(*fields: m.Field, name: str = "com.acme.R") -> m.Record:
    return m.Record(name, fields)


def f(name: str, t: m.Type) -> m.Field:
    return m.Field(name, t)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (record(f("x", S(m.ANY))), r"\$\.x: Avro has no type for 'any'"),
        (record(f("first-name", S(m.STRING))), r"\$\['first-name'\]: field name 'first-name' is not a valid Avro name"),
        (m.Record("Order Line", ()), r"\$: 'Order Line' is not a valid Avro name"),
        (
            record(f("a", m.Record("X", (f("p", S(m.STRING)),))), f("b", m.Record("X", (f("q", S(m.STRING)),)))),
            r"\$\.b: two different types are both named 'X'",
        ),
    ],
)
def test_avro_refusals(model, message):
    with pytest.raises(SchemaParseError, match=message):
        from_model(model, "avro")


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (S(m.STRING), r"\$: a Protobuf schema needs a record"),
        (record(f("x", S(m.ANY))), r"\$\.x: Protobuf has no type for 'any'"),
        (record(f("x", S(m.NULL))), r"\$\.x: Protobuf has no type for 'null'"),
        (record(f("grid", m.Array(m.Array(S(m.INT32))))), r"\$\.grid\[\]: Protobuf array items cannot be arrays"),
        (record(f("xs", m.Array(m.Optional(S(m.INT32))))), r"\$\.xs\[\]: Protobuf array items cannot be nullable"),
        (record(f("xs", m.Map(m.Union_((S(m.INT32), S(m.STRING)))))), r"\$\.xs\{\}: Protobuf map values cannot be unions"),
        (record(f("u", m.Union_((m.Array(S(m.INT32)), S(m.STRING))))), r"\$\.u: Protobuf cannot express arrays here"),
        (record(f("bad-name", S(m.STRING))), r"\$\['bad-name'\]: field name 'bad-name' is not a valid Protobuf identifier"),
        (
            record(f("a", m.Record("p.Same", ())), f("b", m.Record("q.Same", ()))),
            r"\$\.b: two messages would both be named 'Same'",
        ),
        (
            record(f("a", m.Enum("x.A", ("RED",))), f("b", m.Enum("y.B", ("RED",)))),
            r"\$\.b: enum 'y.B': Protobuf scopes enum values with their parent, and \['RED'\] clash there",
        ),
    ],
)
def test_protobuf_refusals(model, message):
    with pytest.raises(SchemaParseError, match=message):
        from_model(model, "protobuf")


def test_enums_with_the_same_values_in_different_scopes_are_fine():
    model = record(f("a", m.Enum("com.acme.A", ("RED",))), f("r", m.Record("com.acme.Inner", (f("b", m.Enum("y.B", ("RED",))),))))
    text = from_model(model, "protobuf")
    assert to_model("protobuf", text) == model


def test_protobuf_source_refusals():
    head = 'syntax = "proto3";\n'
    with pytest.raises(SchemaParseError, match=r"\$\.d: google.protobuf.Duration has no equivalent"):
        to_model("protobuf", head + 'import "google/protobuf/duration.proto";\nmessage M { google.protobuf.Duration d = 1; }')
    with pytest.raises(SchemaParseError, match=r"\$\.x: invalid serde annotation"):
        to_model("protobuf", head + "message M {\n  // serde: {nope\n  string x = 1;\n}")
    with pytest.raises(SchemaParseError, match=r"\$\.x: a serde annotation must be a JSON object"):
        to_model("protobuf", head + "message M {\n  // serde: [1]\n  string x = 1;\n}")
    with pytest.raises(SchemaParseError, match="defines no message"):
        to_model("protobuf", head + "enum E { A = 0; }")
    with pytest.raises(SchemaParseError):
        to_model("protobuf", head + "message M { strin x = 1; }")


def test_protobuf_base64_descriptor_is_accepted():
    import base64

    from serde._protoc import compile_proto

    compiled = compile_proto('syntax = "proto3";\npackage p;\nmessage M { int64 id = 1; }\n')
    encoded = base64.b64encode(compiled.file.SerializeToString()).decode()
    assert to_model("protobuf", encoded) == m.Record("p.M", (f("id", S(m.INT64)),))
