"""Hostile input that used to escape as a bare Python exception: a Protobuf Timestamp
beyond year 9999 (OverflowError) and an Avro schema nested 1,000 deep (RecursionError).
Each must be a serde error naming the limit or the field, from the library and the CLI."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import serde
from cli.main import cli
from serde.formats.avro import MAX_SCHEMA_DEPTH

TS_PROTO = """syntax = "proto3";
package t;
import "google/protobuf/timestamp.proto";
message Event {
  string id = 1;
  google.protobuf.Timestamp at = 2;
  repeated Inner inner = 3;
  map<string, google.protobuf.Timestamp> seen = 4;
}
message Inner { google.protobuf.Timestamp when = 1; }
"""


def _timestamp(seconds: int) -> bytes:
    """A google.protobuf.Timestamp message: field 1 (seconds) as a varint."""
    return b"\x08" + serde._wire.varint(seconds)


def _field(number: int, payload: bytes) -> bytes:
    return bytes([(number << 3) | 2]) + serde._wire.varint(len(payload)) + payload


YEAR_10000 = 253402300800  # 10000-01-01T00:00:00Z


@pytest.mark.parametrize("payload,path", [
    (_field(2, _timestamp(YEAR_10000)), "$.at"),
    (_field(3, _field(1, _timestamp(YEAR_10000 * 3))), "$.inner[0].when"),
    (_field(4, _field(1, b"k") + _field(2, _timestamp(YEAR_10000))), "$.seen.k"),
    # seconds before year 1: int64 min as a ten-byte varint
    (_field(2, b"\x08" + serde._wire.varint((-(2**62)) & 0xFFFFFFFFFFFFFFFF)), "$.at"),
])
def test_protobuf_timestamp_beyond_datetime_is_a_decode_error(payload, path):
    fmt = serde.get_format("protobuf")
    schema = fmt.parse_schema(TS_PROTO, message="t.Event")
    with pytest.raises(serde.DecodeError) as caught:
        fmt.decoder(schema)(payload)
    assert caught.value.path == path
    assert "years 1 to 9999" in str(caught.value)
    # without the datetime mapping the same bytes read fine
    raw = fmt.decoder(schema, well_known_types=False)(payload)
    assert raw["id"] == ""


def test_protobuf_timestamp_overflow_through_the_deserializer(tmp_path):
    registry = tmp_path / "r.db"
    from confluent_kafka.serialization import MessageField, SerializationContext

    ctx = SerializationContext("events", MessageField.VALUE)
    good = serde.serializer("protobuf", TS_PROTO, registry, message="t.Event")({"id": "e"}, ctx)
    with pytest.raises(serde.DecodeError, match=r"\$\.at: .*years 1 to 9999"):
        serde.deserializer("protobuf", registry)(good + _field(2, _timestamp(YEAR_10000)), ctx)


def test_protobuf_timestamp_overflow_in_serde_convert(tmp_path):
    proto = tmp_path / "event.proto"
    proto.write_text(TS_PROTO)
    payload = _field(1, b"e1") + _field(2, _timestamp(YEAR_10000))
    source = tmp_path / "events.pb"
    source.write_bytes(serde._wire.varint(len(payload)) + payload)
    result = CliRunner().invoke(cli, ["convert", str(source), str(tmp_path / "out.ndjson"), "--schema", str(proto),
                                      "--message", "t.Event", "--to", "json"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert "$.at" in result.stderr and "years 1 to 9999" in result.stderr
    assert not (tmp_path / "out.ndjson").exists()


def _nested_records(depth: int) -> str:
    text = '{"type":"record","name":"R0","fields":[{"name":"x","type":"int"}]}'
    for level in range(1, depth):
        text = '{"type":"record","name":"R%d","fields":[{"name":"c","type":%s}]}' % (level, text)
    return text


@pytest.mark.parametrize("text", [
    _nested_records(1000),
    '{"type":"array","items":' * 1000 + '"int"' + "}" * 1000,
    "[" * 1000 + '"null"' + "]" * 1000,
    '{"type":"map","values":' * 200_000 + '"int"' + "}" * 200_000,  # deeper than json's own parser goes
])
def test_avro_schema_nested_too_deep_is_a_parse_error(text):
    with pytest.raises(serde.SchemaParseError, match=f"at most {MAX_SCHEMA_DEPTH} levels"):
        serde.get_format("avro").parse_schema(text)


def test_avro_schema_nesting_up_to_the_limit_works():
    text = _nested_records(MAX_SCHEMA_DEPTH - 1)
    schema = serde.get_format("avro").parse_schema(text)
    value: dict = {"x": 1}
    for _ in range(MAX_SCHEMA_DEPTH - 2):
        value = {"c": value}
    fmt = serde.get_format("avro")
    assert fmt.decoder(schema)(fmt.encoder(schema)(value)) == value


def test_avro_schema_too_deep_in_serde_convert(tmp_path):
    deep = tmp_path / "deep.avsc"
    deep.write_text(_nested_records(1000))
    source = tmp_path / "in.ndjson"
    source.write_text(json.dumps({"x": 1}) + "\n")
    result = CliRunner().invoke(cli, ["convert", str(source), str(tmp_path / "out.avro"), "--to-schema", str(deep)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"at most {MAX_SCHEMA_DEPTH} levels" in result.output + result.stderr


RECURSIVE_PROTO = 'syntax = "proto3"; package q; message N { N n = 1; int32 x = 2; repeated N kids = 3; }'


@pytest.mark.parametrize("depth", [101, 100_000])
def test_protobuf_values_of_a_recursive_message_nested_too_deep_are_refused(depth):
    """upb builds messages recursively in C: 100,000 levels crashed the process, and it
    reads at most 100, so nothing deeper is written."""
    from serde.formats.protobuf import MAX_MESSAGE_DEPTH

    fmt = serde.get_format("protobuf")
    schema = fmt.parse_schema(RECURSIVE_PROTO)
    value: dict = {"x": 1}
    for _ in range(depth - 1):
        value = {"n": value}
    with pytest.raises(serde.RecordInvalid, match=f"nested more than {MAX_MESSAGE_DEPTH} deep") as caught:
        fmt.encoder(schema)(value)
    assert caught.value.path.startswith("$.n.n.n")
    fits: dict = {"x": 1}
    for _ in range(MAX_MESSAGE_DEPTH - 1):
        fits = {"kids": [fits]}
    back = fmt.decoder(schema)(fmt.encoder(schema)(fits))
    for _ in range(MAX_MESSAGE_DEPTH - 1):
        back = back["kids"][0]
    assert back["x"] == 1


@pytest.mark.parametrize("precision", [10**18, 2**63, 10**6])
def test_avro_decimal_of_absurd_precision_does_not_hang(precision):
    # found by review: the logical pass computed 10**precision (10**18 never finished) and a
    # decimal context of that precision; such a decimal is now left to the codec
    avro = serde.get_format("avro")
    schema = avro.parse_schema(json.dumps({"type": "record", "name": "R", "fields": [
        {"name": "a", "type": {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": 31}}]}))
    encode, decode = avro.encoder(schema), avro.decoder(schema)
    assert decode(b"\x02\x05") == decode(encode(decode(b"\x02\x05")))
