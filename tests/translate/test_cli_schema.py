"""``serde schema derive`` and ``serde schema infer`` through click's CliRunner."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.schema import schema
from serde import _model as m
from serde.translate import to_model


@pytest.fixture
def run():
    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(schema, list(args), input=input)

    return invoke


def test_help(run):
    result = run("--help")
    assert result.exit_code == 0 and "derive" in result.output and "infer" in result.output
    assert "--to" in run("derive", "--help").output and "--null-marker" in run("infer", "--help").output


def test_derive_from_file_by_extension(run, tmp_path, order_avro):
    path = tmp_path / "order.avsc"
    path.write_text(order_avro)
    result = run("derive", "--to", "protobuf", str(path))
    assert result.exit_code == 0, result.output
    assert to_model("protobuf", result.output) == to_model("avro", order_avro)


def test_derive_rename_stdin_and_references(run, tmp_path):
    address = {"type": "record", "name": "Address", "namespace": "geo", "fields": [{"name": "city", "type": "string"}]}
    (tmp_path / "address.avsc").write_text(json.dumps(address))
    order = {"type": "record", "name": "Order", "fields": [{"name": "ship", "type": "geo.Address"}]}
    result = run("derive", "--from", "avro", "--to", "json", "--name", "com.acme.Order",
                 "--reference", f"geo.Address={tmp_path / 'address.avsc'}", "-", input=json.dumps(order))  # fmt: skip
    assert result.exit_code == 0, result.output
    model = to_model("json", result.output)
    assert model.name == "com.acme.Order" and model.field("ship").type.name == "geo.Address"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["derive", "--to", "avro", "x.txt"], "cannot tell the format"),
        (["derive", "--to", "avro", "--from", "avro", "-"], "Avro schema is not JSON"),
        (["derive", "--to", "protobuf", "--from", "avro", "-"], "a Protobuf schema needs a record"),
        (["derive", "--to", "avro", "--from", "json", "--message", "M", "-"], "--message only applies"),
        (["derive", "--to", "avro", "--from", "avro", "--reference", "oops", "-"], "expected NAME=FILE"),
        (["derive", "--from", "avro", "-"], "Missing option '--to'"),
    ],
)
def test_derive_usage_errors(run, args, message):
    stdin = {"Avro schema is not JSON": "{", "a Protobuf schema needs a record": '"string"'}.get(message, "{}")
    result = run(*args, input=stdin)
    assert result.exit_code == 2
    assert message in result.output


def test_infer_csv(run, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text('id,price,at,note\n1,2.50,2024-01-01T00:00:00Z,"a, b"\n2,3.75,2024-01-02T00:00:00Z,\n')
    result = run("infer", str(path), "--name", "com.acme.Row")
    assert result.exit_code == 0, result.output
    model = to_model("avro", result.output)
    assert model == m.Record(
        "com.acme.Row",
        (
            m.Field("id", m.Scalar(m.INT64)),
            m.Field("price", m.Scalar(m.FLOAT64)),
            m.Field("at", m.Scalar(m.TIMESTAMP_MILLIS)),
            m.Field("note", m.Optional(m.Scalar(m.STRING)), None, True),
        ),
    )
    decimals = run("infer", str(path), "--decimals", "--to", "json")
    assert to_model("json", decimals.output).field("price").type == m.Decimal(3, 2)


def test_infer_ndjson_from_stdin(run):
    data = '{"a": 1, "b": "x"}\n\n{"a": 2, "b": null}\n'
    result = run("infer", "--format", "json", "--to", "protobuf", "-", input=data)
    assert result.exit_code == 0, result.output
    model = to_model("protobuf", result.output)
    assert model.field("b").type == m.Optional(m.Scalar(m.STRING))


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["infer", "data.txt"], "", "cannot tell the format"),
        (["infer", "--format", "json", "-"], "{bad\n", "line 1: invalid JSON"),
        (["infer", "--format", "json", "-"], "[1]\n", "line 1: expected a JSON object"),
        (["infer", "--format", "json", "-"], "\n", "no records"),
        (["infer", "--format", "csv", "-"], "", "no header row"),
        (["infer", "--format", "csv", "-"], "a,a\n1,2\n", "repeats a column"),
        (["infer", "--format", "csv", "-"], "a\n1,2\n", "line 2: more values than header"),
        (["infer", "--format", "csv", "--delimiter", "::", "-"], "a\n1\n", "must be one character"),
        (["infer", "--format", "json", "--to", "protobuf", "-"], '{"x": [[1]]}\n', "$.x[]: Protobuf array items cannot be arrays"),
    ],
)
def test_infer_errors(run, args, stdin, message):
    result = run(*args, input=stdin)
    assert result.exit_code == 2, result.output
    assert message in result.output


# --- .proto imports read from files --------------------------------------------------------

_REPO = __import__("pathlib").Path(__file__).resolve().parents[2]
_MONEY = 'syntax = "proto3";\npackage shop;\nmessage Money { int64 cents = 1; }\n'
_ORDER = 'syntax = "proto3";\npackage shop;\nimport "common/money.proto";\nmessage Order { Money total = 1; }\n'


def test_derive_proto_resolves_imports_from_parent_dirs(run):
    result = run("derive", "--to", "avro", str(_REPO / "schemas" / "protobuf" / "order.proto"))
    assert result.exit_code == 0, result.output
    assert "Money" in result.output and "Currency" in result.output


def test_derive_proto_path_option_and_missing_import(run, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "order.proto").write_text(_ORDER)
    (tmp_path / "vendor" / "common").mkdir(parents=True)
    (tmp_path / "vendor" / "common" / "money.proto").write_text(_MONEY)
    result = run("derive", "--to", "avro", str(tmp_path / "src" / "order.proto"))
    assert result.exit_code == 2
    assert 'import "common/money.proto" not found' in result.output and str(tmp_path / "src") in result.output
    for option in ("-I", "--proto-path"):
        result = run("derive", "--to", "avro", option, str(tmp_path / "vendor"), str(tmp_path / "src" / "order.proto"))
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["fields"][0]["type"][1]["name"] == "Money"
    # from stdin, only -I directories are searched
    result = run("derive", "--from", "protobuf", "--to", "avro", "-I", str(tmp_path / "vendor"), "-", input=_ORDER)
    assert result.exit_code == 0, result.output


def test_derive_reference_overrides_the_file(run, tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "money.proto").write_text(_MONEY)
    (tmp_path / "order.proto").write_text(_ORDER)
    (tmp_path / "money2.proto").write_text(_MONEY.replace("int64 cents", "string cents"))
    result = run("derive", "--to", "json", "--reference", f"common/money.proto={tmp_path / 'money2.proto'}", str(tmp_path / "order.proto"))
    assert result.exit_code == 0, result.output
    assert '"string"' in result.output
