"""Avro: schema-less binary datums, as Confluent frames them.

``fastavro`` is the reference: it parses and checks every schema and can do all the
encoding. ``cavro`` (a Cython codec that writes byte-identical output) is used for the
per-record path when installed because it is measurably faster (benchmarks/). Both are
configured so that they accept and return the same Python values: dicts for records,
``datetime``/``date``/``Decimal``/``UUID`` for logical types, naive datetimes as UTC,
defaults filled in for missing fields.
"""
from __future__ import annotations

import io
import json
from typing import Any, Mapping

from .._errors import DecodeError, RecordInvalid, SchemaParseError
from .._types import SchemaSource
from ._base import Decoder, Encoder, Format, ParsedSchema, as_source

try:  # optional accelerator; fastavro stays the reference implementation
    import cavro as _cavro
except ImportError:  # pragma: no cover - exercised only where cavro is absent
    _cavro = None

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


class AvroSchema(ParsedSchema):
    schema_type = "AVRO"

    def __init__(self, text: str, references: Mapping[str, str], record_name: str | None, expanded: Any, parsed: Any) -> None:
        super().__init__(text, references, record_name)
        self.expanded = expanded  # the schema JSON with referenced named types inlined
        self.parsed = parsed  # fastavro's parsed form
        self._cavro: Any = None

    @property
    def cavro(self) -> Any:
        if self._cavro is None:
            self._cavro = _cavro.Schema(self.expanded, options=_cavro_options())
        return self._cavro


_CAVRO_OPTIONS: Any = None


def _cavro_options() -> Any:
    global _CAVRO_OPTIONS
    if _CAVRO_OPTIONS is None:
        # Each flag makes cavro accept/return exactly what fastavro (and so
        # confluent-kafka's AvroSerializer) accepts/returns.
        _CAVRO_OPTIONS = _cavro.Options(
            record_decodes_to_dict=True,
            return_uuid_object=True,
            naive_dt_assume_utc=True,
            record_encode_use_defaults=True,
            missing_values_can_be_null=True,
            record_allow_extra_fields=True,
            coerce_int_to_float=True,
            invalid_value_include_array_index=True,
            invalid_value_include_map_key=True,
        )
    return _CAVRO_OPTIONS


def _fullname(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def _inline_references(schema: Any, references: Mapping[str, Any]) -> Any:
    """Return ``schema`` with every named type that is defined only in a reference
    inlined at its first use, so a single-schema codec can handle it.

    ``references`` maps reference name -> parsed JSON of the referenced schema. A
    reference's own types are indexed by full name (the Confluent convention is that
    the reference name is the type's full name, but we index by the definitions).
    """
    library: dict[str, Any] = {}

    def index(node: Any, namespace: str | None) -> None:
        if isinstance(node, list):
            for item in node:
                index(item, namespace)
        elif isinstance(node, dict):
            kind = node.get("type")
            if kind in ("record", "error", "enum", "fixed") and "name" in node:
                full = _fullname(node["name"], node.get("namespace", namespace))
                library.setdefault(full, node)
                namespace = full.rpartition(".")[0] or None
            for field in node.get("fields", []) or []:
                index(field.get("type"), namespace)
            for key in ("items", "values"):
                if key in node:
                    index(node[key], namespace)
            if isinstance(kind, (dict, list)):
                index(kind, namespace)

    for ref in references.values():
        index(ref, None)

    defined: set[str] = set()

    def walk(node: Any, namespace: str | None) -> Any:
        if isinstance(node, str):
            if node in _PRIMITIVES:
                return node
            full = _fullname(node, namespace)
            for candidate in (full, node):
                if candidate in defined:
                    return candidate
                if candidate in library:
                    definition = library[candidate]
                    defined.add(candidate)
                    inlined = dict(definition)
                    # keep the full name so the inlined copy means the same type here
                    inlined["name"] = candidate
                    inlined.pop("namespace", None)
                    return walk_named(inlined, candidate)
            return node
        if isinstance(node, list):
            return [walk(item, namespace) for item in node]
        if isinstance(node, dict):
            kind = node.get("type")
            if kind in ("record", "error", "enum", "fixed") and "name" in node:
                full = _fullname(node["name"], node.get("namespace", namespace))
                defined.add(full)
                return walk_named(node, full)
            out = dict(node)
            if isinstance(kind, (str, list, dict)):
                out["type"] = walk(kind, namespace)
            for key in ("items", "values"):
                if key in node:
                    out[key] = walk(node[key], namespace)
            return out
        return node

    def walk_named(node: dict, full: str) -> dict:
        namespace = full.rpartition(".")[0] or None
        out = dict(node)
        if "fields" in node:
            out["fields"] = [dict(f, type=walk(f.get("type"), namespace)) for f in node["fields"]]
        return out

    return walk(schema, None)


def _record_name(schema: Any) -> str | None:
    if isinstance(schema, dict) and schema.get("type") in ("record", "error", "enum", "fixed"):
        return _fullname(schema["name"], schema.get("namespace"))
    return None


def _path_text(path: Any) -> str:
    out = "$"
    for part in path or ():
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


class AvroFormat(Format):
    name = "avro"
    schema_type = "AVRO"

    def parse_schema(self, source: str | SchemaSource, **options: Any) -> AvroSchema:
        import fastavro
        from fastavro.schema import SchemaParseException, UnknownType

        source = as_source(source)
        try:
            raw = json.loads(source.text)
        except json.JSONDecodeError as exc:
            raise SchemaParseError(f"Avro schema is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
        refs: dict[str, Any] = {}
        for name, text in source.references.items():
            try:
                refs[name] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SchemaParseError(f"referenced Avro schema {name!r} is not JSON: {exc.msg}") from exc
        expanded = _inline_references(raw, refs) if refs else raw
        try:
            parsed = fastavro.parse_schema(expanded, _write_hint=False)
        except (SchemaParseException, UnknownType, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SchemaParseError(f"invalid Avro schema: {exc}") from exc
        if _cavro is not None and not options.get("reference_codec"):
            try:  # cavro is stricter in a few corners; fall back to fastavro there
                _cavro.Schema(expanded, options=_cavro_options())
            except Exception:  # noqa: BLE001 - any cavro refusal just means "use fastavro"
                options["reference_codec"] = True
        schema = AvroSchema(source.text, source.references, _record_name(raw), expanded, parsed)
        schema._use_reference_codec = bool(options.get("reference_codec")) or _cavro is None  # type: ignore[attr-defined]
        return schema

    # -- encoding ---------------------------------------------------------------------
    def encoder(self, schema: ParsedSchema, **options: Any) -> Encoder:
        assert isinstance(schema, AvroSchema)
        if options.get("reference_codec") or schema._use_reference_codec:  # type: ignore[attr-defined]
            return self._fastavro_encoder(schema)
        encode = schema.cavro.binary_encode
        fallback = self._fastavro_encoder(schema)

        def encode_record(record: Any) -> bytes:
            try:
                return encode(record)  # type: ignore[no-any-return]
            except Exception as exc:  # noqa: BLE001 - translated below, with the field path
                raise _encode_error(schema, record, exc, fallback) from exc

        return encode_record

    def _fastavro_encoder(self, schema: AvroSchema) -> Encoder:
        from fastavro import schemaless_writer

        parsed = schema.parsed

        def encode_record(record: Any) -> bytes:
            buffer = io.BytesIO()
            try:
                schemaless_writer(buffer, parsed, record)
            except Exception as exc:  # noqa: BLE001 - translated with the field path
                raise _encode_error(schema, record, exc, None) from exc
            return buffer.getvalue()

        return encode_record

    # -- decoding ---------------------------------------------------------------------
    def decoder(self, schema: ParsedSchema, reader: ParsedSchema | None = None, **options: Any) -> Decoder:
        assert isinstance(schema, AvroSchema)
        assert reader is None or isinstance(reader, AvroSchema)
        use_fastavro = options.get("reference_codec") or schema._use_reference_codec or (  # type: ignore[attr-defined]
            reader is not None and reader._use_reference_codec  # type: ignore[attr-defined]
        )
        if not use_fastavro:
            try:
                codec = reader.cavro.reader_for_writer(schema.cavro) if reader is not None else schema.cavro
            except Exception:  # noqa: BLE001 - cavro refuses the resolution; let fastavro say why
                use_fastavro = True
        if use_fastavro:
            return self._fastavro_decoder(schema, reader)
        decode = codec.binary_decode

        def decode_record(data: bytes) -> Any:
            try:
                return decode(data)
            except Exception as exc:  # noqa: BLE001 - translated, reader errors say "truncated" etc.
                raise DecodeError(f"invalid Avro data for schema {schema.record_name or 'value'}: {_reason(exc)}") from exc

        return decode_record

    def _fastavro_decoder(self, schema: AvroSchema, reader: AvroSchema | None) -> Decoder:
        from fastavro import schemaless_reader

        writer_parsed = schema.parsed
        reader_parsed = reader.parsed if reader is not None else None
        if reader_parsed is not None:
            from fastavro.read import SchemaResolutionError

            try:  # surface resolution errors when the decoder is built, not per record
                schemaless_reader(io.BytesIO(b""), writer_parsed, reader_parsed)
            except SchemaResolutionError as exc:
                raise SchemaParseError(f"reader schema cannot read the writer schema: {exc}") from exc
            except Exception:  # noqa: BLE001 - empty input fails for unrelated reasons; fine
                pass

        def decode_record(data: bytes) -> Any:
            buffer = io.BytesIO(data)
            try:
                value = schemaless_reader(buffer, writer_parsed, reader_parsed)
            except Exception as exc:  # noqa: BLE001 - translated
                raise DecodeError(f"invalid Avro data for schema {schema.record_name or 'value'}: {_reason(exc)}") from exc
            return value

        return decode_record


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError) or "Not enough input" in text:
        return "truncated data (" + text + ")"
    return text


def _encode_error(schema: AvroSchema, record: Any, exc: BaseException, _fallback: Any) -> RecordInvalid:
    path = getattr(exc, "schema_path", None)
    if path is not None:
        value = getattr(exc, "value", None)
        dest = getattr(exc, "dest_type", None)
        kind = type(dest).__name__.replace("Type", "").lower() if dest is not None else "schema"
        return RecordInvalid(f"value {value!r} does not fit Avro type {kind}", path=_path_text(path))
    if _cavro is not None and not isinstance(exc, _cavro.CavroException):
        # an error from a container writer or fastavro: cavro's encoder names the path
        try:
            schema.cavro.binary_encode(record)
        except Exception as again:  # noqa: BLE001 - only its schema_path matters
            if getattr(again, "schema_path", None) is not None:
                return _encode_error(schema, record, again, None)
    # fastavro: its validator names the field; ask it on this (rare) slow path
    from fastavro.validation import ValidationError as FastavroValidationError
    from fastavro.validation import validate

    try:
        validate(record, schema.parsed, raise_errors=True)
    except FastavroValidationError as verr:
        first = verr.errors[0] if verr.errors else None
        if first is not None:
            field = first.field or ""
            return RecordInvalid(
                f"value {first.datum!r} does not fit Avro type {first.schema if isinstance(first.schema, str) else json.dumps(first.schema)[:80]}",
                path="$." + field if field else "$",
            )
    except Exception:  # noqa: BLE001 - the validator itself choked; report the codec's reason
        pass
    return RecordInvalid(f"record does not fit Avro schema {schema.record_name or ''}: {exc}".rstrip(), path="$")
