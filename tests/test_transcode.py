"""The C transcoders (serde._speedups, programs from serde._transcode) against the
Python path they stand in for: the same bytes, or None (then the Python path runs).

The C extension is optional for users; CI builds it (.ci/run checks that it imported),
so these tests skip only where it was not built."""
from __future__ import annotations

import datetime as dt
import decimal
import json
import random
import shutil
import struct
import uuid
from pathlib import Path

import pytest

from serde import _transcode
from serde.formats import get_format
from serde.translate import derive

needs_speedups = pytest.mark.skipif(not _transcode.available(), reason="serde._speedups was not built (no C compiler)")


def test_the_transcoders_are_built_where_there_is_a_c_compiler() -> None:
    # the build step is optional (setup.py), so a broken build would pass silently
    # without this: every test below would just skip
    if shutil.which("cc") or shutil.which("gcc"):
        assert _transcode.available(), "a C compiler is here, but serde._speedups did not build (pip install -v -e . says why)"
    else:
        pytest.skip("no C compiler here: serde runs on its pure-Python path")

ROOT = Path(__file__).resolve().parents[1]
AVRO = get_format("avro")
JSON = get_format("json")
PREFIX = b"\x00\x00\x00\x00\x07"  # a target frame (schema id 7)
FRAME = b"\x00\x00\x00\x00\x03"  # a source frame (schema id 3)

EVERYTHING = {
    "type": "record", "name": "Everything", "namespace": "t",
    "fields": [
        {"name": "n", "type": "null"},
        {"name": "b", "type": "boolean"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "raw", "type": "bytes"},
        {"name": "s", "type": "string"},
        {"name": "fx", "type": {"type": "fixed", "name": "Four", "size": 4}},
        {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "Blue_2"]}},
        {"name": "arr", "type": {"type": "array", "items": "long"}},
        {"name": "m", "type": {"type": "map", "values": "string"}},
        {"name": "u", "type": ["null", "string", "long", {"type": "record", "name": "Inner", "fields": [{"name": "x", "type": "int"}]}]},
        {"name": "again", "type": ["null", "Inner"]},
        {"name": "fx2", "type": "Four"},
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 3}},
        {"name": "whole", "type": {"type": "bytes", "logicalType": "decimal", "precision": 5}},
        {"name": "maybe_day", "type": ["null", {"type": "int", "logicalType": "date"}]},
        {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "Item", "fields": [
            {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2}}]}}},
    ],
}
UTC = dt.timezone.utc


def paths(schema_json: object) -> tuple:
    """(avro schema, encode, python path: bytes -> JSON bytes, program)"""
    schema = AVRO.parse_schema(json.dumps(schema_json))
    target = JSON.parse_schema(derive("AVRO", schema.text, "JSON"))
    decode, to_json = AVRO.decoder(schema), JSON.encoder(target, validate=False)
    return schema, AVRO.encoder(schema), (lambda payload: to_json(decode(payload))), _transcode.avro_json_program(schema)


def native(program: tuple, payload: bytes) -> bytes | None:
    out = _transcode.avro_to_json(program, PREFIX)(FRAME + payload)
    if out is not None:
        assert out[:5] == PREFIX
        return out[5:]
    return None


def everything(**changes: object) -> dict:
    record = {
        "n": None, "b": True, "i": -7, "l": 2**62, "f": 0.5, "d": 1234.5678, "raw": b"\x00\xffab",
        "s": 'quote " backslash \\ tab \t nl \n ctl \x01 del \x7f é 𝄞 \u2028', "fx": b"\xde\xad\xbe\xef",
        "e": "Blue_2", "arr": [1, -2, 3], "m": {"k\n": "v", "é": ""}, "u": {"x": 5}, "again": None, "fx2": b"abcd",
        "id": uuid.UUID("ffa9b9f1-5c14-4c4a-829e-07b0829a48d4"), "day": dt.date(2024, 2, 29),
        "ms": dt.datetime(2024, 5, 1, 8, 0, 11, 332000, tzinfo=UTC), "us": dt.datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
        "dec": decimal.Decimal("-0.005"), "whole": decimal.Decimal("12345"), "maybe_day": dt.date(1, 1, 1),
        "items": [{"price": decimal.Decimal("9999.99")}, {"price": decimal.Decimal("0.00")}],
    }
    record.update(changes)
    return record


@needs_speedups
def test_order_records_transcode_to_the_python_paths_bytes() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_gateway import order_records

    schema, encode, python, program = paths(json.loads((ROOT / "schemas/avro/order.avsc").read_text()))
    assert program is not None
    for record in order_records(300):
        payload = encode(record)
        got = native(program, payload)
        assert got is not None
        assert got == python(payload)


@needs_speedups
@pytest.mark.parametrize("changes", [
    {},
    {"b": False, "i": 2**31 - 1, "l": -(2**63), "f": -0.0, "d": 0.1},
    {"i": -(2**31), "l": 2**63 - 1, "d": 1e15, "f": 3.0},
    {"arr": [], "m": {}, "raw": b"", "s": ""},
    {"u": None}, {"u": "text"}, {"u": -1}, {"again": {"x": -3}},
    {"day": dt.date(9999, 12, 31), "maybe_day": None},
    {"ms": dt.datetime(1, 1, 1, tzinfo=UTC), "us": dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)},
    {"ms": dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC), "us": dt.datetime(1970, 1, 1, tzinfo=UTC)},
    {"dec": decimal.Decimal("999999.999"), "whole": decimal.Decimal("-99999")},
    {"dec": decimal.Decimal("0.000"), "whole": decimal.Decimal("0")},
    {"dec": decimal.Decimal("-123456.789")},
    {"id": uuid.UUID(int=0)},
])
def test_every_supported_type_matches_the_python_path(changes: dict) -> None:
    schema, encode, python, program = paths(EVERYTHING)
    assert program is not None
    payload = encode(everything(**changes))
    assert native(program, payload) == python(payload)


@needs_speedups
@pytest.mark.parametrize("changes", [
    {"d": 1e-05}, {"d": 1e16}, {"f": 1.5e-07}, {"d": float("nan")}, {"d": float("inf")},  # exponent forms, NaN
])
def test_values_written_differently_are_left_to_the_python_path(changes: dict) -> None:
    schema, encode, python, program = paths(EVERYTHING)
    payload = encode(everything(**changes))
    assert native(program, payload) is None


@needs_speedups
def test_uuid_text_in_another_form_is_left_to_the_python_path() -> None:
    schema, encode, python, program = paths({"type": "record", "name": "R", "fields": [
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}}]})
    plain = {"type": "record", "name": "R", "fields": [{"name": "id", "type": "string"}]}
    write = AVRO.encoder(AVRO.parse_schema(json.dumps(plain)))
    upper = write({"id": "FFA9B9F1-5C14-4C4A-829E-07B0829A48D4"})
    assert native(program, upper) == python(upper) == b'{"id":"ffa9b9f1-5c14-4c4a-829e-07b0829a48d4"}'
    for text in ("ffa9b9f15c144c4a829e07b0829a48d4", "not-a-uuid", "ffa9b9f1+5c14-4c4a-829e-07b0829a48d4"):
        assert native(program, write({"id": text})) is None


def _zigzag(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


@needs_speedups
def test_values_outside_what_the_python_types_hold_are_left_to_the_python_path() -> None:
    def one(field_type: object, payload: bytes) -> bytes | None:
        schema, encode, python, program = paths({"type": "record", "name": "R", "fields": [{"name": "v", "type": field_type}]})
        assert program is not None
        return native(program, payload)

    ms = {"type": "long", "logicalType": "timestamp-millis"}
    assert one(ms, _zigzag(253402300800000)) is None  # year 10000
    assert one(ms, _zigzag(-62135596800001)) is None  # before year 1
    assert one({"type": "int", "logicalType": "date"}, _zigzag(2932897)) is None
    dec = {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}
    assert one(dec, _zigzag(2) + (12345).to_bytes(2, "big")) is None  # 5 digits: the Python path rounds
    assert one(dec, _zigzag(9) + b"\x00" * 9) is None  # wider than 64 bits
    assert one("int", _zigzag(2**31)) is None  # not an int
    assert one("boolean", b"\x02") is None
    assert one("string", _zigzag(2) + b"\xed\xa0") is None  # a surrogate: not UTF-8
    assert one("string", _zigzag(2) + b"\xc0\x80") is None  # overlong
    assert one("string", _zigzag(3) + b"ab") is None  # truncated
    assert one("long", b"\xff" * 11) is None  # a varint longer than 64 bits
    assert one("long", _zigzag(1) + b"\x00") is None  # trailing bytes


@needs_speedups
def test_array_blocks_with_byte_sizes_are_left_to_the_python_path() -> None:
    schema, encode, python, program = paths({"type": "array", "items": "int"})
    # a block with a negative count (followed by its byte size): valid Avro, which the
    # Python path's codec decides on, so the transcoder must not answer differently
    payload = _zigzag(-2) + _zigzag(2) + _zigzag(1) + _zigzag(-1) + _zigzag(1) + _zigzag(5) + b"\x00"
    assert native(program, payload) is None
    plain = _zigzag(2) + _zigzag(1) + _zigzag(-1) + _zigzag(1) + _zigzag(5) + b"\x00"
    assert native(program, plain) == python(plain) == b"[1,-1,5]"


@needs_speedups
def test_damaged_records_never_give_other_bytes_than_the_python_path() -> None:
    schema, encode, python, program = paths(EVERYTHING)
    good = encode(everything())
    rng = random.Random(7)
    checked = 0
    for _ in range(3000):
        data = bytearray(good)
        for _ in range(rng.randint(1, 3)):
            action = rng.random()
            if not data:
                break
            position = rng.randrange(len(data))
            if action < 0.6:
                data[position] = rng.randrange(256)
            elif action < 0.8:
                del data[position:]
            else:
                data[position:position] = bytes([rng.randrange(256)])
        payload = bytes(data)
        try:
            expected = python(payload)
        except Exception:  # noqa: BLE001 - the Python path refuses it: the transcoder must too
            expected = None
        got = native(program, payload)
        if got is not None:
            assert got == expected, payload
            checked += 1
    assert checked > 0


@needs_speedups
@pytest.mark.parametrize("field_type", [
    {"type": "int", "logicalType": "time-millis"},
    {"type": "long", "logicalType": "local-timestamp-millis"},
    {"type": "fixed", "name": "F", "size": 8, "logicalType": "decimal", "precision": 10, "scale": 2},
    ["null", "string", {"type": "long", "logicalType": "timestamp-millis"}],
])
def test_schemas_with_parts_it_does_not_write_get_no_program(field_type: object) -> None:
    schema = AVRO.parse_schema(json.dumps({"type": "record", "name": "R", "fields": [{"name": "v", "type": field_type}]}))
    assert _transcode.avro_json_program(schema) is None


@needs_speedups
def test_recursive_schemas_get_no_program() -> None:
    schema = AVRO.parse_schema(json.dumps({"type": "record", "name": "Node", "fields": [
        {"name": "value", "type": "long"}, {"name": "next", "type": ["null", "Node"]}]}))
    assert _transcode.avro_json_program(schema) is None


@needs_speedups
def test_the_float_type_writes_its_single_precision_value_as_python_does() -> None:
    schema, encode, python, program = paths({"type": "array", "items": "float"})
    payload = _zigzag(3) + struct.pack("<fff", 0.1, 1 / 3, 1234.5) + b"\x00"
    assert native(program, payload) == python(payload)
