"""binary (one Kafka primitive per record) against every record format: values travel
as one-field records {"value": v}, and come back equal, nulls included."""
import struct
import uuid

import pytest

import serde

VALUES = {
    "long": [0, 1, -1, 2**63 - 1, -(2**63), None],
    "int": [0, 2**31 - 1, -(2**31), None],
    "double": [0.5, -1e300, 5e-324, None],
    "string": ["", "héllo, \"world\"\n", "東京", None],
    "boolean": [True, False, None],
    "uuid": [uuid.UUID(int=5), None],
    "bytes": [b"", b"\x00\xff", None],
}
RECORD_FORMATS = ["avro", "csv", "json", "protobuf"]


def write_binary(path, values, kind):
    fmt = serde.get_format("binary")
    encode = fmt.encoder(fmt.parse_schema(kind))
    with open(path, "wb") as out:
        for value in values:
            if value is None:
                out.write(struct.pack(">i", -1))
            else:
                data = encode(value)
                out.write(struct.pack(">i", len(data)) + data)


def read_binary(path, kind):
    fmt = serde.get_format("binary")
    decode = fmt.decoder(fmt.parse_schema(kind))
    data = path.read_bytes()
    out, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack_from(">i", data, offset)
        offset += 4
        if length == -1:
            out.append(None)
            continue
        out.append(decode(data[offset:offset + length]))
        offset += length
    return out


@pytest.mark.parametrize("target", RECORD_FORMATS)
@pytest.mark.parametrize("kind", sorted(VALUES))
def test_binary_to_record_format_and_back(tmp_path, kind, target):
    source = tmp_path / "in.bin"
    write_binary(source, VALUES[kind], kind)
    middle = tmp_path / f"mid.{target}"
    report = serde.convert(source, middle, from_format="binary", to_format=target, schema=kind,
                           to_message="Value" if target == "protobuf" else None)
    assert report.written == len(VALUES[kind])
    back = tmp_path / "back.bin"
    derived = report.target_schema
    serde.convert(middle, back, from_format=target, to_format="binary",
                  schema=None if target == "avro" else (derived if target != "csv" else derived), to_schema=kind,
                  message="Value" if target == "protobuf" else None)
    assert read_binary(back, kind) == VALUES[kind]


def test_record_with_several_fields_cannot_become_binary(tmp_path):
    source = tmp_path / "in.ndjson"
    source.write_text('{"a": 1, "b": 2}\n')
    with pytest.raises(serde.RecordInvalid, match="one value per record"):
        serde.convert(source, tmp_path / "out.bin", from_format="json", to_format="binary", to_schema="long")
    assert not (tmp_path / "out.bin").exists()


def test_one_field_record_becomes_its_value(tmp_path):
    source = tmp_path / "in.ndjson"
    source.write_text('{"amount": "12"}\n{"amount": 7}\n')
    serde.convert(source, tmp_path / "out.bin", from_format="json", to_format="binary", to_schema="long")
    assert read_binary(tmp_path / "out.bin", "long") == [12, 7]


def test_binary_output_needs_a_type(tmp_path):
    source = tmp_path / "in.ndjson"
    source.write_text('{"a": 1}\n')
    with pytest.raises(serde.ConfigError, match="binary output needs"):
        serde.convert(source, tmp_path / "out.bin", from_format="json", to_format="binary")


def test_truncated_binary_input_names_the_record(tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(struct.pack(">i", 8) + b"\x00" * 8 + struct.pack(">i", 8) + b"\x00\x01")
    with pytest.raises(serde.DecodeError, match=r"record 2 \(offset 12\): truncated"):
        serde.convert(source, tmp_path / "out.ndjson", from_format="binary", to_format="json", schema="long")


def test_wrong_size_value_names_the_record(tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(struct.pack(">i", 3) + b"\x00\x00\x01")
    with pytest.raises(serde.DecodeError, match=r"record 1 \(offset 0\).*not 8"):
        serde.convert(source, tmp_path / "out.ndjson", from_format="binary", to_format="json", schema="long")
