"""Confluent framing: the magic byte and schema id (V0), GUIDs (V1), schema ids carried in
headers, and the Protobuf message-index array. Pure functions over bytes; no I/O."""
from __future__ import annotations

import struct
import uuid
from typing import Sequence, Union

from ._errors import FramingError

MAGIC_V0 = 0
MAGIC_V1 = 1
KEY_SCHEMA_ID_HEADER = "__key_schema_id"
VALUE_SCHEMA_ID_HEADER = "__value_schema_id"
# confluent-kafka rejects larger counts; a garbage varint must not make us allocate.
MAX_MESSAGE_INDEXES = 100_000

SchemaId = Union[int, uuid.UUID]
Headers = Union[Sequence[tuple[str, Union[bytes, str, None]]], dict, None]

_ID = struct.Struct(">bI")


def prefix(schema_id: int) -> bytes:
    """The 5-byte V0 prefix for ``schema_id``: serializers compute it once per id."""
    if not 0 <= schema_id <= 0xFFFFFFFF:
        raise FramingError(f"schema id {schema_id} does not fit in 4 bytes")
    return _ID.pack(MAGIC_V0, schema_id)


def guid_prefix(guid: uuid.UUID) -> bytes:
    """The 17-byte V1 prefix: magic 1 then the GUID in RFC 4122 byte order."""
    return bytes((MAGIC_V1,)) + guid.bytes


def _header_value(headers: Headers, name: str) -> bytes | None:
    # confluent-kafka takes the first header of that name; Java the last. A record
    # rarely has two, and when it does the producer appended, so the last one wins.
    if not headers:
        return None
    try:
        items = list(headers.items() if isinstance(headers, dict) else headers)
    except TypeError:
        raise FramingError(f"headers must be a list of (name, value) pairs or a dict, not {type(headers).__name__}") from None
    found: bytes | None = None
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise FramingError(f"a header must be a (name, value) pair, not {item!r:.60}")
        key, value = item
        if key == name and value is not None:
            if isinstance(value, str):
                found = value.encode()
            elif isinstance(value, (bytes, bytearray, memoryview)):
                found = bytes(value)
            else:  # bytes(5) would be five zero bytes: schema id 0, silently
                raise FramingError(f"header {name} holds a {type(value).__name__}, not bytes")
    return found


def read_frame(data: bytes, headers: Headers = None, is_key: bool = False) -> tuple[SchemaId, int, bool]:
    """Find the schema id of a framed record.

    Returns ``(schema_id, payload_offset, from_header)``: when the id came from a
    ``__value_schema_id``/``__key_schema_id`` header the whole of ``data`` is payload
    (offset 0). Protobuf callers then read the message indexes at ``payload_offset``
    (or from the header bytes; see :func:`read_header_indexes`).
    """
    header = _header_value(headers, KEY_SCHEMA_ID_HEADER if is_key else VALUE_SCHEMA_ID_HEADER)
    if header is not None:
        schema_id, _ = _read_id(header, "header")
        return schema_id, 0, True
    schema_id, offset = _read_id(data, "value")
    return schema_id, offset, False


def schema_id_header(headers: Headers, is_key: bool) -> bytes | None:
    """The raw header bytes carrying the schema id, if any (Protobuf keeps indexes there)."""
    return _header_value(headers, KEY_SCHEMA_ID_HEADER if is_key else VALUE_SCHEMA_ID_HEADER)


def _read_id(data: bytes, where: str) -> tuple[SchemaId, int]:
    if data is None or len(data) == 0:
        raise FramingError(f"empty {where}: expected a Confluent frame (magic byte 0 or 1)")
    magic = data[0]
    if magic == MAGIC_V0:
        if len(data) < 5:
            raise FramingError(f"truncated frame in {where}: {len(data)} bytes, the magic byte 0 needs a 4-byte schema id")
        return int.from_bytes(data[1:5], "big"), 5
    if magic == MAGIC_V1:
        if len(data) < 17:
            raise FramingError(f"truncated frame in {where}: {len(data)} bytes, the magic byte 1 needs a 16-byte schema GUID")
        return uuid.UUID(bytes=bytes(data[1:17])), 17
    raise FramingError(f"unknown magic byte {magic:#04x} in {where}: not a Confluent Schema Registry frame")


# -- varints: Protobuf message indexes, Avro longs, length prefixes -------------------

def _zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def varint(n: int) -> bytes:
    """A non-negative integer as a base-128 varint (Protobuf's, and Avro's after zigzag)."""
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _write_varint(n: int, out: bytearray) -> None:
    out += varint(_zigzag(n) & 0xFFFFFFFFFFFFFFFF)


def _read_varint(data: bytes, offset: int) -> tuple[int, int]:
    shift = 0
    result = 0
    while True:
        if offset >= len(data):
            raise FramingError("truncated Protobuf message-index array")
        byte = data[offset]
        offset += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift > 63:
            raise FramingError("malformed varint in Protobuf message-index array")
    return (result >> 1) ^ -(result & 1), offset


def encode_message_indexes(indexes: Sequence[int]) -> bytes:
    """Encode the path to a Protobuf message; ``[0]`` is the single byte ``00``."""
    if list(indexes) == [0]:
        return b"\x00"
    out = bytearray()
    _write_varint(len(indexes), out)
    for index in indexes:
        _write_varint(index, out)
    return bytes(out)


def decode_message_indexes(data: bytes, offset: int) -> tuple[list[int], int]:
    """Read a message-index array at ``offset``; returns ``(indexes, payload_offset)``."""
    count, offset = _read_varint(data, offset)
    if count == 0:
        return [0], offset
    if count < 0 or count > MAX_MESSAGE_INDEXES:
        raise FramingError(f"invalid Protobuf message-index count {count}")
    indexes = []
    for _ in range(count):
        index, offset = _read_varint(data, offset)
        if index < 0:
            raise FramingError(f"negative Protobuf message index {index}")
        indexes.append(index)
    return indexes, offset
