"""Recursive types (issue 12, item 5): a record that contains itself through an array,
a map, a union or an optional field translates between Avro, JSON Schema and Protobuf,
and A → B → A gives the same model."""
from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from cli.main import cli
from serde import SchemaParseError
from serde import _model as m
from serde.translate import derive, from_model, infer, to_model

ROOT = Path(__file__).resolve().parents[2]
INTEROP = (ROOT / "schemas" / "avro" / "interop.avsc").read_text()
LONG_LIST = (ROOT / "schemas" / "avro" / "long-list.avsc").read_text()
TREE = (ROOT / "schemas" / "avro" / "tree.avsc").read_text()
S = m.Scalar

MUTUAL = json.dumps({"type": "record", "name": "A", "namespace": "x", "fields": [
    {"name": "b", "type": ["null", {"type": "record", "name": "B", "fields": [
        {"name": "a", "type": ["null", "A"], "default": None}, {"name": "n", "type": "int"}]}], "default": None},
    {"name": "bs", "type": {"type": "array", "items": "B"}}]})
# a recursive record inside a plain root, used a second time by name
INNER = json.dumps({"type": "record", "name": "Root", "namespace": "x", "fields": [
    {"name": "node", "type": {"type": "record", "name": "Node", "fields": [
        {"name": "label", "type": "string"},
        {"name": "kids", "type": {"type": "array", "items": "Node"}},
        {"name": "pick", "type": ["null", "Node", "string"], "default": None}]}},
    {"name": "other", "type": ["null", "Node"], "default": None}]})
# Node and the parts of interop.avsc Protobuf can say: proto3 has no always-null field
# and no union holding an array (see test_interop_to_protobuf_names_what_it_cannot_say)
INTEROP_FOR_PROTOBUF = json.dumps(dict(json.loads(INTEROP), fields=[
    f for f in json.loads(INTEROP)["fields"] if f["name"] not in ("nullField", "unionField")]))

SCHEMAS = {"long-list": LONG_LIST, "tree": TREE, "mutual": MUTUAL, "inner": INNER, "interop": INTEROP,
           "interop-for-protobuf": INTEROP_FOR_PROTOBUF}
LANGUAGES = ["avro", "json", "protobuf"]


def test_a_recursive_avro_record_reads_as_a_ref_to_itself():
    model = to_model("avro", LONG_LIST)
    assert model.field("next") == m.Field("next", m.Optional(m.Ref("com.acme.LongList")), None, True,
                                          "the rest of the list, or null at its end")
    assert model.field("next").type.type.record is model
    assert m.is_recursive(model)
    assert not m.is_recursive(to_model("avro", json.dumps({"type": "record", "name": "R", "fields": [
        {"name": "a", "type": {"type": "array", "items": "long"}}]})))


def test_interop_node_has_children_of_its_own_type():
    model = to_model("avro", INTEROP)
    node = model.field("recordField").type
    assert node.name == "org.apache.avro.Node"
    assert node.field("children").type == m.Array(m.Ref("org.apache.avro.Node"))
    assert node.field("children").type.items.record is node


@pytest.mark.parametrize(("name", "source", "target"), [
    (name, a, b) for name in SCHEMAS for a, b in itertools.product(LANGUAGES, LANGUAGES)
    if not (name == "interop" and "protobuf" in (a, b))])
def test_round_trips_give_the_same_model(name, source, target):
    original = to_model("avro", SCHEMAS[name])
    text = from_model(original, source)
    model = to_model(source, text)
    assert model == original
    there = to_model(target, from_model(model, target))
    assert there == original
    assert to_model(source, from_model(there, source)) == original


def test_json_schema_uses_hash_ref_for_the_root_and_definitions_otherwise():
    doc = json.loads(derive("avro", LONG_LIST, "json"))
    assert doc["properties"]["next"] == {"anyOf": [{"$ref": "#"}, {"type": "null"}],
                                         "description": "the rest of the list, or null at its end"}
    assert "definitions" not in doc
    doc = json.loads(derive("avro", INTEROP, "json"))
    assert doc["definitions"]["org.apache.avro.Node"]["properties"]["children"] == {
        "type": "array", "items": {"$ref": "#/definitions/org.apache.avro.Node"}}


def _node(depth: int, label: str = "n") -> dict:
    return {"label": label, "children": [_node(depth - 1, f"{label}.{i}") for i in range(2)] if depth else []}


def test_derived_json_schema_validates_real_nested_data():
    doc = json.loads(derive("avro", INTEROP, "json"))
    validator = jsonschema.Draft7Validator(doc)
    record = {"intField": 1, "longField": 2, "stringField": "s", "boolField": True, "floatField": 1.5,
              "doubleField": 2.5, "bytesField": "AAE=", "nullField": None, "arrayField": [1.0],
              "mapField": {"a": {"label": "x"}}, "unionField": 2.5, "enumField": "B",
              "fixedField": "MDEyMzQ1Njc4OWFiY2RlZg==", "recordField": _node(4), "timeMillisField": 1,
              "timeMicrosField": 2, "timestampMillisField": 3, "timestampMicrosField": 4,
              "localTimestampMillisField": 5, "localTimestampMicrosField": 6}
    assert list(validator.iter_errors(record)) == []
    # a wrong value four levels down is found there
    record["recordField"]["children"][1]["children"][0]["children"][1]["children"] = [{"label": 7, "children": []}]
    errors = list(validator.iter_errors(record))
    assert [list(e.absolute_path) for e in errors] == [
        ["recordField", "children", 1, "children", 0, "children", 1, "children", 0, "label"]]

    lists = jsonschema.Draft7Validator(json.loads(derive("avro", LONG_LIST, "json")))
    assert lists.is_valid({"value": 1, "next": {"value": 2, "next": {"value": 3}}})
    assert not lists.is_valid({"value": 1, "next": {"value": 2, "next": {"value": "three"}}})


@pytest.mark.parametrize("name", ["long-list", "tree", "mutual", "inner", "interop-for-protobuf"])
def test_derived_protobuf_compiles_with_a_message_of_its_own_type(name):
    from serde._protoc import compile_proto

    text = derive("avro", SCHEMAS[name], "protobuf")
    compiled = compile_proto(text)
    fields = {(msg.name, f.name): f.type_name for msg in compiled.file.message_type for f in msg.field}
    expected = {
        "long-list": ("LongList", "next", ".com.acme.LongList"),
        "tree": ("Tree", "children", ".com.acme.Tree.ChildrenEntry"),
        "mutual": ("B", "a", ".x.A"),
        "inner": ("Node", "kids", ".x.Node"),
        "interop-for-protobuf": ("Node", "children", ".org.apache.avro.Node"),
    }[name]
    assert fields[expected[:2]] == expected[2]


def test_interop_to_protobuf_names_what_it_cannot_say():
    # not the recursion: proto3 has no always-null field
    with pytest.raises(SchemaParseError, match=r"\$\.nullField: Protobuf has no type for 'null'"):
        derive("avro", INTEROP, "protobuf")


def test_json_schema_recursion_by_defs_root_and_nullable_object():
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Category", "type": "object",
        "properties": {"name": {"type": "string"}, "sub": {"type": "array", "items": {"$ref": "#"}},
                       "best": {"$ref": "#/$defs/Item"}},
        "required": ["name", "sub"],
        "$defs": {"Item": {"type": ["object", "null"], "properties": {
            "id": {"type": "integer"}, "parent": {"$ref": "#/$defs/Item"}}, "required": ["id"]}},
    }
    model = to_model("json", json.dumps(schema))
    assert model.field("sub").type == m.Array(m.Ref("Category"))
    item = model.field("best").type.type
    assert item.name == "Item"
    assert item.field("parent").type == m.Optional(m.Ref("Item"))
    for language in LANGUAGES:
        assert to_model(language, from_model(model, language)) == model


def test_protobuf_recursive_message_with_map_and_oneof():
    proto = ('syntax = "proto3";\npackage t;\n'
             "message Node { string label = 1; repeated Node children = 2; Node parent = 3;\n"
             "  map<string, Node> named = 4; oneof pick { Node left = 5; string none = 6; } }\n")
    model = to_model("protobuf", proto)
    ref = m.Ref("t.Node")
    assert [f.type for f in model.fields] == [S(m.STRING), m.Array(ref), m.Optional(ref), m.Map(ref),
                                              m.Optional(m.Union_((ref, S(m.STRING))))]
    for language in LANGUAGES:
        assert to_model(language, derive("protobuf", proto, language)) == model


def test_a_recursive_ref_to_something_that_is_not_a_record_is_refused_with_the_path():
    schema = {"type": "object", "properties": {"l": {"$ref": "#/definitions/L"}},
              "definitions": {"L": {"type": "array", "items": {"$ref": "#/definitions/L"}}}}
    with pytest.raises(SchemaParseError, match=r"\$\.l\[\]: recursive \$ref '#/definitions/L': only an object schema"):
        to_model("json", json.dumps(schema))


def test_an_unbound_ref_is_refused_with_the_path():
    model = m.Record("R", (m.Field("x", m.Optional(m.Ref("Elsewhere"))),))
    for language in LANGUAGES:
        with pytest.raises(SchemaParseError, match=r"\$\.x: a recursive reference to 'Elsewhere' outside"):
            from_model(model, language)


def test_a_renamed_root_keeps_its_recursion_under_the_old_name():
    # `serde schema derive --name` renames the root; its Refs still name the old record,
    # which the writers then define where they first meet it
    model = dataclasses.replace(to_model("avro", LONG_LIST), name="com.acme.Head")
    for language in LANGUAGES:
        back = to_model(language, from_model(model, language))
        assert back.name == "com.acme.Head"
        rest = back.field("next").type.type
        assert rest.name == "com.acme.LongList"
        assert rest.field("next").type == m.Optional(m.Ref("com.acme.LongList"))


def test_cli_derive_of_interop(tmp_path):
    source = tmp_path / "interop.avsc"
    source.write_text(INTEROP)
    result = CliRunner().invoke(cli, ["schema", "derive", "--to", "json", str(source)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["properties"]["recordField"] == {"$ref": "#/definitions/org.apache.avro.Node"}
    result = CliRunner().invoke(cli, ["schema", "derive", "--to", "avro", "--name", "com.acme.Renamed", str(source)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert to_model("avro", result.stdout).field("recordField").type == to_model("avro", INTEROP).field("recordField").type


def _chain(n: int) -> dict | None:
    out = None
    for i in reversed(range(n)):
        out = {"value": i, "next": out}
    return out


def test_inference_takes_data_up_to_the_depth_limit():
    from serde.translate._infer import MAX_DEPTH

    model = infer([_chain(MAX_DEPTH)], name="com.acme.L")
    depth = 0
    t: m.Type | None = model
    while isinstance(t, m.Record):
        depth += 1
        t = m.unwrap_optional(t.field("next").type)[0]
    assert depth == MAX_DEPTH  # one record per level; the last `next` is an optional string (only null seen)
    for language in LANGUAGES:
        assert from_model(model, language)


def test_inference_refuses_deeper_data_naming_record_and_path():
    from serde.translate._infer import MAX_DEPTH

    with pytest.raises(SchemaParseError, match=r"record 1: \$\.next\.next\..*nested more than 100 levels deep; "
                                               r"inference cannot tell a recursive type"):
        infer([_chain(3), _chain(MAX_DEPTH + 1)])
    with pytest.raises(SchemaParseError, match=r"record 0: \$\.a\[0\]\[0\]"):
        nested: list = []
        for _ in range(5000):
            nested = [nested]
        infer([{"a": nested}])


def test_cli_infer_on_deeply_nested_data_is_a_usage_error_not_a_traceback(tmp_path):
    data = tmp_path / "deep.ndjson"
    data.write_text(json.dumps(_chain(150)) + "\n")
    result = CliRunner().invoke(cli, ["schema", "infer", str(data)])
    assert result.exit_code == 2, result.output
    assert "nested more than 100 levels deep" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
