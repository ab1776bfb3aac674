"""confluent-kafka-python's own serializer test cases, with serde swapped in.

Each case here is one of confluent-kafka-python's (CKP) serializer tests: the unit
tests in ``tests/schema_registry/_sync/test_{avro,json,proto}_serdes.py`` and
``test_avro.py`` / ``test_json.py``, and the serializer tests in
``tests/integration/schema_registry/_sync/`` (run here on a ``mock://`` registry rather
than a cluster). The schemas and values are theirs (each case names its origin); the
test code is ours. Every case runs the same input through CKP and through serde on one
``mock://`` registry client (a fresh one per test), with CKP's options mapped to serde's
names by :func:`serde_options`, and asserts

* the same bytes (and the same schema-id headers),
* that each side's deserializer reads the other side's bytes to the same value,
* where CKP raises, that serde raises a ``serde.SerdeError`` that is also a
  ``confluent_kafka.serialization.SerializationError``.

CKP writes first, so serde has to land on the ids CKP registered.

The cases that execute data-contract rules (CEL, CEL_FIELD, JSONata migrations) run
at the end of the file with both sides' executors; the ENCRYPT and ENCRYPT_PAYLOAD
cases are in ``tests/contracts``. Not ported:
CKP's tests of its private attributes, its to_dict/from_dict hooks as such (serde has
none; the cases that use them run with the hook applied by the test), the
``use.deprecated.format`` encoding, and the Criteo Protobuf files (a 500-line schema that
only checks the registered references, which the other reference cases check too).
"""
from __future__ import annotations

import base64
import datetime as dt
import importlib
import json
import os
import sys
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from confluent_kafka.schema_registry import (
    Metadata,
    MetadataProperties,
    Schema,
    SchemaReference,
    SchemaRegistryClient,
    header_schema_id_serializer,
    record_subject_name_strategy,
    topic_record_subject_name_strategy,
    topic_subject_name_strategy,
)
from confluent_kafka.schema_registry._sync.serde import FALLBACK_TYPE, KAFKA_CLUSTER_ID
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.common.schema_registry_client import (
    AssociationCreateOrUpdateInfo,
    AssociationCreateOrUpdateRequest,
)
from confluent_kafka.schema_registry.common.serde import SubjectNameStrategyType
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer, _schema_to_str
from confluent_kafka.schema_registry.schema_registry_client import RuleSet
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

import serde

TOPIC = "topic1"  # CKP's _TOPIC
SUBJECT = TOPIC + "-value"
NO_REGISTRY = None  # CKP's "no client": serde with no registry never opens one for these reads


@pytest.fixture(autouse=True)
def _no_registry_from_the_environment(monkeypatch):
    monkeypatch.delenv("SERDE_REGISTRY", raising=False)
# a difference that README's "Where serde still differs" does not list: an xfail until it
# is either fixed or documented, so that neither happens unnoticed
UNDOCUMENTED = "difference not in the README (reported): "


@pytest.fixture
def client():
    return SchemaRegistryClient.new_client({"url": "mock://ckp-cases"})


def ctx(topic: str = TOPIC, key: bool = False, headers: Any = None) -> SerializationContext:
    return SerializationContext(topic, MessageField.KEY if key else MessageField.VALUE, headers)


# -- CKP's options in serde's names ---------------------------------------------------------

_NAMES = {
    "auto.register.schemas": "auto_register",
    "use.latest.version": "use_latest_version",
    "use.latest.with.metadata": "use_latest_with_metadata",
    "use.schema.id": "use_schema_id",
    "normalize.schemas": "normalize",
    "schema.id.serializer": "schema_id_serializer",
    "validate": "validate",
    "validate.strict": "validate_strict",
    "validate.strict.allow.default": "validate_strict_allow_default",
}
_STRATEGIES = {
    topic_subject_name_strategy: "topic",
    record_subject_name_strategy: "record",
    topic_record_subject_name_strategy: "topic_record",
}


def serde_options(conf: dict) -> dict:
    """CKP's serializer/deserializer conf as serde keyword options."""
    out: dict[str, Any] = {}
    for key, value in conf.items():
        if key == "use.deprecated.format":
            assert value is False, "serde has no deprecated Protobuf index format"
        elif key == "subject.name.strategy":
            out["subject_name_strategy"] = _STRATEGIES[value]
        elif key == "subject.name.strategy.type":
            out["subject_name_strategy"] = SubjectNameStrategyType(value).value.lower()
        elif key == "subject.name.strategy.conf":
            for sub_key, sub_value in value.items():
                if sub_key == FALLBACK_TYPE:
                    out["subject_name_strategy_fallback_type"] = SubjectNameStrategyType(sub_value).value
                elif sub_key == KAFKA_CLUSTER_ID:
                    out["subject_name_strategy_kafka_cluster_id"] = sub_value
                else:  # pragma: no cover - a CKP option this table does not know yet
                    raise AssertionError(sub_key)
        else:
            out[_NAMES[key]] = value
    return out


def avro_pair(client, schema, conf=None, *, references=()):
    """CKP's AvroSerializer and serde's, from one CKP conf. ``schema`` is text, or a CKP
    ``Schema`` with references (as CKP's reference cases pass it)."""
    conf = dict(conf or {})
    ckp = AvroSerializer(client, schema, conf=conf)
    if isinstance(schema, Schema):
        schema, references = schema.schema_str, schema.references
    return ckp, serde.serializer("avro", schema, client, references=references, **serde_options(conf))


def json_pair(client, schema, conf=None):
    conf = dict(conf or {})
    ckp = JSONSerializer(schema, client, conf=conf)
    references = ()
    if isinstance(schema, Schema):
        schema, references = schema.schema_str, schema.references
    return ckp, serde.serializer("json", schema, client, references=references, **serde_options(conf))


def assert_same(value, ckp_ser, our_ser, ckp_de, our_de, *, expected=Any, key=False, headers=False,
                topic=TOPIC, our_value=None, same_bytes=True):
    """Write ``value`` with both serializers, compare, read each with both deserializers.

    Returns (ckp_bytes, serde_bytes). ``expected`` is what CKP's case expects to read
    back (``Any``: CKP's own read-back is the reference); ``our_value`` is serde's input
    where it differs in form (a to_dict hook applied by the test)."""
    ckp_ctx = ctx(topic, key, [] if headers else None)
    our_ctx = ctx(topic, key, [] if headers else None)
    theirs = ckp_ser(value, ckp_ctx)
    ours = our_ser(value if our_value is None else our_value, our_ctx)
    if same_bytes:
        assert ours == theirs, f"serde {ours!r} != CKP {theirs!r}"
    if headers:
        assert our_ctx.headers == ckp_ctx.headers
    reference = ckp_de(theirs, ckp_ctx)
    if expected is not Any:
        assert reference == expected
    assert our_de(theirs, ckp_ctx) == reference, "serde reads CKP's bytes differently"
    assert ckp_de(ours, our_ctx) == reference, "CKP reads serde's bytes differently"
    assert our_de(ours, our_ctx) == reference
    return theirs, ours


def assert_both_raise(ckp_call: Callable[[], Any], our_call: Callable[[], Any], match: str | None = None):
    """CKP raises; serde raises too, an error of its own tree that CKP code also catches."""
    with pytest.raises(Exception):
        ckp_call()
    with pytest.raises(serde.SerdeError, match=match) as caught:
        our_call()
    assert isinstance(caught.value, SerializationError), f"{type(caught.value).__mro__} is no SerializationError"
    return caught.value


def avro_same(client, schema, value, conf=None, *, de_conf=None, **kwargs):
    ckp, ours = avro_pair(client, schema, conf)
    return assert_same(value, ckp, ours, AvroDeserializer(client, conf=dict(de_conf or {})),
                       serde.deserializer("avro", client, **serde_options(de_conf or {})), **kwargs)


def json_same(client, schema, value, conf=None, **kwargs):
    ckp, ours = json_pair(client, schema, conf)
    return assert_same(value, ckp, ours, JSONDeserializer(None, schema_registry_client=client),
                       serde.deserializer("json", client), **kwargs)


def schema_id(data: bytes) -> int:
    assert data[0] == 0
    return int.from_bytes(data[1:5], "big")


# ============================================================================================
# Avro
# ============================================================================================

# tests/schema_registry/_sync/test_avro_serdes.py: the record most cases use
AVRO_BASIC = {
    "type": "record", "name": "test",
    "fields": [
        {"name": "intField", "type": "int"},
        {"name": "doubleField", "type": "double"},
        {"name": "stringField", "type": "string"},
        {"name": "booleanField", "type": "boolean"},
        {"name": "bytesField", "type": "bytes"},
    ],
}
AVRO_BASIC_OBJ = {"intField": 123, "doubleField": 45.67, "stringField": "hi", "booleanField": True,
                  "bytesField": b"foobar"}

# tests/integration/schema_registry/data/*.avsc
BASIC_AVSC = """{
    "name": "basic", "type": "record", "doc": "basic schema for tests", "namespace": "python.test",
    "fields": [
        {"name": "number", "doc": "age", "type": ["long", "null"]},
        {"name": "name", "doc": "a name", "type": ["string"]}
    ]
}"""
UNION_AVSC = """[
    {"name": "RecordOne", "type": "record", "fields": [{"name": "field_one", "type": "string"}]},
    {"name": "RecordTwo", "type": "record", "fields": [{"name": "field_two", "type": "int"}]}
]"""
LOGICAL_DATE_AVSC = """{
    "name": "a_schema", "type": "record",
    "fields": [{"name": "date_field", "type": {"type": "int", "logicalType": "date"}}]
}"""


def test_avro_basic_serialization(client):
    """test_avro_basic_serialization"""
    avro_same(client, json.dumps(AVRO_BASIC), AVRO_BASIC_OBJ, {"auto.register.schemas": True}, expected=AVRO_BASIC_OBJ)


def test_avro_guid_in_header(client):
    """test_avro_guid_in_header"""
    conf = {"auto.register.schemas": True, "schema.id.serializer": header_schema_id_serializer}
    theirs, _ = avro_same(client, json.dumps(AVRO_BASIC), AVRO_BASIC_OBJ, conf, headers=True, expected=AVRO_BASIC_OBJ)
    assert theirs[:1] != b"\x00"  # the payload alone


def test_avro_serialize_use_schema_id(client):
    """test_avro_serialize_use_schema_id, and test_avro.py's use.schema.id case (id 47
    there, from a stub registry; the id CKP's mock gives here)"""
    schema = dict(AVRO_BASIC, name="ref")
    registered = client.register_schema(SUBJECT, Schema(json.dumps(schema), "AVRO"))
    conf = {"auto.register.schemas": False, "use.schema.id": registered}
    theirs, _ = avro_same(client, None, AVRO_BASIC_OBJ, conf, expected=AVRO_BASIC_OBJ)
    assert schema_id(theirs) == registered


def test_avro_serialize_bytes(client):
    """test_avro_serialize_bytes: a top-level bytes value is framed raw"""
    theirs, _ = avro_same(client, json.dumps("bytes"), b"\x02\x03\x04", {"auto.register.schemas": True},
                          expected=b"\x02\x03\x04")
    assert theirs == b"\x00\x00\x00\x00\x01\x02\x03\x04"


def test_avro_serialize_nested(client):
    """test_avro_serialize_nested"""
    schema = {"type": "record", "name": "test",
              "fields": [{"name": "nested", "type": dict(AVRO_BASIC, name="nested")}]}
    obj = {"nested": AVRO_BASIC_OBJ}
    avro_same(client, json.dumps(schema), obj, {"auto.register.schemas": True}, expected=obj)


@pytest.fixture(params=["rust", "celpy"])
def cel_engine(request, monkeypatch):
    """serde's two CEL engines (common-expression-language, cel-python), each checked
    against CKP's."""
    monkeypatch.setenv("SERDE_CEL_ENGINE", request.param)
    return request.param


LATEST = {"auto.register.schemas": False, "use.latest.version": True}


def test_avro_serialize_references(client):
    """test_avro_serialize_references"""
    client.register_schema("ref", Schema(json.dumps(dict(AVRO_BASIC, name="ref"))))
    schema = {"type": "record", "name": "test", "fields": [{"name": "refField", "type": "ref"}]}
    client.register_schema(SUBJECT, Schema(json.dumps(schema), "AVRO", [SchemaReference("ref", "ref", 1)]))
    obj = {"refField": AVRO_BASIC_OBJ}
    avro_same(client, None, obj, LATEST, expected=obj)


def test_avro_serialize_references_with_namespace(client):
    """test_avro_serialize_references_with_namespace"""
    ref = {"type": "record", "name": "ReferencedRecord", "namespace": "example.references",
           "fields": [{"name": "id", "type": "string"}]}
    client.register_schema("test-ReferencedRecord", Schema(json.dumps(ref)))
    schema = {"type": "record", "name": "ReferencingRecord", "namespace": "example.references",
              "fields": [{"name": "payload", "type": "ReferencedRecord"}]}
    client.register_schema(SUBJECT, Schema(json.dumps(schema), "AVRO",
                                           [SchemaReference("ReferencedRecord", "test-ReferencedRecord", 1)]))
    obj = {"payload": {"id": "123"}}
    avro_same(client, None, obj, LATEST, expected=obj)


def test_avro_serialize_union(client):
    """test_avro_serialize_union: a top-level ["null", record] union"""
    schema = ["null", {
        "type": "record", "name": "A", "namespace": "test",
        "fields": [
            {"name": "First", "type": {"type": "record", "name": "B",
                                       "fields": [{"name": "stringField", "type": "string"}]}},
            {"name": "Second", "type": "B"},
        ],
    }]
    client.register_schema(SUBJECT, Schema(json.dumps(schema), "AVRO"))
    obj = {"First": {"stringField": "hi"}, "Second": {"stringField": "hi"}}
    avro_same(client, None, obj, LATEST, expected=obj)


def test_avro_serialize_union_with_record_references(client):
    """test_avro_serialize_union_with_record_references"""
    ref = {"type": "record", "namespace": "test", "name": "B", "fields": [{"name": "stringField", "type": "string"}]}
    client.register_schema("ref", Schema(json.dumps(ref)))
    schema = ["null", {"type": "record", "name": "A", "namespace": "test",
                       "fields": [{"name": "First", "type": "B"}, {"name": "Second", "type": "B"}]}]
    client.register_schema(SUBJECT, Schema(json.dumps(schema), "AVRO", [SchemaReference("test.B", "ref", 1)]))
    obj = {"First": {"stringField": "hi"}, "Second": {"stringField": "hi"}}
    avro_same(client, None, obj, LATEST, expected=obj)


def test_avro_serialize_union_with_references(client):
    """test_avro_serialize_union_with_references: a top-level union of two referenced records"""
    client.register_schema("ref", Schema(json.dumps(dict(AVRO_BASIC, name="ref"))))
    client.register_schema("ref2", Schema(json.dumps(
        {"type": "record", "name": "ref2", "fields": [{"name": "otherField", "type": "string"}]})))
    refs = [SchemaReference("ref", "ref", 1), SchemaReference("ref2", "ref2", 1)]
    client.register_schema(SUBJECT, Schema(json.dumps(["ref", "ref2"]), "AVRO", refs))
    avro_same(client, None, AVRO_BASIC_OBJ, LATEST, expected=AVRO_BASIC_OBJ)
    # the other branch too (CKP's case writes only the first)
    avro_same(client, None, {"otherField": "x"}, LATEST, expected={"otherField": "x"})


def test_avro_diamond_dependency_references(client):
    """test_avro_diamond_dependency_references: two references sharing a third"""
    ns = "com.example.diamond"
    address = {"type": "record", "name": "Address", "namespace": ns, "fields": [{"name": "street", "type": "string"}]}
    order = {"type": "record", "name": "OrderDetails", "namespace": ns,
             "fields": [{"name": "shipping_address", "type": f"{ns}.Address"}]}
    invoice = {"type": "record", "name": "InvoiceDetails", "namespace": ns,
               "fields": [{"name": "billing_address", "type": f"{ns}.Address"}]}
    root = {"type": "record", "name": "OrderEvent", "namespace": ns,
            "fields": [{"name": "order", "type": f"{ns}.OrderDetails"},
                       {"name": "invoice", "type": f"{ns}.InvoiceDetails"}]}
    address_ref = [SchemaReference(f"{ns}.Address", "diamond-Address", 1)]
    client.register_schema("diamond-Address", Schema(json.dumps(address)))
    client.register_schema("diamond-OrderDetails", Schema(json.dumps(order), "AVRO", address_ref))
    client.register_schema("diamond-InvoiceDetails", Schema(json.dumps(invoice), "AVRO", address_ref))
    client.register_schema(SUBJECT, Schema(json.dumps(root), "AVRO", [
        SchemaReference(f"{ns}.OrderDetails", "diamond-OrderDetails", 1),
        SchemaReference(f"{ns}.InvoiceDetails", "diamond-InvoiceDetails", 1)]))
    obj = {"order": {"shipping_address": {"street": "123 Main St"}},
           "invoice": {"billing_address": {"street": "456 Elm St"}}}
    avro_same(client, None, obj, LATEST, expected=obj)


def test_avro_schema_evolution(client):
    """test_avro_schema_evolution: written with v1, read with the latest (v2)"""
    v1 = {"name": "SchemaEvolution", "type": "record", "fields": [{"name": "fieldToDelete", "type": "string"}]}
    v2 = {"name": "SchemaEvolution", "type": "record",
          "fields": [{"name": "newOptionalField", "type": ["string", "null"], "default": "optional"}]}
    client.register_schema(SUBJECT, Schema(json.dumps(v1)))
    ckp, ours = avro_pair(client, None, LATEST)
    theirs, mine = ckp({"fieldToDelete": "bye"}, ctx()), ours({"fieldToDelete": "bye"}, ctx())
    assert mine == theirs
    client.register_schema(SUBJECT, Schema(json.dumps(v2)))
    client.clear_latest_caches()
    expected = {"newOptionalField": "optional"}
    for data in (theirs, mine):
        assert AvroDeserializer(client, conf={"use.latest.version": True})(data, ctx()) == expected
        assert serde.deserializer("avro", client, use_latest_version=True)(data, ctx()) == expected


def test_avro_logical_type_uuid(client):
    """test_avro_cel_condition_logical_type's schema and value, without its CEL rule"""
    schema = dict(AVRO_BASIC, fields=[dict(f) for f in AVRO_BASIC["fields"]])
    schema["fields"][2]["type"] = {"type": "string", "logicalType": "uuid"}
    client.register_schema(SUBJECT, Schema(json.dumps(schema), "AVRO"))
    obj = dict(AVRO_BASIC_OBJ, stringField=uuid.UUID("550e8400-e29b-41d4-a716-446655440000"))
    avro_same(client, None, obj, LATEST, expected=obj)


def test_avro_logical_type_date(client):
    """tests/integration/schema_registry/data/logical_date.avsc (registered by CKP's
    test_api_register_logical_schema), with a value written through it"""
    obj = {"date_field": dt.date(2023, 12, 31)}
    avro_same(client, LOGICAL_DATE_AVSC, obj, expected=obj)


# tests/integration/schema_registry/_sync/test_avro_serializers.py: test_avro_record_serialization
# and test_delivery_report_serialization (the same schemas, other values)
INTEGRATION_VALUES = [
    ("basic_schema.avsc", BASIC_AVSC, {"name": "abc"}),
    ("primitive_string.avsc", '{"type": "string"}', "Jämtland"),
    ("primitive_bool.avsc", '{"type": "boolean"}', True),
    ("primitive_float.avsc", '{"type": "float"}', 32768.2342),
    ("primitive_double.avsc", '{"type": "double"}', 68.032768),
    ("primitive_float.avsc", '{"type": "float"}', 768.2340),
    ("primitive_double.avsc", '{"type": "double"}', 6.868),
]


@pytest.mark.parametrize("avsc,schema,value", INTEGRATION_VALUES,
                         ids=[f"{name}-{value!r}" for name, _, value in INTEGRATION_VALUES])
def test_avro_record_serialization(client, avsc, schema, value):
    """test_avro_record_serialization / test_delivery_report_serialization"""
    theirs, _ = avro_same(client, schema, value)
    back = AvroDeserializer(client)(theirs, ctx())
    if isinstance(value, float):
        assert back == pytest.approx(value)
    elif isinstance(value, dict):
        assert all(back[k] == v for k, v in value.items())
    else:
        assert back == value


# tests/integration/schema_registry/_sync/test_avro_serializers.py (and test_avro_serdes.py's
# test_avro_reference): the AwardedUser schemas and their references
USER = """{"namespace": "confluent.io.examples.serialization.avro", "name": "User", "type": "record",
 "fields": [{"name": "name", "type": "string"}, {"name": "favorite_number", "type": "int"},
            {"name": "favorite_color", "type": "string"}]}"""
AWARD_PROPERTIES = """{"namespace": "confluent.io.examples.serialization.avro", "name": "AwardProperties",
 "type": "record", "fields": [{"name": "year", "type": "int"}, {"name": "points", "type": "int"}]}"""
AWARD = """{"namespace": "confluent.io.examples.serialization.avro", "name": "Award", "type": "record",
 "fields": [{"name": "name", "type": "string"}, {"name": "properties", "type": "AwardProperties"}]}"""
AWARDED_USER = """{"namespace": "confluent.io.examples.serialization.avro", "name": "AwardedUser",
 "type": "record", "fields": [{"name": "award", "type": "Award"}, {"name": "user", "type": "User"}]}"""
NS = "confluent.io.examples.serialization.avro"


def _register_awarded_user(client) -> Schema:
    client.register_schema("user", Schema(USER, "AVRO"))
    client.register_schema("award_properties", Schema(AWARD_PROPERTIES, "AVRO"))
    client.register_schema("award", Schema(AWARD, "AVRO", [SchemaReference(f"{NS}.AwardProperties", "award_properties", 1)]))
    return Schema(AWARDED_USER, "AVRO", [SchemaReference(f"{NS}.User", "user", 1), SchemaReference(f"{NS}.Award", "award", 1)])


class _User:
    """CKP's User class: their cases write it through a to_dict hook."""

    def __init__(self, name, favorite_number, favorite_color):
        self.name, self.favorite_number, self.favorite_color = name, favorite_number, favorite_color

    def __eq__(self, other):
        return vars(self) == vars(other)


@pytest.mark.parametrize("reader", ["with_schema", "deserializer_none"])
def test_avro_reference(client, reader):
    """test_avro_reference / test_avro_reference_deserializer_none: the serializer is given
    the schema with its references; the deserializer too, or nothing"""
    schema = _register_awarded_user(client)
    obj = {"award": {"name": "Best In Show", "properties": {"year": 2023, "points": 10}},
           "user": {"name": "Bowie", "favorite_number": 47, "favorite_color": "purple"}}
    ckp, ours = avro_pair(client, schema)
    if reader == "with_schema":
        ckp_de = AvroDeserializer(client, schema)
        our_de = serde.deserializer("avro", client, reader_schema=schema.schema_str, reader_references=schema.references)
    else:
        ckp_de, our_de = AvroDeserializer(client), serde.deserializer("avro", client)
    assert_same(obj, ckp, ours, ckp_de, our_de, expected=obj)


def test_avro_record_serialization_custom(client):
    """test_avro_record_serialization_custom: CKP's to_dict/from_dict hooks; serde takes and
    gives the dicts, so the test applies the hooks on its side"""
    user = _User("Bowie", 47, "purple")
    ckp = AvroSerializer(client, USER, lambda u, _: vars(u))
    ours = serde.serializer("avro", USER, client)
    ckp_de = AvroDeserializer(client, USER, lambda d, _: _User(**d))
    our_de = serde.deserializer("avro", client, reader_schema=USER)
    theirs, mine = ckp(user, ctx()), ours(vars(user), ctx())
    assert mine == theirs
    assert ckp_de(mine, ctx()) == user
    assert _User(**our_de(theirs, ctx())) == user


# -- validate.strict (test_avro_serdes.py) ---------------------------------------------------

STRICT_CASES = [
    # (CKP case, conf, schema fields, record, CKP accepts it)
    ("test_avro_serialize_strict_extra_fields_rejected", "validate.strict",
     [{"name": "name", "type": "string"}, {"name": "age", "type": "int"}],
     {"name": "Alice", "age": 30, "extra_field": "should_be_rejected"}, False),
    ("test_avro_serialize_strict_missing_field_with_default", "validate.strict",
     [{"name": "name", "type": "string"}, {"name": "age", "type": "int", "default": 0}],
     {"name": "Charlie"}, False),
    ("test_avro_serialize_strict_allow_default_missing_field_with_default", "validate.strict.allow.default",
     [{"name": "name", "type": "string"}, {"name": "age", "type": "int", "default": 0},
      {"name": "city", "type": "string", "default": "Unknown"}],
     {"name": "Diana"}, True),
    ("test_avro_serialize_strict_allow_default_extra_fields_rejected", "validate.strict.allow.default",
     [{"name": "name", "type": "string"}, {"name": "age", "type": "int", "default": 0}],
     {"name": "Frank", "age": 40, "extra_field": "should_be_rejected"}, False),
    ("test_avro_serialize_strict_allow_default_union_with_default", "validate.strict.allow.default",
     [{"name": "name", "type": "string"}, {"name": "email", "type": ["null", "string"], "default": None}],
     {"name": "Grace"}, True),
    ("test_avro_serialize_strict_nested_record", "validate.strict",
     [{"name": "name", "type": "string"},
      {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
          {"name": "street", "type": "string"}, {"name": "city", "type": "string"}]}}],
     {"name": "Henry", "address": {"street": "123 Main St", "city": "Boston", "extra_nested": "x"}}, False),
    ("test_avro_serialize_deserialize_strict", "validate.strict",
     [{"name": "name", "type": "string"}, {"name": "age", "type": "int"}, {"name": "score", "type": "double"}],
     {"name": "Jack", "age": 28, "score": 95.5}, True),
]


@pytest.mark.parametrize("case,option,fields,record,accepted", STRICT_CASES, ids=[c[0] for c in STRICT_CASES])
def test_avro_strict(client, case, option, fields, record, accepted):
    schema = json.dumps({"type": "record", "name": "StrictTest", "fields": fields})
    conf = {"auto.register.schemas": True, option: True}
    if accepted:
        avro_same(client, schema, record, conf)
    else:
        ckp, ours = avro_pair(client, schema, conf)
        assert_both_raise(lambda: ckp(record, ctx()), lambda: ours(record, ctx()))


# -- test_avro.py: subject name strategies, union schemas, options --------------------------


@pytest.mark.parametrize("strategy,schema,subject", [
    (record_subject_name_strategy, BASIC_AVSC, "python.test.basic"),
    (record_subject_name_strategy, '"int"', "int"),
    (topic_record_subject_name_strategy, BASIC_AVSC, "test_subj-python.test.basic"),
    (topic_record_subject_name_strategy, '"int"', "test_subj-int"),
    (None, BASIC_AVSC, "test_subj-value"),
], ids=["record", "record-primitive", "topic_record", "topic_record-primitive", "default"])
def test_avro_subject_name_strategy(client, strategy, schema, subject):
    """test_avro_serializer_{record,topic_record}_subject_name_strategy[_primitive] and
    test_avro_serializer_subject_name_strategy_default"""
    conf = {"subject.name.strategy": strategy} if strategy else {}
    value = 7 if schema == '"int"' else {"number": 1, "name": "n"}
    theirs, _ = avro_same(client, schema, value, conf, topic="test_subj")
    assert client.get_subjects() == [subject]
    assert schema_id(theirs) == client.get_latest_version(subject).schema_id


def test_avro_serializer_config_auto_register_schemas_false(client):
    """test_avro_serializer_config_auto_register_schemas_false: looked up, never registered"""
    ckp, ours = avro_pair(client, '"string"', {"auto.register.schemas": False})
    key = ctx("test-auto-register", key=True)
    assert_both_raise(lambda: ckp("test", key), lambda: ours("test", key))
    assert client.get_subjects() == []
    AvroSerializer(client, '"string"')("test", key)  # registered (as CKP writes it)
    assert ours("test", key) == ckp("test", key)
    assert client.get_versions("test-auto-register-key") == [1]


def test_avro_serializer_config_use_latest_version(client):
    """test_avro_serializer_config_use_latest_version: the given schema is not registered,
    the subject's latest is written with (a record here, as the value CKP's case writes)"""
    latest = {"type": "record", "name": "Person", "fields": [{"name": "name", "type": "string"},
                                                            {"name": "age", "type": "int"}]}
    client.register_schema("test-use-latest-version-key", Schema(json.dumps(latest), "AVRO"))
    ckp, ours = avro_pair(client, '"string"', LATEST)
    key = ctx("test-use-latest-version", key=True)
    assert ours({"name": "Bob", "age": 30}, key) == ckp({"name": "Bob", "age": 30}, key)
    assert client.get_versions("test-use-latest-version-key") == [1]


@pytest.mark.parametrize("value", [{"field_one": "one"}, {"field_two": 2}], ids=["RecordOne", "RecordTwo"])
def test_avro_serializer_schema_loads_union(client, value):
    """test_avro_serializer_schema_loads_union: union_schema.avsc, written through"""
    avro_same(client, UNION_AVSC, value, expected=value)


@pytest.mark.parametrize("option,value", [("auto.register.schemas", {}), ("subject.name.strategy", {})],
                         ids=["auto_register_invalid", "subject_name_strategy_invalid"])
def test_avro_serializer_config_invalid(client, option, value):
    """test_avro_serializer_config_auto_register_schemas_invalid and
    test_avro_serializer_config_subject_name_strategy_invalid: refused when built"""
    with pytest.raises(ValueError):
        AvroSerializer(client, '"string"', conf={option: value})
    name = _NAMES.get(option, "subject_name_strategy")
    with pytest.raises(serde.ConfigError):
        serde.serializer("avro", '"string"', client, **{name: value})


def test_avro_deserializer_invalid_schema_type(client):
    """test_avro_deserializer_invalid_schema_type"""
    with pytest.raises(TypeError):
        AvroDeserializer(client, 1)
    with pytest.raises(serde.SerdeError):
        serde.deserializer("avro", client, reader_schema=1)


def test_avro_use_latest_with_metadata(client):
    """test_avro_jsonata_fully_compatible's three versions, selected by metadata, without
    the JSONata migration rules (each version read back with its own metadata)"""
    versions = {
        "v1": ("old", "size"), "v2": ("new", "height"), "v3": ("newer", "length"),
    }
    for version, (name, field) in versions.items():
        schema = {"type": "record", "name": name, "fields": [
            {"name": "name", "type": "string"}, {"name": field, "type": "int"}, {"name": "version", "type": "int"}]}
        client.register_schema(SUBJECT, Schema(json.dumps(schema), "AVRO", [],
                                               Metadata(None, MetadataProperties({"application.version": version}), None)))
    for position, (version, (_, field)) in enumerate(versions.items(), 1):
        conf = {"auto.register.schemas": False, "use.latest.version": False,
                "use.latest.with.metadata": {"application.version": version}}
        obj = {"name": "alice", field: 123, "version": 1}
        theirs, _ = avro_same(client, None, obj, conf, de_conf={"use.latest.with.metadata": {"application.version": version}},
                              expected=obj)
        assert schema_id(theirs) == client.get_version(SUBJECT, position).schema_id


# -- associated subject name strategy (all three formats) ------------------------------------

# test_{avro,json,proto}_serdes.py: the associated-strategy cases, one table for the three
ASSOCIATED_CASES = [
    # (CKP case, key, association (namespace, subject) or None, strategy conf, subject written)
    ("with_association", False, ("-", "my-custom-subject-value"), {}, "my-custom-subject-value"),
    ("with_key_association", True, ("-", "my-key-subject"), {}, "my-key-subject"),
    ("fallback_to_topic", False, None, {}, "topic1-value"),
    ("fallback_to_record", False, None, {FALLBACK_TYPE: SubjectNameStrategyType.RECORD}, "{record}"),
    ("fallback_to_topic_record", False, None, {FALLBACK_TYPE: SubjectNameStrategyType.TOPIC_RECORD}, "topic1-{record}"),
    ("fallback_none_raises", False, None, {FALLBACK_TYPE: "NONE"}, None),
    ("with_kafka_cluster_id", False, ("my-cluster-id", "cluster-specific-subject"),
     {KAFKA_CLUSTER_ID: "my-cluster-id"}, "cluster-specific-subject"),
    ("caching", False, ("-", "cached-subject"), {}, "cached-subject"),
]


def _format_case(fmt, pb):
    """(the serializer's schema, the association's schema text, the value, its record name)"""
    if fmt == "avro":
        schema = json.dumps({"type": "record", "name": "MyRecord", "fields": [{"name": "intField", "type": "int"}]})
        return schema, schema, {"intField": 100}, "MyRecord"
    if fmt == "json":
        return JSON_MY_RECORD, JSON_MY_RECORD, {"name": "Kafka", "id": 123}, "MyRecord"
    author = pb.example.Author
    return author, _schema_to_str(author.DESCRIPTOR.file), author(name="Kafka", id=42), "test.Author"


def _pair_for(fmt, client, schema, conf):
    if fmt == "avro":
        return avro_pair(client, schema, conf)
    if fmt == "json":
        return json_pair(client, schema, conf)
    return ProtobufSerializer(schema, client, conf), serde.serializer("protobuf", schema, client, **serde_options(conf))


@pytest.mark.parametrize("fmt", ["avro", "json", "protobuf"])
@pytest.mark.parametrize("case,key,association,strategy_conf,subject", ASSOCIATED_CASES,
                         ids=[c[0] for c in ASSOCIATED_CASES])
def test_associated_name_strategy(client, request, fmt, case, key, association, strategy_conf, subject):
    """test_[json_]associated_name_strategy_* in all three CKP serdes test modules"""
    pb = request.getfixturevalue("pb") if fmt == "protobuf" else None
    schema, schema_text, value, record = _format_case(fmt, pb)
    if association is not None:
        namespace, associated = association
        client.create_association(AssociationCreateOrUpdateRequest(
            resource_name=TOPIC, resource_namespace=namespace, resource_id=f"{fmt}-{case}", resource_type="topic",
            associations=[AssociationCreateOrUpdateInfo(
                subject=associated, association_type="key" if key else "value", lifecycle="STRONG",
                schema=Schema(schema_str=schema_text))]))
    conf = {"auto.register.schemas": True, "subject.name.strategy.type": SubjectNameStrategyType.ASSOCIATED}
    if strategy_conf:
        conf["subject.name.strategy.conf"] = strategy_conf
    ckp, ours = _pair_for(fmt, client, schema, conf)
    where = ctx(key=key)
    if subject is None:
        error = assert_both_raise(lambda: ckp(value, where), lambda: ours(value, where))
        assert "associat" in str(error)
        return
    theirs, mine = ckp(value, where), ours(value, where)
    subject = subject.format(record=record)
    if fmt == "protobuf":
        # the subject and the payload, not the id: see test_protobuf_same_bytes_on_one_registry
        assert [s for s in client.get_subjects() if s != subject] == []
        assert mine[5:] == theirs[5:]
        ckp_de, our_de = ProtobufDeserializer(schema, {}), serde.deserializer("protobuf", client, message=schema)
    else:
        assert mine == theirs
        assert client.get_subjects() == [subject]
        ckp_de = AvroDeserializer(client) if fmt == "avro" else JSONDeserializer(None, schema_registry_client=client)
        our_de = serde.deserializer(fmt, client)
    assert ckp_de(mine, where) == our_de(theirs, where) == value
    if case == "caching":
        # the association goes; both keep writing to the subject they found
        client.delete_associations(resource_id=f"{fmt}-{case}", cascade_lifecycle=True)
        again = ckp(value, where)
        assert ours(value, where)[5:] == again[5:] and client.get_subjects() == [subject]


# ============================================================================================
# JSON Schema
# ============================================================================================

# tests/schema_registry/_sync/test_json_serdes.py
JSON_BASIC = {
    "type": "object",
    "properties": {
        "intField": {"type": "integer"},
        "doubleField": {"type": "number"},
        "stringField": {"type": "string", "confluent:tags": ["PII"]},
        "booleanField": {"type": "boolean"},
        "bytesField": {"type": "string", "contentEncoding": "base64", "confluent:tags": ["PII"]},
    },
}
JSON_BASIC_OBJ = {"intField": 123, "doubleField": 45.67, "stringField": "hi", "booleanField": True,
                  "bytesField": base64.b64encode(b"foobar").decode("utf-8")}
JSON_MY_RECORD = json.dumps({"type": "object", "title": "MyRecord",
                             "properties": {"name": {"type": "string"}, "id": {"type": "integer"}}})

# tests/integration/schema_registry/data/*.json
PRODUCT = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#", "$id": "http://example.com/product.schema.json",
    "title": "Product", "description": "A product from Acme's catalog", "type": "object",
    "properties": {
        "productId": {"description": "The unique identifier for a product", "type": "integer"},
        "productName": {"description": "Name of the product", "type": "string"},
        "price": {"description": "The price of the product", "type": "number", "exclusiveMinimum": 0},
        "tags": {"description": "Tags for the product", "type": "array", "items": {"type": "string"},
                 "minItems": 1, "uniqueItems": True},
    },
    "required": ["productId", "productName", "price"],
})
CONTRACTOR = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#", "title": "Contractor",
    "description": "A contractor from Very Good Building Company", "type": "object",
    "properties": {
        "contractorId": {"description": "The unique identifier for a contractor", "type": "integer"},
        "contractorName": {"description": "Name of the contractor", "type": "string"},
        "contractRate": {"description": "The hourly rate in bottlecaps", "type": "number", "exclusiveMinimum": 0},
        "trades": {"description": "Services rendered by this contractor", "type": "array",
                   "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
    },
    "required": ["contractorId", "contractorName", "contractRate"],
})
CUSTOMER = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#", "$id": "http://example.com/customer.schema.json",
    "title": "Customer", "description": "Customer data", "type": "object",
    "properties": {"name": {"description": "Customer name", "type": "string"},
                   "id": {"description": "Customer id", "type": "integer"},
                   "email": {"description": "Customer email", "type": "string"}},
    "required": ["name", "id"],
})
ORDER_DETAILS = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#", "$id": "http://example.com/order_details.schema.json",
    "title": "Order Details", "description": "Order Details", "type": "object",
    "properties": {"id": {"description": "Order Id", "type": "integer"},
                   "customer": {"description": "Customer", "$ref": "http://example.com/customer.schema.json"},
                   "payment_id": {"description": "Payment Id", "type": "string"}},
    "required": ["id", "customer"],
})
ORDER = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#", "$id": "http://example.com/referencedproduct.schema.json",
    "title": "Order", "description": "Order", "type": "object",
    "properties": {
        "order_details": {"description": "Order Details", "$ref": "http://example.com/order_details.schema.json"},
        "order_date": {"description": "Order Date", "type": "string", "format": "date-time"},
        "product": {"description": "Product", "$ref": "http://example.com/product.schema.json"},
    },
    "required": ["order_details", "product"],
})
PRODUCT_OBJ = {"productId": 1, "productName": "An ice sculpture", "price": 12.50, "tags": ["cold", "ice"],
               "dimensions": {"length": 7.0, "width": 12.0, "height": 9.5},
               "warehouseLocation": {"latitude": -78.75, "longitude": 20.4}}


def test_json_basic_serialization(client):
    """test_json_basic_serialization"""
    json_same(client, json.dumps(JSON_BASIC), JSON_BASIC_OBJ, {"auto.register.schemas": True, "validate": True},
              expected=JSON_BASIC_OBJ)


def test_json_basic_failing_validation(client):
    """test_json_basic_failing_validation"""
    ckp, ours = json_pair(client, json.dumps(JSON_BASIC), {"auto.register.schemas": True, "validate": True})
    bad = dict(JSON_BASIC_OBJ, intField="123")
    error = assert_both_raise(lambda: ckp(bad, ctx()), lambda: ours(bad, ctx()))
    assert "intField" in str(error)


def test_json_guid_in_header(client):
    """test_json_guid_in_header"""
    conf = {"auto.register.schemas": True, "schema.id.serializer": header_schema_id_serializer}
    json_same(client, json.dumps(JSON_BASIC), JSON_BASIC_OBJ, conf, headers=True, expected=JSON_BASIC_OBJ)


def test_json_basic_deserialization_no_client(client):
    """test_json_basic_deserialization_no_client: read with the schema given, no registry"""
    ckp, ours = json_pair(client, json.dumps(JSON_BASIC), {"auto.register.schemas": True})
    assert_same(JSON_BASIC_OBJ, ckp, ours, JSONDeserializer(json.dumps(JSON_BASIC)),
                serde.deserializer("json", NO_REGISTRY, reader_schema=json.dumps(JSON_BASIC)), expected=JSON_BASIC_OBJ)


def test_json_serialize_nested(client):
    """test_json_serialize_nested (the value's "nested" is no property of the schema's)"""
    schema = {"type": "object", "properties": {"otherField": {
        "type": "object", "properties": {k: {"type": v["type"]} for k, v in JSON_BASIC["properties"].items()}}}}
    obj = {"nested": JSON_BASIC_OBJ}
    json_same(client, json.dumps(schema), obj, {"auto.register.schemas": True}, expected=obj)


def test_json_serialize_references(client):
    """test_json_serialize_references"""
    client.register_schema("ref", Schema(json.dumps(JSON_BASIC), "JSON"))
    schema = {"type": "object", "properties": {"otherField": {"$ref": "ref"}}}
    client.register_schema(SUBJECT, Schema(json.dumps(schema), "JSON", [SchemaReference("ref", "ref", 1)]))
    obj = {"otherField": JSON_BASIC_OBJ}
    json_same(client, None, obj, LATEST, expected=obj)


def test_json_reference_fails_validation_through_the_reference(client):
    """test_json_serialize_references' schema, with a value the referenced schema refuses"""
    client.register_schema("ref", Schema(json.dumps(JSON_BASIC), "JSON"))
    schema = {"type": "object", "properties": {"otherField": {"$ref": "ref"}}}
    client.register_schema(SUBJECT, Schema(json.dumps(schema), "JSON", [SchemaReference("ref", "ref", 1)]))
    ckp, ours = json_pair(client, None, LATEST)
    bad = {"otherField": dict(JSON_BASIC_OBJ, intField="123")}
    assert_both_raise(lambda: ckp(bad, ctx()), lambda: ours(bad, ctx()))


# the schemas of test_json_oneof_with_refs_nested_refs, test_json_anyof_with_refs,
# test_json_allof_with_refs and test_json_deeply_nested_refs, without their ENCRYPT rule
JSON_REF_CASES = [
    ("oneof_with_refs_nested_refs", {
        "type": "object",
        "properties": {"transactionType": {"type": "string"},
                       "data": {"oneOf": [{"$ref": "#/$defs/Account"}, {"$ref": "#/$defs/Payment"}]}},
        "required": ["transactionType", "data"],
        "$defs": {
            "Account": {"type": "object", "properties": {
                "accountId": {"type": "string", "confluent:tags": ["PII"]}, "partyType": {"type": "string"},
                "paymentMethod": {"$ref": "#/$defs/PaymentMethod"}, "party": {"$ref": "#/$defs/PartyInfo"}},
                "required": ["accountId"]},
            "Payment": {"type": "object", "properties": {
                "paymentId": {"type": "string", "confluent:tags": ["PII"]}, "amount": {"type": "number"}},
                "required": ["paymentId", "amount"]},
            "PaymentMethod": {"type": "object", "properties": {
                "type": {"type": "string"}, "details": {"type": "string", "confluent:tags": ["PII"]}}},
            "PartyInfo": {"type": "object", "properties": {"name": {"type": "string"}, "address": {"type": "string"}}},
        },
    }, {"transactionType": "account_update",
        "data": {"accountId": "ACC123", "partyType": "Payer",
                 "paymentMethod": {"type": "card", "details": "1234-5678-9012-3456"},
                 "party": {"name": "John Doe", "address": "123 Main St"}}}),
    ("anyof_with_refs", {
        "type": "object",
        "properties": {"value": {"anyOf": [{"$ref": "#/$defs/StringValue"}, {"$ref": "#/$defs/NumberValue"}]}},
        "$defs": {"StringValue": {"type": "object", "properties": {"strValue": {"type": "string", "confluent:tags": ["PII"]}}},
                  "NumberValue": {"type": "object", "properties": {"numValue": {"type": "number"}}}},
    }, {"value": {"strValue": "sensitive-data"}}),
    ("allof_with_refs", {
        "type": "object",
        "properties": {"entity": {"allOf": [{"$ref": "#/$defs/BaseEntity"}, {"$ref": "#/$defs/Timestamped"}]}},
        "$defs": {"BaseEntity": {"type": "object", "properties": {"id": {"type": "string", "confluent:tags": ["PII"]}}},
                  "Timestamped": {"type": "object", "properties": {"createdAt": {"type": "integer"}}}},
    }, {"entity": {"id": "entity-123", "createdAt": 1234567890}}),
    ("deeply_nested_refs", {
        "type": "object",
        "properties": {"data": {"oneOf": [{"$ref": "#/$defs/Level1"}]}},
        "$defs": {"Level1": {"type": "object", "properties": {"level2": {"$ref": "#/$defs/Level2"}}},
                  "Level2": {"type": "object", "properties": {"level3": {"$ref": "#/$defs/Level3"}}},
                  "Level3": {"type": "object", "properties": {"secretData": {"type": "string", "confluent:tags": ["PII"]}}}},
    }, {"data": {"level2": {"level3": {"secretData": "deep-secret"}}}}),
]


@pytest.mark.parametrize("case,schema,obj", JSON_REF_CASES, ids=[c[0] for c in JSON_REF_CASES])
def test_json_local_refs(client, case, schema, obj):
    client.register_schema(SUBJECT, Schema(json.dumps(schema), "JSON"))
    json_same(client, json.dumps(schema), obj, LATEST, expected=obj)


def test_json_oneof_with_refs_refuses_what_matches_no_branch(client):
    """test_json_oneof_with_refs_nested_refs' schema: a Payment without its amount"""
    schema = JSON_REF_CASES[0][1]
    ckp, ours = json_pair(client, json.dumps(schema))
    bad = {"transactionType": "pay", "data": {"paymentId": "P1"}}
    assert_both_raise(lambda: ckp(bad, ctx()), lambda: ours(bad, ctx()))


# tests/integration/schema_registry/_sync/test_json_serializers.py


def test_json_record_serialization(client):
    """test_json_record_serialization: product.json, read with the schema given"""
    ckp, ours = json_pair(client, PRODUCT)
    assert_same(PRODUCT_OBJ, ckp, ours, JSONDeserializer(PRODUCT), serde.deserializer("json", NO_REGISTRY, reader_schema=PRODUCT),
                expected=PRODUCT_OBJ)


def test_json_record_serialization_incompatible(client):
    """test_json_record_serialization_incompatible: a contractor against product.json"""
    ckp, ours = json_pair(client, PRODUCT)
    record = {"contractorId": 1, "contractorName": "David Davidson", "contractRate": 1250, "trades": ["mason"]}
    assert_both_raise(lambda: ckp(record, ctx()), lambda: ours(record, ctx()), match="productId")


def test_json_record_deserialization_mismatch(client):
    """test_json_record_deserialization_mismatch: written as a contractor, read as a product"""
    record = {"contractorId": 2, "contractorName": "Magnus Edenhill", "contractRate": 30, "trades": ["pickling"]}
    ckp, ours = json_pair(client, CONTRACTOR)
    theirs, mine = ckp(record, ctx()), ours(record, ctx())
    assert mine == theirs
    assert_both_raise(lambda: JSONDeserializer(PRODUCT)(theirs, ctx()),
                      lambda: serde.deserializer("json", NO_REGISTRY, reader_schema=PRODUCT)(theirs, ctx()),
                      match="productId")


def _register_json_references(client) -> Schema:
    client.register_schema("product", Schema(PRODUCT, "JSON"))
    client.register_schema("customer", Schema(CUSTOMER, "JSON"))
    client.register_schema("order_details", Schema(ORDER_DETAILS, "JSON", [
        SchemaReference("http://example.com/customer.schema.json", "customer", 1)]))
    return Schema(ORDER, "JSON", [
        SchemaReference("http://example.com/order_details.schema.json", "order_details", 1),
        SchemaReference("http://example.com/product.schema.json", "product", 1)])


def test_json_reference(client):
    """test_json_reference / test_json_reference_custom: the schema with its references, in
    the serializer and the deserializer"""
    schema = _register_json_references(client)
    order = {"order_details": {"id": 1, "customer": {"name": "John Doe", "id": 1}}, "product": PRODUCT_OBJ}
    ckp, ours = json_pair(client, schema)
    assert_same(order, ckp, ours, JSONDeserializer(schema, schema_registry_client=client),
                serde.deserializer("json", client, reader_schema=schema.schema_str, reader_references=schema.references),
                expected=order)
    bad = {"order_details": {"id": 1, "customer": {"name": "John Doe"}}, "product": PRODUCT_OBJ}
    assert_both_raise(lambda: ckp(bad, ctx()), lambda: ours(bad, ctx()))


def test_json_deserializer_referenced_schema_no_schema_registry_client(monkeypatch, tmp_path):
    """test_json.py: a schema with references and no registry to resolve them"""
    monkeypatch.chdir(tmp_path)  # the default embedded registry, empty: the references are nowhere
    refs = [SchemaReference("http://example.com/customer.schema.json", "customer", 1)]
    with pytest.raises(ValueError):
        JSONDeserializer(Schema(ORDER_DETAILS, "JSON", refs), schema_registry_client=None)
    with pytest.raises(serde.SerdeError):
        serde.deserializer("json", NO_REGISTRY, reader_schema=ORDER_DETAILS, reader_references=refs)


# ============================================================================================
# Protobuf
# ============================================================================================

# tests/schema_registry/data/proto/*.proto (the unit cases) and
# tests/integration/schema_registry/data/proto/*.proto (the integration cases; there they
# import each other by their path in CKP's repository, here by their bare names)
PROTO_FILES = {
    "cycle.proto": """syntax = "proto3";
package test;
option go_package="../test";
message LinkedList {
  int32 value = 1;
  LinkedList next = 10;
}
""",
    "test.proto": """syntax = "proto3";
package test;
option go_package="../test";
import "google/protobuf/descriptor.proto";
message TestMessage {
    string test_string = 1;
    bool test_bool = 2;
    bytes test_bytes = 3;
    double test_double = 4;
    float test_float = 5;
    fixed32 test_fixed32 = 6;
    fixed64 test_fixed64 = 7;
    int32 test_int32 = 8;
    int64 test_int64 = 9;
    sfixed32 test_sfixed32 = 10;
    sfixed64 test_sfixed64 = 11;
    sint32 test_sint32 = 12;
    sint64 test_sint64 = 13;
    uint32 test_uint32 = 14;
    uint64 test_uint64 = 15;
}
""",
    "dep.proto": """syntax = "proto3";
package test;
option go_package="../test";
import "test.proto";
message DependencyMessage {
    bool is_active = 1;
    TestMessage test_message = 2;
}
""",
    "example.proto": """syntax = "proto3";
package test;
option go_package="../test";
import "confluent/meta.proto";
message Author {
  string name = 1 [
    (confluent.field_meta).tags = "PII"
  ];
  int32 id = 2;
  bytes picture = 3 [
    (confluent.field_meta).tags = "PII"
  ];
  repeated string works = 4;
  oneof pii_oneof {
    Pizza oneof_message = 5;
    string oneof_string = 6 [(.confluent.field_meta).tags = "PII"];
  }
}
message Pizza {
  string size = 1;
  repeated string toppings = 2;
}
""",
    "nested.proto": """syntax = "proto3";
package test;
option go_package="../test";
import "google/protobuf/timestamp.proto";
message UserId {
    oneof user_id {
        string kafka_user_id = 1;
        int32 other_user_id = 2;
        MessageId another_id = 3;
    }
}
message MessageId {
    string id = 1;
}
enum Status {
    ACTIVE = 0;
    INACTIVE = 1;
}
message ComplexType {
    oneof some_val {
        string one_id = 1;
        int32 other_id = 2;
    }
    bool is_active = 3;
}
message NestedMessage {
    UserId user_id = 1;
    bool is_active = 2;
    repeated string experiments_active = 3;
    google.protobuf.Timestamp updated_at = 4;
    Status status = 5;
    ComplexType complex_type = 6;
    map<string, string> map_type = 7;
    InnerMessage inner = 8;
    message InnerMessage {
        string id = 1 [json_name="id"];
        repeated int32 ids = 2 [packed=true];
    }
    enum InnerEnum {
        option allow_alias = true;
        ZERO = 0;
        ALSO_ZERO = 0;
    }
    reserved 14, 15, 9 to 11;
    reserved "foo", "bar";
}
""",
    "TestProto.proto": """syntax = "proto3";
option java_package = "io.confluent.kafka.serializers.protobuf.test";
option java_outer_classname = "TestMessageProtos";
import "google/protobuf/descriptor.proto";
message TestMessage {
    string test_string = 1;
    bool test_bool = 2;
    bytes test_bytes = 3;
    double test_double = 4;
    float test_float = 5;
    fixed32 test_fixed32 = 6;
    fixed64 test_fixed64 = 7;
    int32 test_int32 = 8;
    int64 test_int64 = 9;
    sfixed32 test_sfixed32 = 10;
    sfixed64 test_sfixed64 = 11;
    sint32 test_sint32 = 12;
    sint64 test_sint64 = 13;
    uint32 test_uint32 = 14;
    uint64 test_uint64 = 15;
}
""",
    "PublicTestProto.proto": """syntax = "proto3";
import public "TestProto.proto";
package tests.integration.serialization.data;
""",
    "NestedTestProto.proto": """syntax = "proto3";
import "google/protobuf/timestamp.proto";
package tests.integration.serialization.data;
option java_package = "io.confluent.kafka.serializers.protobuf.test";
option java_outer_classname = "NestedTestProto";
option java_multiple_files = false;
message UserId {
    oneof user_id {
        string kafka_user_id = 1;
        int32 other_user_id = 2;
        MessageId another_id = 3;
    }
}
message MessageId {
    string id = 1;
}
enum Status {
    ACTIVE = 0;
    INACTIVE = 1;
}
message ComplexType {
    oneof some_val {
        string one_id = 1;
        int32 other_id = 2;
    }
    bool is_active = 3;
}
message NestedMessage {
    UserId user_id = 1;
    bool is_active = 2;
    repeated string experiments_active = 3;
    Status status = 5;
    ComplexType complex_type = 6;
    map<string, string> map_type = 7;
    InnerMessage inner = 8;
    message InnerMessage {
        string id = 1 [json_name="id"];
        repeated int32 ids = 2 [packed=true];
    }
    enum InnerEnum {
        option allow_alias = true;
        ZERO = 0;
        ALSO_ZERO = 0;
    }
    reserved 14, 15, 9 to 11;
    reserved "foo", "bar";
}
""",
    "DependencyTestProto.proto": """syntax = "proto3";
import "NestedTestProto.proto";
import "PublicTestProto.proto";
package tests.integration.serialization.data;
option java_package = "io.confluent.kafka.serializers.protobuf.test";
message DependencyMessage {
    NestedMessage nested_message = 1;
    bool is_active = 2;
    TestMessage test_messsage = 3;
}
""",
    # Confluent's confluent/meta.proto (the field_meta option example.proto uses), for protoc;
    # at run time the generated code gets CKP's own meta_pb2, which the default pool has already
    "confluent/meta.proto": """syntax = "proto3";
package confluent;
import "google/protobuf/descriptor.proto";
option go_package = "../confluent";
message Meta {
  string doc = 1;
  map<string, string> params = 2;
  repeated string tags = 3;
  repeated Rule rules = 4;
}
message Rule {
  string name = 1;
  string doc = 2;
  string expr = 3;
  string sql = 4;
}
extend google.protobuf.FileOptions { Meta file_meta = 1088; }
extend google.protobuf.MessageOptions { Meta message_meta = 1088; }
extend google.protobuf.FieldOptions { Meta field_meta = 1088; }
extend google.protobuf.EnumOptions { Meta enum_meta = 1088; }
extend google.protobuf.EnumValueOptions { Meta enum_value_meta = 1088; }
""",
}
_PB_MODULES = {"cycle": "cycle_pb2", "test": "test_pb2", "dep": "dep_pb2", "example": "example_pb2",
               "nested": "nested_pb2", "TestProto": "TestProto_pb2", "PublicTestProto": "PublicTestProto_pb2",
               "NestedTestProto": "NestedTestProto_pb2", "DependencyTestProto": "DependencyTestProto_pb2"}


@dataclass
class _Generated:
    cycle: Any
    test: Any
    dep: Any
    example: Any
    nested: Any
    TestProto: Any
    PublicTestProto: Any
    NestedTestProto: Any
    DependencyTestProto: Any


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    """CKP's .proto files compiled by protoc into generated classes."""
    import grpc_tools
    from confluent_kafka.schema_registry import confluent as ckp_confluent
    from confluent_kafka.schema_registry.confluent import meta_pb2
    from grpc_tools import protoc

    src, out = tmp_path_factory.mktemp("ckp_proto"), tmp_path_factory.mktemp("ckp_pb2")
    for name, text in PROTO_FILES.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    compiled = [name for name in PROTO_FILES if not name.startswith("confluent/")]
    assert protoc.main(["protoc", f"-I{src}", f"-I{well_known}", f"--python_out={out}", *compiled]) == 0
    # example_pb2 imports confluent.meta_pb2: CKP's module, already in the default pool
    aliases = {"confluent": ckp_confluent, "confluent.meta_pb2": meta_pb2}
    added = [name for name in aliases if name not in sys.modules]
    sys.modules.update({name: aliases[name] for name in added})
    sys.path.insert(0, str(out))
    try:
        yield _Generated(**{field: importlib.import_module(module) for field, module in _PB_MODULES.items()})
    finally:
        sys.path.remove(str(out))
        for name in added:
            sys.modules.pop(name, None)


@dataclass
class ProtoCase:
    name: str  # the CKP case
    build: Callable[[Any], Any]  # the generated modules -> the message to write
    as_dict: dict | None = None  # the same message as a dict, serde's own input form


def _author(pb):
    return pb.example.Author(name="Kafka", id=123, picture=b"foobar", works=["The Castle", "TheTrial"],
                             oneof_string="oneof")


def _test_message(pb):
    return pb.test.TestMessage(test_string="hi", test_bool=True, test_bytes=b"foobar", test_double=1.23,
                               test_float=3.45, test_fixed32=67, test_fixed64=89, test_int32=100, test_int64=200,
                               test_sfixed32=300, test_sfixed64=400, test_sint32=500, test_sint64=600,
                               test_uint32=700, test_uint64=800)


def _integration_nested(pb):
    m = pb.NestedTestProto
    return m.NestedMessage(user_id=m.UserId(kafka_user_id="oneof_str"), is_active=True,
                           experiments_active=["x", "y", "1"], status=m.INACTIVE,
                           complex_type=m.ComplexType(one_id="oneof_str", is_active=False))


PROTO_CASES = [
    ProtoCase("test_proto_basic_serialization", _author,
              {"name": "Kafka", "id": 123, "picture": b"foobar", "works": ["The Castle", "TheTrial"],
               "oneof_string": "oneof"}),
    ProtoCase("test_proto_second_message", lambda pb: pb.example.Pizza(size="large", toppings=["cheese", "pepperoni"]),
              {"size": "large", "toppings": ["cheese", "pepperoni"]}),
    ProtoCase("test_proto_nested_message", lambda pb: pb.nested.NestedMessage.InnerMessage(id="inner"), {"id": "inner"}),
    ProtoCase("test_proto_reference", lambda pb: pb.dep.DependencyMessage(is_active=True, test_message=_test_message(pb))),
    ProtoCase("test_proto_cycle", lambda pb: pb.cycle.LinkedList(value=200, next=pb.cycle.LinkedList(value=100)),
              {"value": 200, "next": {"value": 100}}),
    # nested.proto's NestedMessage with its google.protobuf.Timestamp, map and enum set
    # (CKP's cases write only its inner message; the well-known type is this case's addition)
    ProtoCase("nested.proto NestedMessage with a Timestamp", lambda pb: pb.nested.NestedMessage(
        user_id=pb.nested.UserId(other_user_id=7), updated_at={"seconds": 1700000000, "nanos": 5000},
        status=pb.nested.INACTIVE, map_type={"a": "b"}, inner=pb.nested.NestedMessage.InnerMessage(id="i", ids=[1, 2])),
        {"user_id": {"other_user_id": 7},
         "updated_at": dt.datetime(2023, 11, 14, 22, 13, 20, 5, tzinfo=dt.timezone.utc),
         "status": "INACTIVE", "map_type": {"a": "b"}, "inner": {"id": "i", "ids": [1, 2]}}),
    # tests/integration/schema_registry/_sync/test_proto_serializers.py: test_protobuf_message_serialization
    ProtoCase("test_protobuf_message_serialization[TestProto]", lambda pb: pb.TestProto.TestMessage(
        test_string="abc", test_bool=True, test_bytes=b"look at these bytes", test_double=1.0, test_float=12.0)),
    ProtoCase("test_protobuf_message_serialization[PublicTestProto]", lambda pb: pb.PublicTestProto.TestMessage(
        test_string="abc", test_bool=True, test_bytes=b"look at these bytes", test_double=1.0, test_float=12.0)),
    ProtoCase("test_protobuf_message_serialization[NestedTestProto]", _integration_nested,
              {"user_id": {"kafka_user_id": "oneof_str"}, "is_active": True, "experiments_active": ["x", "y", "1"],
               "status": "INACTIVE", "complex_type": {"one_id": "oneof_str", "is_active": False}}),
    # test_protobuf_reference_registration[DependencyMessage]
    ProtoCase("test_protobuf_reference_registration[DependencyMessage]", lambda pb: pb.DependencyTestProto.DependencyMessage(
        nested_message=_integration_nested(pb), is_active=True,
        test_messsage=pb.TestProto.TestMessage(test_string="abc", test_int64=-5))),
]
PROTO_IDS = [case.name for case in PROTO_CASES]
CKP_PROTO_CONF = {"auto.register.schemas": True, "use.deprecated.format": False}


@pytest.mark.parametrize("case", PROTO_CASES, ids=PROTO_IDS)
def test_protobuf_case(client, pb, case):
    """Each Protobuf case: the same frame after the schema id (magic byte, message indexes,
    payload), the same subjects and references registered, and each side reads the other's
    bytes to an equal message: CKP with its registry-less deserializer (as its
    test_proto_basic_deserialization_no_client), serde with the registry and with the class.
    The schema ids themselves: test_protobuf_same_bytes_on_one_registry."""
    message = case.build(pb)
    cls = type(message)
    theirs = ProtobufSerializer(cls, client, CKP_PROTO_CONF)(message, ctx())
    ckp_subjects = {s: [r.name for r in client.get_latest_version(s).schema.references] for s in client.get_subjects()}
    ours = serde.serializer("protobuf", cls, client, **serde_options(CKP_PROTO_CONF))(message, ctx())
    assert ours[0] == theirs[0] == 0 and ours[5:] == theirs[5:]
    # the same subjects, with the same references (imports, less the well-known ones)
    our_subjects = {s: [r.name for r in client.get_latest_version(s).schema.references] for s in client.get_subjects()}
    assert our_subjects == ckp_subjects
    ckp_de = ProtobufDeserializer(cls, {"use.deprecated.format": False})
    assert ckp_de(ours, ctx()) == ckp_de(theirs, ctx()) == message
    assert serde.deserializer("protobuf", client, message=cls)(theirs, ctx()) == message
    as_dicts = serde.deserializer("protobuf", client)
    assert as_dicts(theirs, ctx()) == as_dicts(ours, ctx())
    if case.as_dict is not None:  # serde's own input form writes the same payload
        from_dict = serde.serializer("protobuf", cls, client)(case.as_dict, ctx())
        assert from_dict[5:] == theirs[5:]


_PROTO_ID_DIFFERENCE = (
    "documented in README (Where serde still differs): on one registry serde's schema id is not CKP's: CKP registers a generated class's schema as "
    "its base64 FileDescriptorProto, serde as .proto text, so a registry that does not canonicalise (CKP's "
    "mock://) files them as two versions; and CKP's ProtobufDeserializer with that registry cannot parse "
    "the .proto text serde registered (it asks for fmt=serialized, which the mock ignores)")


@pytest.mark.xfail(strict=True, reason=_PROTO_ID_DIFFERENCE)
@pytest.mark.parametrize("case", PROTO_CASES[:1], ids=PROTO_IDS[:1])
def test_protobuf_same_bytes_on_one_registry(client, pb, case):
    message = case.build(pb)
    cls = type(message)
    theirs = ProtobufSerializer(cls, client, CKP_PROTO_CONF)(message, ctx())
    ours = serde.serializer("protobuf", cls, client)(message, ctx())
    assert ours == theirs


@pytest.mark.xfail(strict=True, reason=_PROTO_ID_DIFFERENCE)
def test_protobuf_ckp_deserializer_with_registry_reads_serde(client, pb):
    """test_proto_basic_serialization's read side: ProtobufDeserializer(cls, conf, client)"""
    message = _author(pb)
    ours = serde.serializer("protobuf", type(message), client)(message, ctx())
    assert ProtobufDeserializer(type(message), {"use.deprecated.format": False}, client)(ours, ctx()) == message


def test_proto_guid_in_header(client, pb):
    """test_proto_guid_in_header: the GUID and the message indexes in the header"""
    message = _author(pb)
    cls = type(message)
    conf = {"auto.register.schemas": True, "schema.id.serializer": header_schema_id_serializer}
    ckp_headers: list = []
    our_headers: list = []
    theirs = ProtobufSerializer(cls, client, conf)(message, ctx(headers=ckp_headers))
    ours = serde.serializer("protobuf", cls, client, **serde_options(conf))(message, ctx(headers=our_headers))
    assert ours == theirs == message.SerializeToString()
    [(name, value)], [(their_name, their_value)] = our_headers, ckp_headers
    assert name == their_name == "__value_schema_id" and value[0] == their_value[0] == 1
    assert value[17:] == their_value[17:] == b"\x00"  # message indexes [0]
    assert ProtobufDeserializer(cls, {})(ours, ctx(headers=our_headers)) == message
    assert serde.deserializer("protobuf", client, message=cls)(theirs, ctx(headers=ckp_headers)) == message
    assert serde.deserializer("protobuf", client)(theirs, ctx(headers=ckp_headers))["name"] == "Kafka"


def test_proto_use_schema_id(client, pb):
    """test_proto_use_schema_id_avoids_redundant_lookup_schema: the id CKP registered"""
    message = _author(pb)
    cls = type(message)
    ProtobufSerializer(cls, client, CKP_PROTO_CONF)(message, ctx())
    registered = client.get_latest_version(SUBJECT).schema_id
    conf = {"auto.register.schemas": False, "use.schema.id": registered, "use.deprecated.format": False}
    theirs = ProtobufSerializer(cls, client, conf)(message, ctx())
    ours = serde.serializer("protobuf", cls, client, **serde_options(conf))(message, ctx())
    assert ours == theirs and schema_id(ours) == registered
    assert serde.deserializer("protobuf", client, message=cls)(theirs, ctx()) == message
    assert ProtobufDeserializer(cls, {}, client)(ours, ctx()) == message


def test_proto_basic_deserialization_no_client(client, pb):
    """test_proto_basic_deserialization_no_client: read as the class, no registry"""
    message = _author(pb)
    theirs = ProtobufSerializer(type(message), client, CKP_PROTO_CONF)(message, ctx())
    value = serde.deserializer("protobuf", NO_REGISTRY, message=type(message))(theirs, ctx())
    assert type(value) is type(message) and value == message


def test_protobuf_serializer_type_mismatch(client, pb):
    """test_protobuf_serializer_type_mismatch: a message of another class"""
    cls, other = pb.TestProto.TestMessage, pb.NestedTestProto.NestedMessage
    ckp = ProtobufSerializer(cls, client, CKP_PROTO_CONF)
    ours = serde.serializer("protobuf", cls, client)
    assert_both_raise(lambda: ckp(other(), ctx(key=True)), lambda: ours(other(), ctx(key=True)))


def test_protobuf_deserializer_type_mismatch(client, pb):
    """test_protobuf_deserializer_type_mismatch: read as a class the bytes do not fit (CKP's
    case reads a TestMessage as Criteo's HDFSOptions; here as a NestedMessage, whose field
    1 is a message where TestMessage's is a string, "abc", which is no valid message)"""
    data = ProtobufSerializer(pb.PublicTestProto.TestMessage, client, CKP_PROTO_CONF)(
        pb.PublicTestProto.TestMessage(test_string="abc", test_bool=True, test_bytes=b"def"), ctx(key=True))
    assert_both_raise(lambda: ProtobufDeserializer(pb.NestedTestProto.NestedMessage, {})(data, ctx(key=True)),
                      lambda: serde.deserializer("protobuf", NO_REGISTRY, message=pb.NestedTestProto.NestedMessage)(data, ctx(key=True)))


# ============================================================================================
# Data-contract rules: CKP's rule cases, run by both executors on one registry
# ============================================================================================
# CKP's CEL, CEL_FIELD and JSONata executors (registered in a RuleRegistry of the test's
# own) and serde's run the same rules on the same records: the same outcome (bytes, or an
# error in both, a RuleConditionError behind CKP's), and each side reads the other's bytes
# to the same value. All with use.latest.version and auto.register.schemas off, as CKP
# runs WRITE rules only then. ENCRYPT cases are in tests/contracts.

@pytest.fixture(params=["mock", "serde"])
def rules_client(request):
    """The one registry both sides use: CKP's mock:// client, or serde's own registry
    served over HTTP and reached through CKP's SchemaRegistryClient (as the issue asks)."""
    if request.param == "mock":
        yield SchemaRegistryClient.new_client({"url": "mock://ckp-rule-cases"})
        return
    from serde.registry.client import forget_registry

    server = request.getfixturevalue("serde_registry_server")
    server.reset()
    forget_registry(server.url)  # serde's caches by subject and version outlive a reset
    http_client = SchemaRegistryClient({"url": server.url})
    try:
        yield http_client
    finally:
        http_client._rest_client.session.close()


def _ckp_rules(override=None):
    from confluent_kafka.schema_registry.rule_registry import RuleOverride, RuleRegistry
    from confluent_kafka.schema_registry.rules.cel.cel_executor import CelExecutor
    from confluent_kafka.schema_registry.rules.cel.cel_field_executor import CelFieldExecutor
    from confluent_kafka.schema_registry.rules.jsonata.jsonata_executor import JsonataExecutor

    registry = RuleRegistry()
    for executor in (CelExecutor(), CelFieldExecutor(), JsonataExecutor()):
        registry.register_executor(executor)
    if override is not None:
        registry.register_override(RuleOverride(*override))
    return registry


@pytest.fixture(params=["rust", "celpy"])
def cel_engine(request, monkeypatch):
    """serde's two CEL engines (common-expression-language, cel-python), each checked
    against CKP's."""
    monkeypatch.setenv("SERDE_CEL_ENGINE", request.param)
    return request.param


LATEST = {"auto.register.schemas": False, "use.latest.version": True}
SERDE_LATEST = {"auto_register": False, "use_latest_version": True}


def _rule(name, kind, mode, rule_type, expr, tags=None, on_failure=None):
    return {"name": name, "kind": kind, "mode": mode, "type": rule_type, "expr": expr, "tags": tags or [],
            "onFailure": on_failure}


def _pair(fmt, client, pb=None, override=None):
    """(CKP serializer, CKP deserializer, serde serializer, serde deserializer) for ``fmt``."""
    rules = _ckp_rules(override)
    serde_override = {"rule_overrides": {override[0]: {"disabled": override[3]}}} if override else {}
    if fmt == "avro":
        return (AvroSerializer(client, None, conf=LATEST, rule_registry=rules),
                AvroDeserializer(client, rule_registry=rules),
                serde.serializer("avro", None, client, **SERDE_LATEST, **serde_override),
                serde.deserializer("avro", client, **serde_override))
    if fmt == "json":
        return (JSONSerializer(None, client, conf=LATEST, rule_registry=rules),
                JSONDeserializer(None, schema_registry_client=client, rule_registry=rules),
                serde.serializer("json", None, client, **SERDE_LATEST, **serde_override),
                serde.deserializer("json", client, **serde_override))
    return (ProtobufSerializer(pb.example.Author, client, conf={**LATEST, "use.deprecated.format": False},
                               rule_registry=rules),
            ProtobufDeserializer(pb.example.Author, {"use.deprecated.format": False}, schema_registry_client=client,
                                 rule_registry=rules),
            serde.serializer("protobuf", None, client, **SERDE_LATEST, message=pb.example.Author, **serde_override),
            serde.deserializer("protobuf", client, message=pb.example.Author, **serde_override))


def _same_outcome(write_ckp, write_serde):
    """Both write the same bytes, or both raise (serde's error a RuleConditionError that
    is also a SerializationError, as CKP's error is caused by its RuleConditionError)."""
    from confluent_kafka.schema_registry.serde import RuleConditionError as CkpRuleConditionError

    try:
        ckp = write_ckp()
    except SerializationError as exc:
        assert isinstance(exc.__cause__, CkpRuleConditionError), exc
        with pytest.raises(serde.RuleConditionError) as caught:
            write_serde()
        assert isinstance(caught.value, SerializationError)
        return None
    assert write_serde() == ckp
    return ckp


CEL_CASES = [
    # (CKP case, rule, the string field read back from either side's bytes, or None: both raise)
    ("test_avro_cel_condition", _rule("test-cel", "CONDITION", "WRITE", "CEL", "message.stringField == 'hi'"), "hi"),
    ("test_avro_cel_condition_fail", _rule("test-cel", "CONDITION", "WRITE", "CEL", "message.stringField != 'hi'"), None),
    ("test_avro_cel_condition_ignore_fail",
     _rule("test-cel", "CONDITION", "WRITE", "CEL", "message.stringField != 'hi'", on_failure="NONE"), "hi"),
    ("test_avro_cel_field_transform",
     _rule("test-cel", "TRANSFORM", "WRITE", "CEL_FIELD", "name == 'stringField' ; value + '-suffix'"), "hi-suffix"),
    ("test_avro_cel_field_transform (WRITEREAD)",
     _rule("test-cel", "TRANSFORM", "WRITEREAD", "CEL_FIELD", "name == 'stringField' ; value + '-suffix'"),
     "hi-suffix-suffix"),
    ("test_avro_cel_field_condition",
     _rule("test-cel", "CONDITION", "WRITE", "CEL_FIELD", "name == 'stringField' ; value == 'bye'"), None),
    ("test_avro_cel_field_condition (holds)",
     _rule("test-cel", "CONDITION", "WRITE", "CEL_FIELD", "name == 'stringField' ; value == 'hi'"), "hi"),
    ("typeName and tags",
     _rule("test-cel", "TRANSFORM", "WRITE", "CEL_FIELD", "typeName == 'STRING' && size(tags) == 0 ; value + '!'"),
     "hi!"),
    ("a bool is a CEL bool", _rule("test-cel", "CONDITION", "WRITE", "CEL", "message.booleanField == true"), "hi"),
]


@pytest.mark.parametrize("case,rule,expected", CEL_CASES, ids=[c[0] for c in CEL_CASES])
@pytest.mark.parametrize("fmt", ["avro", "json"])
def test_cel_rules_same_outcome_as_ckp(rules_client, fmt, case, rule, expected, cel_engine):
    text, value = (json.dumps(AVRO_BASIC), AVRO_BASIC_OBJ) if fmt == "avro" else (json.dumps(JSON_BASIC), JSON_BASIC_OBJ)
    if fmt == "json" and "tags" in case:
        rule = dict(rule, expr="name == 'stringField' && 'PII' in tags ; value + '!'")  # JSON_BASIC tags its strings
    rules_client.register_schema(SUBJECT, Schema(text, fmt.upper(), [], None, RuleSet.from_dict({"domainRules": [rule]})))
    ckp_ser, ckp_de, serde_ser, serde_de = _pair(fmt, rules_client)
    data = _same_outcome(lambda: ckp_ser(dict(value), ctx()), lambda: serde_ser(dict(value), ctx()))
    if expected is None:
        assert data is None
        return
    assert data is not None
    for read in (ckp_de, serde_de):
        got = read(data, ctx())
        assert got["stringField"] == expected and got["intField"] == 123


def test_cel_field_rule_disabled_by_an_override_in_both(rules_client):
    """CKP case test_avro_cel_field_transform_disable: RuleOverride(CEL_FIELD, disabled)."""
    rule = _rule("test-cel", "TRANSFORM", "WRITE", "CEL_FIELD", "name == 'stringField' ; value + '-suffix'")
    rules_client.register_schema(SUBJECT, Schema(json.dumps(AVRO_BASIC), "AVRO", [], None,
                                           RuleSet.from_dict({"domainRules": [rule]})))
    ckp_ser, ckp_de, serde_ser, serde_de = _pair("avro", rules_client, override=("CEL_FIELD", None, None, True))
    data = _same_outcome(lambda: ckp_ser(dict(AVRO_BASIC_OBJ), ctx()), lambda: serde_ser(dict(AVRO_BASIC_OBJ), ctx()))
    assert serde_de(data, ctx())["stringField"] == ckp_de(data, ctx())["stringField"] == "hi"


def test_cel_field_rule_on_nested_and_union_fields_as_ckp(rules_client, cel_engine):
    """CKP cases test_avro_cel_field_transform_complex and _complex_with_none (vector 7),
    and the nested tagged record of test_avro_cel_field_transform_complex_nested (8)."""
    schema = {"type": "record", "name": "test", "fields": [
        {"name": "arrayField", "type": {"type": "array", "items": "string"}},
        {"name": "mapField", "type": {"type": "map", "values": "string"}},
        {"name": "unionField", "type": ["null", "string"], "confluent:tags": ["PII"]},
        {"name": "emails", "type": ["null", {"type": "array", "items": {"type": "record", "name": "Email", "fields": [
            {"name": "email", "type": ["null", "string"], "confluent:tags": ["PII"]}]}}], "default": None}]}
    rule = _rule("test-cel", "TRANSFORM", "WRITE", "CEL_FIELD", "typeName == 'STRING' ; value + '-suffix'")
    rules_client.register_schema(SUBJECT, Schema(json.dumps(schema), "AVRO", [], None, RuleSet.from_dict({"domainRules": [rule]})))
    ckp_ser, ckp_de, serde_ser, serde_de = _pair("avro", rules_client)
    for record in ({"arrayField": ["hello"], "mapField": {"key": "world"}, "unionField": "bye",
                    "emails": [{"email": "john@acme.com"}]},
                   {"arrayField": ["hello"], "mapField": {"key": "world"}, "unionField": None, "emails": None}):
        data = _same_outcome(lambda: ckp_ser(json.loads(json.dumps(record)), ctx()),
                             lambda: serde_ser(json.loads(json.dumps(record)), ctx()))
        got = serde_de(data, ctx())
        assert got == ckp_de(data, ctx())
        assert got["arrayField"] == ["hello-suffix"] and got["mapField"] == {"key": "world-suffix"}
        if record["unionField"] is None:
            assert got["unionField"] is None and got["emails"] is None
        else:
            assert got["unionField"] == "bye-suffix" and got["emails"] == [{"email": "john@acme.com-suffix"}]


@pytest.mark.parametrize("combinator", ["allOf", "anyOf", "ref"])
def test_json_cel_field_rules_through_refs_and_combinators_as_ckp(rules_client, combinator, cel_engine):
    """CKP cases test_json_cel_field_transform_with_def (vector 12) and the allOf/anyOf
    pins case (13): tagged fields behind $ref and combinators get the transform."""
    if combinator == "ref":
        schema = {"type": "object", "definitions": {"Address": {"type": "object", "properties": {
            "doornumber": {"type": "integer"}, "doorpin": {"type": "string", "confluent:tags": ["PII"]}}}},
            "properties": {"name": {"type": "string", "confluent:tags": ["PII"]},
                           "address": {"$ref": "#/definitions/Address"}}}
        record = {"name": "bob", "address": {"doornumber": 123, "doorpin": "1234"}}
        expected = {"name": "bob-suffix", "address": {"doornumber": 123, "doorpin": "1234-suffix"}}
    else:
        schema = {"type": "object", "properties": {"pins": {combinator: [
            {"type": "object", "properties": {"pin": {"type": "string", "confluent:tags": ["PII"]}}},
            {"type": "object", "properties": {"npin": {"type": "string", "confluent:tags": ["PII"]}}}]}}}
        record = {"pins": {"pin": "P1", "npin": "NP1"}}
        expected = {"pins": {"pin": "P1-suffix", "npin": "NP1-suffix"}}
    rule = _rule("test-cel", "TRANSFORM", "WRITE", "CEL_FIELD", "value + '-suffix'", tags=["PII"])
    rules_client.register_schema(SUBJECT, Schema(json.dumps(schema), "JSON", [], None, RuleSet.from_dict({"domainRules": [rule]})))
    ckp_ser, ckp_de, serde_ser, serde_de = _pair("json", rules_client)
    data = _same_outcome(lambda: ckp_ser(json.loads(json.dumps(record)), ctx()),
                         lambda: serde_ser(json.loads(json.dumps(record)), ctx()))
    assert serde_de(data, ctx()) == ckp_de(data, ctx()) == expected


@pytest.mark.parametrize("rule,fails", [
    (_rule("test-cel", "CONDITION", "WRITE", "CEL", "message.name == 'Kafka'"), False),
    (_rule("test-cel", "CONDITION", "WRITE", "CEL", "message.name != 'Kafka'"), True),
    (_rule("test-cel", "TRANSFORM", "WRITE", "CEL_FIELD", "typeName == 'STRING' ; value + '-suffix'"), False),
])
def test_protobuf_cel_rules_same_outcome_as_ckp(rules_client, pb, rule, fails, cel_engine):
    """CKP cases test_proto_cel_condition and test_proto_cel_field_transform (vector 11):
    every string suffixed, repeated and oneof included."""
    text = _schema_to_str(pb.example.Author.DESCRIPTOR.file)
    rules_client.register_schema(SUBJECT, Schema(text, "PROTOBUF", [], None, RuleSet.from_dict({"domainRules": [rule]})))
    ckp_ser, ckp_de, serde_ser, serde_de = _pair("protobuf", rules_client, pb)
    data = _same_outcome(lambda: ckp_ser(_author(pb), ctx()), lambda: serde_ser(_author(pb), ctx()))
    if fails:
        assert data is None
        return
    ours, theirs = serde_de(data, ctx()), ckp_de(data, ctx())
    assert ours == theirs
    if rule["type"] == "CEL_FIELD":
        assert ours.name == "Kafka-suffix" and list(ours.works) == ["The Castle-suffix", "TheTrial-suffix"]
        assert ours.oneof_string == "oneof-suffix" and ours.id == 123


# JSONata migrations (vector 4.3): v1 size, v2 height, v3 length, each step a pair of
# UPGRADE/DOWNGRADE rules; any version's data reads as any other version
_UP = "$merge([$sift($, function($v,$k){$k != '%s'}), {'%s': $.'%s'}])"


def _versions(client, fmt):
    from confluent_kafka.schema_registry.schema_registry_client import ServerConfig

    client.set_config(SUBJECT, ServerConfig(compatibility_group="application.version"))
    fields = ("size", "height", "length")
    for number, field in enumerate(fields, start=1):
        if fmt == "avro":
            text = json.dumps({"type": "record", "name": "old", "fields": [
                {"name": "name", "type": "string"}, {"name": field, "type": "int"}, {"name": "version", "type": "int"}]})
        else:
            text = json.dumps({"type": "object", "properties": {
                "name": {"type": "string"}, field: {"type": "integer"}, "version": {"type": "integer"}}})
        rules = None
        if number > 1:
            previous = fields[number - 2]
            rules = RuleSet.from_dict({"migrationRules": [
                {"name": f"up{number}", "kind": "TRANSFORM", "mode": "UPGRADE", "type": "JSONATA",
                 "expr": _UP % (previous, field, previous)},
                {"name": f"down{number}", "kind": "TRANSFORM", "mode": "DOWNGRADE", "type": "JSONATA",
                 "expr": _UP % (field, previous, field)}]})
        client.register_schema(SUBJECT, Schema(text, fmt.upper(), [], Metadata(None, MetadataProperties(
            {"application.version": f"v{number}"}), None), rules))
    return fields


@pytest.mark.parametrize("fmt", ["avro", "json"])
def test_jsonata_migrations_both_ways_as_ckp(rules_client, fmt):
    """CKP cases test_{avro,json}_jsonata_fully_compatible: written as v1, v2 or v3, read
    as each of them, by CKP and by serde, from either side's bytes."""
    fields = _versions(rules_client, fmt)
    rules = _ckp_rules()
    ckp_ser_cls, ckp_de_cls = (AvroSerializer, AvroDeserializer) if fmt == "avro" else (JSONSerializer, JSONDeserializer)
    for write in range(1, 4):
        meta = {"application.version": f"v{write}"}
        record = {"name": "alice", fields[write - 1]: 123, "version": 1}
        conf = {"auto.register.schemas": False, "use.latest.with.metadata": meta}
        if fmt == "avro":
            ckp_ser = ckp_ser_cls(rules_client, None, conf=conf, rule_registry=rules)
        else:
            ckp_ser = ckp_ser_cls(None, rules_client, conf=conf, rule_registry=rules)
        serde_ser = serde.serializer(fmt, None, rules_client, auto_register=False, use_latest_with_metadata=meta)
        data = _same_outcome(lambda: ckp_ser(dict(record), ctx()), lambda: serde_ser(dict(record), ctx()))
        for read in range(1, 4):
            read_meta = {"application.version": f"v{read}"}
            if fmt == "avro":
                ckp_de = ckp_de_cls(rules_client, conf={"use.latest.with.metadata": read_meta}, rule_registry=rules)
            else:
                ckp_de = ckp_de_cls(None, conf={"use.latest.with.metadata": read_meta}, schema_registry_client=rules_client,
                                    rule_registry=rules)
            serde_de = serde.deserializer(fmt, rules_client, use_latest_with_metadata=read_meta)
            expected = {"name": "alice", fields[read - 1]: 123, "version": 1}
            assert serde_de(data, ctx()) == ckp_de(data, ctx()) == expected, (write, read)


def test_jsonata_migration_then_a_read_rule_as_ckp(rules_client):
    """CKP case test_avro_jsonata_with_cel: v2 also has a READ CEL_FIELD rule, so v1 data
    read as v2 is migrated, then transformed."""
    from confluent_kafka.schema_registry.schema_registry_client import ServerConfig

    rules_client.set_config(SUBJECT, ServerConfig(compatibility_group="application.version"))
    for number, field in ((1, "size"), (2, "height")):
        text = json.dumps({"type": "record", "name": "old", "fields": [
            {"name": "name", "type": "string"}, {"name": field, "type": "int"}, {"name": "version", "type": "int"}]})
        rules = None if number == 1 else RuleSet.from_dict({
            "migrationRules": [{"name": "up", "kind": "TRANSFORM", "mode": "UPGRADE", "type": "JSONATA",
                                "expr": _UP % ("size", "height", "size")}],
            "domainRules": [_rule("test-cel", "TRANSFORM", "READ", "CEL_FIELD", "name == 'name' ; value + '-suffix'")]})
        rules_client.register_schema(SUBJECT, Schema(text, "AVRO", [], Metadata(None, MetadataProperties(
            {"application.version": f"v{number}"}), None), rules))
    data = serde.serializer("avro", None, rules_client, auto_register=False,
                            use_latest_with_metadata={"application.version": "v1"})(
        {"name": "alice", "size": 123, "version": 1}, ctx())
    read_meta = {"application.version": "v2"}
    ckp = AvroDeserializer(rules_client, conf={"use.latest.with.metadata": read_meta}, rule_registry=_ckp_rules())(data, ctx())
    ours = serde.deserializer("avro", rules_client, use_latest_with_metadata=read_meta)(data, ctx())
    assert ours == ckp == {"name": "alice-suffix", "height": 123, "version": 1}
