"""Serializers and deserializers: Confluent-framed bytes through a Schema Registry.

``_core`` holds the synchronous classes and their factories, ``_async`` the asyncio
twins, ``_strategies`` the subject name strategies. ``serde`` re-exports the public names.
"""
from ._async import AsyncDeserializer, AsyncSerializer, async_deserializer, async_serializer
from ._core import Decoded, Deserializer, Serializer, deserializer, serializer

__all__ = [
    "AsyncDeserializer",
    "AsyncSerializer",
    "Decoded",
    "Deserializer",
    "Serializer",
    "async_deserializer",
    "async_serializer",
    "deserializer",
    "serializer",
]
