"""Kafka's primitive serializers, byte for byte (``org.apache.kafka.common.serialization``).

The "schema" is the primitive's name:

=========  =====  ===============================================================
name       bytes  layout (Java class)
=========  =====  ===============================================================
string     var    text in ``encoding`` (default UTF-8)            StringSerializer
short      2      int16 big-endian                                ShortSerializer
int        4      int32 big-endian                                IntegerSerializer
long       8      int64 big-endian                                LongSerializer
float      4      IEEE-754 big-endian, NaN payload kept           FloatSerializer
double     8      IEEE-754 big-endian, every NaN canonical        DoubleSerializer
boolean    1      01 true, 00 false                               BooleanSerializer
uuid       36     ``UUID.toString()`` text (not 16 raw bytes)     UUIDSerializer
bytes      var    identity                                        ByteArraySerializer
=========  =====  ===============================================================

A Kafka null stays a null (the serializers return ``None`` for ``None`` before any of
this runs). With ``register=True`` a framed binary value is registered as the matching
Avro primitive schema, as Confluent's Java Avro serializer does for primitives; the
``avro`` format writes those (its bytes differ: Avro's zigzag varints).
"""
from __future__ import annotations

import math
import struct
import uuid
from typing import Any, Callable

from .. import _model as m
from .._errors import DecodeError, RecordInvalid, SchemaParseError
from .._types import SchemaSource
from ._base import Decoder, Encoder, Format, ParsedSchema, as_source

_STRUCTS = {"short": struct.Struct(">h"), "int": struct.Struct(">i"), "long": struct.Struct(">q"),
            "float": struct.Struct(">f"), "double": struct.Struct(">d")}
_ALIASES = {"integer": "int", "int32": "int", "int16": "short", "int64": "long", "bool": "boolean",
            "str": "string", "bytearray": "bytes", "float32": "float", "float64": "double"}
AVRO_PRIMITIVES = {"string": '"string"', "int": '"int"', "short": '"int"', "long": '"long"', "float": '"float"',
                   "double": '"double"', "boolean": '"boolean"', "bytes": '"bytes"',
                   "uuid": '{"type":"string","logicalType":"uuid"}'}
_CANONICAL_NAN = b"\x7f\xf8\x00\x00\x00\x00\x00\x00"
_RANGES = {"short": (-(2**15), 2**15 - 1), "int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


_MODEL_KINDS = {"string": m.STRING, "short": m.INT32, "int": m.INT32, "long": m.INT64, "float": m.FLOAT32,
                "double": m.FLOAT64, "boolean": m.BOOLEAN, "uuid": m.UUID, "bytes": m.BYTES}
VALUE_FIELD = "value"


class BinarySchema(ParsedSchema):
    """A primitive. Seen as a record (for conversion to record formats) it is
    ``{"value": v}``: one nullable field named ``value``, as a Kafka value may be null."""

    schema_type = None

    def __init__(self, kind: str, encoding: str) -> None:
        super().__init__(kind, {}, None)
        self.kind = kind
        self.encoding = encoding
        self.model = m.Record("Value", (m.Field(VALUE_FIELD, m.Optional(m.Scalar(_MODEL_KINDS[kind])), None, True),))


class BinaryFormat(Format):
    name = "binary"
    schema_type = None

    def parse_schema(self, source: str | SchemaSource, *, encoding: str = "utf-8", **options: Any) -> BinarySchema:
        text = as_source(source).text.strip().strip('"').lower()
        kind = _ALIASES.get(text, text)
        if kind not in AVRO_PRIMITIVES:
            raise SchemaParseError(f"unknown binary type {text!r}; use one of: {', '.join(sorted(AVRO_PRIMITIVES))}")
        try:
            "".encode(encoding)
        except LookupError:
            raise SchemaParseError(f"unknown text encoding {encoding!r}") from None
        return BinarySchema(kind, encoding)

    def encoder(self, schema: ParsedSchema, **options: Any) -> Encoder:
        assert isinstance(schema, BinarySchema)
        kind, encoding = schema.kind, schema.encoding
        if kind == "string":
            return _guard(lambda v: v.encode(encoding), str, "a string")
        if kind == "bytes":
            return _guard(bytes, (bytes, bytearray, memoryview), "bytes")
        if kind == "boolean":
            return _guard(lambda v: b"\x01" if v else b"\x00", bool, "a boolean")
        if kind == "uuid":
            def uuid_text(value: Any) -> bytes:
                if isinstance(value, str):
                    try:
                        value = uuid.UUID(value)
                    except ValueError:
                        raise RecordInvalid(f"{value!r} is not a UUID", path="$") from None
                if not isinstance(value, uuid.UUID):
                    raise RecordInvalid(f"expected a UUID, got {type(value).__name__}", path="$")
                return str(value).encode(encoding)

            return uuid_text
        packer = _STRUCTS[kind]
        if kind == "double":
            def double(value: Any) -> bytes:
                value = _number(value, float)
                return _CANONICAL_NAN if math.isnan(value) else packer.pack(value)

            return double
        if kind == "float":
            def single(value: Any) -> bytes:
                value = _number(value, float)
                try:
                    return packer.pack(value)
                except OverflowError:
                    raise RecordInvalid(f"{value} does not fit a 32-bit float", path="$") from None

            return single
        low, high = _RANGES[kind]

        def integer(value: Any) -> bytes:
            value = _number(value, int)
            if not low <= value <= high:
                raise RecordInvalid(f"{value} is out of range for a Java {kind}", path="$")
            return packer.pack(value)

        return integer

    def decoder(self, schema: ParsedSchema, reader: ParsedSchema | None = None, **options: Any) -> Decoder:
        assert isinstance(schema, BinarySchema)
        kind, encoding = schema.kind, schema.encoding
        if kind == "string":
            def text(data: bytes) -> Any:
                try:
                    return bytes(data).decode(encoding)
                except UnicodeDecodeError as exc:
                    raise DecodeError(f"not {encoding} text: {exc.reason} at byte {exc.start}") from None

            return text
        if kind == "bytes":
            return bytes
        if kind == "uuid":
            def uuid_value(data: bytes) -> Any:
                try:
                    return uuid.UUID(bytes(data).decode(encoding))
                except (UnicodeDecodeError, ValueError):
                    raise DecodeError(f"not a UUID string: {bytes(data)[:40]!r}") from None

            return uuid_value
        if kind == "boolean":
            def boolean(data: bytes) -> Any:
                if len(data) != 1 or data[0] not in (0, 1):
                    raise DecodeError(f"a Java boolean is one byte 00 or 01, got {bytes(data)!r}")
                return data[0] == 1

            return boolean
        packer = _STRUCTS[kind]
        size = packer.size

        def number(data: bytes) -> Any:
            if len(data) != size:
                raise DecodeError(f"size of data received by the {kind} deserializer is not {size}: got {len(data)} bytes")
            return packer.unpack(data)[0]

        return number


def _number(value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordInvalid(f"expected a number, got {type(value).__name__} {value!r}", path="$")
    if kind is int and isinstance(value, float):
        if not value.is_integer():
            raise RecordInvalid(f"{value} is not an integer", path="$")
        return int(value)
    return kind(value)


def _guard(fn: Callable[[Any], bytes], types: Any, what: str) -> Encoder:
    def encode(value: Any) -> bytes:
        if not isinstance(value, types):
            raise RecordInvalid(f"expected {what}, got {type(value).__name__}", path="$")
        return fn(value)

    return encode
