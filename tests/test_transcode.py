"""The C transcoders (serde.gateway._speedups, programs from serde.gateway._transcode) against the
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

import serde

from serde.gateway import _transcode
from serde._ocf import _long as _zigzag  # Avro's zigzag varint
from serde.formats import get_format
from serde.translate import derive

needs_speedups = pytest.mark.skipif(not _transcode.available(), reason="serde.gateway._speedups was not built (no C compiler)")


def test_the_transcoders_are_built_where_there_is_a_c_compiler() -> None:
    # the build step is optional (setup.py), so a broken build would pass silently
    # without this: every test below would just skip
    import sysconfig

    headers = Path(sysconfig.get_paths()["include"], "Python.h").is_file()
    if (shutil.which("cc") or shutil.which("gcc")) and headers:
        assert _transcode.available(), "a C compiler and Python's headers are here, but serde.gateway._speedups did not build (pip install -v -e . says why)"
    else:
        pytest.skip("no C compiler or no Python headers here: serde runs on its pure-Python path")

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


def agrees(python: object, transcode: object, data: bytes) -> bool:
    """The transcoder answered for ``data`` (and then with the Python path's bytes)."""
    try:
        expected = python(data)  # type: ignore[operator]
    except Exception:  # noqa: BLE001 - the Python path refuses it: the transcoder must too
        expected = None
    got = transcode(data)  # type: ignore[operator]
    if got is None:
        return False
    assert got == expected, data
    return True


@needs_speedups
def test_values_outside_what_the_python_types_hold_are_left_to_the_python_path() -> None:
    def one(field_type: object, payload: bytes) -> bytes | None:
        schema, encode, python, program = paths({"type": "record", "name": "R", "fields": [{"name": "v", "type": field_type}]})
        assert program is not None
        return native(program, payload)

    ms = {"type": "long", "logicalType": "timestamp-millis"}
    assert one(ms, _zigzag(253402300800000)) is None  # year 10000
    assert one(ms, _zigzag(-62135596800001)) is None  # before year 1
    assert one(ms, _zigzag(-(2**63))) is None and one(ms, _zigzag(2**63 - 1)) is None
    assert one({"type": "long", "logicalType": "timestamp-micros"}, _zigzag(-(2**63))) is None
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
        checked += agrees(python, lambda payload: native(program, payload), bytes(data))
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


@pytest.mark.parametrize("field_type", [
    {"type": "fixed", "name": "F", "size": -1},
    {"type": "bytes", "logicalType": "decimal", "precision": 2**40, "scale": 2},
])
def test_schemas_with_sizes_outside_what_c_holds_get_no_program(field_type: object) -> None:
    # a negative fixed size moved the C reader backwards, before the record's bytes
    text = json.dumps({"type": "record", "name": "R", "fields": [{"name": "v", "type": field_type}]})
    assert _transcode.avro_json_program(AVRO.parse_schema(text)) is None


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


# -- CSV -> Avro ------------------------------------------------------------------------
CSV = get_format("csv")
ROW_SCHEMA = {
    "type": "record", "name": "Row", "namespace": "t",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "small", "type": "int"},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
        {"name": "name", "type": "string"},
        {"name": "total", "type": {"type": "bytes", "logicalType": "decimal", "precision": 8, "scale": 2}},
        {"name": "count", "type": {"type": "bytes", "logicalType": "decimal", "precision": 20}},
        {"name": "weight", "type": "double"},
        {"name": "ratio", "type": "float"},
        {"name": "flag", "type": "boolean"},
        {"name": "note", "type": ["null", "string"]},
        {"name": "score", "type": ["long", "null"]},
        {"name": "again", "type": ["null", "Status"]},
    ],
}
GOOD_ROW = ('7,-3,FFA9B9F1-5c14-4c4a-829e-07b0829a48d4,2024-05-01T08:00:11.332Z,2024-02-29,PAID,'
            '"Lovelace, ""Ada""",-1631.44,12345678901234567,22.5,0.1,true,,,NEW')


def csv_paths(schema_json: object = ROW_SCHEMA) -> tuple:
    text = json.dumps(schema_json)
    csv_schema = CSV.parse_schema(text, record_type="AVRO")
    avro_schema = AVRO.parse_schema(text)
    decode, encode = CSV.decoder(csv_schema), AVRO.encoder(avro_schema)
    return (lambda row: encode(decode(row))), _transcode.csv_avro_program(csv_schema, avro_schema)


def csv_native(program: tuple, row: bytes) -> bytes | None:
    out = _transcode.csv_to_avro(program, PREFIX)(row)
    if out is not None:
        assert out[:5] == PREFIX
        return out[5:]
    return None


def replace_cell(row: str, index: int, text: str) -> str:
    import csv as _csv
    import io

    cells = next(_csv.reader(io.StringIO(row)))
    cells[index] = text
    out = io.StringIO()
    _csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()[:-1]


@needs_speedups
def test_benchmark_rows_transcode_to_the_python_paths_bytes(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_csv_to_avro as c2a

    python, program = csv_paths(c2a.SCHEMA)
    assert program is not None
    c2a.generate(tmp_path / "rows.csv", 2000)
    for line in (tmp_path / "rows.csv").read_bytes().splitlines()[1:]:
        got = csv_native(program, line)
        assert got is not None
        assert got == python(line)


@needs_speedups
@pytest.mark.parametrize("cell, text", [
    (None, None),
    (0, "-9223372036854775"), (0, "0"), (0, "-0"), (0, "007"), (1, "2147483647"), (1, "-2147483648"),
    (3, "1969-12-31T23:59:59.9995Z"), (3, "2024-05-01T08:00:11"), (3, "2024-05-01T08:00:11.1+00:00"),
    (3, "0001-01-01T00:00:00Z"), (3, "9999-12-31T23:59:59.999999Z"), (3, "2024-05-01T08:00:11.123456"),
    (4, "0001-01-01"), (4, "9999-12-31"), (4, "1970-01-01"),
    (6, ""), (6, '"'), (6, "é 𝄞 \u2028"), (6, "line\nbreak"), (6, "tab\there"),
    (7, "0.00"), (7, "-0.00"), (7, "999999.99"), (7, "-999999.99"), (7, "1.28"), (7, "-1.28"), (7, "0001.50"),
    (8, "0"), (8, "-128"), (8, "128"), (8, "99999999999999999"),
    (9, "-0"), (9, "1e400"), (9, "1E-400"), (9, "123.456e-2"), (9, "0.1"), (9, "17"),
    (10, "3.4028234e38"), (10, "1e-50"), (10, "-0.0"), (11, "false"),
    (12, "text"), (13, "-5"), (14, "PAID"),
])
def test_every_column_kind_matches_the_python_path(cell: int | None, text: str | None) -> None:
    python, program = csv_paths()
    assert program is not None
    row = GOOD_ROW if cell is None else replace_cell(GOOD_ROW, cell, text)
    got = csv_native(program, row.encode())
    assert got is not None, row
    assert got == python(row.encode())


@needs_speedups
def test_a_quoted_empty_cell_is_text_and_an_unquoted_one_null() -> None:
    python, program = csv_paths()
    base = GOOD_ROW.rsplit(",", 3)[0]
    for tail in (',"",,NEW', ",,,", ',"",5,', ",x,,\r\n", ",,,NEW\n"):
        row = (base + tail).encode()
        got = csv_native(program, row)
        assert got is not None and got == python(row), row


@needs_speedups
@pytest.mark.parametrize("cell, text", [
    (0, "+5"), (0, " 5"), (0, "1_000"), (0, "5.0"), (0, "99999999999999999999"), (0, ""),
    (1, "2147483648"),
    (2, "ffa9b9f15c144c4a829e07b0829a48d4"),
    (3, "2024-05-01 08:00:11Z"), (3, "2024-05-01T08:00:11+02:00"), (3, "1714550411332"), (3, "2024-05-01T08:00:11.1234567Z"),
    (3, "2024-05-01T08:00:60Z"), (3, "2024-05-01T08:00:11z"),
    (4, "2023-02-29"), (4, "20240506"), (4, "0000-01-01"),
    (5, "paid"), (5, ""),
    (7, "1631.4"), (7, "1631.444"), (7, "1E+2"), (7, "1000000.00"), (7, "+1.00"), (7, "1_0.00"), (7, ".50"),
    (9, "NaN"), (9, "inf"), (9, "1."), (9, ".5"), (9, " 1"),
    (10, "1e39"), (10, "3.4028235e38"), (10, "1e400"),
    (11, "True"), (11, "1"), (11, "yes"),
    (13, ""),  # handled: null; see below for its quoted form
    (14, "OTHER"),
])
def test_cells_in_other_forms_are_left_to_the_python_path(cell: int, text: str) -> None:
    python, program = csv_paths()
    row = replace_cell(GOOD_ROW, cell, text).encode()
    got = csv_native(program, row)
    if cell == 13:
        assert got == python(row)
        row = row.rsplit(b",", 2)[0] + b',"",NEW'
        got = csv_native(program, row)
    assert got is None, row


@needs_speedups
@pytest.mark.parametrize("row", [
    b"", b"\n", GOOD_ROW.encode() + b",extra", GOOD_ROW.rsplit(",", 1)[0].encode(),
    GOOD_ROW.encode() + b"\n\n", b"\xef\xbb\xbf" + GOOD_ROW.encode(), GOOD_ROW.replace("PAID", "PA\x00ID").encode(),
    GOOD_ROW.replace("Lovelace", "Love\xe9lace").encode("latin-1"), GOOD_ROW.replace('""Ada""', '"Ada"').encode(),
    GOOD_ROW.replace('"Lovelace, ""Ada"""', '"Lovelace"x').encode(), GOOD_ROW.replace("-1631.44", '-16"31.44').encode(),
    GOOD_ROW.encode() + b'\n"unterminated',
])
def test_malformed_rows_are_left_to_the_python_path(row: bytes) -> None:
    python, program = csv_paths()
    assert csv_native(program, row) is None


@needs_speedups
def test_damaged_rows_never_give_other_bytes_than_the_python_path() -> None:
    python, program = csv_paths()
    good = GOOD_ROW.encode()
    rng = random.Random(11)
    alphabet = b'0123456789,"-.:TZe \n\r\xc3\xa9ab'
    agreed = 0
    for _ in range(3000):
        data = bytearray(good)
        for _ in range(rng.randint(1, 3)):
            position = rng.randrange(len(data) + 1)
            if rng.random() < 0.7 and position < len(data):
                data[position] = rng.choice(alphabet)
            else:
                data[position:position] = bytes([rng.choice(alphabet)])
        agreed += agrees(python, lambda row: csv_native(program, row), bytes(data))
    assert agreed > 0


@pytest.mark.parametrize("field_type", [
    "bytes", {"type": "array", "items": "long"}, ["null", "string", "long"],
    {"type": "long", "logicalType": "timestamp-micros"}, {"type": "int", "logicalType": "time-millis"},
    {"type": "record", "name": "Nested", "fields": [{"name": "x", "type": "long"}]},
])
def test_csv_schemas_with_columns_it_does_not_parse_get_no_program(field_type: object) -> None:
    text = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}, {"name": "v", "type": field_type}]})
    assert _transcode.csv_avro_program(CSV.parse_schema(text, record_type="AVRO"), AVRO.parse_schema(text)) is None


def test_other_csv_dialects_get_no_program() -> None:
    text = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}]})
    for options in ({"delimiter": ";"}, {"null_marker": "NULL"}, {"quotechar": "'"}):
        csv_schema = CSV.parse_schema(text, record_type="AVRO", **options)
        assert _transcode.csv_avro_program(csv_schema, AVRO.parse_schema(text)) is None
    assert _transcode.csv_avro_program(CSV.parse_schema(text, record_type="AVRO"), AVRO.parse_schema(text)) == ((_transcode.C_LONG, -1, -1),)


# -- found by an adversarial review ---------------------------------------------------------
@needs_speedups
@pytest.mark.parametrize("scale", [0, 18, 24, 30, 64, 100])
def test_decimals_of_any_scale_match_or_go_the_python_way(scale: int) -> None:
    # scales of 24 and more overran a fixed buffer (a crash at 64)
    schema, encode, python, program = paths({"type": "record", "name": "R", "fields": [
        {"name": "v", "type": {"type": "bytes", "logicalType": "decimal", "precision": 120, "scale": scale}}]})
    for payload in (b"\x02\x01", b"\x02\xff", b"\x10" + (2**63 - 1).to_bytes(8, "big"), b"\x00"):
        got = native(program, payload)
        assert got is None or got == python(payload)
        if scale <= 64:
            assert got == python(payload)


@needs_speedups
def test_a_map_with_a_repeated_key_goes_the_python_way() -> None:
    # the Python path reads a map into a dict: the first place and the last value of a repeat
    schema, encode, python, program = paths({"type": "map", "values": "long"})
    repeated = _zigzag(2) + _zigzag(1) + b"a" + _zigzag(1) + _zigzag(1) + b"a" + _zigzag(2) + b"\x00"
    assert python(repeated) == b'{"a":2}'
    assert native(program, repeated) is None
    distinct = _zigzag(2) + _zigzag(1) + b"a" + _zigzag(1) + _zigzag(1) + b"b" + _zigzag(2) + b"\x00"
    assert native(program, distinct) == python(distinct) == b'{"a":1,"b":2}'
    many = _zigzag(65) + b"".join(_zigzag(len(k)) + k + _zigzag(1) for k in (f"k{i}".encode() for i in range(65))) + b"\x00"
    assert native(program, many) is None and python(many).count(b":") == 65  # more keys than it checks


@needs_speedups
def test_a_cell_beyond_the_csv_field_limit_goes_the_python_way() -> None:
    import csv as _csv

    python, program = csv_paths({"type": "record", "name": "R", "fields": [{"name": "v", "type": "string"}]})
    row = b"a" * (_csv.field_size_limit() + 1)
    with pytest.raises(serde.DecodeError, match="field limit"):
        python(row)
    assert csv_native(program, row) is None
    assert csv_native(program, b"a" * 1000) == python(b"a" * 1000)


@needs_speedups
@pytest.mark.parametrize("union", [["null", "string"], ["string", "null"]])
@pytest.mark.parametrize("row", [b'""\r', b'""\r\n', b'""\n', b'""', b'x\r', b'"x"\r'])
def test_a_quoted_empty_cell_before_a_lone_carriage_return_is_text(union: list, row: bytes) -> None:
    # the Python path's quote detection took only \r\n and \n as line ends: '""\r' was null
    python, program = csv_paths({"type": "record", "name": "R", "fields": [{"name": "v", "type": union}]})
    expected = python(row)
    assert csv_native(program, row) == expected
    if row.startswith(b'""'):
        assert expected == (b"\x02\x00" if union[0] == "null" else b"\x00\x00")  # "" (text), not null
