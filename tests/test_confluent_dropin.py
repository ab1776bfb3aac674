"""serde as a drop-in for confluent-kafka's Schema Registry serializers.

confluent-kafka (CKP) and serde share one registry (serde's, served over HTTP) and
swap places behind the same options: the bytes each writes are equal, and each reads
what the other wrote to the same values. Covers the cases where a difference used to
lose data silently (top-level Avro ``bytes``), the options CKP takes, header-framed
ids, reading without a registry, and the exception types.
"""
from __future__ import annotations

import decimal
import importlib
import json
import os
import pickle
import sys
import uuid

import pytest
from confluent_kafka.schema_registry import (
    Metadata,
    RuleSet,
    Schema,
    SchemaRegistryClient,
    header_schema_id_serializer,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

import serde

ORDER = json.dumps({
    "type": "record", "name": "Order", "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
})
ORDER_V2 = json.dumps({
    "type": "record", "name": "Order", "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "currency", "type": "string", "default": "EUR"},
    ],
})

# every Avro primitive at the top level, with values CKP and serde both accept
PRIMITIVES = [
    ("boolean", True),
    ("int", -123456),
    ("long", 2**40 + 1),
    ("float", 1.5),
    ("double", -2.25e100),
    ("bytes", b"\x01\x02\x03\x04"),
    ("string", "grüße"),
    ({"type": "bytes"}, b"\x00\xff"),
    ({"type": "string"}, "x"),
]


@pytest.fixture
def url(serde_registry_url):
    return serde_registry_url


@pytest.fixture
def client(url):
    client = SchemaRegistryClient({"url": url})
    yield client
    client._rest_client.session.close()


def ctx(topic, key=False, headers=None):
    return SerializationContext(topic, MessageField.KEY if key else MessageField.VALUE, headers)


# -- top-level primitives -------------------------------------------------------------------


@pytest.mark.parametrize("key", [False, True], ids=["value", "key"])
@pytest.mark.parametrize("schema,value", PRIMITIVES, ids=[json.dumps(s) for s, _ in PRIMITIVES])
def test_top_level_primitives_same_bytes_both_ways(client, url, schema, value, key):
    text = json.dumps(schema)
    topic = f"prim-{uuid.uuid4().hex[:8]}"
    ours = serde.serializer("avro", text, url)(value, ctx(topic, key))
    theirs = AvroSerializer(client, text)(value, ctx(topic, key))
    assert ours == theirs
    # each reads the other's bytes back to the value
    assert AvroDeserializer(client)(ours, ctx(topic, key)) == value
    assert serde.deserializer("avro", url)(theirs, ctx(topic, key)) == value


def test_top_level_bytes_is_raw_after_the_header(client, url):
    """The case that corrupted silently: no Avro length prefix after the schema id."""
    data = serde.serializer("avro", '"bytes"', url)(b"\x01\x02\x03\x04", ctx("raw"))
    assert data[5:] == b"\x01\x02\x03\x04"
    assert AvroDeserializer(client)(data, ctx("raw")) == b"\x01\x02\x03\x04"
    # text goes in as its UTF-8, as in CKP
    assert serde.serializer("avro", '"bytes"', url)("hé", ctx("raw"))[5:] == "hé".encode()


def test_top_level_bytes_refuses_other_values(url):
    with pytest.raises(serde.RecordInvalid, match="expected bytes"):
        serde.serializer("avro", '"bytes"', url)(12, ctx("raw-bad"))


def test_top_level_decimal_bytes_round_trip(url):
    schema = json.dumps({"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2})
    data = serde.serializer("avro", schema, url)(decimal.Decimal("-12.34"), ctx("dec"))
    assert data[5:] == (-1234).to_bytes(2, "big", signed=True)
    assert serde.deserializer("avro", url)(data, ctx("dec")) == decimal.Decimal("-12.34")


def test_null_schema_is_a_tombstone_both_ways(client, url):
    assert serde.serializer("avro", '"null"', url)(None, ctx("n")) is None
    assert AvroSerializer(client, '"null"')(None, ctx("n")) is None
    assert serde.deserializer("avro", url)(None, ctx("n")) is None


# -- validate.strict ------------------------------------------------------------------------


@pytest.mark.parametrize("record,strict_ok,allow_default_ok", [
    ({"id": 1, "note": "x"}, True, True),
    ({"id": 1}, False, True),                      # note missing, has a default
    ({"note": "x"}, False, False),                 # id missing, no default
    ({"id": 1, "note": None, "extra": 2}, False, False),
])
def test_validate_strict_matches_confluent(client, url, record, strict_ok, allow_default_ok):
    topic = f"strict-{uuid.uuid4().hex[:8]}"
    for option, ok in (("validate_strict", strict_ok), ("validate_strict_allow_default", allow_default_ok)):
        ckp = AvroSerializer(client, ORDER, conf={option.replace("_", "."): True})
        ours = serde.serializer("avro", ORDER, url, **{option: True})
        if ok:
            assert ours(record, ctx(topic)) == ckp(record, ctx(topic))
        else:
            with pytest.raises(Exception):
                ckp(record, ctx(topic))
            with pytest.raises(serde.RecordInvalid, match=option) as caught:
                ours(record, ctx(topic))
            assert caught.value.path.startswith("$.")


def test_validate_strict_names_the_nested_field(url):
    schema = json.dumps({"type": "record", "name": "Outer", "fields": [
        {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "Item", "fields": [
            {"name": "sku", "type": "string"}]}}}]})
    ser = serde.serializer("avro", schema, url, validate_strict=True)
    with pytest.raises(serde.RecordInvalid) as caught:
        ser({"items": [{"sku": "a"}, {"sku": "b", "qty": 2}]}, ctx("nested-strict"))
    assert caught.value.path == "$.items[1].qty"


def test_validate_strict_is_avro_only(url):
    with pytest.raises(serde.ConfigError, match="Avro"):
        serde.serializer("json", '{"type": "object"}', url, validate_strict=True)


# -- schema ids in headers --------------------------------------------------------------------


def test_header_id_avro_read_by_confluent(client, url):
    # (CKP's AvroDeserializer refuses payloads of 5 bytes or fewer even in header mode)
    record = {"id": 5, "note": "header-framed"}
    headers: list = []
    data = serde.serializer("avro", ORDER, url, schema_id_serializer="header")(record, ctx("hdr", headers=headers))
    ckp_headers: list = []
    theirs = AvroSerializer(client, ORDER, conf={"schema.id.serializer": header_schema_id_serializer})(
        record, ctx("hdr", headers=ckp_headers))
    assert data == theirs == b"\x0a\x02\x1aheader-framed"  # the payload alone
    assert headers == ckp_headers
    name, value = headers[0]
    assert name == "__value_schema_id" and value[0] == 1 and len(value) == 17
    assert AvroDeserializer(client)(data, ctx("hdr", headers=headers)) == record
    assert serde.deserializer("avro", url)(data, ctx("hdr", headers=headers)) == record


def test_header_id_for_keys_and_dict_headers(client, url):
    headers: dict = {}
    ser = serde.serializer("avro", '"string"', url, schema_id_serializer=header_schema_id_serializer)
    data = ser("key-number-1", ctx("hdr-key", key=True, headers=headers))
    assert set(headers) == {"__key_schema_id"}
    assert AvroDeserializer(client)(data, ctx("hdr-key", key=True, headers=headers)) == "key-number-1"


def test_header_id_needs_headers(url):
    ser = serde.serializer("avro", ORDER, url, schema_id_serializer="header")
    with pytest.raises(serde.ConfigError, match="headers=\\[\\]"):
        ser({"id": 1}, ctx("hdr-none"))


def test_custom_schema_id_serializer_gets_confluents_schema_id(url):
    seen = []

    def write(payload, ser_ctx, schema_id):
        seen.append((schema_id.id, schema_id.guid))
        return b"X" + payload

    data = serde.serializer("avro", ORDER, url, schema_id_serializer=write)({"id": 1}, ctx("custom-id"))
    assert data == b"X\x02\x00"
    assert seen[0][0] == 1 and isinstance(seen[0][1], uuid.UUID)


def test_unknown_schema_id_serializer_is_a_config_error(url):
    with pytest.raises(serde.ConfigError, match="schema_id_serializer"):
        serde.serializer("avro", ORDER, url, schema_id_serializer="trailer")


# -- Protobuf: header ids, and reading into the generated class -------------------------------

PROTO = """syntax = "proto3";
package shop;
message Ping { string id = 1; int64 at = 2; }
message Pong { repeated string seen = 1; }
"""


@pytest.fixture(scope="module")
def ping_pb2(tmp_path_factory):
    from grpc_tools import protoc

    out = tmp_path_factory.mktemp("dropin_pb")
    (out / "dropin_ping.proto").write_text(PROTO)
    assert protoc.main(["protoc", f"-I{out}", f"--python_out={out}", "dropin_ping.proto"]) == 0
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("dropin_ping_pb2")
    finally:
        sys.path.remove(str(out))


def test_protobuf_header_ids_match_confluent(client, url, ping_pb2):
    message = ping_pb2.Pong(seen=["a", "b"])
    ours_headers: list = []
    theirs_headers: list = []
    conf = {"use.deprecated.format": False, "schema.id.serializer": header_schema_id_serializer}
    # (two topics: CKP registers the schema as a base64 descriptor, serde as .proto text)
    theirs = ProtobufSerializer(ping_pb2.Pong, client, conf)(message, ctx("pb-hdr-ckp", headers=theirs_headers))
    ours = serde.serializer("protobuf", ping_pb2.Pong, url, schema_id_serializer="header")(
        message, ctx("pb-hdr", headers=ours_headers))
    assert ours == theirs == message.SerializeToString()
    [(name, value)] = ours_headers
    [(their_name, their_value)] = theirs_headers
    assert name == their_name == "__value_schema_id"
    # magic 1, the GUID, then the message indexes ([1]: the second message), as CKP writes them
    assert value[0] == their_value[0] == 1 and value[17:] == their_value[17:] == b"\x02\x02"
    assert uuid.UUID(bytes=value[1:17]) == uuid.UUID(client.get_latest_version("pb-hdr-value").guid)
    back = ProtobufDeserializer(ping_pb2.Pong, {"use.deprecated.format": False})(ours, ctx("pb-hdr", headers=ours_headers))
    assert back == message
    assert serde.deserializer("protobuf", url)(ours, ctx("pb-hdr", headers=ours_headers)) == {"seen": ["a", "b"]}


def test_protobuf_class_deserializer_needs_no_registry(client, ping_pb2, monkeypatch, tmp_path):
    data = ProtobufSerializer(ping_pb2.Ping, client, {"use.deprecated.format": False})(
        ping_pb2.Ping(id="p1", at=42), ctx("pb-class"))
    monkeypatch.delenv("SERDE_REGISTRY", raising=False)
    monkeypatch.chdir(tmp_path)
    de = serde.deserializer("protobuf", message=ping_pb2.Ping)
    value = de(data, ctx("pb-class"))
    assert type(value) is ping_pb2.Ping and value == ping_pb2.Ping(id="p1", at=42)
    assert de.deserialize_many([data, None], ctx("pb-class")) == [value, None]
    with pytest.raises(serde.DecodeError, match="shop.Ping"):
        de(data[:6] + b"\x0a\x09ab", ctx("pb-class"))
    assert not (tmp_path / ".serde").exists()  # the default embedded registry was never opened


def test_protobuf_class_with_a_registry_returns_the_class_too(client, url, ping_pb2):
    data = serde.serializer("protobuf", ping_pb2.Ping, url)({"id": "p2", "at": 7}, ctx("pb-class-2"))
    decoded = serde.deserializer("protobuf", url, message=ping_pb2.Ping, return_schema=True)(data, ctx("pb-class-2"))
    assert type(decoded.value) is ping_pb2.Ping and decoded.value.id == "p2"
    assert decoded.schema.schema_type == "PROTOBUF"


# -- JSON with a given schema, without a registry ---------------------------------------------

JSON_ORDER = json.dumps({"type": "object", "title": "Order",
                         "properties": {"id": {"type": "integer"}}, "required": ["id"]})


def test_json_deserializer_with_a_schema_needs_no_registry(client, monkeypatch):
    data = JSONSerializer(JSON_ORDER, client)({"id": 3}, ctx("json-noreg"))
    monkeypatch.delenv("SERDE_REGISTRY", raising=False)
    de = serde.deserializer("json", reader_schema=JSON_ORDER)
    assert de(data, ctx("json-noreg")) == {"id": 3}
    assert JSONDeserializer(JSON_ORDER)(data, ctx("json-noreg")) == {"id": 3}
    bad = data[:5] + b'{"id": "three"}'
    with pytest.raises(serde.ValidationError, match="id"):
        de(bad, ctx("json-noreg"))
    with pytest.raises(SerializationError):
        JSONDeserializer(JSON_ORDER)(bad, ctx("json-noreg"))


# -- use_latest_version on the deserializer ----------------------------------------------------


def test_avro_deserializer_use_latest_version(client, url):
    written = AvroSerializer(client, ORDER)({"id": 9, "note": "n"}, ctx("latest"))
    client.register_schema("latest-value", Schema(ORDER_V2, "AVRO"))
    ours = serde.deserializer("avro", url, use_latest_version=True)(written, ctx("latest"))
    theirs = AvroDeserializer(client, conf={"use.latest.version": True})(written, ctx("latest"))
    assert ours == theirs == {"id": 9, "note": "n", "currency": "EUR"}
    # the writer's own schema without the option
    assert serde.deserializer("avro", url)(written, ctx("latest")) == {"id": 9, "note": "n"}


def test_use_latest_version_and_reader_schema_conflict(url):
    with pytest.raises(serde.ConfigError, match="reader_schema"):
        serde.deserializer("avro", url, use_latest_version=True, reader_schema=ORDER)


def test_serializer_use_latest_with_metadata(client, url):
    client.register_schema("meta-value", Schema(ORDER, "AVRO", metadata=Metadata.from_dict({"properties": {"owner": "a"}})))
    client.register_schema("meta-value", Schema(ORDER_V2, "AVRO", metadata=Metadata.from_dict({"properties": {"owner": "b"}})))
    first = client.get_version("meta-value", 1).schema_id
    ser = serde.serializer("avro", None, url, use_latest_with_metadata={"owner": "a"}, auto_register=False)
    data = ser({"id": 1}, ctx("meta"))
    assert int.from_bytes(data[1:5], "big") == first


# -- exceptions -------------------------------------------------------------------------------


def test_errors_are_also_confluents_serialization_error(url):
    ser = serde.serializer("avro", ORDER, url)
    with pytest.raises(SerializationError) as caught:
        ser({"id": "not a long"}, ctx("errs"))
    error = caught.value
    assert isinstance(error, serde.RecordInvalid) and isinstance(error, serde.SerdeError)
    assert error.path == "$.id" and type(error).__name__ == "RecordInvalid"
    # pickles as serde's own class (the chunked converter moves errors across processes)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is serde.RecordInvalid and again.path == "$.id"

    de = serde.deserializer("avro", url)
    with pytest.raises(SerializationError) as caught:
        de(b"\x07abc", ctx("errs"))
    assert isinstance(caught.value, serde.FramingError)
    with pytest.raises(SerializationError) as caught:
        ser.serialize_many([{"id": 1}, {"id": None}], ctx("errs"))
    assert isinstance(caught.value, serde.RecordInvalid) and "record 1" in str(caught.value)
    with pytest.raises(SerializationError):
        de.deserialize_many([b"\x00\x00\x00\x00\x01\x02\x00", b"\x01"], ctx("errs"))


def test_registry_errors_are_serialization_errors_too(url):
    de = serde.deserializer("avro", url)
    with pytest.raises(SerializationError) as caught:
        de(b"\x00\x00\x00\x03\xe7\x02", ctx("errs"))
    assert isinstance(caught.value, serde.SchemaNotFound)


# -- data-contract rules are never silently skipped: a rule type nobody runs stops the record ----------------------------------------

PII = json.dumps({"type": "record", "name": "Person", "fields": [
    {"name": "name", "type": "string"},
    {"name": "ssn", "type": "string", "confluent:tags": ["PII"]}]})


def _with_rule(client, subject, mode="WRITEREAD", disabled=False):
    rule = {"name": "encryptSsn", "kind": "TRANSFORM", "mode": mode, "type": "NOSUCH_ENCRYPT", "tags": ["PII"],
            "params": {"encrypt.kek.name": "k"}, "disabled": disabled}
    client.register_schema(subject, Schema(PII, "AVRO", rule_set=RuleSet.from_dict({"domainRules": [rule]})))
    return client.get_latest_version(subject).schema_id


def test_a_rule_serde_cannot_run_stops_the_serializer(client, url):
    _with_rule(client, "pii-value")
    ser = serde.serializer("avro", None, url, use_latest_version=True, auto_register=False)
    with pytest.raises(serde.RuleError) as caught:
        ser({"name": "a", "ssn": "123"}, ctx("pii"))
    message = str(caught.value)
    assert "'encryptSsn'" in message and "NOSUCH_ENCRYPT" in message and "ignore_rules=True" in message
    assert isinstance(caught.value, SerializationError)
    opted_out = serde.serializer("avro", None, url, use_latest_version=True, auto_register=False, ignore_rules=True)
    assert opted_out({"name": "a", "ssn": "123"}, ctx("pii"))[5:] == b"\x02a\x06123"


def test_a_rule_serde_cannot_run_stops_the_deserializer(client, url):
    schema_id = _with_rule(client, "pii2-value")
    data = b"\x00" + schema_id.to_bytes(4, "big") + b"\x02a\x06123"
    with pytest.raises(serde.RuleError, match="encryptSsn"):
        serde.deserializer("avro", url)(data, ctx("pii2"))
    assert serde.deserializer("avro", url, ignore_rules=True)(data, ctx("pii2")) == {"name": "a", "ssn": "123"}


def test_schema_by_id_with_rules_is_refused(client, url):
    schema_id = _with_rule(client, "pii3-value")
    with pytest.raises(serde.RuleError, match="encryptSsn"):
        serde.serializer("avro", PII, url, use_schema_id=schema_id)({"name": "a", "ssn": "1"}, ctx("pii3"))


def test_rules_not_enabled_for_clients_are_not_in_the_way(client, url):
    rule = {"name": "serverOnly", "kind": "CONDITION", "mode": "WRITE", "type": "CEL", "expr": "false"}
    for enable_at, refused in (("SERVER", False), ("GATEWAY", False), ("NONE", False), ("CLIENT", True), ("ALL", True)):
        subject = f"enable-{enable_at.lower()}"
        client.register_schema(f"{subject}-value", Schema(ORDER, "AVRO", rule_set=RuleSet.from_dict(
            {"domainRules": [rule], "enableAt": enable_at})))
        ser = serde.serializer("avro", None, url, use_latest_version=True, auto_register=False)
        if refused:
            with pytest.raises(serde.RuleConditionError, match="serverOnly"):
                ser({"id": 1}, ctx(subject))
        else:
            assert ser({"id": 1}, ctx(subject))[5:] == b"\x02\x00"


@pytest.mark.parametrize("mode,disabled,writes", [("READ", False, True), ("WRITE", True, True), ("WRITE", False, False)])
def test_rules_that_do_not_apply_to_writing_are_not_in_the_way(client, url, mode, disabled, writes):
    subject = f"pii-{mode}-{disabled}".lower()
    _with_rule(client, f"{subject}-value", mode=mode, disabled=disabled)
    ser = serde.serializer("avro", None, url, use_latest_version=True, auto_register=False)
    if writes:
        assert ser({"name": "a", "ssn": "1"}, ctx(subject))
    else:
        with pytest.raises(serde.RuleError, match="encryptSsn"):
            ser({"name": "a", "ssn": "1"}, ctx(subject))


# -- subject name strategies --------------------------------------------------------------------


def test_record_and_topic_record_strategies_match_confluent(client, url):
    from confluent_kafka.schema_registry import record_subject_name_strategy, topic_record_subject_name_strategy

    for ours, theirs, subject in (("record", record_subject_name_strategy, "shop.Order"),
                                  ("topic_record", topic_record_subject_name_strategy, "strat-shop.Order")):
        a = serde.serializer("avro", ORDER, url, subject_name_strategy=ours)({"id": 1}, ctx("strat"))
        b = AvroSerializer(client, ORDER, conf={"subject.name.strategy": theirs})({"id": 1}, ctx("strat"))
        assert a == b
        assert client.get_latest_version(subject).schema_id == int.from_bytes(a[1:5], "big")


def test_default_strategy_without_associations_falls_back_to_topic(client, url):
    data = serde.serializer("avro", ORDER, url)({"id": 1}, ctx("plain"))
    assert client.get_latest_version("plain-value").schema_id == int.from_bytes(data[1:5], "big")


def test_fallback_none_without_association_is_an_error(url):
    ser = serde.serializer("avro", ORDER, url, subject_name_strategy_fallback_type="NONE")
    with pytest.raises(serde.SerdeError, match="associated"):
        ser({"id": 1}, ctx("lonely"))


def test_default_strategy_writes_to_the_associated_subject_as_confluent(client, url):
    """CKP's default (ASSOCIATED) and serde's pick the same subject, so the same id."""
    from confluent_kafka.schema_registry import AssociationCreateOrUpdateInfo, AssociationCreateOrUpdateRequest

    client.register_schema("shared-orders", Schema(ORDER, "AVRO"))
    client.create_association(AssociationCreateOrUpdateRequest(
        resource_name="assoc", resource_namespace="cluster-1", resource_id="id-assoc", resource_type="topic",
        associations=[AssociationCreateOrUpdateInfo(subject="shared-orders", association_type="value", lifecycle="WEAK")]))
    ours = serde.serializer("avro", ORDER, url, subject_name_strategy_kafka_cluster_id="cluster-1")({"id": 4}, ctx("assoc"))
    theirs = AvroSerializer(client, ORDER, conf={"subject.name.strategy.conf": {
        "subject.name.strategy.kafka.cluster.id": "cluster-1"}})({"id": 4}, ctx("assoc"))
    assert ours == theirs
    assert int.from_bytes(ours[1:5], "big") == client.get_latest_version("shared-orders").schema_id
    assert "assoc-value" not in client.get_subjects()
    # keys are not associated: both fall back to the topic strategy
    key = serde.serializer("avro", '"string"', url, subject_name_strategy_kafka_cluster_id="cluster-1")("k", ctx("assoc", key=True))
    assert int.from_bytes(key[1:5], "big") == client.get_latest_version("assoc-key").schema_id
    # and the deserializer's use_latest_version finds the subject the same way
    de = serde.deserializer("avro", url, use_latest_version=True, subject_name_strategy_kafka_cluster_id="cluster-1")
    assert de(ours, ctx("assoc")) == {"id": 4, "note": None}


# -- found by an adversarial review --------------------------------------------------------------


@pytest.mark.parametrize("logical", ["local-timestamp-millis", "local-timestamp-micros"])
def test_local_timestamps_match_confluent(client, url, logical):
    import datetime as dt

    schema = json.dumps({"type": "record", "name": "R", "fields": [
        {"name": "a", "type": {"type": "long", "logicalType": logical}},
        {"name": "b", "type": ["null", {"type": "long", "logicalType": logical}], "default": None}]})
    topic = f"lt-{logical}"
    for value in ({"a": dt.datetime(2020, 1, 1, 12, 0, 0, 123456), "b": None},
                  {"a": dt.datetime(1960, 5, 1, 0, 0, 0, 999), "b": dt.datetime(2020, 1, 1)}):
        ours = serde.serializer("avro", schema, url)(value, ctx(topic))
        theirs = AvroSerializer(client, schema)(value, ctx(topic))
        assert ours == theirs
        read = serde.deserializer("avro", url)(theirs, ctx(topic))
        assert read == AvroDeserializer(client)(theirs, ctx(topic))
        assert isinstance(read["a"], dt.datetime) and read["a"].tzinfo is None


@pytest.mark.parametrize("headers,reason", [
    ([("__value_schema_id",)], "a (name, value) pair"),
    ([1, 2], "a (name, value) pair"),
    ([("__value_schema_id", 5)], "holds a int, not bytes"),
    (7, "headers must be"),
])
def test_malformed_headers_are_framing_errors(url, headers, reason):
    import re

    de = serde.deserializer("avro", url)
    with pytest.raises(serde.FramingError, match=re.escape(reason)) as caught:
        de(b"\x00\x00\x00\x00\x01\x02", ctx("hdrs", headers=headers))
    assert isinstance(caught.value, SerializationError)


@pytest.mark.parametrize("bad_ctx", ["orders", 1, object()])
def test_a_context_without_a_topic_is_a_config_error(url, bad_ctx):
    ser = serde.serializer("avro", ORDER, url)
    with pytest.raises(serde.ConfigError, match="SerializationContext with a topic") as caught:
        ser({"id": 1}, bad_ctx)
    assert isinstance(caught.value, SerializationError)


def test_json_without_a_registry_reads_memoryviews(monkeypatch):
    monkeypatch.delenv("SERDE_REGISTRY", raising=False)
    de = serde.deserializer("json", reader_schema=JSON_ORDER)
    assert de(memoryview(b"\x00\x00\x00\x00\x01" + b'{"id": 1}'), ctx("mv")) == {"id": 1}


def test_reading_with_a_given_schema_still_checks_the_writers_rules(client, url, ping_pb2, monkeypatch):
    """With a registry given, the JSON and Protobuf shortcuts still run the writer schema's
    rules (here one nobody can run, so the read stops) (CKP fetches the writer schema to run them)."""
    rule = {"name": "encryptSsn", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "NOSUCH_ENCRYPT", "tags": ["PII"]}
    sid = client.register_schema("pj-value", Schema(JSON_ORDER, "JSON", rule_set=RuleSet.from_dict({"domainRules": [rule]})))
    data = b"\x00" + sid.to_bytes(4, "big") + b'{"id": 1}'
    with pytest.raises(serde.RuleError, match="encryptSsn"):
        serde.deserializer("json", url, reader_schema=JSON_ORDER)(data, ctx("pj"))
    assert serde.deserializer("json", url, reader_schema=JSON_ORDER, ignore_rules=True)(data, ctx("pj")) == {"id": 1}
    pid = client.register_schema("pp-value", Schema(PROTO, "PROTOBUF", rule_set=RuleSet.from_dict({"domainRules": [rule]})))
    frame = b"\x00" + pid.to_bytes(4, "big") + b"\x00" + ping_pb2.Ping(id="x").SerializeToString()
    with pytest.raises(serde.RuleError, match="encryptSsn"):
        serde.deserializer("protobuf", url, message=ping_pb2.Ping)(frame, ctx("pp"))
    # without any registry there is nothing to ask, and the payload is read as given
    monkeypatch.delenv("SERDE_REGISTRY", raising=False)
    assert serde.deserializer("protobuf", message=ping_pb2.Ping)(frame, ctx("pp")).id == "x"


def test_a_new_server_on_a_used_port_is_not_answered_from_the_old_ones_cache(tmp_path):
    """serde shares one Registry (and its schema cache) per URL in a process; a stopped
    server drops it, so the next server on that port is asked again."""
    from serde.registry import RegistryServer

    first = RegistryServer(tmp_path / "a.db").start()
    port = int(first.url.rsplit(":", 1)[1])
    frame = serde.serializer("avro", ORDER, first.url)({"id": 1}, ctx("reuse"))
    first.stop()
    second = RegistryServer(tmp_path / "b.db", port=port).start()
    try:
        assert second.url == first.url
        serde.serializer("avro", '"string"', second.url)("s", ctx("reuse"))  # id 1 here is a string schema
        # the Order frame's id 1 is read with this server's schema, not the old Order
        assert serde.deserializer("avro", second.url)(frame, ctx("reuse")) == "\x00"
    finally:
        second.stop()
