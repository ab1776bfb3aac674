"""The chunked engine: the same output whatever the chunk size and worker count, the
first error in input order, and line numbers that count across chunks."""
import io
import json

import fastavro
import pytest

import serde
from serde.conversion import _chunked

SCHEMA = json.dumps({"type": "record", "name": "Row", "fields": [
    {"name": "id", "type": "long"},
    {"name": "text", "type": ["null", "string"], "default": None},
    {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}}]})


def csv_input(tmp_path, rows=400, bad=()):
    lines = ["id,text,at,amount"]
    for i in range(rows):
        text = f'"line one\nline two, ""{i}"""' if i % 7 == 0 else ("" if i % 5 == 0 else '""' if i % 11 == 0 else f"t{i}")
        at = "nope" if i in bad else f"2024-01-01T00:00:{i % 60:02d}Z"
        lines.append(f"{i},{text},{at},{i}.{i % 100:02d}")
    path = tmp_path / "in.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def records(path):
    with open(path, "rb") as stream:
        return list(fastavro.reader(stream))


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(_chunked, "CHUNK_BYTES", 256)


@pytest.mark.parametrize("workers", [1, 2])
def test_same_records_whatever_the_chunking(tmp_path, small_chunks, workers):
    source = csv_input(tmp_path)
    expected_path = tmp_path / "one.avro"
    serde.convert(source, expected_path, from_format="csv", to_format="avro", schema=SCHEMA, workers=1)
    out = tmp_path / f"w{workers}.avro"
    report = serde.convert(source, out, from_format="csv", to_format="avro", schema=SCHEMA, workers=workers)
    assert report.read == report.written == 400
    got = records(out)
    assert got == records(expected_path)
    assert got[7]["text"] == 'line one\nline two, "7"'
    assert got[5]["text"] is None and got[11]["text"] == ""


def test_big_chunk_path_equals_the_record_path(tmp_path):
    """With workers (chunks) and without (the general record path) the records agree."""
    source = csv_input(tmp_path, rows=50)
    a, b = tmp_path / "a.avro", tmp_path / "b.avro"
    serde.convert(source, a, from_format="csv", to_format="avro", schema=SCHEMA, workers=2)
    serde.convert(source, b, from_format="csv", to_format="avro", schema=SCHEMA, codec="deflate")
    assert records(a) == records(b)


def test_first_error_in_input_order_with_its_line(tmp_path, small_chunks):
    source = csv_input(tmp_path, bad=(150, 300))
    out = tmp_path / "o.avro"
    with pytest.raises(serde.DecodeError) as info:
        serde.convert(source, out, from_format="csv", to_format="avro", schema=SCHEMA, workers=2)
    # line 1 is the header; every 7th row before 150 spans two lines
    expected_line = 2 + 150 + len([i for i in range(150) if i % 7 == 0])
    assert info.value.location == f"line {expected_line}"
    assert info.value.path == "$.at"
    assert not out.exists()


def test_skip_and_dead_letter_across_chunks(tmp_path, small_chunks):
    source = csv_input(tmp_path, bad=(3, 250, 399))
    dead = tmp_path / "dead.ndjson"
    report = serde.convert(source, tmp_path / "o.avro", from_format="csv", to_format="avro", schema=SCHEMA,
                           workers=2, on_error="dead-letter", dead_letter=dead)
    assert (report.read, report.written, report.rejected) == (400, 397, 3)
    entries = [json.loads(x) for x in dead.read_text().splitlines()]
    assert [e["input"].split(",")[0] for e in entries] == ["3", "250", "399"]
    assert all(e["path"] == "$.at" for e in entries)
    assert [r["id"] for r in records(tmp_path / "o.avro")] == [i for i in range(400) if i not in (3, 250, 399)]


@pytest.mark.parametrize("to_format", ["json", "csv", "protobuf"])
def test_other_targets_are_byte_identical_across_worker_counts(tmp_path, small_chunks, to_format):
    source = csv_input(tmp_path)
    one, two = tmp_path / f"1.{to_format}", tmp_path / f"2.{to_format}"
    options = {"to_message": "Row"} if to_format == "protobuf" else {}
    serde.convert(source, one, from_format="csv", to_format=to_format, schema=SCHEMA, workers=1, **options)
    serde.convert(source, two, from_format="csv", to_format=to_format, schema=SCHEMA, workers=2, **options)
    assert one.read_bytes() == two.read_bytes()
    assert one.stat().st_size > 1000


def test_ndjson_chunks_and_line_numbers(tmp_path, small_chunks):
    lines = [json.dumps({"id": i, "at": i * 1000, "amount": f"{i}.00"}) for i in range(200)]
    lines[120] = '{"id": "x", "at": 0, "amount": "1.00"}'
    source = tmp_path / "in.ndjson"
    source.write_text("\n".join(lines) + "\n")
    report = serde.convert(source, tmp_path / "o.avro", from_format="json", to_format="avro", to_schema=SCHEMA,
                           workers=2, on_error="skip")
    assert (report.read, report.written, report.rejected) == (200, 199, 1)
    assert report.errors[0].startswith("line 121: $.id")


def test_split_records_respects_quoted_line_breaks():
    data = b'1,"a\nb"\n2,"c"\n3,"d\n\ne"\n'
    chunks = list(_chunked.split_records(io.BytesIO(data), b'"', 2, chunk_bytes=4))
    assert b"".join(c for c, _ in chunks) == data
    for chunk, _ in chunks:
        assert chunk.count(b'"') % 2 == 0
    assert [line for _, line in chunks][0] == 2


def test_invalid_utf8_is_named(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"id,text,at,amount\n1,\xff\xfe,2024-01-01T00:00:00Z,1.00\n")
    with pytest.raises(serde.DecodeError, match="line 2: not UTF-8"):
        serde.convert(source, tmp_path / "o.avro", from_format="csv", to_format="avro", schema=SCHEMA)


@pytest.mark.parametrize("field_type, cell, expected", [
    ({"type": "long", "logicalType": "time-micros"}, "01:02:03.456000", "01:02:03.456000"),
    ({"type": "fixed", "name": "F", "size": 8, "logicalType": "decimal", "precision": 10, "scale": 2}, "12.34", "12.34"),
])
def test_logical_types_the_lane_does_not_write_go_the_general_way(tmp_path, field_type, cell, expected):
    schema = json.dumps({"type": "record", "name": "T", "fields": [{"name": "v", "type": field_type}]})
    source = tmp_path / "in.csv"
    source.write_text(f"v\n{cell}\n")
    out = tmp_path / "o.avro"
    serde.convert(source, out, from_format="csv", to_format="avro", schema=schema, to_schema=schema)
    assert str(records(out)[0]["v"]) == expected
