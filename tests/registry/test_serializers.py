"""serde's and confluent-kafka's serializers end to end against the served and embedded registry."""
from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

import serde
from serde.registry import EmbeddedRegistry

AVSC = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "namespace": "shop",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {"name": "note", "type": ["null", "string"], "default": None},
        ],
    }
)
JSON_SCHEMA = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Order",
        "type": "object",
        "properties": {"id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["id"],
    }
)
RECORD = {"id": 7, "at": 1_700_000_000_000, "tags": ["a", "b"], "note": None}
CTX = SerializationContext("orders", MessageField.VALUE)


@pytest.fixture(params=["http", "embedded"])
def registries(request, tmp_path):
    """(confluent client, what serde takes as ``registry=``) for the same registry."""
    if request.param == "http":
        url = request.getfixturevalue("serde_registry_url")
        client = SchemaRegistryClient({"url": url})
        yield client, url
        client._rest_client.session.close()
    else:
        with EmbeddedRegistry(tmp_path / "reg.db") as reg:
            yield reg.client, reg


def test_confluent_avro_roundtrip(registries):
    client, _ = registries
    data = AvroSerializer(client, AVSC)(RECORD, CTX)
    assert data[:5] == b"\x00\x00\x00\x00\x01"
    out = AvroDeserializer(client)(data, CTX)
    assert out["id"] == 7 and out["tags"] == ["a", "b"]
    assert client.get_latest_version("orders-value").schema_id == 1


def test_confluent_json_roundtrip(registries):
    client, _ = registries
    value = {"id": 1, "tags": ["x"]}
    data = JSONSerializer(JSON_SCHEMA, client)(value, CTX)
    assert data[0] == 0
    assert JSONDeserializer(None, schema_registry_client=client)(data, CTX) == value


def test_serde_and_confluent_avro_interoperate(registries):
    client, registry = registries
    ser = serde.serializer("avro", schema=AVSC, registry=registry)
    data = ser(RECORD, CTX)
    assert data == AvroSerializer(client, AVSC)(RECORD, CTX)  # same id, same bytes
    out = AvroDeserializer(client)(data, CTX)
    assert out["id"] == 7
    back = serde.deserializer("avro", registry=registry)(AvroSerializer(client, AVSC)(RECORD, CTX), CTX)
    assert back["id"] == 7 and back["tags"] == ["a", "b"]


def test_serde_json_against_the_registry(registries):
    client, registry = registries
    value = {"id": 3, "tags": []}
    data = serde.serializer("json", schema=JSON_SCHEMA, registry=registry)(value, CTX)
    assert JSONDeserializer(None, schema_registry_client=client)(data, CTX) == value
    assert serde.deserializer("json", registry=registry)(data, CTX) == value
