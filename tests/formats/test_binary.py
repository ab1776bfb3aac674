import math
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

import serde
from serde.formats import get_format

from .conformance import AbstractFormatTests

JAVA_PROGRAM = Path(__file__).parent / "java" / "Primitives.java"


class TestBinaryFormat(AbstractFormatTests):
    format_name = "binary"
    schema_text = "long"
    records = [0, 1, -1, 2**63 - 1, -(2**63)]
    bad_record = "seven"
    bad_record_path = "$"
    bad_bytes = b"\x00\x01"

    def test_invalid_schema_raises_schema_parse_error(self, fmt):
        with pytest.raises(serde.SchemaParseError, match="unknown binary type"):
            fmt.parse_schema("{ this is not a schema")


@pytest.fixture
def binary():
    return get_format("binary")


@pytest.mark.parametrize("kind, value, hexed", [
    ("string", "héllo, 東京", "68c3a96c6c6f2c20e69db1e4baac"),
    ("short", -12345, "cfc7"),
    ("int", -2147483648, "80000000"),
    ("long", 9007199254740993, "0020000000000001"),
    ("float", 1.5, "3fc00000"),
    ("double", -0.1, "bfb999999999999a"),
    ("boolean", True, "01"),
    ("uuid", uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e"), "30663866616435622d643963622d343639662d613136352d373038363737323839353065"),
    ("bytes", b"\x00\xff", "00ff"),
])
def test_java_layouts(binary, kind, value, hexed):
    schema = binary.parse_schema(kind)
    assert binary.encode(schema, value).hex() == hexed
    assert binary.decode(schema, bytes.fromhex(hexed)) == value


def test_every_nan_is_javas_canonical_nan(binary):
    schema = binary.parse_schema("double")
    assert binary.encode(schema, float("nan")).hex() == "7ff8000000000000"
    assert math.isnan(binary.decode(schema, bytes.fromhex("7ff8000000000001")))


@pytest.mark.parametrize("kind, value, message", [
    ("int", 2**31, "out of range for a Java int"),
    ("short", -(2**15) - 1, "out of range for a Java short"),
    ("long", 1.5, "not an integer"),
    ("int", True, "expected a number"),
    ("string", 7, "expected a string"),
    ("uuid", "nope", "not a UUID"),
    ("float", 1e40, "does not fit a 32-bit float"),
])
def test_values_that_do_not_fit(binary, kind, value, message):
    with pytest.raises(serde.RecordInvalid, match=message):
        binary.encode(binary.parse_schema(kind), value)


@pytest.mark.parametrize("kind, data, message", [
    ("int", b"\x00\x00\x01", "is not 4"),
    ("boolean", b"\x02", "one byte 00 or 01"),
    ("string", b"\xff", "not utf-8 text"),
    ("uuid", b"not-a-uuid", "not a UUID string"),
])
def test_bytes_that_do_not_fit(binary, kind, data, message):
    with pytest.raises(serde.DecodeError, match=message):
        binary.decode(binary.parse_schema(kind), data)


def test_string_encoding_option(binary):
    schema = binary.parse_schema("string", encoding="latin-1")
    assert binary.encode(schema, "é") == b"\xe9"
    with pytest.raises(serde.SchemaParseError, match="unknown text encoding"):
        binary.parse_schema("string", encoding="klingon")


def _kafka_jars() -> Path | None:
    from tests.kafka.broker import KafkaBrokerError, resolve_classpath

    if shutil.which("java") is None:
        return None
    try:
        return resolve_classpath()
    except KafkaBrokerError:
        return None


def test_round_trip_with_javas_own_serializers(binary, tmp_path):
    """Kafka's Java serializers write, serde reads; serde writes, Java reads."""
    jars = _kafka_jars()
    if jars is None:
        pytest.skip("java or the Kafka jars are not available here")
    ours = {
        "string": "héllo, 東京", "short": -12345, "int": -2147483648, "long": 9007199254740993, "float": 1.5,
        "double": float("nan"), "boolean": True, "uuid": uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e"),
    }
    stdin = "".join(f"{k} {binary.encode(binary.parse_schema(k), v).hex()}\n" for k, v in ours.items())
    result = subprocess.run(["java", "-cp", f"{jars}/*", str(JAVA_PROGRAM)], input=stdin, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    written = dict(line.split(" ", 1) for line in lines if not line.startswith("read "))
    for kind, hexed in written.items():
        schema = binary.parse_schema(kind.rstrip("2"))
        value = binary.decode(schema, bytes.fromhex(hexed))
        expected = -0.1 if kind == "double2" else ours[kind]
        if kind == "double":
            assert math.isnan(value) and hexed == "7ff8000000000000"
        else:
            assert value == expected, kind
        assert binary.encode(schema, value).hex() == hexed
    read = [line.split(" ", 2)[1:] for line in lines if line.startswith("read ")]
    assert read == [["string", "héllo, 東京"], ["short", "-12345"], ["int", "-2147483648"], ["long", "9007199254740993"],
                    ["float", "1.5"], ["double", "NaN"], ["boolean", "true"], ["uuid", "0f8fad5b-d9cb-469f-a165-70867728950e"]]
