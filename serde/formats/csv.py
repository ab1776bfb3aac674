"""CSV: one record per row (RFC 4180), columns and types from a record schema.

The record schema is an Avro record, a JSON Schema object or a Protobuf message, the
same schema that lives in the registry for the topic, so CSV data is as typed as any
other format. Column naming (flattening):

* a scalar field is one column named after the field;
* a nested record contributes its fields as ``parent.child`` columns (recursively);
* arrays, maps and unions of several record shapes are one column holding JSON text;
* a recursive use of a record (a linked list's ``next``, a tree's children) is one
  column of JSON text too: a type that contains itself has no fixed set of columns,
  so its nested values stay whole in one cell (``{"value": 2, "next": null}``).

Cell values: the null marker (default: empty) is null for nullable columns; booleans
are ``true``/``false``; timestamps ISO-8601 (epoch milliseconds accepted on input);
dates ``YYYY-MM-DD``; decimals as plain decimal text; bytes as base64; enums by name.
As a Kafka value, a message is one row without header or line end.
"""
from __future__ import annotations

import base64
import csv
import datetime as dt
import decimal
import io
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence

from .. import _coerce
from .. import _model as m
from .._errors import DecodeError, RecordInvalid, SchemaParseError, SerdeError
from .._types import SchemaSource
from ._base import Decoder, Encoder, Format, ParsedSchema, as_source

_RECORD_FORMATS = {"AVRO": "avro", "JSON": "json", "PROTOBUF": "protobuf"}


@dataclass(frozen=True)
class Column:
    name: str  # dotted path, e.g. "shipping.city"
    path: tuple[str, ...]
    type: m.Type  # the field's type, Optional unwrapped
    nullable: bool
    parse: Callable[[Any, str], Any]  # any value -> typed value, explaining errors (slow path)
    json_text: bool  # arrays/maps/unions travel as JSON text
    parse_text: Callable[[str], Any] = str  # cell text -> typed value, fast; errors re-run `parse`
    has_default: bool = False  # the schema gives the field a default (used when a CSV lacks the column)
    default: Any = None


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def format_cell(value: Any, null_marker: str) -> str:
    """The text of one cell (the inverse of the column's parser)."""
    if value is None:
        return null_marker
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")  # plain text, never "1E-10"
    if isinstance(value, (int, uuid.UUID)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    from .jsonschema import json_dumps

    try:  # JSON text cells: exact big integers, and NaN refused rather than written as null
        return json_dumps(value).decode("utf-8")
    except (TypeError, ValueError) as exc:
        raise RecordInvalid(f"cannot be written as JSON text: {exc}", path="$") from None


def _json_quote(text: str) -> str:
    import orjson

    return orjson.dumps(text).decode("utf-8")


def _json_cell(value: Any) -> str:
    from .jsonschema import json_dumps

    try:
        return json_dumps(value).decode("utf-8")
    except (TypeError, ValueError) as exc:
        raise RecordInvalid(f"cannot be written as JSON text: {exc}", path="$") from None


def _union_cell(coerce: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    import orjson

    def parse(value: Any, path: str) -> Any:
        if isinstance(value, str):
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise RecordInvalid(f"a union cell holds JSON, not {value!r}", path=path) from None
        return coerce(value, path)

    return parse


def _columns(record: m.Record, prefix: tuple[str, ...] = ()) -> list[Column]:
    out: list[Column] = []
    for f in record.fields:
        inner, nullable = m.unwrap_optional(f.type)
        nullable = nullable or inner == m.Scalar(m.NULL)  # Avro's "null" type: always a null cell
        path = prefix + (f.name,)
        if isinstance(inner, m.Record) and not nullable:
            out.extend(_columns(inner, path))
            continue
        # a Ref is never flattened: its record is the one being flattened, so its columns
        # would go on forever; like a nullable record it is a JSON text cell
        json_text = isinstance(inner, (m.Array, m.Map, m.Union_, m.Record, m.Ref))
        if isinstance(inner, m.Union_):
            # a union cell is JSON, so 5 and "5" stay apart: text is quoted there
            parse = _union_cell(_coerce.build(inner))
            out.append(Column(".".join(path), path, inner, nullable, parse, True, lambda text, p=parse: p(text, "$"),
                              f.has_default, f.default))
            continue
        out.append(Column(".".join(path), path, inner, nullable, _coerce.build(inner), json_text, _coerce.text_parser(inner),
                          f.has_default, f.default))
    return out


def _assembler(columns: list[Column]) -> Callable[[list[Any]], dict[str, Any]]:
    """A function building the (nested) record from the column values in order, as one
    generated dict display: the per-row cost is one call, with no loop or setdefault."""
    tree: dict[str, Any] = {}
    for index, column in enumerate(columns):
        node = tree
        for part in column.path[:-1]:
            node = node.setdefault(part, {})
        node[column.path[-1]] = index

    def render(node: dict[str, Any]) -> str:
        items = []
        for key, value in node.items():
            items.append(f"{key!r}: " + (f"v[{value}]" if isinstance(value, int) else render(value)))
        return "{" + ", ".join(items) + "}"

    namespace: dict[str, Any] = {}
    exec(f"def assemble(v):\n    return {render(tree)}\n", namespace)  # noqa: S102 - code built from field names via repr
    return namespace["assemble"]  # type: ignore[no-any-return]


def _fast_row_parser(columns: list[Column], null_marker: str,
                     parsers: list[Callable[[str], Any]] | None = None) -> Callable[[Sequence[str]], dict[str, Any]]:
    """Generated code parsing one row into its record, one expression per column
    (``parsers`` replaces the columns' own text parsers, e.g. for the Avro lane)."""
    tree: dict[str, Any] = {}
    namespace: dict[str, Any] = {"null": null_marker}
    for index, column in enumerate(columns):
        node = tree
        for part in column.path[:-1]:
            node = node.setdefault(part, {})
        parse = f"p{index}"
        namespace[parse] = parsers[index] if parsers is not None else column.parse_text
        cell = f"r[{index}]"
        if namespace[parse] is str:
            expression = f"(None if {cell} == null else {cell})" if column.nullable else cell
        elif column.nullable:
            expression = f"(None if {cell} == null else {parse}({cell}))"
        else:
            expression = f"{parse}({cell})"
        node[column.path[-1]] = expression

    def render(node: dict[str, Any]) -> str:
        return "{" + ", ".join(f"{k!r}: " + (v if isinstance(v, str) else render(v)) for k, v in node.items()) + "}"

    exec(f"def parse_row(r):\n    return {render(tree)}\n", namespace)  # noqa: S102 - names via repr only
    return namespace["parse_row"]  # type: ignore[no-any-return]


def reordered(schema: "CsvSchema", row: Sequence[str], raw: str,
              order: list[int | None]) -> tuple[list[str], list[bool] | None]:
    """A row whose header has the schema's columns in another order (or lacks columns
    that have defaults: None in ``order``), in schema order, with the quoting of its
    cells (to tell quoted null-marker text from a null)."""
    quoted = None
    if schema.quoted_null in raw and schema.null_marker in row:
        flags = quoted_flags(raw, schema.delimiter, schema.quotechar)
        quoted = [flags[i] if i is not None and i < len(flags) else False for i in order]
    cells = []
    for index, i in enumerate(order):
        if i is not None:
            cells.append(row[i])
            continue
        text, quote = schema.default_cell(index)
        cells.append(text)
        if quote:
            quoted = quoted or [False] * len(order)
            quoted[index] = True
    return cells, quoted


def column_order(schema: "CsvSchema", header: Sequence[str]) -> list[int | None] | None:
    """Where each of the schema's columns is in ``header`` (None: absent, and taking the
    schema's default), or None when the header is the schema's own."""
    columns = schema.header
    if list(header) == columns:
        return None
    missing = [c.name for c in schema.columns if c.name not in header and not (c.has_default or c.nullable)]
    if missing:
        raise DecodeError(f"line 1: the CSV header lacks the schema's columns {', '.join(missing)} "
                          "(only columns with a default, or nullable ones, may be left out)")
    extra = [h for h in header if h not in columns]
    if extra:
        raise DecodeError(f"line 1: the CSV header has columns the schema does not know: {', '.join(extra)}")
    return [list(header).index(c) if c in header else None for c in columns]


class CsvSchema(ParsedSchema):
    """A record schema seen as CSV columns. ``schema_type`` is the record schema's
    (so framed CSV registers it), ``record`` the parsed record schema."""

    def __init__(
        self,
        source: SchemaSource,
        record_schema: ParsedSchema | None,
        model: m.Record,
        *,
        delimiter: str,
        null_marker: str,
        quotechar: str,
    ) -> None:
        super().__init__(source.text, source.references, model.name if record_schema is not None else None)
        self.record_schema = record_schema
        self.schema_type = record_schema.schema_type if record_schema is not None else None  # type: ignore[misc]
        self.frame_suffix = record_schema.frame_suffix if record_schema is not None else b""  # type: ignore[misc]
        self.model = model
        self.columns = _columns(model)
        self.header = [c.name for c in self.columns]
        self._width = len(self.columns)
        self._assemble = _assembler(self.columns)
        self._fast_row = _fast_row_parser(self.columns, null_marker)
        self.delimiter = delimiter
        self.null_marker = null_marker
        self.quotechar = quotechar
        self.quoted_null = quotechar + null_marker.replace(quotechar, quotechar * 2) + quotechar

    def default_cell(self, index: int) -> tuple[str, bool]:
        """The cell text (and whether it counts as quoted) of column ``index``'s default,
        for input that lacks the column; a column without a default is nullable: null."""
        column = self.columns[index]
        if not column.has_default or column.default is None:
            return self.null_marker, False
        default = column.default
        if isinstance(column.type, m.Union_):
            return _json_cell(default), True
        if column.json_text and not isinstance(default, str):
            return _json_cell(default), True
        if column.type == m.Scalar(m.BYTES) and isinstance(default, str):
            default = default.encode("latin-1")  # an Avro bytes default: one code point per byte
        return format_cell(default, self.null_marker), True

    # -- rows <-> records ----------------------------------------------------------------
    def row_to_record(self, row: Sequence[str], raw: str | None = None, quoted: list[bool] | None = None) -> dict[str, Any]:
        """The record of one row. ``raw`` is the row's text: with the empty null marker
        it tells an empty string (``""``, quoted) from a null (nothing)."""
        if len(row) != self._width:
            raise DecodeError(f"expected {len(self.columns)} columns ({', '.join(self.header)}), got {len(row)}")
        if quoted is None and (raw is None or self.quoted_null not in raw or self.null_marker not in row):
            # the common row: no quoted empty cell to tell from a null, so the generated
            # straight-line parser does it all; any failure re-runs the explaining loop
            try:
                return self._fast_row(row)
            except (ValueError, TypeError, ArithmeticError, SerdeError):
                pass
        null = self.null_marker
        if quoted is None and raw is not None and self.quoted_null in raw and null in row:
            quoted = quoted_flags(raw, self.delimiter, self.quotechar)
        values = []
        for index, (column, text) in enumerate(zip(self.columns, row)):
            if text == null:
                if quoted is not None and index < len(quoted) and quoted[index]:
                    # quoted, so not a null: the marker's text itself ("" or "NULL"),
                    # or empty bytes (base64 "")
                    values.append(self._slow_parse(column, text))
                elif column.nullable:
                    values.append(None)
                elif column.parse_text is str:
                    values.append(text)
                else:
                    raise DecodeError(f"empty value in non-nullable column {column.name!r}", path=f"$.{column.name}")
                continue
            try:
                values.append(column.parse_text(text))
            except (ValueError, TypeError, ArithmeticError, SerdeError):
                values.append(self._slow_parse(column, text))
        return self._assemble(values)

    def avro_lane_parser(self) -> Callable[[Sequence[str]], dict[str, Any]]:
        """A row parser producing Avro's primitive values directly (see serde._avro_lane);
        rows it cannot take raise, and go through :meth:`row_to_record`."""
        from .._avro_lane import text_to_physical, typed_to_physical

        parsers: list[Callable[[str], Any]] = []
        for column in self.columns:
            direct = text_to_physical(column.type)
            if direct is None:
                convert = typed_to_physical(column.type)
                parse_text = column.parse_text
                direct = parse_text if convert is None else (lambda text, p=parse_text, c=convert: c(p(text)))
            parsers.append(direct)
        return _fast_row_parser(self.columns, self.null_marker, parsers)

    @staticmethod
    def _slow_parse(column: Column, text: str) -> Any:
        try:
            return column.parse(text, f"$.{column.name}")
        except RecordInvalid as exc:
            raise DecodeError(exc.reason, path=exc.path) from None

    def record_to_row(self, record: Mapping[str, Any]) -> list[str]:
        if not isinstance(record, Mapping):
            raise RecordInvalid(f"a CSV row needs a record (a mapping), not {type(record).__name__}", path="$")
        row = []
        null = self.null_marker
        for column in self.columns:
            value: Any = record
            for part in column.path:
                value = value.get(part) if isinstance(value, Mapping) else None
            if value is None:
                if not column.nullable:
                    raise RecordInvalid("missing value for non-nullable column", path=f"$.{column.name}")
                row.append(null)
                continue
            # Check the value against the column type so we never write a row
            # that cannot be read back.
            try:
                if isinstance(column.type, m.Union_):
                    value = column.parse(value if not isinstance(value, str) else _json_quote(value), f"$.{column.name}")
                    cell = _json_cell(value)
                else:
                    value = column.parse(value, f"$.{column.name}")
                    cell = format_cell(value, null)
            except RecordInvalid as exc:
                if exc.path == "$":
                    exc.path = f"$.{column.name}"
                raise
            if cell == null:
                # a value whose text is the null marker ("" by default) is written
                # quoted, which is how a reader tells it from a null
                cell = QuotedEmpty(cell)
            row.append(cell)
        return row


class QuotedEmpty(str):
    """A cell that must be written quoted (an empty string where empty means null)."""


def needs_custom_quoting(row: Sequence[str]) -> bool:
    for cell in row:
        if type(cell) is QuotedEmpty:
            return True
    return False


def format_row(row: Sequence[str], delimiter: str, quotechar: str) -> str:
    """One CSV line (no line end) quoting what csv.writer would, plus QuotedEmpty cells."""
    specials = (delimiter, quotechar, "\r", "\n")
    out = []
    for cell in row:
        if type(cell) is QuotedEmpty or any(ch in cell for ch in specials):
            out.append(quotechar + cell.replace(quotechar, quotechar * 2) + quotechar)
        else:
            out.append(cell)
    return delimiter.join(out)


_FIELD_PATTERNS: dict[tuple[str, str], Any] = {}


def quoted_flags(raw: str, delimiter: str, quotechar: str) -> list[bool]:
    """For each field of one CSV record's text, whether it was quoted."""
    pattern = _FIELD_PATTERNS.get((delimiter, quotechar))
    if pattern is None:
        import re

        d, q = re.escape(delimiter), re.escape(quotechar)
        # a record may end in \r\n, \n or a lone \r, as csv.reader reads it
        pattern = re.compile(f"(?:({q})(?:[^{q}]|{q}{q})*{q}[^{d}\\r\\n]*|[^{d}\\r\\n]*)(?:{d}|\\r\\n?|\\n|$)")
        _FIELD_PATTERNS[(delimiter, quotechar)] = pattern
    flags = []
    position = 0
    while True:
        match = pattern.match(raw, position)
        if match is None:  # pragma: no cover - the pattern matches the empty field
            return flags
        flags.append(match.group(1) is not None)
        position = match.end()
        if position == match.start() or raw[position - 1] != delimiter:
            return flags


def _is_text(t: m.Type) -> bool:
    return isinstance(t, m.Scalar) and t.kind in (m.STRING, m.ANY)


def _nestable(header: Sequence[str]) -> bool:
    paths = [h.split(".") for h in header]
    prefixes = {tuple(p[:i]) for p in paths for i in range(1, len(p))}
    return bool(prefixes) and not any(tuple(p) in prefixes for p in paths) and not any("" in p for p in paths)


def nest_columns(header: Sequence[str]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A function turning a row keyed by column names into its record, with dotted column
    names (``shipping.city``, as serde writes nested records) nested again, by the same
    rule as :func:`untyped_model`; rows of a header without nesting come back as they are."""
    if not _nestable(header):
        return dict
    paths = {h: h.split(".") for h in header}

    def nest(row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in row.items():
            path = paths.get(key) if isinstance(key, str) else None
            if path is None:
                out[key] = value
                continue
            node = out
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
        return out

    return nest


def untyped_model(header: Sequence[str], name: str = "Row") -> m.Record:
    """The model for CSV with no schema: every column is nullable text, and dotted
    column names (``shipping.city``, as serde writes nested records) nest again, unless
    a name is both a column and a prefix (then the columns stay as they are)."""
    text = m.Optional(m.Scalar(m.STRING))
    paths = [h.split(".") for h in header]
    prefixes = {tuple(p[:i]) for p in paths for i in range(1, len(p))}
    if any(tuple(p) in prefixes for p in paths) or any("" in p for p in paths):
        return m.Record(name, tuple(m.Field(h, text, None, True) for h in header))

    def build(record_name: str, rows: list[list[str]]) -> m.Record:
        fields: list[m.Field] = []
        groups: dict[str, list[list[str]]] = {}
        for path in rows:
            if len(path) == 1:
                fields.append(m.Field(path[0], text, None, True))
            else:
                if path[0] not in groups:
                    groups[path[0]] = []
                    fields.append(m.Field(path[0], m.Scalar(m.ANY), None, False))  # placeholder, in column order
                groups[path[0]].append(path[1:])
        return m.Record(record_name, tuple(
            m.Field(f.name, build(f.name[:1].upper() + f.name[1:], groups[f.name]), None, False)
            if f.name in groups else f for f in fields))

    return build(name, paths)


class CsvFormat(Format):
    name = "csv"
    schema_type = None  # no schema of its own: a CsvSchema borrows its record schema's

    def parse_schema(
        self,
        source: str | SchemaSource,
        *,
        record_type: str = "AVRO",
        delimiter: str = ",",
        null_marker: str = "",
        quotechar: str = '"',
        message: str | None = None,
        **options: Any,
    ) -> CsvSchema:
        from . import get_format

        source = as_source(source)
        record_type = record_type.upper()
        if record_type not in _RECORD_FORMATS:
            raise SchemaParseError(f"CSV columns come from an AVRO, JSON or PROTOBUF record schema, not {record_type}")
        if len(delimiter) != 1:
            raise SchemaParseError(f"the CSV delimiter must be one character, not {delimiter!r}")
        inner_format = get_format(_RECORD_FORMATS[record_type])
        inner_options = {"message": message} if message and record_type == "PROTOBUF" else {}
        record_schema = inner_format.parse_schema(source, **inner_options)
        model = record_model(record_schema)
        return CsvSchema(source, record_schema, model, delimiter=delimiter, null_marker=null_marker, quotechar=quotechar)

    def schema_for_columns(self, header: Sequence[str], *, delimiter: str = ",", null_marker: str = "", quotechar: str = '"') -> CsvSchema:
        """A schema-less CSV: the header names the columns, every value is text."""
        return CsvSchema(SchemaSource(""), None, untyped_model(header), delimiter=delimiter, null_marker=null_marker, quotechar=quotechar)

    def encoder(self, schema: ParsedSchema, **options: Any) -> Encoder:
        assert isinstance(schema, CsvSchema)
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=schema.delimiter, quotechar=schema.quotechar, lineterminator="\n")
        to_row = schema.record_to_row

        def encode_record(record: Any) -> bytes:
            row = to_row(record)
            if needs_custom_quoting(row):
                return format_row(row, schema.delimiter, schema.quotechar).encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(row)
            return buffer.getvalue()[:-1].encode("utf-8")

        return encode_record

    def decoder(self, schema: ParsedSchema, reader: ParsedSchema | None = None, **options: Any) -> Decoder:
        assert isinstance(schema, CsvSchema)
        to_record = schema.row_to_record
        delimiter, quotechar = schema.delimiter, schema.quotechar

        def decode_record(data: bytes) -> Any:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DecodeError(f"CSV row is not UTF-8: {exc.reason} at byte {exc.start}") from None
            try:
                rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar, strict=True))
            except csv.Error as exc:
                raise DecodeError(f"malformed CSV row: {exc}") from None
            if len(rows) != 1:
                raise DecodeError(f"a CSV message holds one row, this one has {len(rows)}")
            return to_record(rows[0], text)

        return decode_record

    def read_rows(self, schema: CsvSchema, lines: Iterator[str]) -> Iterator[list[str]]:
        return csv.reader(lines, delimiter=schema.delimiter, quotechar=schema.quotechar, strict=True)


def record_model(schema: ParsedSchema) -> m.Record:
    """The model of a record schema (Avro record, JSON object, Protobuf message)."""
    model = getattr(schema, "model", None)
    if model is None:
        from ..translate import to_model

        try:
            model = to_model(schema.schema_type or "", schema.text, schema.references, **_model_options(schema))
        except SerdeError:
            raise
    if not isinstance(model, m.Record):
        raise SchemaParseError(f"CSV needs a record schema (fields become columns), not {type(model).__name__}")
    return model


def _model_options(schema: ParsedSchema) -> dict[str, Any]:
    message = schema.record_name if schema.schema_type == "PROTOBUF" else None
    return {"message": message} if message else {}
