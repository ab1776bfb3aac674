"""A neutral model of record types, the common ground between Avro, JSON Schema,
Protobuf and CSV columns.

Each format maps its schema to this model (``ParsedSchema.model``); conversion uses it
to coerce values into the target's types, CSV uses it to name and type columns, and
schema translation goes source → model → target. The model is deliberately small:
what the four formats can all express, plus the logical types people actually send.

Recursive types (a linked list, a tree: a record that contains itself through an
array, map, union or optional field) are written with :class:`Ref`: inside its own
definition a record is not repeated but referred to by name. A model therefore stays
a finite tree of frozen values, so ``==`` and ``hash`` terminate, and A → B → A round
trips compare equal. Every walker that follows a ``Ref`` must remember the record
names it is already inside (or has already seen), or it walks forever.
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


@dataclass(frozen=True)
class Ref:
    """A use of the record ``name`` inside its own definition (directly or through
    other records): the edge that makes a type recursive.

    It compares by name only. The record itself is reachable through :attr:`record`
    (bound by the reader that built it, see :class:`RecordSlot`), for walkers that meet
    a ``Ref`` outside its record, e.g. when a record defined inside a recursive one is
    also used on its own."""

    name: str
    _slot: list = field(default_factory=list, compare=False, repr=False)

    @property
    def record(self) -> "Record":
        if not self._slot:
            raise LookupError(f"the recursive reference to {self.name!r} was never bound to its record")
        return self._slot[0]  # type: ignore[no-any-return]


class RecordSlot:
    """A record whose fields are still being built: ``ref()`` gives the Refs its fields
    use for it, ``bind(record)`` makes them point at the finished record."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._slot: list[Record] = []
        self.used = False  # whether some field referred to it: the record is recursive

    def ref(self) -> Ref:
        self.used = True
        return Ref(self.name, self._slot)

    def bind(self, record: "Record") -> "Record":
        self._slot.append(record)
        return record


Type = Union[Scalar, Decimal, Enum, Array, Map, Optional, Union_, Record, Ref]


def resolve(t: Type) -> Type:
    """The record a Ref stands for; any other type as it is."""
    return t.record if isinstance(t, Ref) else t


def is_recursive(t: Type) -> bool:
    """Whether ``t`` contains a recursive type (a Ref) anywhere."""
    seen: set[int] = set()

    def walk(t: Type) -> bool:
        if isinstance(t, Ref):
            return True
        if isinstance(t, Record):
            if id(t) in seen:
                return False
            seen.add(id(t))
            return any(walk(f.type) for f in t.fields)
        if isinstance(t, Array):
            return walk(t.items)
        if isinstance(t, Map):
            return walk(t.values)
        if isinstance(t, Optional):
            return walk(t.type)
        if isinstance(t, Union_):
            return any(walk(u) for u in t.types)
        return False

    return walk(t)


def unwrap_optional(t: Type) -> tuple[Type, bool]:
    """``(inner type, nullable)``."""
    if isinstance(t, Optional):
        return t.type, True
    return t, False
