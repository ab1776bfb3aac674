import datetime as dt
import decimal
import json
import uuid

import pytest

import serde
from serde.formats import get_format
from serde._types import SchemaSource

from .conformance import AbstractFormatTests

ORDER = {
    "type": "record",
    "name": "Order",
    "namespace": "com.acme",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "created", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "total", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
        {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "Item", "fields": [
            {"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}]}}},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}


def order(**overrides):
    record = {
        "id": 2**40,
        "uid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "created": dt.datetime(2024, 5, 1, 12, 30, 15, 123000, tzinfo=dt.timezone.utc),
        "day": dt.date(2024, 5, 1),
        "total": decimal.Decimal("123.45"),
        "status": "PAID",
        "items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}],
        "note": None,
    }
    record.update(overrides)
    return record


class TestAvroFormat(AbstractFormatTests):
    format_name = "avro"
    schema_text = json.dumps(ORDER)
    records = [order(), order(note="fragile", items=[]), order(id=-1, status="NEW")]
    bad_record = order(items=[{"sku": "A", "qty": 1}, {"sku": "B", "qty": "two"}])
    bad_record_path = "$.items[1].qty"
    bad_bytes = b"\x02"


@pytest.fixture
def avro():
    return get_format("avro")


def test_cavro_and_fastavro_write_identical_bytes(avro):
    schema = avro.parse_schema(json.dumps(ORDER))
    fast = avro.encoder(schema, reference_codec=True)
    default = avro.encoder(schema)
    for record in TestAvroFormat.records:
        assert default(record) == fast(record)


def test_naive_datetime_is_utc_in_both_codecs(avro):
    schema = avro.parse_schema(json.dumps(ORDER))
    naive = order(created=dt.datetime(2024, 5, 1, 12, 30, 15, 123000))
    assert avro.encoder(schema)(naive) == avro.encoder(schema, reference_codec=True)(order())


def test_missing_field_with_default_is_filled(avro):
    schema = avro.parse_schema(json.dumps(ORDER))
    record = order()
    del record["note"]
    assert avro.decode(schema, avro.encode(schema, record))["note"] is None


def test_missing_required_field_is_an_error_naming_it(avro):
    schema = avro.parse_schema(json.dumps(ORDER))
    record = order()
    del record["status"]
    with pytest.raises(serde.RecordInvalid) as info:
        avro.encode(schema, record)
    assert "status" in info.value.path


def test_reader_schema_resolution_adds_default_and_promotes(avro):
    writer = avro.parse_schema(json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}))
    reader = avro.parse_schema(json.dumps({"type": "record", "name": "R", "fields": [
        {"name": "a", "type": "long"}, {"name": "b", "type": "string", "default": "x"}]}))
    data = avro.encode(writer, {"a": 7})
    assert avro.decoder(writer, reader)(data) == {"a": 7, "b": "x"}
    assert avro.decoder(writer, reader, reference_codec=True)(data) == {"a": 7, "b": "x"}


def test_reader_that_cannot_read_writer_is_a_schema_error(avro):
    writer = avro.parse_schema(json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}]}))
    reader = avro.parse_schema(json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}))
    with pytest.raises((serde.SchemaParseError, serde.DecodeError)):
        avro.decoder(writer, reader, reference_codec=True)(avro.encode(writer, {"a": "x"}))


def test_named_type_from_a_reference_is_resolved(avro):
    address = json.dumps({"type": "record", "name": "Address", "namespace": "com.acme",
                          "fields": [{"name": "city", "type": "string"}]})
    customer = json.dumps({"type": "record", "name": "Customer", "namespace": "com.acme",
                           "fields": [{"name": "home", "type": "Address"}, {"name": "work", "type": ["null", "com.acme.Address"]}]})
    schema = avro.parse_schema(SchemaSource(customer, {"com.acme.Address": address}))
    record = {"home": {"city": "Oslo"}, "work": {"city": "Bergen"}}
    assert avro.decode(schema, avro.encode(schema, record)) == record
    assert schema.record_name == "com.acme.Customer"


def test_unresolved_named_type_is_a_parse_error(avro):
    customer = json.dumps({"type": "record", "name": "Customer", "fields": [{"name": "home", "type": "Address"}]})
    with pytest.raises(serde.SchemaParseError, match="Address"):
        avro.parse_schema(customer)


def test_invalid_default_is_a_parse_error(avro):
    bad = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": "x"}]})
    with pytest.raises(serde.SchemaParseError):
        avro.parse_schema(bad)


def test_truncated_payload_says_so(avro):
    schema = avro.parse_schema(json.dumps(ORDER))
    data = avro.encode(schema, order())
    with pytest.raises(serde.DecodeError, match="truncated"):
        avro.decode(schema, data[:10])
