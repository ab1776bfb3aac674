"""`serde produce` and `serde consume` run the schema's data-contract rules, on a real
broker: a record a CEL rule refuses stops produce naming the line and the rule, and a
JSON record whose first encoding attempt is retried (Python datetime -> JSON text) is
encrypted once, not twice."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.main import cli

pytestmark = pytest.mark.kafka

PERSON = {"type": "object", "title": "Person", "properties": {
    "name": {"type": "string"}, "ssn": {"type": "string", "confluent:tags": ["PII"]},
    "born": {"type": "string", "format": "date-time"}, "age": {"type": "integer"}}, "required": ["name", "ssn", "age"]}
RULES = {"domainRules": [
    {"name": "adult", "kind": "CONDITION", "mode": "WRITE", "type": "CEL", "expr": "message.age >= 18"},
    {"name": "encryptPII", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "ENCRYPT", "tags": ["PII"],
     "params": {"encrypt.kek.name": "cli-kek", "encrypt.kms.type": "local-kms", "encrypt.kms.key.id": "k"}}]}


def run(*args, input=None):
    return CliRunner().invoke(cli, list(map(str, args)), input=input, catch_exceptions=False)


def test_produce_and_consume_run_the_rules(tmp_path, kafka_bootstrap, make_topic, monkeypatch):
    monkeypatch.setenv("LOCAL_SECRET", "cli-secret")
    registry = tmp_path / "r.db"
    topic = make_topic(prefix="people")
    schema = tmp_path / "person.json"
    schema.write_text(json.dumps(PERSON))
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(RULES))
    registered = run("schema", "register", schema, "--subject", f"{topic}-value", "--rules", rules,
                     "--registry", registry)
    assert registered.exit_code == 0, registered.output
    people = [{"name": "ann", "ssn": "123-45-6789", "born": "1984-01-02T03:04:05Z", "age": 40},
              {"name": "kid", "ssn": "987-65-4321", "born": "2016-01-02T03:04:05Z", "age": 9}]
    source = tmp_path / "people.ndjson"
    source.write_text("".join(json.dumps(p) + "\n" for p in people))
    produced = run("produce", topic, "-i", source, "--format", "json", "--bootstrap", kafka_bootstrap,
                   "--registry", registry)
    assert produced.exit_code == 1
    assert "line 2" in produced.stderr and "'adult'" in produced.stderr
    assert "the 1 record before it (up to line 1) was sent" in produced.stderr

    raw = run("consume", topic, "--from-beginning", "--format", "json", "--bootstrap", kafka_bootstrap,
              "--registry", registry, "-n", "1", "--timeout", "20")
    assert raw.exit_code == 0, raw.stderr
    assert json.loads(raw.stdout.splitlines()[0]) == people[0]  # consume decrypts: once-encrypted

    monkeypatch.setenv("LOCAL_SECRET", "another-secret")  # the wrong key: the read fails, naming the rule
    wrong = run("consume", topic, "--from-beginning", "--format", "json", "--bootstrap", kafka_bootstrap,
                "--registry", registry, "-n", "1", "--timeout", "20")
    assert wrong.exit_code == 1 and "encryptPII" in wrong.stderr and "123-45-6789" not in wrong.stderr
