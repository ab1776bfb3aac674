"""A neutral model of record types, the common ground between Avro, JSON Schema,
Protobuf and CSV columns.

Each format maps its schema to this model (``ParsedSchema.model``); conversion uses it
to coerce values into the target's types, CSV uses it to name and type columns, and
schema translation goes source → model → target. The model is deliberately small:
what the four formats can all express, plus the logical types people actually send.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

# Scalar kinds. Integers keep their width because Protobuf and Avro care.
STRING = "string"
BYTES = "bytes"
BOOLEAN = "boolean"
INT32 = "int32"
INT64 = "int64"
FLOAT32 = "float32"
FLOAT64 = "float64"
NULL = "null"
DATE = "date"  # datetime.date
TIME_MILLIS = "time-millis"  # datetime.time
TIMESTAMP_MILLIS = "timestamp-millis"  # aware datetime.datetime
TIMESTAMP_MICROS = "timestamp-micros"
UUID = "uuid"  # uuid.UUID
ANY = "any"  # JSON without a schema: anything goes

SCALARS = frozenset(
    {STRING, BYTES, BOOLEAN, INT32, INT64, FLOAT32, FLOAT64, NULL, DATE, TIME_MILLIS, TIMESTAMP_MILLIS, TIMESTAMP_MICROS, UUID, ANY}
)


@dataclass(frozen=True)
class Scalar:
    kind: str


@dataclass(frozen=True)
class Decimal:
    precision: int
    scale: int


@dataclass(frozen=True)
class Enum:
    name: str
    symbols: tuple[str, ...]
    default: str | None = None
    doc: str | None = None


@dataclass(frozen=True)
class Array:
    items: "Type"


@dataclass(frozen=True)
class Map:
    """String-keyed map (Avro map, JSON object with additionalProperties, Protobuf map<string, V>)."""

    values: "Type"


@dataclass(frozen=True)
class Optional:
    """A value that may be null/absent (Avro ``["null", T]``, JSON not required or
    ``type: [T, "null"]``, Protobuf ``optional``/message fields)."""

    type: "Type"


@dataclass(frozen=True)
class Union_:
    """A choice between several non-null types (Avro unions, JSON ``oneOf``, Protobuf ``oneof``)."""

    types: tuple["Type", ...]


@dataclass(frozen=True)
class Field:
    name: str
    type: "Type"
    default: Any = field(default=None)
    has_default: bool = False
    doc: str | None = None


@dataclass(frozen=True)
class Record:
    name: str  # full name, dotted namespace allowed
    fields: tuple[Field, ...]
    doc: str | None = None

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


Type = Union[Scalar, Decimal, Enum, Array, Map, Optional, Union_, Record]


def unwrap_optional(t: Type) -> tuple[Type, bool]:
    """``(inner type, nullable)``."""
    if isinstance(t, Optional):
        return t.type, True
    return t, False
