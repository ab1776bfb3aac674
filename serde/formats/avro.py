"""Avro: schema-less binary datums, as Confluent frames them.

``fastavro`` is the reference: it parses and checks every schema and can do all the
encoding. ``cavro`` (a Cython codec that writes byte-identical output) is used for the
per-record path when installed because it is measurably faster (benchmarks/). Both are
configured so that they accept and return the same Python values: dicts for records,
``datetime``/``date``/``Decimal``/``UUID`` for logical types, naive datetimes as UTC,
defaults filled in for missing fields.
"""
from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import io
import json
import uuid
import uuid as _uuid
from typing import Any, Mapping

from .._errors import DecodeError, RecordInvalid, SchemaParseError
from .._types import SchemaSource
from ._avro_bounds import MAX_VALUE_DEPTH
from ._base import Decoder, Encoder, Format, ParsedSchema, as_source, too_deep

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
        self._logical: Any = None
        self._c_program: Any = False  # the C writer and reader's program (_avro_fast), once worked out

    @property
    def cavro(self) -> Any:
        """The cavro schema with every logical type (reader resolution, error paths)."""
        if self._cavro is None:
            self._cavro = _cavro.Schema(self.expanded, options=_cavro_options())
        return self._cavro

    @property
    def logical(self) -> Any:
        """``(cavro schema without the common logical types, plan, code of the encode
        function, code of the decode function)``, or False when this schema has nothing
        for the pass (or cannot have it)."""
        if self._logical is None:
            self._logical = False
            try:
                stripped, plan = _logical_plan(self.expanded)
            except _NoPass:
                plan = None
            if plan is not None:
                try:
                    plain = _cavro.Schema(stripped, options=_cavro_options())
                except Exception:  # noqa: BLE001 - cavro is happy with the full schema only; keep that
                    plain = None
                if plain is not None:
                    self._logical = (plain, plan, _encode_code(plan), _decode_code(plan))
        return self._logical


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
            # fastavro's (and so confluent-kafka's) ways to choose a union branch:
            # ("shop.B", {...}) and {"-type": "shop.B", ...}
            allow_tuple_notation=True,
            record_values_type_hint=True,
        )
    return _CAVRO_OPTIONS


def _fullname(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def _named_types(schema: Any) -> dict[str, Any]:
    """Every named type (record, error, enum, fixed) defined in ``schema``, by full name
    (the first definition of a name wins)."""
    found: dict[str, Any] = {}

    def index(node: Any, namespace: str | None) -> None:
        if isinstance(node, list):
            for item in node:
                index(item, namespace)
        elif isinstance(node, dict):
            kind = node.get("type")
            if kind in ("record", "error", "enum", "fixed") and "name" in node:
                full = _fullname(node["name"], node.get("namespace", namespace))
                found.setdefault(full, node)
                namespace = full.rpartition(".")[0] or None
            for field in node.get("fields", []) or []:
                index(field.get("type"), namespace)
            for key in ("items", "values"):
                if key in node:
                    index(node[key], namespace)
            if isinstance(kind, (dict, list)):
                index(kind, namespace)

    index(schema, None)
    return found


def _inline_references(schema: Any, references: Mapping[str, Any]) -> Any:
    """Return ``schema`` with every named type that is defined only in a reference
    inlined at its first use, so a single-schema codec can handle it.

    ``references`` maps reference name -> parsed JSON of the referenced schema. A
    reference's own types are indexed by full name (the Confluent convention is that
    the reference name is the type's full name, but we index by the definitions).
    """
    library: dict[str, Any] = {}
    for ref in references.values():
        for full, definition in _named_types(ref).items():
            library.setdefault(full, definition)

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


# How deeply types may nest in a schema. Every schema walker (fastavro's parser, serde's
# translators and converters) recurses per level, several frames a level; real schemas
# nest a few dozen levels at most, and a hostile one must not reach Python's stack limit.
MAX_SCHEMA_DEPTH = 128


def _load_json(text: str, what: str) -> Any:
    """Parse schema JSON and refuse nesting deeper than :data:`MAX_SCHEMA_DEPTH` types."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaParseError(f"{what} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError:  # json's own scanner recurses per bracket
        raise SchemaParseError(f"{what} nests deeper than Python's JSON parser can follow; "
                               f"serde reads Avro types nested at most {MAX_SCHEMA_DEPTH} levels") from None
    depth = _type_depth(data)
    if depth > MAX_SCHEMA_DEPTH:
        raise SchemaParseError(f"{what} nests types {depth} levels deep; serde reads at most {MAX_SCHEMA_DEPTH} levels")
    return data


def _type_depth(schema: Any) -> int:
    """How deeply types nest in ``schema`` (a record's field types, array items, map
    values, union branches each add a level), walked without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(schema, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > deepest:
            deepest = depth
            if deepest > MAX_SCHEMA_DEPTH:
                return deepest
        if isinstance(node, list):
            pending.extend((branch, depth + 1) for branch in node)
        elif isinstance(node, dict):
            fields = node.get("fields")
            if isinstance(fields, list):
                pending.extend((f.get("type"), depth + 1) for f in fields if isinstance(f, dict))
            for key in ("items", "values"):
                if key in node:
                    pending.append((node[key], depth + 1))
            if isinstance(node.get("type"), (dict, list)):
                pending.append((node["type"], depth + 1))
    return deepest




def _is_recursive(schema: Any) -> bool:
    """Whether a named type is used inside its own definition (directly or not)."""
    named = _named_types(schema)
    for full, definition in list(named.items()):
        named.setdefault(full.rpartition(".")[2], definition)

    def uses(node: Any, namespace: str | None, open_: frozenset[str], seen: set[int]) -> bool:
        if isinstance(node, str):
            full = _fullname(node, namespace)
            if full in open_ or node in open_:
                return True
            definition = named.get(full) or named.get(node)
            return definition is not None and uses(definition, namespace, open_, seen)
        if isinstance(node, list):
            return any(uses(branch, namespace, open_, seen) for branch in node)
        if not isinstance(node, dict):
            return False
        kind = node.get("type")
        if kind in ("record", "error") and "name" in node:
            if id(node) in seen:
                return False
            seen.add(id(node))
            full = _fullname(node["name"], node.get("namespace", namespace))
            inner = full.rpartition(".")[0] or None
            return any(uses(f.get("type"), inner, open_ | {full}, seen) for f in node.get("fields", []) if isinstance(f, dict))
        if kind in ("array", "map"):
            return uses(node.get("items" if kind == "array" else "values"), namespace, open_, seen)
        if isinstance(kind, (list, dict)):
            return uses(kind, namespace, open_, seen)
        return False

    return uses(schema, None, frozenset(), set())


_NUMERIC = frozenset({"int", "long", "float", "double"})


def _has_ambiguous_union(schema: Any) -> bool:
    """Whether a union in ``schema`` has two numeric branches, or two branches a dict fits
    (records, maps): the unions where codecs may choose different branches."""
    named = _named_types(schema)
    for full, definition in list(named.items()):
        named.setdefault(full.rpartition(".")[2], definition)
    seen: set[int] = set()

    def kind_of(node: Any) -> str | None:
        while True:
            if isinstance(node, str):
                if node in named:
                    node = named[node]
                    continue
                return "number" if node in _NUMERIC else node
            if isinstance(node, dict):
                kind = node.get("type")
                if isinstance(kind, (dict, str)) and kind not in ("record", "error", "map", "enum", "fixed", "array"):
                    node = kind
                    continue
                return "dict" if kind in ("record", "error", "map") else kind if isinstance(kind, str) else None
            return None

    def walk(node: Any) -> bool:
        if isinstance(node, str):
            definition = named.get(node)
            return definition is not None and walk(definition)
        if isinstance(node, list):
            kinds = [kind_of(branch) for branch in node]
            if kinds.count("number") > 1 or kinds.count("dict") > 1:
                return True
            return any(walk(branch) for branch in node)
        if not isinstance(node, dict) or id(node) in seen:
            return False
        seen.add(id(node))
        kind = node.get("type")
        if kind in ("record", "error"):
            return any(walk(f.get("type")) for f in node.get("fields", []) if isinstance(f, dict))
        if kind == "array":
            return walk(node.get("items"))
        if kind == "map":
            return walk(node.get("values"))
        return isinstance(kind, (list, dict)) and walk(kind)

    return walk(schema)


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
        raw = _load_json(source.text, "Avro schema")
        refs: dict[str, Any] = {}
        for name, text in source.references.items():
            refs[name] = _load_json(text, f"referenced Avro schema {name!r}")
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
        # cavro has no local-timestamp logical types: the Python pass adds them, and where
        # it cannot (a recursive schema, an ambiguous union, reader-schema resolution,
        # records that are not plain dicts) fastavro does the work
        dumped = json.dumps(expanded)
        schema._local_ts = "local-timestamp-m" in dumped  # type: ignore[attr-defined]
        # cavro writes a pre-1970 timestamp-millis with a sub-millisecond part rounded
        # toward zero (1969-12-31T23:59:59.9995Z as 0), fastavro and Java floor it (-1):
        # records the Python pass does not convert itself go to fastavro
        schema._cavro_ts_millis = '"timestamp-millis"' in dumped  # type: ignore[attr-defined]
        if schema._local_ts and not schema._use_reference_codec and not schema.logical:  # type: ignore[attr-defined]
            schema._use_reference_codec = True  # type: ignore[attr-defined]
        return schema

    # -- encoding ---------------------------------------------------------------------
    def encoder(self, schema: ParsedSchema, **options: Any) -> Encoder:
        """``record -> bytes``. ``strict=True`` refuses records whose fields are not exactly
        the schema's (extra or missing ones); ``strict_allow_default=True`` the same, but a
        missing field with a default is fine: confluent-kafka's ``validate.strict`` and
        ``validate.strict.allow.default`` (fastavro's ``strict`` options)."""
        assert isinstance(schema, AvroSchema)
        strict, allow_default = bool(options.pop("strict", False)), bool(options.pop("strict_allow_default", False))
        if strict or allow_default:
            encode = self.encoder(schema, **options)

            def encode_strictly(record: Any) -> bytes:
                problem = find_not_strict(schema.expanded, record, allow_default=allow_default and not strict)
                if problem is not None:
                    raise RecordInvalid(problem[1], path=problem[0])
                return encode(record)  # type: ignore[no-any-return]

            return encode_strictly
        if _is_recursive(schema.expanded):
            # a recursive type nests as deep as its value does, and both codecs recurse
            # in C per level: a linked list of 20,000 elements crashes the process
            encode = self._union_faithful_encoder(schema, **options)

            # every container counts here, the cycle's and the others (bounded by the
            # schema's own depth), so whatever the decoder's check accepts is written
            limit = MAX_VALUE_DEPTH + MAX_SCHEMA_DEPTH

            def encode_bounded(record: Any) -> bytes:
                deep = too_deep(record, limit)
                if deep is not None:
                    raise RecordInvalid(f"value nested more than {MAX_VALUE_DEPTH} levels deep (records, arrays and "
                                        "maps of a recursive type); serde reads and writes no deeper", path=deep)
                return encode(record)  # type: ignore[no-any-return]

            return encode_bounded
        encode = self._union_faithful_encoder(schema, **options)
        if options.get("reference_codec") or schema._use_reference_codec or schema._local_ts:  # type: ignore[attr-defined]
            return encode
        # plain records in C where it was built; the path above for every other record
        from ._avro_fast import writer

        return writer(schema, encode)

    def _union_faithful_encoder(self, schema: AvroSchema, **options: Any) -> Encoder:
        """Where a union lets a value fit two branches (3 in ``["double", "long"]``, a dict
        in two records), cavro and fastavro choose differently: fastavro prefers double to
        float and the record with the most matching fields, cavro the first branch that
        fits, so 1.1 became a float and a record's extra fields were dropped. fastavro's
        choice is what confluent-kafka writes, so such schemas are written by fastavro,
        after cavro has checked the record (fastavro writes an int of 2^31 unchecked)."""
        encode = self._encoder(schema, **options)
        if options.get("reference_codec") or schema._use_reference_codec or not _has_ambiguous_union(schema.expanded):  # type: ignore[attr-defined]
            return encode
        write = self._fastavro_encoder(schema)

        def encode_as_fastavro_chooses(record: Any) -> bytes:
            encode(record)  # raises RecordInvalid, with the field path, for what fits no branch
            return write(record)

        return encode_as_fastavro_chooses

    def _encoder(self, schema: AvroSchema, **options: Any) -> Encoder:
        if options.get("reference_codec") or schema._use_reference_codec:  # type: ignore[attr-defined]
            return self._fastavro_encoder(schema)
        encode = schema.cavro.binary_encode
        fallback = self._fastavro_encoder(schema)
        if schema._local_ts or schema._cavro_ts_millis:  # type: ignore[attr-defined]
            encode = fallback  # the whole-record path below: cavro cannot write these as fastavro does

        def encode_full(record: Any) -> bytes:
            try:
                return encode(record)  # type: ignore[no-any-return]
            except RecordInvalid:
                raise
            except Exception as exc:  # noqa: BLE001 - translated below, with the field path
                raise _encode_error(schema, record, exc, fallback) from None

        if not schema.logical:
            return encode_full
        plain, plan, encode_code, _ = schema.logical
        encode_plain = plain.binary_encode
        prepare = _bind(encode_code, "_prepare", _encode_plain=None, _encode_slowly=None)

        def encode_slowly(record: Any) -> bytes:
            try:
                prepared = prepare(record)
            except _Fallback:  # not plain dicts and lists: cavro converts it all, as before
                return encode_full(record)
            except Exception as exc:  # noqa: BLE001 - a logical value that does not fit
                raise (_find_encode_error(record, plan, []) or RecordInvalid(f"record does not fit Avro schema: {exc}", path="$")) from None
            try:
                return encode_plain(prepared)  # type: ignore[no-any-return]
            except Exception as exc:  # noqa: BLE001 - translated, with the field path
                raise _encode_error(schema, record, exc, None, retry=lambda: encode_plain(prepared)) from None

        # _encode: the pass, then cavro; anything odd goes to encode_slowly
        return _bind(encode_code, "_encode", _encode_plain=encode_plain, _encode_slowly=encode_slowly)  # type: ignore[no-any-return]

    def _fastavro_encoder(self, schema: AvroSchema) -> Encoder:
        from fastavro import schemaless_writer

        parsed = schema.parsed

        def encode_record(record: Any) -> bytes:
            buffer = io.BytesIO()
            try:
                schemaless_writer(buffer, parsed, record)
            except Exception as exc:  # noqa: BLE001 - translated with the field path
                raise _encode_error(schema, record, exc, None) from None
            return buffer.getvalue()

        return encode_record

    # -- decoding ---------------------------------------------------------------------
    def decoder(self, schema: ParsedSchema, reader: ParsedSchema | None = None, **options: Any) -> Decoder:
        # arrays of zero-byte items can claim any count: check it before the codec builds the list
        from ._avro_bounds import bounded

        assert isinstance(schema, AvroSchema)
        label = schema.record_name or "value"
        return bounded(schema, self._decoder(schema, reader, **options), options.get("max_items"), label,
                       lambda: self._decoder(schema, reader, **{**options, "reference_codec": True}))

    def _decoder(self, schema: ParsedSchema, reader: ParsedSchema | None = None, **options: Any) -> Decoder:
        assert isinstance(schema, AvroSchema)
        assert reader is None or isinstance(reader, AvroSchema)
        use_fastavro = options.get("reference_codec") or schema._use_reference_codec or (  # type: ignore[attr-defined]
            reader is not None and (reader._use_reference_codec or reader._local_ts or schema._local_ts)  # type: ignore[attr-defined]
        )
        if not use_fastavro:
            try:
                codec = reader.cavro.reader_for_writer(schema.cavro) if reader is not None else schema.cavro
            except Exception:  # noqa: BLE001 - cavro refuses the resolution; let fastavro say why
                use_fastavro = True
        if use_fastavro:
            return self._fastavro_decoder(schema, reader)
        reference: list[Decoder] = []

        def decode_failed(data: bytes, exc: BaseException) -> Any:
            # cavro misreads valid data fastavro reads (an array or map block with a
            # negated count and a byte size, as Java's blocking encoder writes); what
            # cavro refuses goes to fastavro before it is called invalid
            if not reference:
                reference.append(self._fastavro_decoder(schema, reader))
            try:
                return reference[0](data)
            except DecodeError:
                raise DecodeError(f"invalid Avro data for schema {schema.record_name or 'value'}: {_reason(exc)}") from exc

        if reader is None and schema.logical:
            # cavro's decode and the pass in one function (one Python frame per record)
            decode_record = _bind(schema.logical[3], "_decode", _decode_plain=schema.logical[0].binary_decode,
                                  _decode_failed=decode_failed)
        else:
            decode = codec.binary_decode

            def decode_record(data: bytes) -> Any:
                try:
                    return decode(data)
                except Exception as exc:  # noqa: BLE001 - translated, reader errors say "truncated" etc.
                    return decode_failed(data, exc)

        if reader is not None:
            return decode_record  # type: ignore[no-any-return]
        # plain payloads read in C where it was built; the path above for every other one
        from ._avro_fast import reader as c_reader

        return c_reader(schema, decode_record)

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


def _encode_error(schema: AvroSchema, record: Any, exc: BaseException, _fallback: Any, retry: Any = None) -> RecordInvalid:
    # Callers raise this ``from None``: the field path and reason say what the codec's own
    # error would, and its chain (cavro, then the retry) made a 39-line traceback.
    found = find_invalid(schema.expanded, record)
    if found is not None:  # our own walk names fields the way the user wrote them
        return RecordInvalid(found[1], path=found[0])
    path = getattr(exc, "schema_path", None)
    if path is not None:
        value = getattr(exc, "value", None)
        dest = getattr(exc, "dest_type", None)
        kind = type(dest).__name__.replace("Type", "").lower() if dest is not None else "schema"
        return RecordInvalid(f"value {value!r} does not fit Avro type {kind}", path=_path_text(path))
    if _cavro is not None and not isinstance(exc, _cavro.CavroException):
        # an error from a container writer or fastavro: cavro's encoder names the path
        try:
            retry() if retry is not None else schema.cavro.binary_encode(record)
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


_PYTHON_TYPES = {
    "null": (type(None),), "boolean": (bool,), "string": (str,), "bytes": (bytes, bytearray),
    "float": (int, float), "double": (int, float),
}
_INT_RANGES = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_LOGICAL_TYPES: dict[str, tuple[type, ...]] = {
    "decimal": (_decimal.Decimal,), "uuid": (str, uuid.UUID), "date": (_dt.date, int),
    "time-millis": (_dt.time, int), "time-micros": (_dt.time, int),
    "timestamp-millis": (_dt.datetime, int), "timestamp-micros": (_dt.datetime, int),
    "local-timestamp-millis": (_dt.datetime, int), "local-timestamp-micros": (_dt.datetime, int),
}


def find_invalid(schema: Any, value: Any, path: str = "$", *, within: Any = None) -> tuple[str, str] | None:
    """The first place where ``value`` does not fit ``schema`` (expanded Avro JSON), as
    ``(field path, reason)``, or None. Only called once a codec has refused a record,
    to say where and why in the user's terms (fastavro names fields by record name).
    ``within``: the whole schema ``schema`` is a part of, whose named types it may use."""
    named = _named_types(within if within is not None else schema)
    for full, definition in list(named.items()):  # a use may also say the short name
        named.setdefault(full.rpartition(".")[2], definition)

    def shown(v: Any) -> str:
        text = repr(v)
        return text if len(text) <= 60 else text[:57] + "..."

    def check(node: Any, v: Any, where: str) -> tuple[str, str] | None:
        if isinstance(node, str):
            if node in named:
                return check(named[node], v, where)
            if node in _INT_RANGES:
                low, high = _INT_RANGES[node]
                if isinstance(v, bool) or not isinstance(v, int):
                    return where, f"expected an Avro {node} (an integer), got {shown(v)}"
                if not low <= v <= high:
                    return where, f"{v} is out of range for an Avro {node}"
                return None
            allowed = _PYTHON_TYPES.get(node)
            if allowed is not None and (not isinstance(v, allowed) or (node in ("float", "double") and isinstance(v, bool))):
                return where, f"expected an Avro {node}, got {shown(v)}"
            return None
        if isinstance(node, list):
            problems = [check(branch, v, where) for branch in node]
            if any(p is None for p in problems):
                return None
            non_null = [p for branch, p in zip(node, problems) if branch != "null"]
            if v is not None and len(non_null) == 1 and non_null[0] is not None and non_null[0][0] != where:
                # ["null", record] (an optional record, a linked list's next): the value
                # was meant to be that record, so say which field inside it goes wrong
                return non_null[0]
            kinds = ", ".join(b if isinstance(b, str) else str(b.get("name") or b.get("type")) for b in node)
            return where, f"{shown(v)} matches no branch of the union [{kinds}]"
        if not isinstance(node, dict):
            return None
        logical = node.get("logicalType")
        if logical in _LOGICAL_TYPES:
            if not isinstance(v, _LOGICAL_TYPES[logical]) or isinstance(v, bool):
                return where, f"expected a {logical} value, got {shown(v)}"
            return None
        kind = node.get("type")
        if kind in ("record", "error"):
            if not isinstance(v, dict):
                return where, f"expected a {node.get('name', 'record')} record (a mapping), got {shown(v)}"
            for field in node.get("fields", []):
                name = field["name"]
                here = f"{where}.{name}"
                if name not in v or v[name] is None:
                    field_type = field.get("type")
                    nullable = field_type == "null" or (isinstance(field_type, list) and "null" in field_type)
                    if name not in v and ("default" in field or nullable):
                        continue
                    if v.get(name) is None and not nullable:
                        return here, "missing required field" if name not in v else "null in a field that is not nullable"
                    continue
                problem = check(field.get("type"), v[name], here)
                if problem is not None:
                    return problem
            return None
        if kind == "enum":
            if v not in node.get("symbols", []):
                return where, f"{shown(v)} is not one of the {node.get('name')} symbols {', '.join(node.get('symbols', []))}"
            return None
        if kind == "fixed":
            if not isinstance(v, (bytes, bytearray)) or len(v) != node.get("size"):
                return where, f"expected {node.get('size')} bytes (fixed {node.get('name')}), got {shown(v)}"
            return None
        if kind == "array":
            if not isinstance(v, (list, tuple)):
                return where, f"expected an array, got {shown(v)}"
            for position, item in enumerate(v):
                problem = check(node.get("items"), item, f"{where}[{position}]")
                if problem is not None:
                    return problem
            return None
        if kind == "map":
            if not isinstance(v, dict):
                return where, f"expected a map, got {shown(v)}"
            for key, item in v.items():
                problem = check(node.get("values"), item, f"{where}.{key}")
                if problem is not None:
                    return problem
            return None
        return check(kind, v, where)

    return check(schema, value, path)


def find_not_strict(schema: Any, value: Any, *, allow_default: bool = False) -> tuple[str, str] | None:
    """The first record in ``value`` whose fields are not exactly its schema's, as
    ``(field path, reason)``, or None: what fastavro's ``strict`` (and, with
    ``allow_default``, ``strict_allow_default``) refuse, said with the field's path.
    A union is entered through the first branch the value fits."""
    named = _named_types(schema)
    for full, definition in list(named.items()):
        named.setdefault(full.rpartition(".")[2], definition)
    option = "validate_strict_allow_default" if allow_default else "validate_strict"

    def check(node: Any, v: Any, where: str) -> tuple[str, str] | None:
        # walks the value, not the schema: a recursive type ends where the value does
        if isinstance(node, str):
            return check(named[node], v, where) if node in named else None
        if isinstance(node, list):
            for branch in node:
                if find_invalid(branch, v, within=schema) is None:
                    return check(branch, v, where)
            return None
        if not isinstance(node, dict):
            return None
        kind = node.get("type")
        if kind in ("record", "error"):
            if not isinstance(v, Mapping):
                return None
            fields = node.get("fields", [])
            names = {f["name"] for f in fields}
            extra = [k for k in v if k not in names]
            if extra:
                return f"{where}.{extra[0]}", f"field {extra[0]!r} is not in the {node.get('name')} schema ({option})"
            for field in fields:
                name = field["name"]
                if name not in v:
                    if allow_default and "default" in field:
                        continue
                    return f"{where}.{name}", f"field is missing from the record ({option})"
                problem = check(field.get("type"), v[name], f"{where}.{name}")
                if problem is not None:
                    return problem
            return None
        if kind == "array":
            for position, item in enumerate(v if isinstance(v, (list, tuple)) else ()):
                problem = check(node.get("items"), item, f"{where}[{position}]")
                if problem is not None:
                    return problem
            return None
        if kind == "map":
            for key, item in (v.items() if isinstance(v, Mapping) else ()):
                problem = check(node.get("values"), item, f"{where}.{key}")
                if problem is not None:
                    return problem
            return None
        if isinstance(kind, (list, dict)) or (isinstance(kind, str) and kind in named):
            return check(kind, v, where)
        return None

    return check(schema, value, "$")


# -- logical types in Python, around a cavro schema without them -------------------------
#
# cavro's logical types cost most of its time on records like schemas/avro/order.avsc
# (a decimal is quantized with a context and ``as_tuple()``-ed twice, a uuid is parsed by
# ``uuid.UUID(str)``), and a few of them do not match fastavro (pre-1970 timestamps with
# sub-millisecond parts are truncated, not floored; decimals are checked on the scaled
# value, not on the digits given). So for the common logical types cavro gets a copy of
# the schema with them removed, and a pass generated once per schema (straight-line code,
# only the fields that need it) converts the values the way fastavro does: before
# encoding into a copy of the record, after decoding in place.

_MAX_PASS_PRECISION = 1000

_LOGICAL = {
    ("bytes", "decimal"): "decimal",
    ("string", "uuid"): "uuid",
    ("long", "timestamp-millis"): "timestamp-millis",
    ("long", "timestamp-micros"): "timestamp-micros",
    ("long", "local-timestamp-millis"): "local-timestamp-millis",
    ("long", "local-timestamp-micros"): "local-timestamp-micros",
    ("int", "date"): "date",
    ("int", "time-millis"): "time-millis",
    ("long", "time-micros"): "time-micros",
}


class _NoPass(Exception):
    """This schema keeps its logical types in cavro (recursion, ambiguous unions...)."""


class _Fallback(Exception):
    """This value is not the plain dict/list shape the generated pass expects."""


def _logical_plan(expanded: Any) -> tuple[Any, Any]:
    """Return ``(stripped schema, plan)``: the schema without the logical types handled
    here, and a tree saying where they are. ``plan`` is None when nothing needs a pass.
    Raises _NoPass when the schema is better left to cavro as a whole."""
    plans: dict[str, Any] = {}  # full name -> plan of a named type already seen
    stack: set[str] = set()

    def walk(node: Any, namespace: str | None) -> tuple[Any, Any]:
        if isinstance(node, str):
            if node in _PRIMITIVES:
                return node, None
            for candidate in (_fullname(node, namespace), node):
                if candidate in stack:
                    raise _NoPass("recursive type")
                if candidate in plans:
                    return node, plans[candidate]
            raise _NoPass(f"unknown type {node}")
        if isinstance(node, list):
            branches = [walk(item, namespace) for item in node]
            non_null = [plan for item, (_, plan) in zip(node, branches) if item != "null"]
            planned = [plan for plan in non_null if plan is not None]
            out = [s for s, _ in branches]
            if not planned:
                return out, None
            if len(non_null) > 1 or len(node) > 2:
                raise _NoPass("a logical type in a union of several types")
            return out, ("nullable", planned[0])
        if not isinstance(node, dict):
            return node, None
        kind = node.get("type")
        if isinstance(kind, (dict, list)):
            inner, plan = walk(kind, namespace)
            if len(node) == 1 or (plan is None and inner is kind):
                return (inner if len(node) == 1 else node), plan
            return dict(node, type=inner), plan
        logical = _LOGICAL.get((kind, node.get("logicalType")))  # type: ignore[arg-type]
        if logical is not None:
            if logical != "decimal":
                return kind, (logical,)
            precision, scale = node.get("precision"), node.get("scale", 0)
            # the pass computes 10**precision and a context of that precision: a hostile
            # precision (10**18) would take forever; no real decimal has 1000 digits
            if type(precision) is int and type(scale) is int and 0 <= scale <= precision and 0 < precision <= _MAX_PASS_PRECISION:
                return kind, ("decimal", precision, scale)
            return node, None  # cavro judges an odd decimal as before
        if kind in ("record", "error"):
            full = _fullname(node["name"], node.get("namespace", namespace))
            inner_ns = full.rpartition(".")[0] or None
            stack.add(full)
            fields, field_plans = [], []
            for field in node.get("fields", []):
                ftype, fplan = walk(field.get("type"), inner_ns)
                fields.append(field if ftype is field.get("type") else dict(field, type=ftype))
                if fplan is not None:
                    field_plans.append((field["name"], fplan))
            stack.discard(full)
            plan = ("record", tuple(field_plans)) if field_plans else None
            plans[full] = plan
            return (dict(node, fields=fields) if plan is not None else node), plan
        if kind in ("enum", "fixed"):
            plans[_fullname(node["name"], node.get("namespace", namespace))] = None
            return node, None
        if kind == "array" or kind == "map":
            key = "items" if kind == "array" else "values"
            inner, plan = walk(node.get(key), namespace)
            if plan is None:
                return node, None
            return dict(node, **{key: inner}), (kind, plan)
        return node, None

    return walk(expanded, None)


class _Gen:
    """Writes the source of one conversion function from a plan."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}
        self.n = 0

    def var(self, prefix: str = "v") -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def const(self, value: Any, prefix: str, key: Any) -> str:
        name = f"_{prefix}{key}"
        self.consts.setdefault(name, value)
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    # -- encoding: build converted copies, never touch the caller's record ----------------
    def encode(self, src: str, dst: str, plan: Any, indent: int) -> None:
        kind = plan[0]
        e = self.emit
        if kind == "nullable":
            inner = plan[1]
            if inner[0] in ("record", "array", "map"):
                e(indent, f"if {src} is None:")
                e(indent + 1, f"{dst} = None")
                e(indent, "else:")
                self.encode(src, dst, inner, indent + 1)
            else:  # the leaf conversions let None (and anything not theirs) through
                self.encode(src, dst, inner, indent)
        elif kind == "record":
            e(indent, f"if {src}.__class__ is not dict: raise _Fallback")
            e(indent, f"{dst} = {src}.copy()")
            for name, fplan in plan[1]:
                value, out = self.var(), self.var("o")
                e(indent, f"{value} = {src}.get({name!r}, _MISSING)")
                e(indent, f"if {value} is not _MISSING:")
                self.encode(value, out, fplan, indent + 1)
                e(indent + 1, f"{dst}[{name!r}] = {out}")
        elif kind == "array":
            item, out = self.var("x"), self.var("o")
            e(indent, f"if {src}.__class__ is not list: raise _Fallback")
            e(indent, f"{dst} = []")
            e(indent, f"for {item} in {src}:")
            self.encode(item, out, plan[1], indent + 1)
            e(indent + 1, f"{dst}.append({out})")
        elif kind == "map":
            key, item, out = self.var("k"), self.var("x"), self.var("o")
            e(indent, f"if {src}.__class__ is not dict: raise _Fallback")
            e(indent, f"{dst} = {{}}")
            e(indent, f"for {key}, {item} in {src}.items():")
            self.encode(item, out, plan[1], indent + 1)
            e(indent + 1, f"{dst}[{key}] = {out}")
        elif kind == "decimal":
            _, precision, scale = plan
            quantum = self.const(_decimal.Decimal(1).scaleb(-scale), "Q", scale)
            limit = self.const(10**precision, "L", precision)
            n = self.var("n")
            e(indent, f"if {src}.__class__ is _Decimal and {src}.same_quantum({quantum}):")
            shift = self.const(_decimal.Decimal(scale), "DP", scale)  # a Decimal: no int converted per call
            e(indent + 1, f"{n} = int({src}.scaleb({shift}, _EXACT))")
            e(indent + 1, f"{dst} = {n}.to_bytes(({n}.bit_length() + 8) // 8, 'big', signed=True) if -{limit} < {n} < {limit} else _encode_decimal({src}, {precision}, {scale})")
            e(indent, "else:")
            e(indent + 1, f"{dst} = _encode_decimal({src}, {precision}, {scale})")
        elif kind == "uuid":
            h = self.var("h")
            e(indent, f"if {src}.__class__ is _UUID:  # str(uuid), without its two calls")
            e(indent + 1, f"{h} = '%032x' % {src}.int")
            e(indent + 1, f"{dst} = f'{{{h}[:8]}}-{{{h}[8:12]}}-{{{h}[12:16]}}-{{{h}[16:20]}}-{{{h}[20:]}}'")
            e(indent, "else:")
            e(indent + 1, f"{dst} = str({src}) if isinstance({src}, _UUID) else {src}")
        elif kind in ("timestamp-millis", "timestamp-micros"):
            unit = "_MS" if kind == "timestamp-millis" else "_US"
            e(indent, f"if isinstance({src}, _datetime):")
            e(indent + 1, f"{dst} = ({src} - (_EPOCH_NAIVE if {src}.tzinfo is None else _EPOCH)) // {unit}")
            e(indent, "else:")
            e(indent + 1, f"{dst} = {src}")
        elif kind in ("local-timestamp-millis", "local-timestamp-micros"):
            # wall-clock time: an aware datetime keeps its local reading (fastavro's rule)
            unit = "_MS" if kind == "local-timestamp-millis" else "_US"
            e(indent, f"if isinstance({src}, _datetime):")
            e(indent + 1, f"{dst} = ({src}.replace(tzinfo=None) - _EPOCH_NAIVE) // {unit}")
            e(indent, "else:")
            e(indent + 1, f"{dst} = {src}")
        elif kind == "date":
            e(indent, f"{dst} = _encode_date({src})")
        elif kind in ("time-millis", "time-micros"):
            e(indent, f"{dst} = _encode_{kind.replace('-', '_')}({src})")
        else:  # pragma: no cover - the plan only holds the kinds above
            raise AssertionError(kind)

    # -- decoding: convert the freshly decoded value in place ---------------------------
    def decode(self, var: str, plan: Any, indent: int, target: str | None) -> None:
        """Convert ``var``; containers in place, leaves assigned to ``target``."""
        kind = plan[0]
        e = self.emit
        if kind == "nullable":
            e(indent, f"if {var} is not None:")
            self.decode(var, plan[1], indent + 1, target)
        elif kind == "record":
            for name, fplan in plan[1]:
                value = self.var()
                e(indent, f"{value} = {var}[{name!r}]")
                self.decode(value, fplan, indent, f"{var}[{name!r}]")
        elif kind == "array":
            if plan[1][0] in ("record", "array", "map") or (plan[1][0] == "nullable" and plan[1][1][0] in ("record", "array", "map")):
                item = self.var("x")
                e(indent, f"for {item} in {var}:")
                self.decode(item, plan[1], indent + 1, None)
            else:
                index, item = self.var("i"), self.var("x")
                e(indent, f"for {index}, {item} in enumerate({var}):")
                self.decode(item, plan[1], indent + 1, f"{var}[{index}]")
        elif kind == "map":
            key, item = self.var("k"), self.var("x")
            e(indent, f"for {key}, {item} in {var}.items():")
            self.decode(item, plan[1], indent + 1, f"{var}[{key}]")
        else:
            assert target is not None
            if kind == "decimal":
                _, precision, scale = plan
                ctx = self.const(_decimal.Context(prec=precision), "C", precision)
                shift = self.const(_decimal.Decimal(-scale), "DN", scale)  # a Decimal: no int converted per call
                e(indent, f"{target} = _Decimal(_from_bytes({var}, 'big', signed=True)).scaleb({shift}, {ctx})")
            elif kind == "uuid":
                h, u = self.var("h"), self.var("u")
                # uuid.UUID(text) without its keyword checks: when the text is 32
                # digits once the dashes are gone, UUID(text) reads exactly int(h, 16)
                # (its other clean-ups, "urn:uuid:" and braces, would leave < 32)
                n = self.var("n")
                e(indent, f"{h} = {var}.replace('-', '')")
                e(indent, f"if len({h}) == 32:")
                e(indent + 1, "try:")
                e(indent + 2, f"{n} = int({h}, 16)")
                e(indent + 1, "except ValueError:")
                e(indent + 2, f"{n} = _UUID({var}).int  # raises uuid's own error")
                e(indent + 1, f"{u} = _new(_UUID)")
                e(indent + 1, f"_set_int({u}, {n})")
                e(indent + 1, f"_set_is_safe({u}, _UNKNOWN)")
                e(indent + 1, f"{target} = {u}")
                e(indent, "else:")
                e(indent + 1, f"{target} = _UUID({var})")
            elif kind == "timestamp-millis":
                e(indent, f"{target} = _EPOCH + _MS * {var}")
            elif kind == "timestamp-micros":
                e(indent, f"{target} = _EPOCH + _US * {var}")
            elif kind == "local-timestamp-millis":
                e(indent, f"{target} = _EPOCH_NAIVE + _MS * {var}")
            elif kind == "local-timestamp-micros":
                e(indent, f"{target} = _EPOCH_NAIVE + _US * {var}")
            elif kind == "date":
                e(indent, f"{target} = _fromordinal({var} + 719163)")
            elif kind in ("time-millis", "time-micros"):
                e(indent, f"{target} = _decode_{kind.replace('-', '_')}({var})")
            else:  # pragma: no cover
                raise AssertionError(kind)

    def compile(self, name: str) -> tuple[Any, dict[str, Any]]:
        source = "\n".join(self.lines) + "\n"
        return compile(source, f"<serde avro {name}>", "exec"), dict(self.consts, _source=source)


def _bind(compiled: tuple[Any, dict[str, Any]], name: str, **names: Any) -> Any:
    """Run generated code with its constants and ``names`` as globals; return ``name``."""
    code, consts = compiled
    namespace = dict(_PASS_GLOBALS, **consts, **names)
    exec(code, namespace)  # noqa: S102 - our own generated code
    return namespace[name]


def _encode_decimal(value: Any, precision: int, scale: int) -> Any:
    """fastavro's ``prepare_bytes_decimal``: anything not a Decimal goes through as is."""
    if not isinstance(value, _decimal.Decimal):
        return value
    sign, digits, exp = value.as_tuple()
    if not isinstance(exp, int):
        raise ValueError(f"{value} is not a finite number")
    if len(digits) > precision:
        raise ValueError("The decimal precision is bigger than allowed by schema")
    delta = exp + scale
    if delta < 0:
        raise ValueError("Scale provided in schema does not match the decimal")
    unscaled = 0
    for digit in digits:
        unscaled = unscaled * 10 + digit
    unscaled *= 10**delta
    size = (unscaled.bit_length() + 8) // 8
    return (-unscaled if sign else unscaled).to_bytes(size, "big", signed=True)


def _encode_date(value: Any) -> Any:
    if isinstance(value, _dt.date):  # a datetime too: its day, as fastavro
        return value.toordinal() - 719163
    if isinstance(value, str):
        return _dt.date.fromisoformat(value).toordinal() - 719163
    return value


def _encode_time_millis(value: Any) -> Any:
    if isinstance(value, _dt.time):
        return int(value.hour * 3600000 + value.minute * 60000 + value.second * 1000 + int(value.microsecond / 1000))
    return value


def _encode_time_micros(value: Any) -> Any:
    if isinstance(value, _dt.time):
        return int(value.hour * 3600000000 + value.minute * 60000000 + value.second * 1000000 + value.microsecond)
    return value


def _decode_time_millis(data: int) -> _dt.time:  # fastavro's read_time_millis
    return _dt.time(int(data / 3600000), int(data / 60000) % 60, int(data / 1000) % 60, int(data % 1000) * 1000)


def _decode_time_micros(data: int) -> _dt.time:  # fastavro's read_time_micros
    return _dt.time(int(data / 3600000000), int(data / 60000000) % 60, int(data / 1000000) % 60, data % 1000000)


_MISSING = object()
_PASS_GLOBALS: dict[str, Any] = {
    "_Fallback": _Fallback,
    "_MISSING": _MISSING,
    "_Decimal": _decimal.Decimal,
    "_EXACT": _decimal.Context(prec=_decimal.MAX_PREC, Emax=_decimal.MAX_EMAX, Emin=_decimal.MIN_EMIN),
    "_encode_decimal": _encode_decimal,
    "_encode_date": _encode_date,
    "_encode_time_millis": _encode_time_millis,
    "_encode_time_micros": _encode_time_micros,
    "_decode_time_millis": _decode_time_millis,
    "_decode_time_micros": _decode_time_micros,
    "_UUID": _uuid.UUID,
    "_UNKNOWN": _uuid.SafeUUID.unknown,
    "_new": object.__new__,
    "_set_int": _uuid.UUID.int.__set__,  # type: ignore[attr-defined]
    "_set_is_safe": _uuid.UUID.is_safe.__set__,  # type: ignore[attr-defined]
    "_from_bytes": int.from_bytes,
    "_datetime": _dt.datetime,
    "_fromordinal": _dt.date.fromordinal,
    "_EPOCH": _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc),
    "_EPOCH_NAIVE": _dt.datetime(1970, 1, 1),
    "_MS": _dt.timedelta(milliseconds=1),
    "_US": _dt.timedelta(microseconds=1),
}


def _encode_code(plan: Any) -> tuple[Any, dict[str, Any]]:
    """``_prepare(record)``: the converted copy; ``_encode(record)``: its bytes."""
    gen = _Gen()
    gen.emit(0, "def _prepare(v0):")
    gen.encode("v0", "out", plan, 1)
    gen.emit(1, "return out")
    lines = gen.lines
    gen.lines = []
    gen.emit(0, "def _encode(v0):")
    gen.emit(1, "try:")
    gen.encode("v0", "out", plan, 2)
    gen.emit(2, "return _encode_plain(out)")
    gen.emit(1, "except Exception:")
    gen.emit(2, "return _encode_slowly(v0)")
    gen.lines = lines + [""] + gen.lines
    return gen.compile("encode")


def _decode_code(plan: Any) -> tuple[Any, dict[str, Any]]:
    """``_decode(data)``: cavro's decode, then the values converted in place."""
    gen = _Gen()
    gen.emit(0, "def _decode(data):")
    gen.emit(1, "try:")
    gen.emit(2, "v0 = _decode_plain(data)")
    if plan[0] in ("record", "array", "map"):
        gen.decode("v0", plan, 2, None)
    else:  # a bare logical value (or a nullable one) as the whole schema
        gen.emit(2, "box = [v0]")
        gen.decode("v0", plan, 2, "box[0]")
        gen.emit(2, "v0 = box[0]")
    gen.emit(1, "except Exception as exc:")
    gen.emit(2, "return _decode_failed(data, exc)")
    gen.emit(1, "return v0")
    return gen.compile("decode")


def _find_encode_error(value: Any, plan: Any, path: list) -> RecordInvalid | None:
    """Walk ``value`` like the encode pass, slowly and keeping the path; return the
    first value that cannot be converted as a RecordInvalid naming where it is."""
    kind = plan[0]
    if kind == "nullable":
        return None if value is None else _find_encode_error(value, plan[1], path)
    if kind == "record":
        if isinstance(value, Mapping):
            for name, fplan in plan[1]:
                if name in value:
                    found = _find_encode_error(value[name], fplan, path + [name])
                    if found is not None:
                        return found
        return None
    if kind == "array":
        if isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                found = _find_encode_error(item, plan[1], path + [index])
                if found is not None:
                    return found
        return None
    if kind == "map":
        if isinstance(value, Mapping):
            for key, item in value.items():
                found = _find_encode_error(item, plan[1], path + [str(key)])
                if found is not None:
                    return found
        return None
    try:
        _encode_leaf(value, plan)
    except Exception as exc:  # noqa: BLE001 - reported with its path
        what = f"decimal({plan[1]},{plan[2]})" if kind == "decimal" else kind
        return RecordInvalid(f"value {value!r} does not fit Avro type {what}: {exc}", path=_path_text(path))
    return None


def _encode_leaf(value: Any, plan: Any) -> Any:
    """One logical value, as the generated encode pass converts it (slow, for errors)."""
    kind = plan[0]
    if kind == "decimal":
        return _encode_decimal(value, plan[1], plan[2])
    if kind == "uuid":
        return str(value) if isinstance(value, _uuid.UUID) else value
    if kind in ("timestamp-millis", "timestamp-micros"):
        if isinstance(value, _dt.datetime):
            epoch = _PASS_GLOBALS["_EPOCH_NAIVE" if value.tzinfo is None else "_EPOCH"]
            return (value - epoch) // _PASS_GLOBALS["_MS" if kind == "timestamp-millis" else "_US"]
        return value
    if kind in ("local-timestamp-millis", "local-timestamp-micros"):
        if isinstance(value, _dt.datetime):
            unit = _PASS_GLOBALS["_MS" if kind == "local-timestamp-millis" else "_US"]
            return (value.replace(tzinfo=None) - _PASS_GLOBALS["_EPOCH_NAIVE"]) // unit
        return value
    if kind == "date":
        return _encode_date(value)
    if kind == "time-millis":
        return _encode_time_millis(value)
    return _encode_time_micros(value)
