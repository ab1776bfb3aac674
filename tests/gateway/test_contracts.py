"""The gateway enforces data contracts on a real broker: a route whose target schema
carries rules runs them on every record, dead-letters a record a rule refuses (with the
rule's name and reason in its headers), and encrypts a tagged field that a
confluent-kafka consumer, with its own executors, then decrypts."""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

import serde
from serde.registry import RegistryServer

from .helpers import gateway_thread, headers_of, kafka_toml, produce, read_topic, write_config

pytestmark = pytest.mark.kafka

SECRET = "mysecret"  # confluent-kafka's local KMS keeps the first secret a process uses
PERSON_JSON = json.dumps({"type": "object", "title": "Person", "properties": {
    "name": {"type": "string"}, "ssn": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "ssn", "age"]})
PERSON_AVSC = json.dumps({"type": "record", "name": "Person", "namespace": "hr", "fields": [
    {"name": "name", "type": "string"},
    {"name": "ssn", "type": "string", "confluent:tags": ["PII"]},
    {"name": "age", "type": "int"}]})


@pytest.fixture(scope="module")
def served(tmp_path_factory: Any) -> Iterator[RegistryServer]:
    server = RegistryServer(tmp_path_factory.mktemp("contracts") / "registry.db").start()
    try:
        yield server
    finally:
        server.stop()


def _ctx(topic: str) -> Any:
    from confluent_kafka.serialization import MessageField, SerializationContext

    return SerializationContext(topic, MessageField.VALUE)


def _config(tmp_path: Path, bootstrap: str, url: str, src: str, dst: str, dlq: str, kek: str) -> Path:
    rules = {"domainRules": [
        {"name": "adult", "kind": "CONDITION", "mode": "WRITE", "type": "CEL", "expr": "message.age >= 18",
         "doc": "people on this topic are adults"},
        {"name": "encryptPII", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "ENCRYPT", "tags": ["PII"],
         "params": {"encrypt.kek.name": kek, "encrypt.kms.type": "local-kms", "encrypt.kms.key.id": "mykey"},
         "onFailure": "ERROR,NONE"}]}
    (tmp_path / "person.avsc").write_text(PERSON_AVSC)
    (tmp_path / "person-rules.json").write_text(json.dumps(rules))
    text = kafka_toml(bootstrap, "unused").replace('[registry]\npath = "unused"', f'[registry]\nurl = "{url}"')
    return write_config(tmp_path, text + f"""
[rule_conf]
secret = "${{TEST_KMS_SECRET}}"

[[routes]]
name = "people"
dead_letter_topic = "{dlq}"
[routes.source]
topic = "{src}"
value = {{ format = "json" }}
[routes.target]
topic = "{dst}"
value = {{ format = "avro", schema_file = "person.avsc", rules = "person-rules.json" }}
""")


def test_route_dead_letters_rule_failures_and_encrypts_for_confluent_kafka(tmp_path, kafka_bootstrap, make_topic,
                                                                           served, monkeypatch):
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.schema_registry.rule_registry import RuleRegistry
    from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import FieldEncryptionExecutor
    from confluent_kafka.schema_registry.rules.encryption.localkms.local_driver import LocalKmsDriver

    monkeypatch.setenv("TEST_KMS_SECRET", SECRET)
    src, dst, dlq = make_topic(prefix="pii-src"), make_topic(prefix="pii-dst"), make_topic(prefix="pii-dlq")
    kek = f"kek-{uuid.uuid4().hex[:8]}"
    config = _config(tmp_path, kafka_bootstrap, served.url, src, dst, dlq, kek)
    ser = serde.serializer("json", PERSON_JSON, served.url)
    people = [{"name": "ann", "ssn": "123-45-6789", "age": 40}, {"name": "kid", "ssn": "987-65-4321", "age": 9},
              {"name": "bob", "ssn": "555-00-1234", "age": 33}]
    produce(kafka_bootstrap, src, [(p["name"].encode(), ser(p, _ctx(src))) for p in people])
    with gateway_thread(config) as gw:
        out = read_topic(kafka_bootstrap, dst, 2)
        dead = read_topic(kafka_bootstrap, dlq, 1)
    assert gw.stats["produced"] == 2 and gw.stats["dead_lettered"] == 1

    # the rule that said no, and why, in the dead letter's headers; the original bytes kept
    (letter,) = dead
    assert letter.key() == b"kid" and letter.value() == ser(people[1], _ctx(src))
    h = headers_of(letter)
    assert h["__rule.name"] == b"adult" and h["__rule.mode"] == b"WRITE"
    assert h["__rule.subject"] == f"{dst}-value".encode() and h["__rule.topic"] == src.encode()
    assert b"people on this topic are adults" in h["__rule.exception"]
    assert h["__connect.errors.exception.class.name"] == b"serde.RuleConditionError"

    # the tagged field left encrypted: not in the bytes, and not what a rule-less read sees
    for msg in out:
        assert b"-45-" not in msg.value() and b"-00-" not in msg.value()
    plain = serde.deserializer("avro", served.url, ignore_rules=True)
    assert plain(out[0].value(), _ctx(dst))["ssn"] != "123-45-6789"

    # confluent-kafka's consumer, with its own executors and KMS driver, decrypts it
    LocalKmsDriver.register()
    rules = RuleRegistry()
    executor = FieldEncryptionExecutor()
    rules.register_executor(executor)
    client = SchemaRegistryClient({"url": served.url})
    try:
        ckp = AvroDeserializer(client, rule_conf={"secret": SECRET}, rule_registry=rules)
        assert [ckp(m.value(), _ctx(dst)) for m in out] == [people[0], people[2]]
    finally:
        executor.close()  # its DEK registry client's connections
        client._rest_client.session.close()
    ours = serde.deserializer("avro", served.url, rule_conf={"secret": SECRET})
    assert [ours(m.value(), _ctx(dst)) for m in out] == [people[0], people[2]]


def test_rule_conf_values_must_be_strings(tmp_path):
    from serde.gateway import load_config

    path = write_config(tmp_path, kafka_toml("127.0.0.1:1", str(tmp_path / "r.db")) + """
[rule_conf]
secret = 1
[[routes]]
name = "r"
errors = "fail"
[routes.source]
topic = "a"
value = "json"
[routes.target]
topic = "b"
value = { format = "json", schema = "{}" }
""")
    with pytest.raises(serde.ConfigError, match="rule_conf.secret: expected a string"):
        load_config(path)


@pytest.mark.parametrize("side,value,message", [
    ("source", '{ format = "json", rules = "x.json" }', "only a registry-format target"),
    ("target", '{ format = "json", schema = "{}", rules = "missing.json" }', "cannot read"),
    ("target", '{ format = "json", schema = "{}", rules = "bad.json" }', "is not JSON"),
    ("target", '{ format = "json", schema = "{}", rules = 3 }', "expected a table"),
    ("target", '{ format = "json", subject = "s", rules = "rules.json" }', "keeps its own rules"),
])
def test_bad_route_rules_are_config_errors(tmp_path, side, value, message):
    from serde.gateway import load_config

    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "rules.json").write_text('{"domainRules": []}')
    source = value if side == "source" else '"json"'
    target = value if side == "target" else '{ format = "json", schema = "{}" }'
    path = write_config(tmp_path, kafka_toml("127.0.0.1:1", str(tmp_path / "r.db")) + f"""
[[routes]]
name = "r"
errors = "fail"
[routes.source]
topic = "a"
value = {source}
[routes.target]
topic = "b"
value = {target}
""")
    with pytest.raises(serde.ConfigError, match=message):
        load_config(path)
