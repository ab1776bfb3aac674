"""Messages as people read them: each key and value decoded by what it is.

A Confluent-framed payload (magic byte and schema id, or a ``__value_schema_id`` /
``__key_schema_id`` header) is decoded by serde's deserializer for its writer schema's
type, whichever it is; the schema id, subject and version that decoded it are kept. Anything
else is recognised as JSON, CSV or plain text, and shown as hex when it is none of them.
The console adds no format logic: the framing and the decoding are serde's.
"""
from __future__ import annotations

import csv
import io
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from .. import _wire
from .._errors import FramingError, SchemaNotFound, SerdeError

__all__ = ["Decoded", "MessageDecoder", "display_json", "plain"]

# what a page shows of one key or value; the export has it all
MAX_SHOWN = 64 * 1024
_BY_TYPE = {"AVRO": "avro", "JSON": "json", "PROTOBUF": "protobuf"}


@dataclass
class Decoded:
    kind: str  # avro | json | protobuf (registry) ; json-plain | csv | text | hex | null | error
    value: Any  # the decoded value (Python types: logical types as values)
    schema_id: Any = None
    subject: str | None = None
    version: int | None = None
    error: str | None = None


class _Ctx:
    __slots__ = ("topic", "field", "headers")

    def __init__(self, topic: str, field: str, headers: Any) -> None:
        self.topic, self.field, self.headers = topic, field, headers


class MessageDecoder:
    """Decodes keys and values against one registry; caches deserializers and the
    subject/version of each schema id."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self._deserializers: dict[str, Any] = {}
        self._where: dict[Any, tuple[str | None, int | None]] = {}
        self._lock = threading.Lock()

    def decode(self, data: bytes | None, topic: str, headers: Any, is_key: bool) -> Decoded:
        if data is None:
            return Decoded("null", None)
        try:
            schema_id, _, _ = _wire.read_frame(data, headers, is_key)
        except FramingError:
            return plain(data)
        try:
            registered = self.registry.by_id(schema_id)
        except SchemaNotFound:
            return plain(data)  # five bytes that look like a frame but are not one
        except SerdeError as exc:
            return Decoded("error", None, schema_id, error=str(exc))
        fmt = _BY_TYPE.get(registered.schema_type, "avro")
        try:
            decoded = self._deserializer(fmt).decode_with_schema(data, _Ctx(topic, "key" if is_key else "value", headers))
        except SerdeError as exc:
            return Decoded("error", None, schema_id, error=str(exc))
        subject, version = self.where(schema_id, f"{topic}-{'key' if is_key else 'value'}")
        return Decoded(fmt, decoded.value, schema_id, subject, version)

    def _deserializer(self, fmt: str) -> Any:
        found = self._deserializers.get(fmt)
        if found is None:
            import serde

            with self._lock:
                found = self._deserializers.get(fmt)
                if found is None:
                    found = self._deserializers[fmt] = serde.deserializer(fmt, self.registry, return_schema=True)
        return found

    def where(self, schema_id: Any, preferred: str | None = None) -> tuple[str | None, int | None]:
        """A subject and version registered with ``schema_id``: ``preferred`` (the topic's
        own subject) when the schema is registered there too, else the first one."""
        key = (schema_id, preferred)
        if key in self._where:
            return self._where[key]
        found: tuple[str | None, int | None] = (None, None)
        rest = self.registry.client._rest_client
        if isinstance(schema_id, uuid.UUID):  # a GUID (header framing): its numeric id first
            try:
                schema_id = int(self.registry.call(f"schema guid {schema_id}", rest.get, f"schemas/guids/{schema_id}")["id"])
            except (SerdeError, KeyError, TypeError, ValueError):
                pass
        if isinstance(schema_id, int):
            try:
                answer = self.registry.call(
                    f"subjects of schema id {schema_id}", rest.get, f"schemas/ids/{schema_id}/versions"
                )
                pairs = [(str(item["subject"]), int(item["version"])) for item in answer or ()]
                found = next((pair for pair in pairs if pair[0] == preferred), pairs[0] if pairs else found)
            except (SerdeError, KeyError, TypeError, ValueError):
                pass
        if len(self._where) > 10_000:  # bounded: topics x ids seen
            self._where.clear()
        self._where[key] = found
        return found


def plain(data: bytes) -> Decoded:
    """Unframed bytes: JSON, CSV, text or hex."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Decoded("hex", data)
    stripped = text.strip()
    if stripped[:1] in ('{', '[', '"') or stripped in ("true", "false", "null") or _number(stripped):
        try:
            return Decoded("json", orjson.loads(data))
        except orjson.JSONDecodeError:
            pass
    if "," in text and "\n" not in stripped and len(text) <= MAX_SHOWN:
        try:
            row = next(csv.reader(io.StringIO(stripped)))
        except (csv.Error, StopIteration):
            row = []
        if len(row) > 1:
            return Decoded("csv", row)
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text[:4096]):
        return Decoded("hex", data)
    return Decoded("text", text)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def display_json(value: Any) -> str:
    """A decoded value as indented JSON text for a page, written as ``serde convert``
    writes JSON (timestamps ISO-8601, decimals as plain text, bytes base64)."""
    from ..formats.jsonschema import json_dumps

    try:
        return json_dumps(value, orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # NaN or infinity: not JSON, shown as Python writes it
        return repr(value)


def shown(decoded: Decoded) -> str:
    """The text a page shows for a key or value, at most ``MAX_SHOWN`` characters."""
    if decoded.kind == "null":
        text = "null"
    elif decoded.kind == "error":
        text = decoded.error or "cannot decode"
    elif decoded.kind == "hex":
        raw = bytes(decoded.value)
        text = raw[: MAX_SHOWN // 4].hex(" ") + (f" … ({len(raw)} bytes)" if len(raw) > MAX_SHOWN // 4 else "")
    elif decoded.kind == "text":
        text = decoded.value
    elif decoded.kind == "csv":
        text = " | ".join(decoded.value)
    else:
        text = display_json(decoded.value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + f" … (cut at {MAX_SHOWN} characters)"
