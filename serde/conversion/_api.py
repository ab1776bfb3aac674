"""Conversion between formats: records stream from one format's reader through a
coercer into another format's writer, in constant memory.

File encodings (what ``serde convert`` reads and writes):

========  ====================================================================
csv       RFC 4180 with a header row (columns: see ``serde.formats.csv``)
json      newline-delimited JSON, one record per line
avro      Avro Object Container File (codec null, deflate, snappy, zstandard, bzip2, xz)
protobuf  messages each preceded by their length as a varint (``writeDelimitedTo``)
binary    values each preceded by a 4-byte big-endian length, -1 for null
========  ====================================================================

With ``framing="base64"`` each line is a Confluent-framed Kafka message in base64,
and with ``framing="delimited"`` each message is preceded by its varint length; the
writer schema is then found (or registered) in the schema registry.
"""
from __future__ import annotations

import base64
import io
import json
import os
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, Callable, Generator, Iterator, NamedTuple

from .. import _coerce
from .. import _model as m
from .._errors import ConfigError, DecodeError, SchemaParseError, SerdeError
from .._types import SchemaSource
from .._wire import varint
from ..formats import ParsedSchema, get_format
from ..formats.binary import VALUE_FIELD

FILE_FORMATS = ("avro", "binary", "csv", "json", "protobuf")
FRAMINGS = ("none", "base64", "delimited")
ON_ERROR = ("fail", "skip", "dead-letter")
INFER_SAMPLE = 1000
PROGRESS_SECONDS = 0.5  # how often progress is reported
_LENGTH = struct.Struct(">i")


class Item(NamedTuple):
    """One input record: where it came from, its raw input (for dead letters), and the
    decoded record or the error that stopped it."""

    location: str
    raw: bytes | None
    record: Any
    error: SerdeError | None


@dataclass
class ConversionReport:
    """What a conversion did. ``rejected`` records went to the dead-letter file or were
    skipped, each with its location and reason in ``errors`` (the first 100 kept)."""

    read: int = 0
    written: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    target_schema: str | None = None
    seconds: float = 0.0
    bytes_read: int | None = None  # where the input can say (files; not pipes)

    def summary(self) -> str:
        rate = ""
        if self.seconds > 0 and self.read >= 10_000:
            rate = f", {self.read / self.seconds:,.0f} records/s"
            if self.bytes_read:
                rate += f", {self.bytes_read / self.seconds / 2**20:,.1f} MiB/s"
        return f"{self.read} read, {self.written} written, {self.rejected} rejected{rate}"


def detect_schema_type(text: str) -> str:
    """AVRO, JSON or PROTOBUF, from a schema's text."""
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[", '"')):
        return "PROTOBUF"
    import orjson

    try:
        doc = orjson.loads(stripped)
    except orjson.JSONDecodeError as exc:
        raise SchemaParseError(f"schema is neither JSON nor .proto text: {exc}") from None
    if isinstance(doc, str) or isinstance(doc, list):
        return "AVRO"
    if isinstance(doc, dict) and doc.get("type") in ("record", "enum", "fixed", "array", "map", "error") and (
        "name" in doc or "items" in doc or "values" in doc
    ):
        return "AVRO"
    if isinstance(doc, dict) and "fields" in doc and "name" in doc:
        return "AVRO"
    return "JSON"


def model_of(schema: ParsedSchema) -> m.Type | None:
    """The neutral model of a parsed schema, or None when it has none (binary, untyped)."""
    model = getattr(schema, "model", None)
    if model is not None:
        return model  # type: ignore[no-any-return]
    if schema.schema_type is None:
        return None
    from ..translate import to_model

    options = {"message": _message_of(schema)} if _message_of(schema) else {}
    return to_model(schema.schema_type, schema.text, schema.references, **options)


def _message_of(schema: Any) -> str | None:
    """The Protobuf message a parsed schema stands for (its full name)."""
    return schema.record_name if getattr(schema, "schema_type", None) == "PROTOBUF" else None


# -- schema handling ----------------------------------------------------------------------

def parse_for(format_name: str, text: str | SchemaSource, *, schema_type: str | None = None, message: str | None = None,
              references: dict[str, str] | None = None, **options: Any) -> ParsedSchema:
    """Parse ``text`` as a schema for ``format_name`` (CSV takes any record schema)."""
    fmt = get_format(format_name)
    if isinstance(text, SchemaSource):
        source = SchemaSource(text.text, {**text.references, **(references or {})})
        text = text.text
    else:
        source = SchemaSource(text, references or {})
    if format_name == "csv":
        return fmt.parse_schema(source, record_type=schema_type or detect_schema_type(text), message=message, **options)
    if format_name == "protobuf" and message:
        return fmt.parse_schema(source, message=message)
    if format_name == "binary":
        return fmt.parse_schema(source, **{k: v for k, v in options.items() if k == "encoding"})
    return fmt.parse_schema(source)


def _named_message_hint(parse: Callable[[], ParsedSchema], parameter: str) -> ParsedSchema:
    """Parse a schema; a .proto with several messages names the parameter that chooses
    one (``message`` for the input, ``to_message`` for the target)."""
    try:
        parsed = parse()
        if getattr(parsed, "schema_type", None) == "PROTOBUF" and hasattr(parsed, "descriptor"):
            from ..formats.protobuf import _need_message

            _need_message(parsed)  # several top-level messages and none chosen: say so now
        return parsed
    except SerdeError as exc:
        generic = "message= (--message on the command line)"
        if generic in exc.reason:
            exc.reason = exc.reason.replace(generic, f"{parameter}=")
            exc.args = (exc.reason,)
        raise


def _a(word: str) -> str:
    """The indefinite article for a format name: "an avro", "a csv"."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def derive_schema(model: m.Type, target_format: str, *, name: str | None = None) -> str:
    """Target schema text for ``model`` in ``target_format``'s schema language."""
    from ..translate import from_model

    target_type = {"avro": "AVRO", "json": "JSON", "protobuf": "PROTOBUF", "csv": "AVRO"}.get(target_format)
    if target_type is None:
        option = "--to-type (the primitive type, e.g. long or string)" if target_format == "binary" else "--to-schema"
        raise ConfigError(f"{_a(target_format)} {target_format} target needs {option} (it cannot be derived)")
    return from_model(model, target_type)


# -- readers ------------------------------------------------------------------------------

def _read_varint(stream: BinaryIO) -> int | None:
    result = shift = 0
    while True:
        byte = stream.read(1)
        if not byte:
            if shift == 0:
                return None
            raise DecodeError("truncated length prefix at end of input")
        result |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return result
        shift += 7
        if shift > 63:
            raise DecodeError("malformed varint length prefix")


def _framed_chunks(stream: BinaryIO, framing: str) -> Iterator[tuple[str, bytes | None, bytes | DecodeError]]:
    """(location, raw, payload-or-error) for base64 lines or varint-delimited messages."""
    if framing == "base64":
        for number, line in enumerate(stream, 1):
            text = line.strip()
            if not text:
                continue
            try:
                yield f"line {number}", line.rstrip(b"\r\n"), base64.b64decode(text, validate=True)
            except ValueError as exc:
                yield f"line {number}", line.rstrip(b"\r\n"), DecodeError(f"not base64: {exc}")
        return
    position = 0
    number = 0
    while True:
        offset = position
        length = _read_varint(stream)
        if length is None:
            return
        number += 1
        data = stream.read(length)
        position = stream.tell() if stream.seekable() else offset + length + len(varint(length))
        if len(data) != length:
            raise DecodeError(f"record {number} (offset {offset}): truncated: {len(data)} of {length} bytes")
        yield f"record {number} (offset {offset})", data, data


class Reader:
    """Iterates the records of one input. ``schema`` is the parsed schema of the
    records (None for untyped JSON/CSV), known after construction for every format
    (for Avro files it comes from the file header)."""

    def __init__(self, stream: BinaryIO, format_name: str, schema: ParsedSchema | None, *, framing: str = "none",
                 registry: Any = None, topic: str | None = None, csv_options: dict[str, Any] | None = None) -> None:
        self.stream = stream
        self.format_name = format_name
        self.schema = schema
        self.framing = framing
        self._registry = registry
        self._topic = topic or "serde-convert"
        self._csv_options = csv_options or {}
        # set by convert() for CSV -> Avro with one model: rows become Avro primitives
        self.avro_lane = False
        self._items: Iterator[Item]
        if framing != "none":
            self._items = self._framed()
        elif format_name == "avro":
            self._items = self._avro(self._open_avro())
        else:
            self._items = getattr(self, f"_{format_name}")()

    def __iter__(self) -> Iterator[Item]:
        return self._items

    def _framed(self) -> Iterator[Item]:
        from confluent_kafka.serialization import MessageField, SerializationContext

        from ..serializers import Deserializer

        deserializer = Deserializer(self.format_name if self.format_name != "csv" else "csv", self._registry)
        ctx = SerializationContext(self._topic, MessageField.VALUE)
        for location, raw, payload in _framed_chunks(self.stream, self.framing):
            if isinstance(payload, DecodeError):
                yield Item(location, raw, None, payload.at(location))
                continue
            try:
                yield Item(location, raw, deserializer(payload, ctx), None)
            except SerdeError as exc:
                yield Item(location, raw, None, exc.at(location))
            except RecursionError:
                yield Item(location, raw, None, _coerce.too_deep(DecodeError).at(location))

    def _json(self) -> Iterator[Item]:
        from ..formats.jsonschema import json_loads

        decode = get_format("json").decoder(self.schema) if self.schema is not None else None
        for number, line in enumerate(self.stream, 1):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]  # a UTF-8 byte-order mark is not part of the first record
            if not line.strip():
                continue
            raw = line.rstrip(b"\r\n")
            try:
                record = decode(raw) if decode is not None else json_loads(raw)
            except (json.JSONDecodeError, SerdeError) as exc:
                from ._chunked import utf8_problem

                problem = utf8_problem(raw)
                if problem is not None:
                    error: SerdeError = DecodeError(problem, location=f"line {number}")
                elif isinstance(exc, SerdeError):
                    error = exc.at(f"line {number}")
                else:
                    error = DecodeError(f"invalid JSON: {exc}", location=f"line {number}")
                yield Item(f"line {number}", raw, None, error)
                continue
            except RecursionError:
                yield Item(f"line {number}", raw, None, _coerce.too_deep(DecodeError).at(f"line {number}"))
                continue
            yield Item(f"line {number}", raw, record, None)

    def _csv(self) -> Iterator[Item]:
        import csv as _csv

        from ._chunked import utf8_problem
        from ..formats.csv import CsvSchema

        delimiter = self._csv_options.get("delimiter", getattr(self.schema, "delimiter", ","))
        consumed: list[str] = []
        not_utf8: list[tuple[int, str]] = []  # (line, reason) within the record being parsed

        def lines() -> Iterator[str]:
            # each line decoded on its own, so a byte that is not UTF-8 is reported on its
            # own line (a text wrapper decodes ahead, and fails lines before it); keep the
            # text of the record being parsed: it tells "" from null
            for number, line in enumerate(_text_lines(self.stream), 1):
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError:
                    not_utf8.append((number, utf8_problem(line) or "not UTF-8 text"))
                    text = line.decode("utf-8", "replace")
                consumed.append(text)
                yield text

        reader = _csv.reader(lines(), delimiter=delimiter, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            if self.schema is None:
                raise DecodeError("the CSV input is empty: no header row names its columns") from None
            return
        except _csv.Error as exc:
            if not_utf8:
                raise DecodeError(f"line {not_utf8[0][0]}: {not_utf8[0][1]}") from None
            raise DecodeError(f"line 1: unreadable CSV header: {exc}") from None
        if not_utf8:
            raise DecodeError(f"line {not_utf8[0][0]}: {not_utf8[0][1]}")
        header = _clean_header(header)
        consumed.clear()
        schema = self.schema
        if schema is None:
            schema = get_format("csv").schema_for_columns(header, **self._csv_options)
            self.schema = schema
        assert isinstance(schema, CsvSchema)
        order = _column_order(header, schema)
        lane = schema.avro_lane_parser() if self.avro_lane and order is None else None
        if self.avro_lane:
            from .._avro_lane import typed_to_physical

            to_physical = typed_to_physical(schema.model) or (lambda record: record)
        out = io.StringIO()
        writer = _csv.writer(out, delimiter=delimiter, lineterminator="\n")
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except _csv.Error as exc:
                location = f"line {reader.line_num}"
                error = DecodeError(f"malformed CSV: {exc}", location=location)
                if not_utf8:
                    location = f"line {not_utf8[0][0]}"
                    error = DecodeError(not_utf8[0][1], location=location)
                    not_utf8.clear()
                consumed.clear()
                yield Item(location, None, None, error)
                continue
            location = f"line {reader.line_num}"
            raw_text = "".join(consumed)
            consumed.clear()
            if not_utf8:
                location = f"line {not_utf8[0][0]}"
                yield Item(location, None, None, DecodeError(not_utf8[0][1], location=location))
                not_utf8.clear()
                continue
            if not row:
                if len(header) != 1:
                    continue  # a blank line between rows carries nothing
                row = [""]  # one column: a blank line is an unquoted empty cell (null when the marker is "")
            if len(row) != len(header):
                out.seek(0)
                out.truncate()
                writer.writerow(row)
                raw = out.getvalue().rstrip("\n").encode()
                yield Item(location, raw, None, DecodeError(f"expected {len(header)} columns, got {len(row)}", location=location))
                continue
            if lane is not None and (schema.quoted_null not in raw_text or schema.null_marker not in row):
                try:
                    yield Item(location, None, lane(row), None)
                    continue
                except (ValueError, TypeError, ArithmeticError, SerdeError):
                    pass  # the general way below parses it, or says what is wrong
            try:
                if order is not None:
                    from ..formats.csv import reordered

                    in_order, quoted = reordered(schema, row, raw_text, order)
                    record = schema.row_to_record(in_order, None, quoted)
                else:
                    record = schema.row_to_record(row, raw_text)
                if self.avro_lane:
                    record = to_physical(record)
            except (SerdeError, RecursionError) as caught:
                exc = caught if isinstance(caught, SerdeError) else _coerce.too_deep(DecodeError)
                out.seek(0)
                out.truncate()
                writer.writerow(row)
                yield Item(location, out.getvalue().rstrip("\n").encode(), None, exc.at(location))
                continue
            yield Item(location, None, record, None)

    def _open_avro(self) -> Any:
        # Read the header now, so the writer schema is known before the first record.
        import orjson

        from .._ocf import OcfRecords

        records = OcfRecords(self.stream, getattr(self.schema, "expanded", None))
        if self.schema is None:
            self.schema = get_format("avro").parse_schema(orjson.dumps(records.writer_schema).decode())
        return records

    def _avro(self, records: Any) -> Iterator[Item]:
        # errors end the file (a corrupt block cannot be skipped): OcfRecords raises them
        for number, record in enumerate(records, 1):
            yield Item(f"record {number}", None, record, None)

    def _sized(self, read_length: Callable[[], int | None]) -> Iterator[Item]:
        if self.schema is None:
            if self.format_name == "binary":
                raise ConfigError("reading binary needs --type: the primitive type of its values, e.g. long or string")
            raise ConfigError(f"reading {self.format_name} needs a schema (--schema)")
        decode = get_format(self.format_name).decoder(self.schema)
        # binary values travel as one-field records ({"value": v}) between formats
        wrap = self.format_name == "binary"
        number = 0
        offset = 0
        while True:
            length = read_length()
            if length is None:
                return
            number += 1
            location = f"record {number} (offset {offset})"
            if length == -1:
                offset += 4
                yield Item(location, None, {VALUE_FIELD: None}, None)
                continue
            data = self.stream.read(length)
            offset = self.stream.tell() if self.stream.seekable() else offset + length
            if len(data) != length:
                raise DecodeError(f"{location}: truncated: {len(data)} of {length} bytes")
            try:
                value = decode(data)
            except SerdeError as exc:
                yield Item(location, data, None, exc.at(location))
                continue
            except RecursionError:
                yield Item(location, data, None, _coerce.too_deep(DecodeError).at(location))
                continue
            yield Item(location, data, {VALUE_FIELD: value} if wrap else value, None)

    def _protobuf(self) -> Iterator[Item]:
        return self._sized(lambda: _read_varint(self.stream))

    def _binary(self) -> Iterator[Item]:
        def read_length() -> int | None:
            head = self.stream.read(4)
            if not head:
                return None
            if len(head) != 4:
                raise DecodeError("truncated length prefix at end of input")
            (length,) = _LENGTH.unpack(head)
            if length < -1:
                raise DecodeError(f"invalid length prefix {length}")
            return length

        return self._sized(read_length)


def _text_lines(stream: BinaryIO) -> Iterator[bytes]:
    """The lines of a byte stream as a text file opened with ``newline=""`` has them: ended
    by LF, CR LF or a lone CR, each with its line end."""
    for line in stream:
        cr = line.find(b"\r")
        if cr < 0 or cr == len(line) - 2 and line.endswith(b"\r\n"):
            yield line
            continue
        import re

        yield from (part for part in re.split(rb"(?<=\r)(?!\n)", line) if part)


def _clean_header(header: list[str]) -> list[str]:
    """The header row without a UTF-8 byte-order mark; repeated names are an error (the
    later column would silently overwrite the earlier one)."""
    if header and header[0].startswith("\ufeff"):
        header = [header[0][1:], *header[1:]]
    seen: set[str] = set()
    repeated = sorted({name for name in header if name in seen or seen.add(name)})  # type: ignore[func-returns-value]
    if repeated:
        raise DecodeError(f"line 1: the CSV header repeats the column(s) {', '.join(repeated)}")
    return header


def _column_order(header: list[str], schema: Any) -> list[int | None] | None:
    from ..formats.csv import column_order

    return column_order(schema, header)


# -- writers ------------------------------------------------------------------------------

class Writer:
    """Writes records in one format; ``write`` raises RecordInvalid for a record that
    does not fit, having written nothing for it."""

    def __init__(self, stream: BinaryIO, format_name: str, schema: ParsedSchema | None, *, framing: str = "none",
                 registry: Any = None, topic: str | None = None, subject: str | None = None, codec: str = "null",
                 avro_lane: bool = False, container: bool = True) -> None:
        self.stream = stream
        self.avro_lane = avro_lane
        # container=False writes records only: no CSV header row, and bare Avro datums
        # instead of a container file (the chunked engine frames them itself)
        self.container = container
        self.format_name = format_name
        self.schema = schema
        self.framing = framing
        self._close: Callable[[], None] = lambda: None
        if framing != "none":
            self.write = self._framed_writer(registry, topic, subject)  # type: ignore[method-assign]
        elif format_name == "avro":
            self.write = self._avro_writer(codec)  # type: ignore[method-assign]
        elif format_name == "csv":
            self.write = self._csv_writer()  # type: ignore[method-assign]
        elif format_name == "json":
            self.write = self._json_writer()  # type: ignore[method-assign]
        else:
            self.write = self._sized_writer()  # type: ignore[method-assign]

    def write(self, record: Any) -> None:  # replaced per format in __init__
        raise NotImplementedError

    def close(self) -> None:
        self._close()
        self.stream.flush()

    def _framed_writer(self, registry: Any, topic: str | None, subject: str | None) -> Callable[[Any], None]:
        from confluent_kafka.serialization import MessageField, SerializationContext

        from ..serializers import Serializer

        if self.schema is None:
            raise ConfigError("framed output needs a target schema")
        strategy: Any = (lambda t, k, r: subject) if subject else "topic"
        serializer = Serializer(self.format_name, self.schema.text, registry, subject_name_strategy=strategy,
                                **({"message": _message_of(self.schema)} if _message_of(self.schema) else {}))
        ctx = SerializationContext(topic or "serde-convert", MessageField.VALUE)
        stream = self.stream
        if self.framing == "base64":
            def write_line(record: Any) -> None:
                stream.write(base64.b64encode(serializer(record, ctx) or b"") + b"\n")

            return write_line

        def write_delimited(record: Any) -> None:
            data = serializer(record, ctx) or b""
            stream.write(varint(len(data)) + data)

        return write_delimited

    def _json_writer(self) -> Callable[[Any], None]:
        import orjson

        from ..formats.jsonschema import json_dumps

        stream = self.stream
        if self.schema is not None:
            encode = get_format("json").encoder(self.schema)

            def write_validated(record: Any) -> None:
                stream.write(encode(record) + b"\n")

            return write_validated

        def write(record: Any) -> None:
            try:
                stream.write(json_dumps(record, orjson.OPT_APPEND_NEWLINE))
            except (TypeError, ValueError) as exc:
                from .._errors import RecordInvalid

                raise RecordInvalid(f"not JSON serializable: {exc}", path="$") from None

        return write

    def _csv_writer(self) -> Callable[[Any], None]:
        import csv as _csv

        from ..formats.csv import CsvSchema

        schema = self.schema
        if not isinstance(schema, CsvSchema):
            raise ConfigError("CSV output needs a record schema for its columns")
        text = io.TextIOWrapper(self.stream, encoding="utf-8", newline="", write_through=True)
        writer = _csv.writer(text, delimiter=schema.delimiter, quotechar=schema.quotechar, lineterminator="\r\n")
        if self.container:
            writer.writerow(schema.header)
        to_row = schema.record_to_row
        from ..formats.csv import format_row, needs_custom_quoting

        single_column = len(schema.header) == 1

        def write(record: Any) -> None:
            row = to_row(record)
            if single_column and row[0] == "" and type(row[0]) is str and schema.null_marker == "":
                text.write("\r\n")  # csv.writer would quote it: a null is a blank line
            elif needs_custom_quoting(row):
                text.write(format_row(row, schema.delimiter, schema.quotechar) + "\r\n")
            else:
                writer.writerow(row)

        def close() -> None:
            text.flush()
            text.detach()

        self._close = close
        return write

    def _avro_writer(self, codec: str) -> Callable[[Any], None]:
        from .._ocf import OcfWriter, _compressor
        from ..formats.avro import AvroSchema, _encode_error

        schema = self.schema
        if not isinstance(schema, AvroSchema):
            raise ConfigError("Avro output needs an Avro schema")
        codec = "zstandard" if codec == "zstd" else codec
        _compressor(codec)  # unknown or unavailable codecs fail before anything is written
        import orjson

        container = OcfWriter(self.stream, orjson.dumps(schema.expanded).decode(), codec) if self.container else None
        if self.avro_lane:
            # records arrive as Avro primitives; the header still declares the logical types
            encode = _lane_encoder(schema)
        else:
            encode = get_format("avro").encoder(schema)
        append = container.write if container is not None else self.stream.write

        def write(record: Any) -> None:
            try:
                datum = encode(record)
            except SerdeError:
                raise
            except Exception as exc:  # noqa: BLE001 - becomes RecordInvalid with the path
                raise _encode_error(schema, record, exc, None) from exc
            append(datum)

        if container is not None:
            self._close = container.close
        return write

    def _sized_writer(self) -> Callable[[Any], None]:
        if self.schema is None:
            raise ConfigError(f"writing {self.format_name} needs a schema (--to-{'type' if self.format_name == 'binary' else 'schema'})")
        encode = get_format(self.format_name).encoder(self.schema)
        stream = self.stream
        if self.format_name == "binary":
            def write_binary(value: Any) -> None:
                value = _single_value(value)
                if value is None:
                    stream.write(_LENGTH.pack(-1))
                    return
                data = encode(value)
                stream.write(_LENGTH.pack(len(data)) + data)

            return write_binary

        def write_delimited(record: Any) -> None:
            data = encode(record)
            stream.write(varint(len(data)) + data)

        return write_delimited


def _single_value(value: Any) -> Any:
    """A binary value from a record: the record's only field (binary holds one value)."""
    if isinstance(value, dict):
        if len(value) != 1:
            from .._errors import RecordInvalid

            raise RecordInvalid(f"binary holds one value per record; this record has {len(value)} fields "
                                f"({', '.join(map(str, value))})", path="$")
        return next(iter(value.values()))
    return value


# -- the conversion -----------------------------------------------------------------------

def _sampled(items: Iterator[Item], size: int) -> tuple[list[Item], Iterator[Item]]:
    sample = []
    for item in items:
        sample.append(item)
        if len(sample) >= size:
            break
    return sample, items


def convert(
    input: str | os.PathLike[str] | BinaryIO,
    output: str | os.PathLike[str] | BinaryIO,
    *,
    from_format: str,
    to_format: str,
    schema: str | SchemaSource | None = None,
    to_schema: str | SchemaSource | None = None,
    message: str | None = None,
    to_message: str | None = None,
    input_framing: str = "none",
    output_framing: str = "none",
    registry: Any = None,
    topic: str | None = None,
    subject: str | None = None,
    codec: str = "null",
    on_error: str = "fail",
    dead_letter: str | os.PathLike[str] | BinaryIO | None = None,
    max_errors: int | None = None,
    progress: Callable[[ConversionReport], None] | None = None,
    delimiter: str = ",",
    null_marker: str = "",
    workers: int | None = None,
) -> ConversionReport:
    """Convert records from ``input`` in ``from_format`` to ``output`` in ``to_format``.

    Schemas are text, or :class:`SchemaSource` (text plus the texts of its imports or
    references by name). Without ``to_schema`` the target schema is derived from the
    source schema (or inferred from the first records of an untyped source). Values
    are coerced into the target's types where that is unambiguous. ``on_error``:
    ``fail`` raises at the first bad record (and removes a partly written output
    file), ``skip`` counts and continues, ``dead-letter`` also writes the rejected
    input verbatim with the reason to ``dead_letter`` (NDJSON). ``max_errors`` caps
    skipped plus dead-lettered records. CSV and NDJSON inputs are converted in chunks by
    ``workers`` processes (default: one per core for inputs of 8 MiB and more).
    """
    for name, value in (("from_format", from_format), ("to_format", to_format)):
        if value not in FILE_FORMATS:
            raise ConfigError(f"unknown {name} {value!r}; use one of {', '.join(FILE_FORMATS)}")
    for name, value in (("input_framing", input_framing), ("output_framing", output_framing)):
        if value not in FRAMINGS:
            raise ConfigError(f"unknown {name} {value!r}; use one of {', '.join(FRAMINGS)}")
    if on_error not in ON_ERROR:
        raise ConfigError(f"unknown on_error {on_error!r}; use one of {', '.join(ON_ERROR)}")
    if on_error == "dead-letter" and dead_letter is None:
        raise ConfigError("on_error='dead-letter' needs a dead_letter file")
    if max_errors is not None and (isinstance(max_errors, bool) or not isinstance(max_errors, int) or max_errors < 0):
        raise ConfigError(f"max_errors must be a count (an integer of 0 or more), not {max_errors!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"workers must be a positive integer, not {workers!r}")
    if (input_framing != "none" or output_framing != "none") and registry is None:
        from ..registry.client import default_registry_location

        registry = default_registry_location()

    csv_options = {"delimiter": delimiter, "null_marker": null_marker}
    source_schema = None
    if schema is not None and input_framing == "none":
        options = csv_options if from_format == "csv" else {}
        source_schema = _named_message_hint(lambda: parse_for(from_format, schema, message=message, **options), "message")
    started = time.perf_counter()
    report = ConversionReport()
    with _open_in(input) as in_stream:
        if progress is not None:
            user_progress = progress

            def progress(report: ConversionReport) -> None:
                report.bytes_read = _position(in_stream)
                user_progress(report)

        reader = Reader(in_stream, from_format, source_schema, framing=input_framing, registry=registry, topic=topic,
                        csv_options=csv_options)
        items: Iterator[Item] = iter(reader)
        sample: list[Item] = []
        target_schema_parsed: ParsedSchema | None = None
        options = csv_options if to_format == "csv" else {}
        if to_schema is not None:
            target_schema_parsed = _named_message_hint(
                lambda: parse_for(to_format, to_schema, message=to_message, **options), "to_message")
        elif to_format in ("avro", "protobuf", "csv") or (to_format == "json" and (
                reader.schema is not None or (from_format == "csv" and input_framing == "none"))):
            # Derive from the source; an untyped source (or a framed one, whose schema is
            # only known per record) is inferred from its first records.
            sample, items = _sampled(items, INFER_SAMPLE) if (reader.schema is None or input_framing != "none"
                                                              or getattr(reader.schema, "record_schema", True) is None) else ([], items)
            source_model = _source_model(reader.schema, sample, input_framing)
            if source_model is None:
                raise ConfigError(f"cannot derive {_a(to_format)} {to_format} schema from {from_format} input; give --to-schema")
            derived = derive_schema(source_model, to_format)
            root = source_model.name if isinstance(source_model, m.Record) and to_format == "protobuf" else None
            target_schema_parsed = parse_for(to_format, derived, schema_type="AVRO", message=root, **options)
        elif to_format == "binary":
            raise ConfigError("binary output needs --to-type: the primitive type of its values, e.g. long or string")
        report.target_schema = target_schema_parsed.text if target_schema_parsed is not None else None

        coerce = _make_coercer(reader.schema, target_schema_parsed, input_framing, from_format)
        avro_lane = _avro_lane_applies(reader, target_schema_parsed, coerce, sample, output_framing)
        reader.avro_lane = avro_lane
        if _chunkable(reader, sample, output_framing):
            _convert_chunked(in_stream, reader, report, started, output, to_format, target_schema_parsed, coerce,
                             on_error, dead_letter, max_errors, progress, codec, avro_lane,
                             workers if workers is not None else _default_workers(input))
            report.seconds = time.perf_counter() - started
            report.bytes_read = _position(in_stream)
            return report
        items = _chain(sample, items)
        try:
            _pump(items, report, started, output, to_format, target_schema_parsed, coerce, on_error, dead_letter,
                  max_errors, progress, output_framing, registry, topic, subject, codec, avro_lane)
        finally:
            items.close()  # closes the reader's generators (and their text wrappers) now
        report.bytes_read = _position(in_stream)
    report.seconds = time.perf_counter() - started
    return report


def _pump(items: Iterator[Item], report: ConversionReport, started: float, output: Any, to_format: str,
          target_schema_parsed: ParsedSchema | None, coerce: Any, on_error: str, dead_letter: Any,
          max_errors: int | None, progress: Any, output_framing: str, registry: Any, topic: str | None,
          subject: str | None, codec: str, avro_lane: bool = False) -> None:
    with _open_out(output, remove_on_error=True) as out_stream, _open_dead_letter(dead_letter) as dead:
        writer = Writer(out_stream, to_format, target_schema_parsed, framing=output_framing, registry=registry,
                        topic=topic, subject=subject, codec=codec, avro_lane=avro_lane)
        try:
            _pump_items(items, report, started, writer, coerce, on_error, dead, max_errors, progress)
        finally:
            writer.close()  # on failure too: the output file is then removed whole


def _pump_items(items: Iterator[Item], report: ConversionReport, started: float, writer: "Writer",
                coerce: Callable[[Any, str], Any] | None, on_error: str, dead: BinaryIO | None,
                max_errors: int | None, progress: Callable[[ConversionReport], None] | None) -> None:
    last_progress = time.perf_counter()
    for item in items:
        report.read += 1
        error = item.error
        if error is None:
            try:
                record = coerce(item.record, "$") if coerce is not None and item.record is not None else item.record
                writer.write(record)
                report.written += 1
            except SerdeError as exc:
                error = exc.at(item.location)
            except RecursionError:
                error = _coerce.too_deep().at(item.location)
        if error is not None:
            _reject(report, item, error, on_error, dead, max_errors)
        if progress is not None and report.read % 1024 == 0:
            now = time.perf_counter()
            if now - last_progress >= PROGRESS_SECONDS:
                last_progress = now
                report.seconds = now - started
                progress(report)


def _lane_encoder(target: Any) -> Callable[[Any], bytes]:
    """The encoder of the target's codec schema without the lane's logical types: the
    one the Avro format itself keeps (AvroSchema.logical)."""
    return target.logical[0].binary_encode  # type: ignore[no-any-return]


def _position(stream: BinaryIO) -> int | None:
    try:
        return stream.tell()
    except (OSError, ValueError, AttributeError):
        return None


def _default_workers(input: Any) -> int:
    from ._chunked import default_workers

    return default_workers(input)


def _chunkable(reader: Reader, sample: list[Item], output_framing: str) -> bool:
    """Line-oriented text with a known schema (or none needed) converts in chunks."""
    from ..formats.csv import CsvSchema

    if sample or reader.framing != "none" or output_framing != "none":
        return False
    if reader.format_name == "json":
        return True
    return reader.format_name == "csv" and isinstance(reader.schema, CsvSchema) and reader.schema.record_schema is not None


def _convert_chunked(in_stream: BinaryIO, reader: Reader, report: ConversionReport, started: float, output: Any,
                     to_format: str, target: ParsedSchema | None, coerce: Any, on_error: str, dead_letter: Any,
                     max_errors: int | None, progress: Any, codec: str, avro_lane: bool, workers: int) -> None:
    import csv as _csv

    import orjson

    from . import _chunked
    from .._ocf import OcfWriter

    codec = "zstandard" if codec == "zstd" else codec
    job = _chunked.Job(
        source=reader.format_name,
        make_writer=lambda buffer: Writer(buffer, to_format, target, codec=codec, avro_lane=avro_lane, container=False),
        coerce=coerce,
        stop_at_first_error=on_error == "fail",
        compress=_chunked.deflater(codec) if to_format == "avro" else None,
    )
    stream: BinaryIO = in_stream
    first_line = 1
    if reader.format_name == "csv":
        schema = reader.schema
        quote = schema.quotechar.encode()  # type: ignore[union-attr]
        header_bytes, stream = _chunked.read_csv_header(in_stream, quote)  # type: ignore[assignment]
        if not header_bytes.strip():
            header: list[str] = []
        else:
            for number, line in enumerate(header_bytes.split(b"\n"), 1):
                problem = _chunked.utf8_problem(line)
                if problem is not None:
                    raise DecodeError(f"line {number}: {problem}")
            try:
                header = next(_csv.reader(io.StringIO(header_bytes.decode("utf-8")), delimiter=schema.delimiter))  # type: ignore[union-attr]
            except (_csv.Error, StopIteration) as exc:
                raise DecodeError(f"line 1: unreadable CSV header: {exc}") from None
            header = _clean_header(header)
        job.csv_schema = schema
        job.csv_order = _column_order(header, schema) if header else None
        job.csv_width = len(header) if header else None
        first_line = 1 + header_bytes.count(b"\n")
        if avro_lane:
            from .._avro_lane import typed_to_physical

            job.avro_lane = schema.avro_lane_parser()  # type: ignore[union-attr]
            job.to_physical = typed_to_physical(schema.model)  # type: ignore[union-attr]
            job.lane_encode = _lane_encoder(target)
        if not header:
            stream = io.BytesIO(b"")  # empty input: still write an (empty) output
    elif reader.schema is not None:
        job.json_decode = get_format("json").decoder(reader.schema)
    chunks = _chunked.split_records(stream, quote if reader.format_name == "csv" else None, first_line)

    with _open_out(output, remove_on_error=True) as out_stream, _open_dead_letter(dead_letter) as dead:
        container = None
        if to_format == "avro":
            container = OcfWriter(out_stream, orjson.dumps(target.expanded).decode(), codec)  # type: ignore[union-attr]
        elif to_format == "csv":
            head = Writer(out_stream, "csv", target)
            head.close()  # writes the header row only
        last_progress = [time.perf_counter()]

        def emit(result: Any) -> None:
            report.read += result.read
            report.written += result.written
            for error, raw in result.rejected:
                _reject(report, Item(error.location or "", raw, None, error), error, on_error, dead, max_errors)
            if container is not None:
                container.write_encoded_block(result.written, result.payload)
            elif result.payload:
                out_stream.write(result.payload)
            if progress is not None:
                now = time.perf_counter()
                if now - last_progress[0] >= PROGRESS_SECONDS:
                    last_progress[0] = now
                    report.seconds = now - started
                    progress(report)

        _chunked.run(job, chunks, workers, emit)
        if container is not None:
            container.close()


def _avro_lane_applies(reader: Reader, target: ParsedSchema | None, coerce: Any, sample: list[Item],
                       output_framing: str) -> bool:
    """CSV -> Avro file with the same model and nothing to coerce: take the direct lane."""
    from ..formats.avro import AvroSchema, _cavro
    from ..formats.csv import CsvSchema

    if not (reader.format_name == "csv" and reader.framing == "none" and output_framing == "none" and coerce is None):
        return False
    if sample or _cavro is None or not isinstance(reader.schema, CsvSchema) or reader.schema.record_schema is None:
        return False
    if not isinstance(target, AvroSchema) or getattr(target, "_use_reference_codec", False):
        return False
    from .._avro_lane import fits_lane, typed_to_physical

    # the lane writes primitives for the codec schema the Avro format strips; other
    # logical types (time-micros, decimals on fixed...) would be written in the wrong unit
    if not target.logical or not fits_lane(target.expanded):
        return False

    try:
        typed_to_physical(reader.schema.model)
    except ValueError:
        return False
    return True


def _chain(first: list[Item], rest: Iterator[Item]) -> Generator[Item, None, None]:
    yield from first
    yield from rest


def _source_model(schema: ParsedSchema | None, sample: list[Item], framing: str) -> m.Type | None:
    typed = schema is not None and framing == "none" and getattr(schema, "record_schema", True) is not None
    if typed:
        return model_of(schema)  # type: ignore[arg-type]
    from ..translate import infer

    records = [item.record for item in sample if item.error is None and isinstance(item.record, dict)]
    if not records:
        return None
    # CSV cells are text to be read (numbers, timestamps...), even inside nested columns
    from ..formats.csv import CsvSchema

    return infer(records, text=True) if isinstance(schema, CsvSchema) else infer(records)


def _make_coercer(source: ParsedSchema | None, target: ParsedSchema | None, framing: str,
                  source_format: str) -> Callable[[Any, str], Any] | None:
    if target is None:
        return None
    from ..formats.binary import BinarySchema

    if isinstance(target, BinarySchema):
        value_coercer = _coerce.build(target.model.fields[0].type)
        return lambda value, path: value_coercer(_single_value(value), path)
    target_model = model_of(target)
    if target_model is None:
        return None
    # Avro and CSV decoders already produce the model's Python types (datetime, Decimal,
    # UUID...); JSON and Protobuf give text or numbers for those, so they always coerce.
    if source is not None and framing == "none" and source_format in ("avro", "csv") and target.schema_type != "PROTOBUF":
        try:
            if model_of(source) == target_model:
                return None  # the decoder already produces the target's types
        except SerdeError:
            pass
    logical = _coerce.build(target_model)
    fold = _oneof_folder(source) if source_format == "protobuf" and framing == "none" else None
    if fold is not None:
        coerce_logical = logical
        logical = lambda value, path: coerce_logical(fold(value), path)  # noqa: E731
    if target.schema_type != "PROTOBUF":
        return logical
    # Protobuf carries decimals, dates, times and UUIDs as strings (the translation's
    # annotations say which): check the value as the logical type, then write its text.
    physical = _coerce.build(_protobuf_physical(target_model))
    unfold = _oneof_unfolder(target, target_model)
    # records may also name a oneof's members themselves (as Protobuf's JSON does)
    fold_members = _oneof_folder(target)
    if fold_members is not None:
        coerce_logical = logical
        logical = lambda value, path: coerce_logical(fold_members(value), path)  # noqa: E731
    if unfold is None:
        return lambda value, path: physical(logical(value, path), path)
    return lambda value, path: unfold(physical(logical(value, path), path))


# Protobuf oneofs: a decoded Protobuf dict holds one key per oneof member, the model one
# field per oneof (a union). The two walkers below move values between the two shapes at
# every depth (inside arrays, maps and recursive messages too), guided by the message
# descriptors; each message's layout is worked out once, on first use.


def _real_oneofs(message: Any) -> list[Any]:
    # proto3 `optional` makes a one-field synthetic oneof: that is an Optional, not a union
    return [o for o in message.oneofs if len(o.fields) > 1 or not o.name.startswith("_")]


def _message_children(message: Any) -> list[tuple[str, str, Any]]:
    """``(field name, "single" | "repeated" | "map", message type)`` for the fields of
    ``message`` that hold messages of the schema's own (well-known types hold none)."""
    children = []
    for fd in message.fields:
        child = fd.message_type
        if child is None:
            continue
        shape = "single"
        if child.GetOptions().map_entry:
            child, shape = child.fields_by_name["value"].message_type, "map"
        elif _is_repeated(fd):
            shape = "repeated"
        if child is not None and not child.full_name.startswith("google.protobuf."):
            children.append((fd.name, shape, child))
    return children


def _is_repeated(fd: Any) -> bool:
    flag = getattr(fd, "is_repeated", None)
    return bool(flag) if flag is not None else fd.label == 3  # older protobuf runtimes


def _has_oneofs(root: Any) -> bool:
    """Whether any message reachable from ``root`` has a oneof (recursion tracked)."""
    seen: set[str] = set()
    todo = [root]
    while todo:
        message = todo.pop()
        if message.full_name in seen:
            continue
        seen.add(message.full_name)
        if _real_oneofs(message):
            return True
        todo.extend(child for _, _, child in _message_children(message))
    return False


def _each_child(node: dict, children: list[tuple[str, str, Any]], visit: Callable[[Any, Any], None]) -> None:
    for name, shape, child in children:
        value = node.get(name)
        if value is None:
            continue
        if shape == "single":
            visit(value, child)
        elif shape == "repeated" and isinstance(value, list):
            for item in value:
                visit(item, child)
        elif shape == "map" and isinstance(value, dict):
            for item in value.values():
                visit(item, child)


def _oneof_folder(source: ParsedSchema | None) -> Callable[[Any], Any] | None:
    """Protobuf dicts hold one key per oneof member; the model one field per oneof."""
    root = getattr(source, "descriptor", None)
    if root is None or not _has_oneofs(root):
        return None
    layouts: dict[str, tuple[list[tuple[str, list[str]]], list[tuple[str, str, Any]]]] = {}

    def visit(node: Any, message: Any) -> None:
        if not isinstance(node, dict):
            return
        layout = layouts.get(message.full_name)
        if layout is None:
            oneofs = [(o.name, [f.name for f in o.fields]) for o in _real_oneofs(message)]
            layout = layouts[message.full_name] = (oneofs, _message_children(message))
        oneofs, children = layout
        _each_child(node, children, visit)  # members still under their own names here
        for name, members in oneofs:
            value = None
            found = False
            for member in members:
                if member in node:
                    found = True
                    member_value = node.pop(member)
                    if member_value is not None and value is None:
                        value = member_value
            if found or name not in node:
                node[name] = value

    def fold(record: Any) -> Any:
        visit(record, root)
        return record

    return fold


def _oneof_unfolder(target: ParsedSchema, model: m.Type) -> Callable[[Any], Any] | None:
    """The other way: a union field's value goes to the member of its type."""
    root = getattr(target, "descriptor", None)
    if root is None or not isinstance(model, m.Record) or not _has_oneofs(root):
        return None
    Members = list[tuple[str, m.Type, Callable[[Any, str], Any]]]
    layouts: dict[str, tuple[list[tuple[str, Members]], list[tuple[str, str, Any]]]] = {}

    def layout_of(message: Any, record: m.Record) -> tuple[list[tuple[str, Members]], list[tuple[str, str, Any]]]:
        layout = layouts.get(message.full_name)
        if layout is not None:
            return layout
        oneofs: list[tuple[str, Members]] = []
        for oneof in _real_oneofs(message):
            field = record.field(oneof.name)
            if field is None:
                continue
            union, _ = m.unwrap_optional(field.type)
            types = list(union.types) if isinstance(union, m.Union_) else [union]
            members = [f.name for f in oneof.fields]
            oneofs.append((oneof.name, [(member, t, _coerce.build(t)) for member, t in zip(members, types)]))
        layout = layouts[message.full_name] = (oneofs, _message_children(message))
        return layout

    records: dict[str, m.Record] = {}  # message full name -> its model record

    def record_of(message: Any, record: m.Record | None) -> m.Record | None:
        if record is not None:
            records.setdefault(message.full_name, record)
        return records.get(message.full_name)

    def child_record(record: m.Record, name: str, oneofs: list[tuple[str, Members]]) -> m.Record | None:
        """The model record of the messages under field ``name`` (a oneof member's type
        for a member)."""
        field = record.field(name)
        t: m.Type | None = field.type if field is not None else None
        if t is None:
            for _, members in oneofs:
                t = next((member_type for member, member_type, _ in members if member == name), None)
                if t is not None:
                    break
        while t is not None and not isinstance(t, m.Record):
            if isinstance(t, m.Optional):
                t = t.type
            elif isinstance(t, m.Array):
                t = t.items
            elif isinstance(t, m.Map):
                t = t.values
            elif isinstance(t, m.Ref):
                t = t.record
            else:
                t = None
        return t

    def visit(node: Any, message: Any, record: m.Record | None) -> None:
        record = record_of(message, record)
        if not isinstance(node, dict) or record is None:
            return
        oneofs, children = layout_of(message, record)
        for name, members in oneofs:
            if name not in node:
                continue
            value = node.pop(name)
            if value is None:
                continue
            exact = [(member, accepts) for member, t, accepts in members if _coerce.matches(t, value)]
            for member, accepts in exact or [(member, accepts) for member, _, accepts in members]:
                try:
                    node[member] = accepts(value, name)
                    break
                except SerdeError:
                    continue
        for name, shape, child in children:
            inner = child_record(record, name, oneofs)
            _each_child(node, [(name, shape, child)], lambda value, message, r=inner: visit(value, message, r))

    def unfold(record: Any) -> Any:
        visit(record, root, model)
        return record

    return unfold


def _protobuf_physical(t: m.Type, building: dict[str, m.RecordSlot] | None = None) -> m.Type:
    # ``building``: the records being rebuilt around ``t``, so a recursive Ref points at
    # the rebuilt (physical) record, not at the logical one
    building = {} if building is None else building
    if isinstance(t, m.Decimal) or (isinstance(t, m.Scalar) and t.kind in (m.UUID, m.DATE, m.TIME_MILLIS)):
        return m.Scalar(m.STRING)
    if isinstance(t, m.Optional):
        return m.Optional(_protobuf_physical(t.type, building))
    if isinstance(t, m.Array):
        return m.Array(_protobuf_physical(t.items, building))
    if isinstance(t, m.Map):
        return m.Map(_protobuf_physical(t.values, building))
    if isinstance(t, m.Union_):
        return m.Union_(tuple(_protobuf_physical(x, building) for x in t.types))
    if isinstance(t, m.Ref):
        if t.name in building:
            return building[t.name].ref()
        return _protobuf_physical(t.record, building)
    if isinstance(t, m.Record):
        slot = building[t.name] = m.RecordSlot(t.name)
        try:
            fields = tuple(m.Field(f.name, _protobuf_physical(f.type, building), f.default, f.has_default) for f in t.fields)
        finally:
            del building[t.name]
        return slot.bind(m.Record(t.name, fields))
    return t


class _open_in:
    def __init__(self, target: Any) -> None:
        self.target = target
        self.stream: BinaryIO | None = None
        self.owned = False

    def __enter__(self) -> BinaryIO:
        if isinstance(self.target, (str, os.PathLike)):
            if os.fspath(self.target) == "-":
                return sys.stdin.buffer
            try:
                self.stream = open(self.target, "rb")  # noqa: SIM115 - closed in __exit__
            except OSError as exc:
                raise ConfigError(f"cannot read {os.fspath(self.target)}: {exc.strerror}") from None
            self.owned = True
            return self.stream
        _need_binary(self.target, "input")
        return self.target  # type: ignore[no-any-return]

    def __exit__(self, *exc: Any) -> None:
        if self.owned and self.stream is not None:
            self.stream.close()


class _open_out:
    """Writes a regular file through a temporary file beside it, renamed into place on
    success, so a failed conversion never leaves a partial file behind. A symlink is
    followed (the file it points to is replaced, the link stays); anything that is not
    a regular file (a FIFO, /dev/stdout, a device) is written in place. The new file
    gets the old file's permissions, or the umask's for a new one."""

    def __init__(self, target: Any, remove_on_error: bool) -> None:
        self.target = target
        self.remove_on_error = remove_on_error
        self.tmp: str | None = None
        self.final: str | None = None
        self.stream: IO[bytes] | None = None
        self.in_place = False

    def __enter__(self) -> BinaryIO:
        import stat

        if not isinstance(self.target, (str, os.PathLike)):
            _need_binary(self.target, "output")
            return self.target  # type: ignore[no-any-return]
        path = os.fspath(self.target)
        if path == "-":
            return sys.stdout.buffer
        final = os.path.realpath(path)
        try:
            mode = os.stat(final).st_mode
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
        try:
            if mode is not None and not stat.S_ISREG(mode):
                self.in_place = True
                self.stream = open(final, "wb")  # noqa: SIM115 - closed in __exit__
                return self.stream  # type: ignore[return-value]
            fd, self.tmp = tempfile.mkstemp(prefix=".serde-", suffix=".partial", dir=os.path.dirname(final))
        except OSError as exc:
            raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
        if mode is not None:
            os.chmod(self.tmp, stat.S_IMODE(mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp, 0o666 & ~umask)
        self.final = final
        self.stream = os.fdopen(fd, "wb")
        return self.stream  # type: ignore[return-value]

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if self.stream is None:
            return
        self.stream.close()
        if self.in_place:
            return
        assert self.tmp is not None and self.final is not None
        if kind is None or not self.remove_on_error:
            os.replace(self.tmp, self.final)
        else:
            os.unlink(self.tmp)


def _need_binary(stream: Any, what: str) -> None:
    if isinstance(stream, io.TextIOBase):
        raise ConfigError(f"the {what} stream must be binary (open it with 'rb'/'wb', or pass sys.std*.buffer)")


class _open_dead_letter:
    def __init__(self, target: Any) -> None:
        self.target = target
        self.stream: Any = None

    def __enter__(self) -> BinaryIO | None:
        if self.target is None:
            return None
        if isinstance(self.target, (str, os.PathLike)):
            try:
                self.stream = open(self.target, "wb")  # noqa: SIM115 - closed in __exit__
            except OSError as exc:
                raise ConfigError(f"cannot write dead-letter file {os.fspath(self.target)}: {exc.strerror}") from None
            return self.stream  # type: ignore[no-any-return]
        return self.target  # type: ignore[no-any-return]

    def __exit__(self, *exc: Any) -> None:
        if self.stream is not None:
            self.stream.close()


def _reject(report: ConversionReport, item: Item, error: SerdeError, on_error: str, dead: BinaryIO | None,
            max_errors: int | None) -> None:
    """Apply the error policy to one rejected record: raise, or count it (and keep the
    first hundred reasons), dead-letter it, and stop past ``max_errors``."""
    if on_error == "fail":
        raise error
    report.rejected += 1
    if len(report.errors) < 100:
        report.errors.append(str(error))
    if dead is not None:
        _write_dead_letter(dead, item, error)
    if max_errors is not None and report.rejected > max_errors:
        raise SerdeError(f"more than {max_errors} rejected records; stopping (last: {error})")


def _write_dead_letter(stream: BinaryIO, item: Item, error: SerdeError) -> None:
    import orjson

    entry: dict[str, Any] = {"location": item.location, "path": error.path, "reason": error.reason,
                             "error": type(error).__name__}
    if item.raw is not None:
        try:
            entry["input"] = item.raw.decode("utf-8")
        except UnicodeDecodeError:
            entry["input_base64"] = base64.b64encode(item.raw).decode("ascii")
    elif item.record is not None:
        from ..formats.jsonschema import _default

        entry["record"] = orjson.loads(orjson.dumps(item.record, default=_default))
    stream.write(orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))
