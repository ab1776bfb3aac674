"""The JSON deserializer takes every bytes-like payload a consumer may hand over."""
from __future__ import annotations

import json

import pytest
from confluent_kafka.serialization import MessageField, SerializationContext

import serde

SCHEMA = json.dumps({"type": "object", "properties": {"a": {"type": "integer"}, "big": {"type": "integer"}}})


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_bytes_like_payloads_read_alike(tmp_path, kind):
    registry = str(tmp_path / "r.db")
    ctx = SerializationContext("t", MessageField.VALUE)
    data = serde.serializer("json", SCHEMA, registry)({"a": 1, "big": 2**70}, ctx)
    de = serde.deserializer("json", registry)
    assert de(kind(data), ctx) == {"a": 1, "big": 2**70}  # exact beyond 64 bits, whatever the container
    assert de.deserialize_many([kind(data), kind(data)], ctx) == [{"a": 1, "big": 2**70}] * 2
    with pytest.raises(serde.DecodeError, match="invalid JSON"):
        de(kind(data[:-1]), ctx)
