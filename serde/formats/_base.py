"""The contract every format implements.

A format turns schema text into a :class:`ParsedSchema` once, then hands out encoder
and decoder callables specialised for that schema, so the per-record path does no
schema work. ``encode``/``decode`` and their ``_many`` twins are conveniences over
those callables. Formats do no I/O and know nothing of registries or Kafka.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, ClassVar, Iterable, Mapping, Sequence

from .._errors import SerdeError
from .._types import SchemaSource

Encoder = Callable[[Any], bytes]
Decoder = Callable[[bytes], Any]


class ParsedSchema:
    """A schema parsed by a format. Formats subclass it and add their native form.

    ``schema_type`` is the registry's ``schemaType`` (``"AVRO"``, ``"JSON"``,
    ``"PROTOBUF"``) or ``None`` for formats with no registry schema of their own.
    ``text`` is what gets registered. ``record_name`` feeds the RECORD and TOPIC_RECORD
    subject name strategies. ``frame_suffix`` is written after the schema id in a
    Confluent frame (the Protobuf message indexes; empty elsewhere).
    """

    schema_type: str | None = None
    frame_suffix: bytes = b""

    def __init__(self, text: str, references: Mapping[str, str] | None = None, record_name: str | None = None) -> None:
        self.text = text
        self.references = dict(references or {})
        self.record_name = record_name

    def for_message_indexes(self, indexes: Sequence[int]) -> "ParsedSchema":
        """The schema of the message the indexes point at (Protobuf); others have one."""
        if list(indexes) != [0]:
            raise SerdeError(f"{type(self).__name__} has no message indexes")
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.record_name or self.text[:40]!r}>"


class Format(ABC):
    """One data format. Subclasses set ``name`` and ``schema_type`` and implement the
    three abstract methods; everything else derives from them."""

    name: ClassVar[str]
    schema_type: ClassVar[str | None] = None

    @abstractmethod
    def parse_schema(self, source: str | SchemaSource, **options: Any) -> ParsedSchema:
        """Parse schema text (with resolved references); raises SchemaParseError."""

    @abstractmethod
    def encoder(self, schema: ParsedSchema, **options: Any) -> Encoder:
        """A callable ``record -> bytes`` (unframed payload); raises RecordInvalid."""

    @abstractmethod
    def decoder(self, schema: ParsedSchema, reader: ParsedSchema | None = None, **options: Any) -> Decoder:
        """A callable ``bytes -> record``; ``reader`` resolves writer data into another
        schema where the format supports it. Raises DecodeError."""

    # -- conveniences ---------------------------------------------------------------
    def encode(self, schema: ParsedSchema, record: Any) -> bytes:
        return self.encoder(schema)(record)

    def decode(self, schema: ParsedSchema, data: bytes) -> Any:
        return self.decoder(schema)(data)

    def encode_many(self, schema: ParsedSchema, records: Iterable[Any]) -> list[bytes]:
        """Encode many records; an error names the record's position (``record N``)."""
        encode = self.encoder(schema)
        out = []
        for position, record in enumerate(records):
            try:
                out.append(encode(record))
            except SerdeError as exc:
                raise exc.at(f"record {position}")
        return out

    def decode_many(self, schema: ParsedSchema, datas: Iterable[bytes]) -> list[Any]:
        decode = self.decoder(schema)
        out = []
        for position, data in enumerate(datas):
            try:
                out.append(decode(data))
            except SerdeError as exc:
                raise exc.at(f"record {position}")
        return out


def as_source(source: str | SchemaSource) -> SchemaSource:
    return source if isinstance(source, SchemaSource) else SchemaSource(source)


def too_deep(value: Any, limit: int, containers: tuple[type, ...] = (dict, list, tuple)) -> str | None:
    """The path of a place in ``value`` nested more than ``limit`` containers deep (only
    ``containers`` count; dicts and lists are always entered), found without recursion;
    None when there is none. Codecs that recurse in C per level crash the process on
    values deep enough, so formats with recursive types check first."""
    pending: list[tuple[Any, int, str]] = [(value, 0, "$")]
    while pending:
        node, depth, path = pending.pop()
        if isinstance(node, containers):
            depth += 1
            if depth > limit:
                return path if len(path) <= 200 else f"{path[:96]}...{path[-96:]}"
        if isinstance(node, dict):
            pending.extend((v, depth, f"{path}.{k}") for k, v in node.items() if isinstance(v, (dict, list, tuple)))
        elif isinstance(node, (list, tuple)):
            pending.extend((v, depth, f"{path}[{i}]") for i, v in enumerate(node) if isinstance(v, (dict, list, tuple)))
    return None

