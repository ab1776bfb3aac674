import json
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
ORDERS = ROOT / "schemas" / "examples" / "orders.ndjson"
ORDER_AVSC = ROOT / "schemas" / "avro" / "order.avsc"


def run(*args, input=None):
    return CliRunner().invoke(cli, list(map(str, args)), input=input, catch_exceptions=False)


def test_ndjson_to_avro_to_csv_and_back(tmp_path):
    avro = tmp_path / "orders.avro"
    result = run("convert", ORDERS, avro, "--to-schema", ORDER_AVSC)
    assert result.exit_code == 0, result.output
    count = len(ORDERS.read_text().splitlines())
    assert f"{count} read, {count} written, 0 rejected" in result.stderr
    csv_file = tmp_path / "orders.csv"
    assert run("convert", avro, csv_file).exit_code == 0
    header = csv_file.read_text().splitlines()[0]
    assert "shipping_address.city" in header.split(",")
    back = tmp_path / "back.ndjson"
    assert run("convert", csv_file, back, "--schema", ORDER_AVSC).exit_code == 0
    original = [json.loads(line) for line in ORDERS.read_text().splitlines()]
    again = [json.loads(line) for line in back.read_text().splitlines()]
    assert [r["order_id"] for r in again] == [r["order_id"] for r in original]
    assert again[0]["items"] == [dict(i, price=i["price"]) for i in original[0]["items"]]


def test_stdin_to_stdout(tmp_path):
    result = run("convert", "-", "-", "--from", "json", "--to", "csv", "--to-schema", ORDER_AVSC, "-q",
                 input=ORDERS.read_text())
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("order_id,order_uuid,created_at")
    assert result.stderr == ""


def test_bad_record_exits_1_naming_line_field_reason(tmp_path):
    bad = tmp_path / "bad.ndjson"
    lines = ORDERS.read_text().splitlines()
    record = json.loads(lines[1])
    record["items"][0]["qty"] = "lots"
    bad.write_text("\n".join([lines[0], json.dumps(record)]) + "\n")
    result = run("convert", bad, tmp_path / "out.avro", "--to-schema", ORDER_AVSC)
    assert result.exit_code == 1
    assert "line 2: $.items[0].qty: cannot use 'lots' as a 32-bit integer" in result.stderr
    assert not (tmp_path / "out.avro").exists()


def test_skip_exits_100_with_summary_when_records_were_rejected(tmp_path):
    bad = tmp_path / "bad.ndjson"
    bad.write_text(ORDERS.read_text().splitlines()[0] + "\n{\"order_id\": \"x\"}\n")
    result = run("convert", bad, tmp_path / "out.avro", "--to-schema", ORDER_AVSC, "--on-error", "skip")
    assert result.exit_code == 100
    assert "2 read, 1 written, 1 rejected" in result.stderr
    assert "rejected: line 2" in result.stderr
    assert (tmp_path / "out.avro").exists()


def test_dead_letter_option_implies_the_policy(tmp_path):
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"order_id": "x"}\n')
    dead = tmp_path / "dead.ndjson"
    result = run("convert", bad, tmp_path / "out.avro", "--to-schema", ORDER_AVSC, "--dead-letter", dead)
    assert result.exit_code == 100
    assert json.loads(dead.read_text())["input"] == '{"order_id": "x"}'


def test_unknown_extension_is_a_usage_error(tmp_path):
    source = tmp_path / "data.txt"
    source.write_text("x")
    result = run("convert", source, tmp_path / "o.avro")
    assert result.exit_code == 2
    assert "give --from" in result.stderr


def test_missing_schema_file_is_a_usage_error(tmp_path):
    result = run("convert", ORDERS, tmp_path / "o.avro", "--to-schema", tmp_path / "nope.avsc")
    assert result.exit_code == 2
    assert "cannot read target schema" in result.stderr


def test_invalid_target_schema_is_a_usage_error(tmp_path):
    schema = tmp_path / "bad.avsc"
    schema.write_text('{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}')
    result = run("convert", ORDERS, tmp_path / "o.avro", "--to-schema", schema)
    assert result.exit_code == 2
    assert "invalid Avro schema" in result.stderr


def test_print_schema_shows_the_derived_target(tmp_path):
    avro = tmp_path / "orders.avro"
    run("convert", ORDERS, avro, "--to-schema", ORDER_AVSC)
    result = run("convert", avro, tmp_path / "o.ndjson", "--print-schema", "--to", "json")
    assert result.exit_code == 0
    assert '"title"' in result.stderr


def test_help_explains_the_encodings():
    result = run("convert", "--help")
    assert result.exit_code == 0
    assert "varint length-delimited" in result.output and "--on-error" in result.output


def test_proto_schema_imports_are_found_beside_it_and_with_proto_path(tmp_path):
    root = tmp_path
    tmp_path = root / "src"
    (tmp_path / "common").mkdir(parents=True)
    (tmp_path / "common" / "money.proto").write_text(
        'syntax = "proto3";\npackage shop;\nmessage Money { string currency = 1; int64 units = 2; }\n')
    (tmp_path / "order.proto").write_text(
        'syntax = "proto3";\npackage shop;\nimport "common/money.proto";\n'
        'message Order { int64 id = 1; shop.Money total = 2; }\n')
    source = tmp_path / "in.ndjson"
    source.write_text('{"id": 1, "total": {"currency": "EUR", "units": 5}}\n')
    pb = tmp_path / "out.pb"
    assert run("convert", source, pb, "--to-schema", tmp_path / "order.proto", "--to-message", "shop.Order").exit_code == 0
    back = run("convert", pb, "-", "--schema", tmp_path / "order.proto", "--message", "shop.Order", "--to", "json", "-q")
    assert back.exit_code == 0 and json.loads(back.stdout) == {"id": 1, "total": {"currency": "EUR", "units": 5}}
    moved = root / "elsewhere"
    moved.mkdir()
    (moved / "order.proto").write_text((tmp_path / "order.proto").read_text())
    missing = run("convert", source, tmp_path / "o2.pb", "--to-schema", moved / "order.proto")
    assert missing.exit_code == 2 and "common/money.proto" in missing.stderr
    found = run("convert", source, tmp_path / "o3.pb", "--to-schema", moved / "order.proto", "-I", tmp_path,
                "--to-message", "shop.Order")
    assert found.exit_code == 0, found.stderr
