import datetime as dt
import decimal
import json

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext

import serde
from serde._types import SchemaSource
from serde.formats import get_format

from .conformance import AbstractFormatTests

ORDER = json.dumps({
    "type": "record", "name": "Order", "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "total", "type": {"type": "bytes", "logicalType": "decimal", "precision": 8, "scale": 2}},
        {"name": "paid", "type": "boolean"},
        {"name": "status", "type": {"type": "enum", "name": "S", "symbols": ["NEW", "DONE"]}},
        {"name": "shipping", "type": {"type": "record", "name": "Addr", "fields": [
            {"name": "city", "type": "string"}, {"name": "zip", "type": ["null", "string"], "default": None}]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
})
UTC = dt.timezone.utc


def order(**overrides):
    record = {"id": 1, "at": dt.datetime(2024, 3, 4, 5, 6, 7, 890000, tzinfo=UTC), "total": decimal.Decimal("9.99"),
              "paid": True, "status": "NEW", "shipping": {"city": "Oslo, Norway", "zip": None}, "tags": ["a", "b c"],
              "note": None}
    record.update(overrides)
    return record


class TestCsvFormat(AbstractFormatTests):
    format_name = "csv"
    schema_text = ORDER
    records = [order(), order(id=-5, note="multi\nline \"quoted\"", tags=[]), order(note="", shipping={"city": "", "zip": ""})]
    bad_record = order(total=decimal.Decimal("1.234"))
    bad_record_path = "$.total"
    bad_bytes = b'1,"unterminated'


@pytest.fixture
def csv_format():
    return get_format("csv")


def test_columns_flatten_nested_records_and_keep_arrays_as_json(csv_format):
    schema = csv_format.parse_schema(ORDER)
    assert schema.header == ["id", "at", "total", "paid", "status", "shipping.city", "shipping.zip", "tags", "note"]
    row = csv_format.encode(schema, order())
    assert row == b'1,2024-03-04T05:06:07.890000Z,9.99,true,NEW,"Oslo, Norway",,"[""a"",""b c""]",'


def test_empty_string_and_null_are_told_apart(csv_format):
    schema = csv_format.parse_schema(ORDER)
    row = csv_format.encode(schema, order(note="", shipping={"city": "x", "zip": None}))
    assert row.endswith(b',x,,"[""a"",""b c""]",""')
    decoded = csv_format.decode(schema, row)
    assert decoded["note"] == "" and decoded["shipping"]["zip"] is None


def test_epoch_millis_and_iso_timestamps_both_read(csv_format):
    schema = csv_format.parse_schema(ORDER)
    iso = csv_format.decode(schema, b'1,2024-03-04T05:06:07.890Z,9.99,true,NEW,x,,[],')
    epoch = csv_format.decode(schema, b'1,1709528767890,9.99,true,NEW,x,,[],')
    assert iso["at"] == epoch["at"] == order()["at"]


def test_null_marker_option(csv_format):
    schema = csv_format.parse_schema(ORDER, null_marker="NULL")
    row = csv_format.encode(schema, order(note=""))
    assert row.endswith(b",NULL,\"[\"\"a\"\",\"\"b c\"\"]\",")
    assert csv_format.decode(schema, row)["note"] == ""


def test_delimiter_option(csv_format):
    schema = csv_format.parse_schema(ORDER, delimiter=";")
    assert csv_format.encode(schema, order()).startswith(b"1;2024-03-04T05:06:07.890000Z;9.99;true;NEW;Oslo, Norway;")
    with pytest.raises(serde.SchemaParseError, match="one character"):
        csv_format.parse_schema(ORDER, delimiter=";;")


@pytest.mark.parametrize("row, path, reason", [
    (b"x,2024-01-01T00:00:00Z,1.00,true,NEW,c,,[],", "$.id", "64-bit integer"),
    (b"1,yesterday,1.00,true,NEW,c,,[],", "$.at", "timestamp"),
    (b"1,0,1.001,true,NEW,c,,[],", "$.total", "decimal places"),
    (b"1,0,1.00,maybe,NEW,c,,[],", "$.paid", "boolean"),
    (b"1,0,1.00,true,OLD,c,,[],", "$.status", "NEW, DONE"),
    (b"1,0,1.00,true,NEW,c,,[{}],", "$.tags[0]", "string"),
    (b",0,1.00,true,NEW,c,,[],", "$.id", "non-nullable"),
])
def test_bad_cells_name_the_column(csv_format, row, path, reason):
    schema = csv_format.parse_schema(ORDER)
    with pytest.raises(serde.DecodeError) as info:
        csv_format.decode(schema, row)
    assert info.value.path == path
    assert reason in str(info.value)


def test_wrong_column_count(csv_format):
    schema = csv_format.parse_schema(ORDER)
    with pytest.raises(serde.DecodeError, match="expected 9 columns"):
        csv_format.decode(schema, b"1,2")


def test_json_schema_and_protobuf_give_columns_too(csv_format):
    js = json.dumps({"title": "P", "type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                     "required": ["name"]})
    schema = csv_format.parse_schema(js, record_type="JSON")
    assert schema.header == ["name", "age"]
    assert csv_format.decode(schema, b"Ada,36") == {"name": "Ada", "age": 36}
    proto = 'syntax = "proto3"; message M { string name = 1; int64 n = 2; }'
    schema = csv_format.parse_schema(proto, record_type="PROTOBUF")
    assert csv_format.decode(schema, b"x,7") == {"name": "x", "n": 7}


def test_a_non_record_schema_is_refused(csv_format):
    with pytest.raises(serde.SchemaParseError, match="record schema"):
        csv_format.parse_schema('"string"')


def test_csv_as_a_kafka_value_with_confluent_framing():
    client = SchemaRegistryClient.new_client({"url": "mock://csv-framing"})
    ctx = SerializationContext("orders", MessageField.VALUE)
    ser = serde.serializer("csv", ORDER, registry=client)
    data = ser(order(), ctx)
    assert data[:5] == b"\x00\x00\x00\x00\x01"
    assert data[5:] == get_format("csv").encode(get_format("csv").parse_schema(ORDER), order())
    assert client.get_latest_version("orders-value").schema.schema_type == "AVRO"
    assert serde.deserializer("csv", registry=client)(data, ctx) == order()
