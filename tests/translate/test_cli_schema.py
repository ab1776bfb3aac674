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
