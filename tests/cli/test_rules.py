"""`serde schema register` with a data contract, and `serde schema rules test`: what
each rule did to each sample record, exit codes, and every bad input named."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
PERSON = ROOT / "schemas" / "avro" / "person.avsc"
MASK = ROOT / "schemas" / "rules" / "mask-rules.json"
PEOPLE = ROOT / "schemas" / "examples" / "people.ndjson"


def run(*args: object, input: str | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


def test_rules_test_reports_each_rule_and_exits_1_on_a_refusal():
    result = run("schema", "rules", "test", PERSON, "--rules", MASK, "--records", PEOPLE)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == ["record 1: ok", "  adult (CEL CONDITION, WRITE) passed: the condition holds",
                         "  maskPII (CEL_FIELD TRANSFORM, WRITE) changed: $.ssn"]
    assert lines[3] == "record 2: refused"
    assert "adult (CEL CONDITION, WRITE) failed: people on this topic are adults" in lines[4]
    assert "2 record(s), 1 refused" in result.stderr


def test_rules_test_json_output_has_the_results():
    result = run("schema", "rules", "test", PERSON, "--rules", MASK, "--records", "-", "--json",
                 input='[{"name": "ann", "ssn": "123-45-6789", "age": 40}]')
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    report = json.loads(line)
    assert report["result"] == {"name": "ann", "ssn": "XXX-XX-6789", "age": 40}
    assert [o["outcome"] for o in report["outcomes"]] == ["passed", "changed"]
    assert report["outcomes"][1]["changes"] == ["$.ssn"]


def test_rules_test_read_mode_runs_read_rules_only(tmp_path):
    rules = tmp_path / "r.json"
    rules.write_text(json.dumps({"domainRules": [
        {"name": "w", "kind": "CONDITION", "mode": "WRITE", "type": "CEL", "expr": "false"},
        {"name": "r", "kind": "TRANSFORM", "mode": "READ", "type": "CEL_FIELD", "expr": "name == 'name' ; value + '!'"}]}))
    result = run("schema", "rules", "test", PERSON, "--rules", rules, "--records", PEOPLE, "--mode", "read")
    assert result.exit_code == 0, result.output
    assert "  r (CEL_FIELD TRANSFORM, READ) changed: $.name" in result.stdout
    assert "  w (CEL CONDITION, READ) skipped: mode WRITE does not cover READ" in result.stdout


@pytest.mark.parametrize("content,option,message", [
    ("{not json", "--rules", "is not JSON"),
    ("[1, 2]", "--rules", "must hold a JSON object"),
    ('{"name": "ann"}\n{oops', "--records", "line 2: not JSON"),
])
def test_bad_files_are_usage_errors_naming_the_file(tmp_path, content, option, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    args = {"--rules": MASK, "--records": PEOPLE, option: bad}
    result = run("schema", "rules", "test", PERSON, *[x for pair in args.items() for x in pair])
    assert result.exit_code == 2 and message in result.output and "bad.json" in result.output


def test_register_with_rules_then_serializers_run_them(tmp_path):
    import serde
    from confluent_kafka.serialization import MessageField, SerializationContext

    db = tmp_path / "registry.db"
    result = run("schema", "register", PERSON, "--subject", "people-value", "--rules", MASK,
                 "--registry", db)
    assert result.exit_code == 0, result.output
    registered = json.loads(result.stdout)
    assert registered == {"subject": "people-value", "id": 1, "version": 1}
    ser = serde.serializer("avro", None, str(db), auto_register=False, use_latest_version=True)
    ctx = SerializationContext("people", MessageField.VALUE)
    data = ser({"name": "ann", "ssn": "123-45-6789", "age": 40}, ctx)
    assert serde.deserializer("avro", str(db))(data, ctx)["ssn"] == "XXX-XX-6789"
    with pytest.raises(serde.RuleConditionError, match="adults"):
        ser({"name": "kid", "ssn": "987-65-4321", "age": 9}, ctx)
    again = run("schema", "register", PERSON, "--subject", "people-value", "--registry", db)
    assert json.loads(again.stdout)["version"] == 1  # no rule set given: the previous one carries over


def test_register_needs_readable_json_files(tmp_path):
    result = run("schema", "register", PERSON, "--subject", "s", "--rules", tmp_path / "missing.json",
                 "--registry", tmp_path / "r.db")
    assert result.exit_code == 2 and "missing.json" in result.output


def test_rules_test_reads_samples_as_produce_does(tmp_path):
    """Samples are coerced into the schema's types first: base64 text into bytes, ISO
    text into a timestamp (what `serde produce` accepts, rules test accepts)."""
    schema = tmp_path / "p.avsc"
    schema.write_text(json.dumps({"type": "record", "name": "P", "fields": [
        {"name": "b", "type": "bytes"}, {"name": "t", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}))
    rules = tmp_path / "r.json"
    rules.write_text(json.dumps({"domainRules": [{"name": "c", "kind": "CONDITION", "mode": "WRITE", "type": "CEL",
                                                   "expr": "message.b == b'\\x01\\x02' && "
                                                           "message.t == timestamp('2024-01-02T03:04:05Z')"}]}))
    result = run("schema", "rules", "test", schema, "--rules", rules, "--records", "-",
                 input='{"b": "AQI=", "t": "2024-01-02T03:04:05Z"}\n{"b": "not base64!", "t": "x"}\n')
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[:2] == ["record 1: ok", "  c (CEL CONDITION, WRITE) passed: the condition holds"]
    assert "record 2: refused" in result.stdout and "$.b" in result.stdout
