"""``serde schema from-model`` / ``to-model`` and ``serde compat check --model``."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.compat import compat
from cli.schema import schema
from serde.models import schema as schema_of

from .shapes import EventV1, Order


def run(group, *args, input=None):
    return CliRunner().invoke(group, list(args), input=input)


@pytest.mark.parametrize("fmt", ["avro", "json", "protobuf"])
def test_from_model_prints_the_schema(fmt):
    result = run(schema, "from-model", "tests.models.shapes:Order", "--to", fmt)
    assert result.exit_code == 0, result.output
    assert result.output == schema_of(Order, fmt).rstrip("\n") + "\n"


def test_from_model_usage_errors():
    assert run(schema, "from-model", "tests.models.shapes").exit_code == 2
    result = run(schema, "from-model", "tests.models.shapes:Nothing")
    assert result.exit_code == 2 and "has no Nothing" in result.output
    result = run(schema, "from-model", "tests.models.shapes:UTC")
    assert result.exit_code == 2 and "not a dataclass" in result.output


@pytest.mark.parametrize("style", ["dataclass", "pydantic"])
def test_to_model_writes_source_that_gives_the_schema_back(tmp_path, monkeypatch, style):
    avsc = tmp_path / "order.avsc"
    avsc.write_text(schema_of(Order, "avro"))
    out = tmp_path / f"order_{style}.py"
    result = run(schema, "to-model", str(avsc), "--style", style, "-o", str(out))
    assert result.exit_code == 0, result.output
    monkeypatch.syspath_prepend(str(tmp_path))
    result = run(schema, "from-model", f"order_{style}:Order", "--to", "avro")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(avsc.read_text())


def test_to_model_from_stdin_needs_from():
    assert run(schema, "to-model", "-", input="{}").exit_code == 2
    result = run(schema, "to-model", "-", "--from", "avro", input=schema_of(EventV1, "avro"))
    assert result.exit_code == 0 and "class Event:" in result.output


def test_compat_check_model_against_files(tmp_path):
    v1 = tmp_path / "event.avsc"
    v1.write_text(schema_of(EventV1, "avro"))
    ok = run(compat, "check", "--model", "tests.models.shapes:EventV2", str(v1))
    assert ok.exit_code == 0, ok.output
    assert "COMPATIBLE" in ok.output
    # a new required field without a default cannot read old data
    bad = tmp_path / "bad.avsc"
    bad.write_text(json.dumps({"type": "record", "name": "Event", "namespace": "com.acme", "fields": [
        {"name": "id", "type": "long"}, {"name": "name", "type": "string"}, {"name": "gone", "type": "string"}]}))
    result = run(compat, "check", "--model", "tests.models.shapes:EventV2", "--level", "FORWARD", "--against", str(bad))
    assert result.exit_code == 1, result.output


def test_compat_check_model_against_a_registry(serde_registry_url):
    import uuid

    import serde

    subject = f"cli-model-{uuid.uuid4().hex[:8]}"
    registry = serde.serializer("avro", model=EventV1, registry=serde_registry_url)
    registry.prepare(subject.removesuffix("-value") if subject.endswith("-value") else subject)
    result = run(compat, "check", "--model", "tests.models.shapes:EventV2", "--against", serde_registry_url,
                 "--subject", f"{subject}-value")
    assert result.exit_code == 0, result.output
    assert "against version(s) 1" in result.output


def test_compat_check_without_model_still_needs_new():
    result = run(compat, "check")
    assert result.exit_code == 2
