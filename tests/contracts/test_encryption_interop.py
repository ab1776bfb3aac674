"""Encryption interop with confluent-kafka 2.16's own executors, on one registry (serde's,
served over HTTP): CKP's AvroSerializer encrypts and serde's executor decrypts, and serde's
executor encrypts what CKP's AvroDeserializer decrypts; deterministic ciphertexts are
byte-identical; payload encryption both ways. The Avro records are framed and decoded
with fastavro here, so only the encryption executors are under test."""
from __future__ import annotations

import base64
import io
import json
import struct
from typing import Any, Iterator

import fastavro
import pytest
from confluent_kafka.schema_registry import RuleSet, Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import EncryptionExecutor as CkPayload
from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import FieldEncryptionExecutor as CkField
from confluent_kafka.schema_registry.rules.encryption.localkms.local_driver import LocalKmsDriver as CkLocalKms
from confluent_kafka.serialization import MessageField, SerializationContext

from serde._types import RegisteredSchema
from serde.contracts._executor import FieldContext, RuleContext
from serde.contracts.encryption import FieldEncryptionExecutor, PayloadEncryptionExecutor
from serde.contracts.encryption._crypto import split_version
from serde.registry import RegistryServer
from serde.registry.client import open_registry

TOPIC = "topic1"
SUBJECT = "topic1-value"
CONF = {"secret": "mysecret"}  # CKP's local KMS: the first secret in a process wins; all tests use this one
SCHEMA = {"type": "record", "name": "test", "fields": [
    {"name": "f1", "type": "string", "confluent:tags": ["PII"]},
    {"name": "b", "type": "bytes", "confluent:tags": ["PII"]},
    {"name": "n", "type": "int"},
]}
PARSED = fastavro.parse_schema(SCHEMA)
RECORD = {"f1": "hello world", "b": b"\x00raw\xff", "n": 7}
F1 = FieldContext("test.f1", "f1", "STRING", frozenset({"PII"}))
B = FieldContext("test.b", "b", "BYTES", frozenset({"PII"}))


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Iterator[RegistryServer]:
    CkLocalKms.register()
    srv = RegistryServer(tmp_path_factory.mktemp("interop") / "registry.db").start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def sr(server: RegistryServer) -> Iterator[SchemaRegistryClient]:
    client = SchemaRegistryClient({"url": server.url})
    yield client
    client._rest_client.session.close()


_counter = iter(range(10**6))


def register(sr: SchemaRegistryClient, params: dict[str, str], *, payload: bool = False) -> tuple[str, int]:
    """A new subject holding SCHEMA with one ENCRYPT (or ENCRYPT_PAYLOAD) rule."""
    subject = f"t{next(_counter)}-value"
    rule = {"name": "encryptPII", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "ENCRYPT", "tags": ["PII"],
            "params": params, "onFailure": "ERROR,ERROR"}
    rules = {"encodingRules": [{**rule, "type": "ENCRYPT_PAYLOAD", "tags": []}]} if payload else {"domainRules": [rule]}
    schema = Schema(json.dumps(SCHEMA), "AVRO", [], rule_set=RuleSet.from_dict(rules))
    return subject, sr.register_schema(subject, schema)


def params(kek: str, **extra: str) -> dict[str, str]:
    return {"encrypt.kek.name": kek, "encrypt.kms.type": "local-kms", "encrypt.kms.key.id": "mykey", **extra}


_ck_executors: list[Any] = []


@pytest.fixture(autouse=True)
def _close_ck_executors() -> Iterator[None]:
    yield
    while _ck_executors:  # each holds its own DEK registry client (an httpx session)
        _ck_executors.pop().close()


def ck_rules() -> RuleRegistry:
    registry = RuleRegistry()
    for executor in (CkField(), CkPayload()):
        registry.register_executor(executor)
        _ck_executors.append(executor)
    return registry


def ck_serialize(sr: SchemaRegistryClient, subject: str, record: dict[str, Any]) -> bytes:
    serializer = AvroSerializer(
        sr, json.dumps(SCHEMA),
        conf={"auto.register.schemas": False, "use.latest.version": True,
                           "subject.name.strategy": lambda ctx, name: subject},
        rule_conf=CONF, rule_registry=ck_rules())
    return serializer(dict(record), SerializationContext(TOPIC, MessageField.VALUE))


def ck_deserialize(sr: SchemaRegistryClient, data: bytes, subject: str) -> Any:
    deserializer = AvroDeserializer(
        sr, conf={"subject.name.strategy": lambda ctx, name: subject},
        rule_conf=CONF, rule_registry=ck_rules())
    return deserializer(data, SerializationContext(TOPIC, MessageField.VALUE))


def ctx(server: RegistryServer, subject: str, mode: str, params: dict[str, str], rule_type: str = "ENCRYPT") -> RuleContext:
    rule = {"name": "encryptPII", "type": rule_type, "tags": ["PII"], "params": params}
    target = RegisteredSchema(id=1, schema_type="AVRO", text=json.dumps(SCHEMA))
    return RuleContext(rule=rule, mode=mode, subject=subject, topic=TOPIC, is_key=False, target=target,
                       registry=open_registry(server.url), rule_conf=CONF)


def avro(data: bytes) -> dict[str, Any]:
    return fastavro.schemaless_reader(io.BytesIO(data), PARSED)


def frame(schema_id: int, record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, PARSED, record)
    return b"\x00" + struct.pack(">I", schema_id) + out.getvalue()


ALGORITHMS = [{}, {"encrypt.dek.algorithm": "AES128_GCM"}, {"encrypt.dek.algorithm": "AES256_SIV"},
              {"encrypt.dek.expiry.days": "1"}]
IDS = ["AES256_GCM", "AES128_GCM", "AES256_SIV", "rotation"]


@pytest.mark.parametrize("extra", ALGORITHMS, ids=IDS)
def test_confluent_encrypts_serde_decrypts(server: RegistryServer, sr: SchemaRegistryClient, extra: dict[str, str]) -> None:
    p = params(f"kek-ck-{next(_counter)}", **extra)
    subject, _ = register(sr, p)
    written = avro(ck_serialize(sr, subject, RECORD)[5:])
    assert written["f1"] != "hello world" and written["b"] != RECORD["b"] and written["n"] == 7
    transform = FieldEncryptionExecutor().new_transform(ctx(server, subject, "READ", p))
    assert transform(F1, written["f1"]) == "hello world"
    assert transform(B, written["b"]) == RECORD["b"]


@pytest.mark.parametrize("extra", ALGORITHMS, ids=IDS)
def test_serde_encrypts_confluent_decrypts(server: RegistryServer, sr: SchemaRegistryClient, extra: dict[str, str]) -> None:
    p = params(f"kek-serde-{next(_counter)}", **extra)
    subject, schema_id = register(sr, p)
    transform = FieldEncryptionExecutor().new_transform(ctx(server, subject, "WRITE", p))
    record = {"f1": transform(F1, "hello world"), "b": transform(B, RECORD["b"]), "n": 7}
    if extra.get("encrypt.dek.expiry.days"):
        assert split_version(base64.b64decode(record["f1"]))[0] == 1
    assert ck_deserialize(sr, frame(schema_id, record), subject) == RECORD


def test_deterministic_ciphertexts_are_equal(server: RegistryServer, sr: SchemaRegistryClient) -> None:
    p = params(f"kek-det-{next(_counter)}", **{"encrypt.dek.algorithm": "AES256_SIV"})
    subject, _ = register(sr, p)
    theirs = avro(ck_serialize(sr, subject, RECORD)[5:])  # CKP makes the KEK and the DEK
    transform = FieldEncryptionExecutor().new_transform(ctx(server, subject, "WRITE", p))
    assert transform(F1, "hello world") == theirs["f1"]
    assert transform(B, RECORD["b"]) == theirs["b"]


def test_rotation_versions_are_shared(server: RegistryServer, sr: SchemaRegistryClient) -> None:
    p = params(f"kek-rot-{next(_counter)}", **{"encrypt.dek.expiry.days": "1"})
    subject, schema_id = register(sr, p)
    ours = FieldEncryptionExecutor().new_transform(ctx(server, subject, "WRITE", p))(F1, "mine")
    theirs = avro(ck_serialize(sr, subject, RECORD)[5:])["f1"]
    assert split_version(base64.b64decode(ours))[0] == split_version(base64.b64decode(theirs))[0] == 1
    reader = FieldEncryptionExecutor().new_transform(ctx(server, subject, "READ", p))
    assert reader(F1, theirs) == "hello world"


def test_payload_encryption_both_ways(server: RegistryServer, sr: SchemaRegistryClient) -> None:
    p = params(f"kek-payload-{next(_counter)}")
    subject, schema_id = register(sr, p, payload=True)
    data = ck_serialize(sr, subject, RECORD)
    assert data[:5] == b"\x00" + struct.pack(">I", schema_id)  # the frame stays in the clear
    executor = PayloadEncryptionExecutor()
    plain = executor.transform(ctx(server, subject, "READ", p, "ENCRYPT_PAYLOAD"), data[5:])
    assert avro(plain) == RECORD
    encrypted = executor.transform(ctx(server, subject, "WRITE", p, "ENCRYPT_PAYLOAD"), frame(schema_id, RECORD)[5:])
    assert ck_deserialize(sr, data[:5] + encrypted, subject) == RECORD


def test_shared_kek_both_ways(server: RegistryServer, sr: SchemaRegistryClient) -> None:
    server.app.kms_conf = dict(CONF)
    kek = f"kek-shared-{next(_counter)}"
    open_registry(server.url).dek_client().register_kek(kek, "local-kms", "mykey", shared=True)
    p = params(kek)
    subject, schema_id = register(sr, p)
    transform = FieldEncryptionExecutor().new_transform(ctx(server, subject, "WRITE", p))
    record = {"f1": transform(F1, "hello world"), "b": transform(B, RECORD["b"]), "n": 7}
    assert ck_deserialize(sr, frame(schema_id, record), subject) == RECORD
    theirs = avro(ck_serialize(sr, subject, RECORD)[5:])
    assert FieldEncryptionExecutor().new_transform(ctx(server, subject, "READ", p))(F1, theirs["f1"]) == "hello world"


# -- through the serializers: serde's serializer/deserializer and CKP's, both ways ---------

import time  # noqa: E402

import serde  # noqa: E402


def topic_for(sr: SchemaRegistryClient, p: dict[str, str], *, payload: bool = False, fmt: str = "AVRO",
              schema: Any = None) -> tuple[str, int]:
    """A new topic whose value subject holds ``schema`` with one ENCRYPT (or ENCRYPT_PAYLOAD) rule."""
    topic = f"enc{next(_counter)}"
    rule = {"name": "encryptPII", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "ENCRYPT", "tags": ["PII"],
            "params": p, "onFailure": "ERROR,ERROR"}
    rules = {"encodingRules": [{**rule, "type": "ENCRYPT_PAYLOAD", "tags": []}]} if payload else {"domainRules": [rule]}
    text = json.dumps(schema if schema is not None else SCHEMA)
    return topic, sr.register_schema(f"{topic}-value", Schema(text, fmt, [], rule_set=RuleSet.from_dict(rules)))


def sctx(topic: str) -> SerializationContext:
    return SerializationContext(topic, MessageField.VALUE)


def serde_writer(server: RegistryServer, executor: Any = None, fmt: str = "avro", schema: Any = None, **kw: Any) -> Any:
    executors = {"ENCRYPT": executor} if executor is not None else None
    return serde.serializer(fmt, json.dumps(schema if schema is not None else SCHEMA), server.url, auto_register=False,
                            use_latest_version=True, rule_conf=CONF, rule_executors=executors, **kw)


def serde_reader(server: RegistryServer, fmt: str = "avro", **kw: Any) -> Any:
    return serde.deserializer(fmt, registry=server.url, rule_conf=CONF, **kw)


def ck_writer(sr: SchemaRegistryClient) -> Any:
    return AvroSerializer(sr, json.dumps(SCHEMA), conf={"auto.register.schemas": False, "use.latest.version": True},
                          rule_conf=CONF, rule_registry=ck_rules())


def ck_reader(sr: SchemaRegistryClient) -> Any:
    return AvroDeserializer(sr, rule_conf=CONF, rule_registry=ck_rules())


@pytest.mark.parametrize("extra", ALGORITHMS, ids=IDS)
def test_serializers_confluent_writes_serde_reads(server: RegistryServer, sr: SchemaRegistryClient,
                                                  extra: dict[str, str]) -> None:
    topic, _ = topic_for(sr, params(f"kek-s1-{next(_counter)}", **extra))
    data = ck_writer(sr)(dict(RECORD), sctx(topic))
    assert b"hello world" not in data
    assert serde_reader(server)(data, sctx(topic)) == RECORD


@pytest.mark.parametrize("extra", ALGORITHMS, ids=IDS)
def test_serializers_serde_writes_confluent_reads(server: RegistryServer, sr: SchemaRegistryClient,
                                                  extra: dict[str, str]) -> None:
    topic, _ = topic_for(sr, params(f"kek-s2-{next(_counter)}", **extra))
    record = dict(RECORD)
    data = serde_writer(server)(record, sctx(topic))
    assert b"hello world" not in data and b"raw" not in data
    assert ck_reader(sr)(data, sctx(topic)) == RECORD
    assert serde_reader(server)(data, sctx(topic)) == RECORD


def test_serializers_deterministic_bytes_are_equal(server: RegistryServer, sr: SchemaRegistryClient) -> None:
    topic, _ = topic_for(sr, params(f"kek-s3-{next(_counter)}", **{"encrypt.dek.algorithm": "AES256_SIV"}))
    theirs = ck_writer(sr)(dict(RECORD), sctx(topic))
    ours = serde_writer(server)(dict(RECORD), sctx(topic))
    assert ours == theirs  # same DEK, SIV: the whole message is byte-identical


def test_serializers_rotation_with_a_fake_clock(server: RegistryServer, sr: SchemaRegistryClient) -> None:
    clock_now = [time.time()]
    executor = FieldEncryptionExecutor(clock=lambda: clock_now[0])
    topic, _ = topic_for(sr, params(f"kek-s4-{next(_counter)}", **{"encrypt.dek.expiry.days": "1"}))
    writer = serde_writer(server, executor)
    written = []
    for step in range(3):
        clock_now[0] += 2 * 86400 if step else 0
        data = writer({**RECORD, "n": step}, sctx(topic))
        version, _ = split_version(base64.b64decode(avro(data[5:])["f1"]))
        assert version == step + 1
        written.append(data)
    reader, theirs = serde_reader(server), ck_reader(sr)
    for step, data in enumerate(written):
        assert reader(data, sctx(topic)) == theirs(data, sctx(topic)) == {**RECORD, "n": step}


def test_serializers_payload_both_ways(server: RegistryServer, sr: SchemaRegistryClient) -> None:
    topic, schema_id = topic_for(sr, params(f"kek-s5-{next(_counter)}"), payload=True)
    theirs = ck_writer(sr)(dict(RECORD), sctx(topic))
    ours = serde_writer(server)(dict(RECORD), sctx(topic))
    for data in (theirs, ours):
        assert data[:5] == b"\x00" + struct.pack(">I", schema_id) and b"hello" not in data
        assert serde_reader(server)(data, sctx(topic)) == ck_reader(sr)(data, sctx(topic)) == RECORD


def test_serializers_read_error_names_the_rule(server: RegistryServer, sr: SchemaRegistryClient) -> None:
    topic, _ = topic_for(sr, params(f"kek-s6-{next(_counter)}"))
    data = ck_writer(sr)(dict(RECORD), sctx(topic))
    with pytest.raises(serde.RuleError) as info:
        serde.deserializer("avro", registry=server.url, rule_conf={"secret": "s3cr3t-xyz"})(data, sctx(topic))
    assert info.value.rule == "encryptPII" and "cannot unwrap this DEK" in str(info.value)
    assert "hello world" not in str(info.value) and "s3cr3t-xyz" not in str(info.value)


JSON_SCHEMA = {"type": "object", "title": "test", "properties": {
    "f1": {"type": "string", "confluent:tags": ["PII"]},
    "n": {"type": "integer"},
}}


def test_json_serializers_both_ways(server: RegistryServer, sr: SchemaRegistryClient) -> None:
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer

    topic, _ = topic_for(sr, params(f"kek-j-{next(_counter)}", **{"encrypt.dek.algorithm": "AES256_SIV"}),
                         fmt="JSON", schema=JSON_SCHEMA)
    ck_w = JSONSerializer(json.dumps(JSON_SCHEMA), sr, conf={"auto.register.schemas": False, "use.latest.version": True},
                          rule_conf=CONF, rule_registry=ck_rules())
    ck_r = JSONDeserializer(None, schema_registry_client=sr, rule_conf=CONF, rule_registry=ck_rules())
    record = {"f1": "hello world", "n": 3}
    theirs = ck_w(dict(record), sctx(topic))
    ours = serde_writer(server, fmt="json", schema=JSON_SCHEMA)(dict(record), sctx(topic))
    assert b"hello world" not in ours
    assert json.loads(ours[5:]) == json.loads(theirs[5:])  # deterministic: the same ciphertext
    assert ck_r(ours, sctx(topic)) == record
    assert serde_reader(server, fmt="json")(theirs, sctx(topic)) == record


PROTO = """syntax = "proto3";
package enctest;
import "confluent/meta.proto";
message Author {
  string name = 1 [(confluent.field_meta).tags = "PII"];
  int32 id = 2;
  bytes picture = 3 [(confluent.field_meta).tags = "PII"];
}
"""


@pytest.fixture(scope="module")
def author(tmp_path_factory: Any) -> Iterator[Any]:
    """The Author message compiled by protoc (package enctest: no clash with other tests' test.Author)."""
    import importlib
    import os
    import sys

    import grpc_tools
    from confluent_kafka.schema_registry import confluent as ckp_confluent
    from confluent_kafka.schema_registry.confluent import meta_pb2
    from grpc_tools import protoc

    src, out = tmp_path_factory.mktemp("enc_proto"), tmp_path_factory.mktemp("enc_pb2")
    (src / "enctest_author.proto").write_text(PROTO)
    (src / "confluent").mkdir()
    (src / "confluent" / "meta.proto").write_text(_meta_proto())
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    assert protoc.main(["protoc", f"-I{src}", f"-I{well_known}", f"--python_out={out}", "enctest_author.proto"]) == 0
    aliases = {"confluent": ckp_confluent, "confluent.meta_pb2": meta_pb2}
    added = [name for name in aliases if name not in sys.modules]
    sys.modules.update({name: aliases[name] for name in added})
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("enctest_author_pb2").Author
    finally:
        sys.path.remove(str(out))
        for name in added:
            sys.modules.pop(name, None)


def _meta_proto() -> str:
    """confluent/meta.proto as protoc needs it (CKP ships only the compiled module)."""
    return """syntax = "proto3";
package confluent;
import "google/protobuf/descriptor.proto";
option go_package = "github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/confluent";
message Meta {
  string doc = 1;
  map<string, string> params = 2;
  repeated string tags = 3;
}
extend google.protobuf.FileOptions { Meta file_meta = 1088; }
extend google.protobuf.MessageOptions { Meta message_meta = 1088; }
extend google.protobuf.FieldOptions { Meta field_meta = 1088; }
extend google.protobuf.EnumOptions { Meta enum_meta = 1088; }
extend google.protobuf.EnumValueOptions { Meta enum_value_meta = 1088; }
"""


def proto_sides(server: RegistryServer, sr: SchemaRegistryClient, author: Any, topic: str,
                rules: dict[str, Any]) -> tuple[int, Any, Any, Any, Any]:
    """Register Author with ``rules`` under the topic's value subject: (schema id, CKP's
    serializer and deserializer, serde's serializer and deserializer)."""
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer, _schema_to_str

    text = _schema_to_str(author.DESCRIPTOR.file)
    schema_id = sr.register_schema(f"{topic}-value", Schema(text, "PROTOBUF", [], None, RuleSet.from_dict(rules)))
    conf = {"auto.register.schemas": False, "use.latest.version": True, "use.deprecated.format": False}
    return (
        schema_id,
        ProtobufSerializer(author, sr, conf, rule_conf=CONF, rule_registry=ck_rules()),
        ProtobufDeserializer(author, {"use.deprecated.format": False}, schema_registry_client=sr, rule_conf=CONF,
                             rule_registry=ck_rules()),
        serde.serializer("protobuf", None, server.url, auto_register=False, use_latest_version=True, message=author,
                         rule_conf=CONF),
        serde.deserializer("protobuf", registry=server.url, message=author, rule_conf=CONF),
    )


def test_protobuf_serializers_both_ways(server: RegistryServer, sr: SchemaRegistryClient, author: Any) -> None:
    p = params(f"kek-p-{next(_counter)}", **{"encrypt.dek.algorithm": "AES256_SIV"})
    topic = f"enc{next(_counter)}"
    rule = {"name": "encryptPII", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "ENCRYPT", "tags": ["PII"], "params": p}
    _, ck_w, ck_r, ours_w, ours_r = proto_sides(server, sr, author, topic, {"domainRules": [rule]})
    theirs = ck_w(author(name="Kafka", id=42, picture=b"\x01\x02"), sctx(topic))
    ours = ours_w(author(name="Kafka", id=42, picture=b"\x01\x02"), sctx(topic))
    assert b"Kafka" not in ours
    assert ours == theirs  # deterministic: the same bytes
    for data in (ours, theirs):
        for read_with in (ck_r, ours_r):
            got = read_with(data, sctx(topic))
            assert (got.name, got.id, got.picture) == ("Kafka", 42, b"\x01\x02")


NESTED = {"type": "record", "name": "Person", "namespace": "enc", "fields": [
    {"name": "nick", "type": ["null", "string"], "default": None, "confluent:tags": ["PII"]},
    {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
        {"name": "street", "type": "string", "confluent:tags": ["PII"]},
        {"name": "city", "type": "string"},
    ]}},
    {"name": "previous", "type": {"type": "array", "items": "Address"}},
    {"name": "notes", "type": {"type": "map", "values": "string"}},
]}
NESTED_RECORD = {"nick": "bob", "address": {"street": "1 Main St", "city": "Paris"},
                 "previous": [{"street": "2 Old Rd", "city": "Lyon"}], "notes": {"a": "plain"}}


@pytest.mark.parametrize("extra", [{}, {"encrypt.dek.algorithm": "AES256_SIV"}], ids=["GCM", "SIV"])
def test_nested_union_array_fields_both_ways(server: RegistryServer, sr: SchemaRegistryClient,
                                             extra: dict[str, str]) -> None:
    topic, _ = topic_for(sr, params(f"kek-n-{next(_counter)}", **extra), schema=NESTED)
    text = json.dumps(NESTED)
    ck_w = AvroSerializer(sr, text, conf={"auto.register.schemas": False, "use.latest.version": True},
                          rule_conf=CONF, rule_registry=ck_rules())
    theirs = ck_w(json.loads(json.dumps(NESTED_RECORD)), sctx(topic))
    ours = serde_writer(server, schema=NESTED)(json.loads(json.dumps(NESTED_RECORD)), sctx(topic))
    for data in (theirs, ours):
        assert b"Main St" not in data and b"Old Rd" not in data and b"bob" not in data and b"Paris" in data
        assert serde_reader(server)(data, sctx(topic)) == ck_reader(sr)(data, sctx(topic)) == NESTED_RECORD
    if extra:
        assert ours == theirs
    nulls = {**NESTED_RECORD, "nick": None}
    assert serde_reader(server)(ck_w(dict(nulls), sctx(topic)), sctx(topic))["nick"] is None


def test_referenced_record_fields_both_ways(server: RegistryServer, sr: SchemaRegistryClient) -> None:
    from confluent_kafka.schema_registry import SchemaReference

    address = {"type": "record", "name": "Address", "namespace": "encref", "fields": [
        {"name": "street", "type": "string", "confluent:tags": ["PII"]}, {"name": "city", "type": "string"}]}
    person = {"type": "record", "name": "Person", "namespace": "encref", "fields": [
        {"name": "home", "type": "encref.Address"}, {"name": "name", "type": "string", "confluent:tags": ["PII"]}]}
    n = next(_counter)
    sr.register_schema(f"addr{n}", Schema(json.dumps(address), "AVRO"))
    refs = [SchemaReference("encref.Address", f"addr{n}", 1)]
    rule = {"name": "encryptPII", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "ENCRYPT", "tags": ["PII"],
            "params": params(f"kek-ref-{n}", **{"encrypt.dek.algorithm": "AES256_SIV"})}
    topic = f"encref{n}"
    sr.register_schema(f"{topic}-value", Schema(json.dumps(person), "AVRO", refs,
                                                rule_set=RuleSet.from_dict({"domainRules": [rule]})))
    record = {"home": {"street": "1 Main St", "city": "Paris"}, "name": "Bob"}
    ck_w = AvroSerializer(sr, None, conf={"auto.register.schemas": False, "use.latest.version": True},
                          rule_conf=CONF, rule_registry=ck_rules())
    theirs = ck_w(json.loads(json.dumps(record)), sctx(topic))
    ours = serde.serializer("avro", None, server.url, auto_register=False, use_latest_version=True,
                            rule_conf=CONF)(json.loads(json.dumps(record)), sctx(topic))
    assert ours == theirs and b"Main St" not in ours and b"Bob" not in ours
    assert serde_reader(server)(theirs, sctx(topic)) == ck_reader(sr)(ours, sctx(topic)) == record


def test_protobuf_payload_encryption_both_ways(server: RegistryServer, sr: SchemaRegistryClient, author: Any) -> None:
    p = params(f"kek-pp-{next(_counter)}")
    topic = f"enc{next(_counter)}"
    rule = {"name": "encryptPayload", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "ENCRYPT_PAYLOAD", "params": p}
    schema_id, ck_w, ck_r, ours_w, ours_r = proto_sides(server, sr, author, topic, {"encodingRules": [rule]})
    theirs = ck_w(author(name="Kafka", id=42, picture=b"\x01"), sctx(topic))
    ours = ours_w(author(name="Kafka", id=42, picture=b"\x01"), sctx(topic))
    header = b"\x00" + struct.pack(">I", schema_id) + b"\x00"  # magic, id, message index [0]: in the clear
    for data in (ours, theirs):
        assert data.startswith(header) and b"Kafka" not in data
        for read_with in (ck_r, ours_r):
            got = read_with(data, sctx(topic))
            assert (got.name, got.id, got.picture) == ("Kafka", 42, b"\x01")
