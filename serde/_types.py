"""Small value types shared by formats, the registry layer and the serializers."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True, slots=True)
class SchemaReference:
    """A Confluent schema reference: ``name`` is what the schema text uses (a Protobuf
    import path, a JSON ``$ref`` URL, an Avro full type name); ``subject``/``version``
    say where the referenced schema lives in the registry."""

    name: str
    subject: str
    version: int


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """A schema as a registry knows it: what a deserializer hands back with the value
    when asked (``return_schema=True``)."""

    id: int | uuid.UUID
    schema_type: str  # "AVRO", "JSON", "PROTOBUF"
    text: str
    references: tuple[SchemaReference, ...] = ()
    subject: str | None = None
    version: int | None = None
    guid: uuid.UUID | None = None
    # the data contract the registry stores with the schema, as Confluent's JSON
    # (``{"tags": …, "properties": …}`` and ``{"domainRules": […], …}``), or None
    metadata: Mapping[str, Any] | None = field(default=None, hash=False)
    rule_set: Mapping[str, Any] | None = field(default=None, hash=False)


@dataclass(frozen=True, slots=True)
class SchemaSource:
    """Schema text plus the texts of everything it references (name → text), already
    resolved, as a format needs it to parse."""

    text: str
    references: Mapping[str, str] = field(default_factory=dict)
