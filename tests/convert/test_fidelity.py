"""Values and files that used to be changed behind the user's back."""
import decimal
import io
import json
import math
import os
import stat

import pytest

import serde
from serde.formats import get_format


def test_integers_beyond_64_bits_survive_json(tmp_path):
    source = tmp_path / "in.ndjson"
    source.write_text('{"a": 123456789012345678901234567890, "b": -99999999999999999999}\n')
    out = tmp_path / "out.ndjson"
    serde.convert(source, out, from_format="json", to_format="json")
    assert json.loads(out.read_text()) == {"a": 123456789012345678901234567890, "b": -99999999999999999999}


def test_json_format_reads_and_writes_big_integers():
    js = get_format("json")
    schema = js.parse_schema('{"type": "object", "properties": {"a": {"type": "integer"}}}')
    data = js.encode(schema, {"a": 2**70})
    assert data == b'{"a":1180591620717411303424}'
    assert js.decode(schema, data) == {"a": 2**70}


def test_nan_is_refused_not_written_as_null():
    js = get_format("json")
    schema = js.parse_schema('{"type": "object"}')
    with pytest.raises(serde.RecordInvalid, match="NaN"):
        js.encode(schema, {"f": float("nan")})


def test_decimals_are_plain_text_everywhere(tmp_path):
    schema = json.dumps({"type": "record", "name": "D", "fields": [
        {"name": "d", "type": {"type": "bytes", "logicalType": "decimal", "precision": 38, "scale": 10}}]})
    import fastavro

    base = tmp_path / "d.avro"
    with open(base, "wb") as out:
        fastavro.writer(out, fastavro.parse_schema(json.loads(schema)),
                        [{"d": decimal.Decimal("-0.0000000001")}, {"d": decimal.Decimal("0E-10")}])
    for fmt in ("json", "csv"):
        out = tmp_path / f"d.{fmt}"
        serde.convert(base, out, from_format="avro", to_format=fmt)
        text = out.read_text()
        assert "-0.0000000001" in text and "0.0000000000" in text and "E-" not in text


def test_symlinked_output_keeps_the_link_and_fifo_is_written_in_place(tmp_path):
    source = tmp_path / "in.ndjson"
    source.write_text('{"a": 1}\n')
    real = tmp_path / "real.ndjson"
    real.write_text("old")
    os.chmod(real, 0o640)
    link = tmp_path / "link.ndjson"
    link.symlink_to(real)
    serde.convert(source, link, from_format="json", to_format="json")
    assert link.is_symlink() and real.read_text() == '{"a":1}\n'
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_new_output_files_follow_the_umask(tmp_path):
    source = tmp_path / "in.ndjson"
    source.write_text('{"a": 1}\n')
    old = os.umask(0o022)
    try:
        serde.convert(source, tmp_path / "new.ndjson", from_format="json", to_format="json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.ndjson").stat().st_mode) == 0o644


def test_text_streams_are_refused_clearly(tmp_path):
    with pytest.raises(serde.ConfigError, match="binary"):
        serde.convert(io.StringIO('{"a": 1}\n'), io.BytesIO(), from_format="json", to_format="json")
    with pytest.raises(serde.ConfigError, match="binary"):
        serde.convert(io.BytesIO(b'{"a": 1}\n'), io.StringIO(), from_format="json", to_format="json")


def test_nan_in_avro_to_json_is_named(tmp_path):
    schema = {"type": "record", "name": "F", "fields": [{"name": "d", "type": "double"}]}
    import fastavro

    base = tmp_path / "f.avro"
    with open(base, "wb") as out:
        fastavro.writer(out, fastavro.parse_schema(schema), [{"d": math.nan}])
    with pytest.raises(serde.RecordInvalid, match="NaN"):
        serde.convert(base, tmp_path / "f.ndjson", from_format="avro", to_format="json")


CSV_SCHEMA = json.dumps({"type": "record", "name": "C", "fields": [
    {"name": "s", "type": ["null", "string"], "default": None},
    {"name": "t", "type": "string"},
    {"name": "b", "type": "bytes"},
]})


@pytest.mark.parametrize("null_marker", ["", "NULL"])
def test_csv_null_marker_text_and_null_stay_apart(tmp_path, null_marker):
    source = tmp_path / "in.ndjson"
    rows = [{"s": null_marker, "t": null_marker, "b": ""}, {"s": None, "t": "x", "b": "AAE="}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    middle = tmp_path / "mid.csv"
    serde.convert(source, middle, from_format="json", to_format="csv", to_schema=CSV_SCHEMA, null_marker=null_marker)
    back = tmp_path / "back.ndjson"
    serde.convert(middle, back, from_format="csv", to_format="json", schema=CSV_SCHEMA, null_marker=null_marker)
    assert [json.loads(x) for x in back.read_text().splitlines()] == rows


def test_csv_output_refuses_a_missing_required_string(tmp_path):
    source = tmp_path / "in.ndjson"
    source.write_text('{"s": "a", "b": ""}\n')
    with pytest.raises(serde.RecordInvalid, match="missing value") as info:
        serde.convert(source, tmp_path / "o.csv", from_format="json", to_format="csv", to_schema=CSV_SCHEMA)
    assert info.value.path == "$.t"


def test_csv_header_repeating_a_column_is_an_error(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("a,a\n1,2\n")
    with pytest.raises(serde.DecodeError, match="repeats the column"):
        serde.convert(source, tmp_path / "o.ndjson", from_format="csv", to_format="json")


def test_csv_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes("\ufeffs,t,b\nx,y,\n".encode("utf-8"))
    out = tmp_path / "o.ndjson"
    serde.convert(source, out, from_format="csv", to_format="json", schema=CSV_SCHEMA)
    assert json.loads(out.read_text()) == {"s": "x", "t": "y", "b": ""}
    serde.convert(source, out, from_format="csv", to_format="json")
    assert list(json.loads(out.read_text())) == ["s", "t", "b"]


def test_unusual_line_breaks_inside_csv_cells_survive(tmp_path):
    schema = json.dumps({"type": "record", "name": "S", "fields": [{"name": "id", "type": "long"}, {"name": "t", "type": "string"}]})
    source = tmp_path / "in.ndjson"
    source.write_text(json.dumps({"id": 1, "t": "a\u2028b\u0085c\x0cd\re"}) + "\n")
    serde.convert(source, tmp_path / "m.csv", from_format="json", to_format="csv", to_schema=schema)
    serde.convert(tmp_path / "m.csv", tmp_path / "back.ndjson", from_format="csv", to_format="json", schema=schema)
    assert json.loads((tmp_path / "back.ndjson").read_text()) == {"id": 1, "t": "a\u2028b\u0085c\x0cd\re"}


@pytest.mark.parametrize("null_marker", ["", "NULL"])
@pytest.mark.parametrize("kind, values", [
    (["null", "string"], ["", None, "x"]), ("string", ["", "NULL", "x"]),
    (["null", "bytes"], [b"", None, b"a"]), ("bytes", [b"", b"a"]),
])
def test_single_column_csv_keeps_empty_and_null_apart(tmp_path, null_marker, kind, values):
    import fastavro

    schema = {"type": "record", "name": "R", "fields": [{"name": "v", "type": kind}]}
    base = tmp_path / "b.avro"
    with open(base, "wb") as out:
        fastavro.writer(out, fastavro.parse_schema(schema), [{"v": v} for v in values])
    serde.convert(base, tmp_path / "m.csv", from_format="avro", to_format="csv", null_marker=null_marker)
    serde.convert(tmp_path / "m.csv", tmp_path / "back.avro", from_format="csv", to_format="avro",
                  schema=json.dumps(schema), null_marker=null_marker)
    with open(tmp_path / "back.avro", "rb") as stream:
        assert [r["v"] for r in fastavro.reader(stream)] == values


def test_a_union_of_records_picks_the_record_the_data_is(tmp_path):
    schema = json.dumps({"type": "record", "name": "U", "fields": [{"name": "v", "type": [
        {"type": "record", "name": "A", "fields": [{"name": "x", "type": "long"}]},
        {"type": "record", "name": "B", "fields": [{"name": "x", "type": "long"}, {"name": "y", "type": "string"}]}]}]})
    source = tmp_path / "in.ndjson"
    source.write_text('{"v": {"x": 1, "y": "z"}}\n')
    out = tmp_path / "o.ndjson"
    json_schema = serde.translate.derive("AVRO", schema, "JSON") if hasattr(serde, "translate") else None
    from serde.translate import derive

    serde.convert(source, out, from_format="json", to_format="json", to_schema=derive("AVRO", schema, "JSON"))
    assert json.loads(out.read_text()) == {"v": {"x": 1, "y": "z"}}


def test_out_of_range_timestamps_are_record_errors_not_crashes(tmp_path):
    schema = json.dumps({"type": "record", "name": "T", "fields": [
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}}]})
    source = tmp_path / "in.ndjson"
    source.write_text('{"ts": 1e300}\n{"ts": 253402300800000}\n{"ts": 0}\n')
    report = serde.convert(source, tmp_path / "o.avro", from_format="json", to_format="avro", to_schema=schema,
                           on_error="skip")
    assert (report.written, report.rejected) == (1, 2)
    assert all("out of the range" in e or "timestamp" in e for e in report.errors)


def test_ndjson_byte_order_mark_is_skipped(tmp_path):
    source = tmp_path / "in.ndjson"
    source.write_bytes(b'\xef\xbb\xbf{"a": 1}\n{"a": 2}\n')
    out = tmp_path / "o.ndjson"
    serde.convert(source, out, from_format="json", to_format="json")
    assert [json.loads(x) for x in out.read_text().splitlines()] == [{"a": 1}, {"a": 2}]


def test_empty_typed_csv_replaces_the_output_with_an_empty_file(tmp_path):
    schema = json.dumps({"type": "record", "name": "S", "fields": [{"name": "id", "type": "long"}]})
    source = tmp_path / "e.csv"
    source.write_bytes(b"")
    out = tmp_path / "o.avro"
    out.write_text("STALE")
    report = serde.convert(source, out, from_format="csv", to_format="avro", schema=schema)
    assert report.read == 0
    import fastavro

    with open(out, "rb") as stream:
        assert list(fastavro.reader(stream)) == []


@pytest.mark.parametrize("cell", ["-f8fad5b-d9cb-469f-a165-70867728950e", "+f8fad5b-d9cb-469f-a165-70867728950e",
                                  "0f8f_d5b-d9cb-469f-a165-70867728950e", " f8fad5b-d9cb-469f-a165-70867728950e"])
def test_malformed_uuid_text_is_refused_in_the_avro_lane(tmp_path, cell):
    schema = json.dumps({"type": "record", "name": "S", "fields": [
        {"name": "u", "type": {"type": "string", "logicalType": "uuid"}}]})
    source = tmp_path / "in.csv"
    source.write_text(f"u\n{cell}\n")
    with pytest.raises(serde.DecodeError, match="UUID"):
        serde.convert(source, tmp_path / "o.avro", from_format="csv", to_format="avro", schema=schema)


def test_nan_behind_an_anyof_null_branch_is_refused():
    js = get_format("json")
    schema = js.parse_schema(json.dumps({"type": "object", "additionalProperties": False, "properties": {
        "a": {"anyOf": [{"type": "number"}, {"type": "null"}]}, "b": {"type": "array", "items": {"type": ["number", "null"]}}}}))
    for record in ({"a": float("nan")}, {"b": [1.0, float("inf")]}):
        with pytest.raises(serde.RecordInvalid, match="NaN"):
            js.encode(schema, record)
    with pytest.raises(serde.RecordInvalid, match="NaN"):
        js.encoder(js.parse_schema('{"type": "object", "properties": {"n": {"type": "integer"}}}'), validate=False)(
            {"n": float("nan")})


def test_reordered_csv_header_keeps_quoted_empty_apart_from_null(tmp_path):
    schema = json.dumps({"type": "record", "name": "S", "fields": [
        {"name": "id", "type": "long"}, {"name": "t", "type": ["null", "string"]}]})
    source = tmp_path / "in.csv"
    source.write_text('t,id\n"",1\n,2\n')
    out = tmp_path / "o.ndjson"
    serde.convert(source, out, from_format="csv", to_format="json", schema=schema)
    assert [json.loads(x) for x in out.read_text().splitlines()] == [{"id": 1, "t": ""}, {"id": 2, "t": None}]


def test_protobuf_oneof_unset_or_named_by_member_converts(tmp_path):
    proto = 'syntax = "proto3";\npackage o;\nmessage M { int64 id = 1; oneof choice { string text = 2; int64 num = 3; } }\n'
    source = tmp_path / "in.ndjson"
    source.write_text('{"id": 1, "text": "a"}\n{"id": 2}\n{"id": 3, "num": 5}\n')
    pb = tmp_path / "o.pb"
    serde.convert(source, pb, from_format="json", to_format="protobuf", to_schema=proto)
    out = tmp_path / "o.ndjson"
    serde.convert(pb, out, from_format="protobuf", to_format="json", schema=proto)
    assert [json.loads(x) for x in out.read_text().splitlines()] == [
        {"id": 1, "choice": "a"}, {"id": 2, "choice": None}, {"id": 3, "choice": 5}]


def test_avro_times_of_day_reach_json_as_valid_rfc3339_times_and_come_back(tmp_path):
    """The JSON Schema derived from an Avro time-millis/time-micros says format: time, which
    needs an offset (RFC 3339 full-time): times were written without one and then refused
    by their own schema. They are UTC ("Z"), and read back to the same Avro values."""
    import datetime as dt

    import fastavro

    schema = {"type": "record", "name": "T", "fields": [
        {"name": "ms", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "us", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}
    records = [{"ms": dt.time(8, 0, 11, 332000), "us": dt.time(23, 59, 59, 999999),
                "at": dt.datetime(2024, 5, 1, 8, 0, 11, 332000, tzinfo=dt.timezone.utc)},
               {"ms": dt.time(0, 0), "us": dt.time(12, 30, 1, 5), "at": dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)}]
    base = tmp_path / "t.avro"
    with open(base, "wb") as out:
        fastavro.writer(out, fastavro.parse_schema(schema), records)
    as_json = tmp_path / "t.ndjson"
    serde.convert(base, as_json, from_format="avro", to_format="json")  # validated against the derived schema
    lines = [json.loads(line) for line in as_json.read_text().splitlines()]
    assert lines[0] == {"ms": "08:00:11.332000Z", "us": "23:59:59.999999Z", "at": "2024-05-01T08:00:11.332000Z"}
    assert lines[1] == {"ms": "00:00:00Z", "us": "12:30:01.000005Z", "at": "1970-01-01T00:00:00Z"}
    back = tmp_path / "back.avro"
    serde.convert(as_json, back, from_format="json", to_format="avro", to_schema=json.dumps(schema))
    with open(back, "rb") as f:
        assert list(fastavro.reader(f)) == records


def test_big_integer_json_writes_dates_and_times_as_the_usual_path_does():
    """json_dumps falls back to the standard library for integers beyond 64 bits; the same
    record without them goes through orjson: temporal values must read the same."""
    import datetime as dt

    from serde.formats.jsonschema import json_dumps

    values = {"naive": dt.datetime(2024, 5, 1, 8, 0, 11, 332000), "utc": dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc),
              "plus2": dt.datetime(2024, 5, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))),
              "day": dt.date(2024, 5, 1), "time": dt.time(8, 0, 11)}
    for time_offset in (False, True):
        usual = json.loads(json_dumps(values, time_offset=time_offset))
        big = json.loads(json_dumps({**values, "n": 2**70}, time_offset=time_offset))
        assert big.pop("n") == 2**70
        assert big == usual
        assert usual["time"] == ("08:00:11Z" if time_offset else "08:00:11")
        assert usual["naive"] == "2024-05-01T08:00:11.332000" and usual["utc"] == "2024-05-01T00:00:00Z"


def test_a_time_format_in_a_referenced_json_schema_gets_an_offset_too():
    import datetime as dt

    js = get_format("json")
    schema = js.parse_schema(serde.SchemaSource(
        '{"type": "object", "properties": {"t": {"$ref": "time.json"}}}',
        {"time.json": '{"type": "string", "format": "time"}'}))
    assert js.encode(schema, {"t": dt.time(8, 0, 11)}) == b'{"t":"08:00:11Z"}'
