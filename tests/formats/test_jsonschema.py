import datetime as dt
import decimal
import json
import uuid

import pytest

import serde
from serde._types import SchemaSource
from serde.formats import get_format

from .conformance import AbstractFormatTests

PERSON = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Person",
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "emails": {"type": "array", "items": {"type": "string"}},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
    "required": ["name"],
    "additionalProperties": False,
}


class TestJsonFormat(AbstractFormatTests):
    format_name = "json"
    schema_text = json.dumps(PERSON)
    records = [{"name": "Ada"}, {"name": "Bob", "age": 3, "emails": ["b@x"], "address": {"city": "Oslo"}}]
    bad_record = {"name": "Cy", "emails": ["ok", 7]}
    bad_record_path = "$.emails[1]"
    bad_bytes = b"{not json"


@pytest.fixture
def js():
    return get_format("json")


def test_decoded_value_that_breaks_the_schema_is_a_validation_error(js):
    schema = js.parse_schema(json.dumps(PERSON))
    with pytest.raises(serde.ValidationError) as info:
        js.decode(schema, b'{"name": "x", "age": -1}')
    assert info.value.path == "$.age"


def test_validation_can_be_switched_off(js):
    schema = js.parse_schema(json.dumps(PERSON))
    assert js.encoder(schema, validate=False)({"name": 1}) == b'{"name":1}'
    assert js.decoder(schema, validate=False)(b'{"age": -1}') == {"age": -1}


def test_python_values_without_a_json_type_are_written_as_text(js):
    schema = js.parse_schema(json.dumps({"type": "object", "properties": {
        "at": {"type": "string", "format": "date-time"}, "amount": {"type": "string"},
        "id": {"type": "string"}, "blob": {"type": "string"}}}))
    record = {"at": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), "amount": decimal.Decimal("1.10"),
              "id": uuid.UUID(int=1), "blob": b"\x00\x01"}
    assert json.loads(js.encode(schema, record)) == {
        "at": "2024-01-02T03:04:05Z", "amount": "1.10", "id": "00000000-0000-0000-0000-000000000001", "blob": "AAE="}


def test_non_json_value_checked_against_its_written_form(js):
    schema = js.parse_schema(json.dumps({"type": "object", "properties": {"amount": {"type": "integer"}}}))
    with pytest.raises(serde.RecordInvalid) as info:
        js.encode(schema, {"amount": decimal.Decimal("1.10")})
    assert info.value.path == "$.amount"


def test_draft_2020_12_prefix_items(js):
    schema = js.parse_schema(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False}))
    assert js.decode(schema, js.encode(schema, ["a", 1])) == ["a", 1]
    with pytest.raises(serde.RecordInvalid):
        js.encode(schema, ["a", 1, 2])


def test_ref_to_a_referenced_schema(js):
    main = json.dumps({"title": "Customer", "type": "object", "properties": {"home": {"$ref": "address.json"}}})
    address = json.dumps({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
    schema = js.parse_schema(SchemaSource(main, {"address.json": address}))
    assert js.encode(schema, {"home": {"city": "Oslo"}}) == b'{"home":{"city":"Oslo"}}'
    with pytest.raises(serde.RecordInvalid) as info:
        js.encode(schema, {"home": {}})
    assert info.value.path == "$.home"


def test_unresolvable_ref_is_a_parse_error_naming_it(js):
    main = json.dumps({"type": "object", "properties": {"home": {"$ref": "address.json"}}})
    with pytest.raises(serde.SchemaParseError, match="address.json"):
        js.parse_schema(main)


def test_schema_that_is_not_an_object_is_refused(js):
    with pytest.raises(serde.SchemaParseError):
        js.parse_schema("[1, 2]")


def test_title_is_the_record_name(js):
    assert js.parse_schema(json.dumps(PERSON)).record_name == "Person"


def test_nan_check_follows_the_schema_and_can_be_turned_off(js):
    open_schema = js.parse_schema(json.dumps({"type": "object"}))
    with pytest.raises(serde.RecordInvalid, match="NaN"):
        js.encoder(open_schema, validate=False)({"x": float("nan")})
    assert js.encoder(open_schema, validate=False, check_nan=False)({"x": float("nan")}) == b'{"x":null}'
    closed = js.parse_schema(json.dumps({"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": ["string", "null"]}},
                                         "additionalProperties": False}))
    assert js.encoder(closed, validate=False)({"n": 1, "s": None}) == b'{"n":1,"s":null}'
