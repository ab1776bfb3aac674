"""Text inputs as a newcomer writes them: bytes that are not UTF-8, CSV that `serde convert`
wrote itself, CSV without a schema, empty CSV, and missing columns that have defaults."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
ORDERS = ROOT / "schemas" / "examples" / "orders.ndjson"
ORDER_AVSC = ROOT / "schemas" / "avro" / "order.avsc"
AB = json.dumps({"type": "record", "name": "AB", "fields": [{"name": "a", "type": "long"}, {"name": "b", "type": "string"}]})


def run(*args, input=None):
    return CliRunner().invoke(cli, list(map(str, args)), input=input, catch_exceptions=False)


def _csv_with_bad_byte(path, bad_line, lines=6000):
    rows = [b"a,b"] + [b"%d,x%d" % (i, i) for i in range(1, lines)]
    rows[bad_line - 1] = b"%d,caf\xe9" % (bad_line - 1)  # Latin-1, not UTF-8
    path.write_bytes(b"\n".join(rows) + b"\n")


@pytest.mark.parametrize("bad_line", [3, 5002])
@pytest.mark.parametrize("with_schema", [False, True])
@pytest.mark.parametrize("target", ["out.ndjson", "out.avro"])
def test_csv_byte_that_is_not_utf8_is_reported_on_its_own_line(tmp_path, bad_line, with_schema, target):
    source = tmp_path / "in.csv"
    _csv_with_bad_byte(source, bad_line)
    schema = tmp_path / "ab.avsc"
    schema.write_text(AB)
    result = run("convert", source, tmp_path / target, *(["--schema", schema] if with_schema else []))
    assert result.exit_code == 1
    assert f"line {bad_line}: not UTF-8 text (byte 0xe9 at column " in result.stderr
    assert "unreadable CSV header" not in result.stderr and "malformed CSV" not in result.stderr


@pytest.mark.parametrize("with_schema", [False, True])
def test_csv_rows_that_are_not_utf8_can_be_skipped_one_by_one(tmp_path, with_schema):
    source = tmp_path / "in.csv"
    _csv_with_bad_byte(source, 5002)
    schema = tmp_path / "ab.avsc"
    schema.write_text(AB)
    dead = tmp_path / "dead.ndjson"
    result = run("convert", source, tmp_path / "out.ndjson", "--dead-letter", dead,
                 *(["--schema", schema] if with_schema else []))
    assert result.exit_code == 100
    assert "5999 read, 5998 written, 1 rejected" in result.stderr
    (entry,) = [json.loads(line) for line in dead.read_text().splitlines()]
    assert entry["location"] == "line 5002" and "not UTF-8 text" in entry["reason"]


def test_header_that_is_not_utf8(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"a,\xffb\n1,2\n")
    result = run("convert", source, tmp_path / "out.ndjson")
    assert result.exit_code == 1
    assert "line 1: not UTF-8 text (byte 0xff at column 3)" in result.stderr


@pytest.mark.parametrize("with_schema", [False, True])
def test_ndjson_byte_that_is_not_utf8_is_reported_on_its_own_line(tmp_path, with_schema):
    source = tmp_path / "in.ndjson"
    lines = [b'{"a": %d, "b": "x"}' % i for i in range(1, 6000)]
    lines[4999] = b'{"a": 5000, "b": "caf\xe9"}'
    source.write_bytes(b"\n".join(lines) + b"\n")
    schema = tmp_path / "ab.avsc"
    schema.write_text(AB)
    result = run("convert", source, tmp_path / "out.avro", *(["--to-schema", schema] if with_schema else []))
    assert result.exit_code == 1
    assert "line 5000: not UTF-8 text (byte 0xe9 at column 22)" in result.stderr


@pytest.mark.parametrize("name,content", [("in.csv", b"a,b\n1,x\n2,caf\xe9\n"), ("in.ndjson", b'{"a": 1}\n{"a": "\xe9"}\n')])
def test_schema_infer_names_the_line_that_is_not_utf8(tmp_path, name, content):
    source = tmp_path / name
    source.write_bytes(content)
    result = run("schema", "infer", source)
    assert result.exit_code == 2
    assert f"line {2 if name.endswith('ndjson') else 3}: not UTF-8 text (byte 0xe9" in result.stderr


def test_csv_with_lone_carriage_returns_still_reads(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"a,b\r1,x\r2,y\r")
    result = run("convert", source, "-", "--to", "json", "-q")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(x) for x in result.stdout.splitlines()] == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


# -- the CSV that serde convert writes --------------------------------------------------------

@pytest.fixture
def orders_csv(tmp_path):
    path = tmp_path / "orders.csv"
    assert run("convert", ORDERS, path, "--to-schema", ORDER_AVSC, "-q").exit_code == 0
    assert "shipping_address.city" in path.read_text().splitlines()[0]
    return path


def test_schema_infer_reads_nested_columns_as_records(orders_csv):
    result = run("schema", "infer", orders_csv, "--name", "com.acme.Order")
    assert result.exit_code == 0, result.stderr
    schema = json.loads(result.stdout)
    fields = {f["name"]: f["type"] for f in schema["fields"]}
    assert fields["shipping_address"]["type"] == "record"
    assert [f["name"] for f in fields["shipping_address"]["fields"]] == ["street", "city", "postal_code", "country"]
    assert fields["order_id"] == "long" and fields["gift"] == "boolean"
    assert fields["items"]["type"] == "array" and fields["items"]["items"]["type"] == "record"
    assert fields["tags"] == {"type": "array", "items": "string"}


def test_inferred_schema_converts_the_csv_it_came_from(orders_csv, tmp_path):
    schema = tmp_path / "inferred.avsc"
    schema.write_text(run("schema", "infer", orders_csv).stdout)
    result = run("convert", orders_csv, tmp_path / "o.avro", "--to-schema", schema)
    assert result.exit_code == 0, result.stderr


def test_csv_to_ndjson_without_a_schema_infers_types(orders_csv):
    result = run("convert", orders_csv, "-", "--to", "json", "-q")
    assert result.exit_code == 0, result.stderr
    first = json.loads(result.stdout.splitlines()[0])
    original = json.loads(ORDERS.read_text().splitlines()[0])
    assert first["order_id"] == original["order_id"] and isinstance(first["order_id"], int)
    assert first["gift"] is original["gift"]
    assert first["shipping_address"] == original["shipping_address"]
    assert first["tags"] == original["tags"]
    assert [i["qty"] for i in first["items"]] == [i["qty"] for i in original["items"]]
    assert first["note"] is None


def test_csv_to_ndjson_without_a_schema_small(tmp_path):
    result = run("convert", "-", "-", "--from", "csv", "--to", "json", "-q", input="a,b,c\n1,x,\n2,,true\n")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(x) for x in result.stdout.splitlines()] == [{"a": 1, "b": "x", "c": None},
                                                                  {"a": 2, "b": None, "c": True}]


# -- empty CSV, and columns the schema has defaults for ---------------------------------------

def test_empty_csv_without_a_header_is_an_error(tmp_path):
    source = tmp_path / "empty.csv"
    source.write_bytes(b"")
    result = run("convert", source, tmp_path / "out.ndjson")
    assert result.exit_code == 1
    assert "empty" in result.stderr and "header" in result.stderr
    assert not (tmp_path / "out.ndjson").exists()
    infer = run("schema", "infer", source)
    assert infer.exit_code == 2 and "no header row" in infer.stderr


DEFAULTS = json.dumps({"type": "record", "name": "D", "fields": [
    {"name": "a", "type": "long"},
    {"name": "b", "type": "string", "default": "none"},
    {"name": "n", "type": ["null", "long"], "default": None},
    {"name": "s", "type": {"type": "enum", "name": "S", "symbols": ["X", "Y"]}, "default": "Y"},
    {"name": "e", "type": "string", "default": ""},
    {"name": "l", "type": {"type": "array", "items": "long"}, "default": [1, 2]},
    {"name": "raw", "type": "bytes", "default": "\u00ff"}]})


@pytest.mark.parametrize("target", ["out.ndjson", "out.avro"])
@pytest.mark.parametrize("chunked", [True, False])
def test_csv_columns_missing_where_the_schema_has_defaults_take_the_defaults(tmp_path, target, chunked):
    schema = tmp_path / "d.avsc"
    schema.write_text(DEFAULTS)
    source = tmp_path / "in.csv"
    source.write_text("s,a\nX,1\nY,2\n")
    out = tmp_path / target
    # framed output reads row by row (the other reader): both take the defaults
    extra = [] if chunked else ["--output-framing", "base64", "--topic", "t", "--registry", tmp_path / "r.db"]
    result = run("convert", source, out, "--schema", schema, *extra)
    assert result.exit_code == 0, result.stderr
    if chunked:
        back = run("convert", out, "-", "--to", "json", "-q").stdout if target.endswith("avro") else out.read_text()
    else:
        back = run("convert", out, "-", "--from", target.rsplit(".")[1] if target.endswith("avro") else "json",
                   "--to", "json", "--input-framing", "base64", "--registry", tmp_path / "r.db", "-q").stdout
    records = [json.loads(x) for x in back.splitlines()]
    assert records == [{"a": 1, "b": "none", "n": None, "s": "X", "e": "", "l": [1, 2], "raw": "/w=="},
                       {"a": 2, "b": "none", "n": None, "s": "Y", "e": "", "l": [1, 2], "raw": "/w=="}]


def test_csv_column_missing_without_a_default_is_still_an_error(tmp_path):
    schema = tmp_path / "d.avsc"
    schema.write_text(DEFAULTS)
    result = run("convert", "-", "-", "--from", "csv", "--to", "json", "--schema", schema, input="b\nx\n")
    assert result.exit_code == 1
    assert "lacks the schema's columns a" in result.stderr
