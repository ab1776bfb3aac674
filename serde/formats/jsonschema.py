"""JSON with JSON Schema: UTF-8 JSON text, validated on write and on read.

``jsonschema-rs`` validates (drafts 4 to 2020-12, chosen by ``$schema``; draft-07 when
absent, as Confluent does) and ``orjson`` encodes and parses: together they are two
orders of magnitude faster than the pure-Python ``jsonschema`` that confluent-kafka's
JSONSerializer uses (benchmarks/). Values that JSON has no type for are written the
way a reader can take them back: datetimes and dates as ISO-8601 text, UUIDs as text,
Decimals as text (lossless), bytes as base64.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import re
import uuid
from typing import Any, Mapping
from urllib.parse import urljoin

from .._errors import DecodeError, RecordInvalid, SchemaParseError, ValidationError
from .._types import SchemaSource
from ._base import Decoder, Encoder, Format, ParsedSchema, as_source

_UTC_Z = 1 << 7  # orjson.OPT_UTC_Z (kept as a constant: orjson loads lazily): "…T03:04:05Z", as Java writes it
_TIME_FORMAT = re.compile(r'"format"\s*:\s*"time"')
_PASSTHROUGH_DATETIME = 1 << 9  # orjson.OPT_PASSTHROUGH_DATETIME: datetime, date and time go to default=
_DEFAULT_BASE = "https://schemas.serde.invalid/root.json"  # never fetched: the retriever answers


# A run of 19+ digits, found with two C-speed byte operations (every digit becomes "0",
# then a substring search): a regular expression took 6 us on a 500-byte record.
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19


def json_loads(data: bytes | str) -> Any:
    """Parse JSON exactly: orjson (fast) turns integers beyond 64 bits into floats, so
    text holding a run of 19+ digits goes to the standard library, which keeps them.
    Both raise json.JSONDecodeError."""
    import orjson

    raw = data.encode("utf-8") if isinstance(data, str) else data
    if type(raw) is not bytes:  # a memoryview or bytearray (as consumers may hand over)
        raw = bytes(raw)
    if _NINETEEN_DIGITS in raw.translate(_DIGITS_TO_ZERO):
        return json.loads(raw)
    return orjson.loads(raw)


def json_dumps(value: Any, option: int = 0, *, time_offset: bool = False) -> bytes:
    """orjson, or the standard library for integers beyond 64 bits (orjson refuses them).
    Non-finite floats are refused: JSON has no NaN or Infinity (orjson would write null).
    ``time_offset`` writes times of day with an offset ("08:00:11Z"), as JSON Schema's
    ``format: time`` (RFC 3339 full-time) requires; a time without one is UTC."""
    import orjson

    try:
        if time_offset:
            data = orjson.dumps(value, default=_default_temporal, option=option | _UTC_Z | _PASSTHROUGH_DATETIME)
        else:
            data = orjson.dumps(value, default=_default, option=option | _UTC_Z)
    except TypeError as exc:
        if "64-bit" not in str(exc):
            raise
        data = json.dumps(value, default=_std_default_offset if time_offset else _std_default, separators=(",", ":"),
                          ensure_ascii=False, allow_nan=False).encode("utf-8")
        if option & orjson.OPT_APPEND_NEWLINE:
            data += b"\n"
    if b"null" in data and _has_non_finite(value):
        raise TypeError("NaN and Infinity have no JSON representation")
    return data


def _nan_can_hide(schema: Any) -> bool:
    """Whether a null written for a NaN could pass this schema somewhere: anywhere the
    type is open, or allows both null and a number."""
    if schema is True or schema == {}:
        return True
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind is None and not any(k in schema for k in ("enum", "const")):
        if not any(k in schema for k in ("$ref", "allOf", "anyOf", "oneOf", "properties", "items", "prefixItems")):
            return True
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "null" in kinds and kinds & {"number", "integer"}:
        return True
    if "object" in kinds and schema.get("additionalProperties", True) is True and "unevaluatedProperties" not in schema:
        return True  # unlisted properties may hold anything
    if "array" in kinds and "items" not in schema and "prefixItems" not in schema:
        return True
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas"):
            if isinstance(value, dict) and any(_nan_can_hide(v) for v in value.values()):
                return True
        elif key in ("items", "additionalProperties", "not", "contains", "unevaluatedProperties", "unevaluatedItems"):
            if isinstance(value, (dict, bool)) and value is not False and _nan_can_hide(value):
                return True
        elif key in ("allOf", "anyOf", "oneOf", "prefixItems"):
            if isinstance(value, list) and any(_nan_can_hide(v) for v in value):
                return True
    return False


def _number_possible(schema: Any) -> bool:
    """Whether a float may appear anywhere the schema describes (with validation off, a
    NaN can only come through where a number can)."""
    if not isinstance(schema, dict):
        return schema is not False
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "number" in kinds or (kind is None and not any(k in schema for k in ("enum", "const", "$ref"))):
        return True
    if "object" in kinds and schema.get("additionalProperties", True) is True:
        return True
    if "array" in kinds and "items" not in schema and "prefixItems" not in schema:
        return True
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "definitions", "$defs"):
            if isinstance(value, dict) and any(_number_possible(v) for v in value.values()):
                return True
        elif key in ("items", "additionalProperties"):
            if isinstance(value, dict) and _number_possible(value):
                return True
        elif key in ("allOf", "anyOf", "oneOf", "prefixItems"):
            if isinstance(value, list) and any(_number_possible(v) for v in value):
                return True
    return False


def _local_target(root: Any, ref: Any) -> Any:
    """The subschema a local ``#/...`` JSON pointer names, or None (any other reference)."""
    from urllib.parse import unquote

    if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")):
        return None
    node = root
    for token in ref[2:].split("/") if ref != "#" else ():
        token = unquote(token).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def _nan_fails(schema: Any, root: Any, seen: dict[int, int], depth: int = 0, budget: list[int] | None = None) -> bool:
    """Whether validation (on the Python value) refuses a NaN or Infinity anywhere inside a
    value this schema accepts. jsonschema-rs fails them on every ``type``, ``enum`` and
    ``const`` check, so this holds when every place a value can sit is under one of those:
    objects closed (``additionalProperties``), arrays with ``items``, references local.
    Keywords not looked at here can only refuse more, so ignoring them is safe.
    ``seen`` holds the references being followed, with the ``depth`` (child locations
    gone down) each started at."""
    if budget is None:
        budget = [10_000]
    if schema is False:
        return True
    if not isinstance(schema, dict):
        return False  # true: anything goes
    if "$ref" in schema:  # draft-07 ignores its siblings; later drafts add them (refuse more)
        target = _local_target(root, schema["$ref"])
        if target is None:
            return False
        key = id(target)
        if key in seen:  # a recursive schema: sound only if the cycle went down into a child
            return depth > seen[key]
        budget[0] -= 1
        if budget[0] < 0:
            return False  # too many references to follow: the slow path
        seen[key] = depth
        try:
            return _nan_fails(target, root, seen, depth, budget)
        finally:
            del seen[key]
    if "enum" in schema or "const" in schema:
        return True  # NaN equals no constant, nested or not
    if any(_nan_fails(branch, root, seen, depth, budget) for branch in schema.get("allOf") or ()):
        return True
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches and all(_nan_fails(b, root, seen, depth, budget) for b in branches):
            return True
    kind = schema.get("type")
    if kind is None:
        return False
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "object" in kinds:
        for key in ("properties", "patternProperties"):
            children = schema.get(key, {})
            if not isinstance(children, dict) or not all(_nan_fails(c, root, seen, depth + 1, budget) for c in children.values()):
                return False
        if "additionalProperties" not in schema or not _nan_fails(schema["additionalProperties"], root, seen, depth + 1, budget):
            return False
    if "array" in kinds:
        items = schema.get("items")
        if "prefixItems" in schema:
            prefix = schema["prefixItems"]
            if not isinstance(prefix, list) or not all(_nan_fails(c, root, seen, depth + 1, budget) for c in prefix):
                return False
            if "items" not in schema or not _nan_fails(items, root, seen, depth + 1, budget):
                return False
        elif isinstance(items, list):  # the tuple form (draft 2020-12 has prefixItems instead)
            if isinstance(root, dict) and "2020-12" in str(root.get("$schema", "")):
                return False
            if not all(_nan_fails(c, root, seen, depth + 1, budget) for c in items):
                return False
            if "additionalItems" not in schema or not _nan_fails(schema["additionalItems"], root, seen, depth + 1, budget):
                return False
        elif items is None or not _nan_fails(items, root, seen, depth + 1, budget):
            return False
    return True


def _validation_refuses_nan(document: Any) -> bool:
    """``_nan_fails`` for a whole schema document; False where an ``$id`` below the root
    could change what a local reference means."""
    text = json.dumps(document)
    if text.count('"$id"') > (1 if isinstance(document, dict) and "$id" in document else 0):
        return False
    if '"$anchor"' in text or '"$dynamic' in text or '"$recursive' in text:
        return False
    return _nan_fails(document, document, {}, 0, [10_000])


# Exact integers on read, without looking at the text (issue 19): orjson reads an integer
# beyond 64 bits as a float, whose magnitude is then at least 2**63. A schema whose every
# place for a value is under a type/enum/const check (``_nan_fails``) can carry the
# bounds below on each subschema that lets a number through; a document that validator
# accepts holds no such float, so orjson's reading of it is the exact one.
_BELOW_2_63 = 2**63 - 1
_NEGATED = frozenset({"not", "if"})  # constraints added under these would accept more
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas")
_SUBSCHEMA_ONES = ("additionalProperties", "items", "additionalItems", "contains", "then", "else",
                   "unevaluatedProperties", "unevaluatedItems")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "items", "prefixItems")


def _big_number_in(value: Any) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return not -_BELOW_2_63 < value < _BELOW_2_63
    if isinstance(value, dict):
        return any(_big_number_in(v) for v in value.values())
    if isinstance(value, list):
        return any(_big_number_in(v) for v in value)
    return False


def _bounded_document(document: Any) -> Any:
    """A copy of ``document`` whose subschemas that let numbers through also require
    them to lie strictly within +-(2**63 - 1), or None where that cannot be shown to
    refuse exactly the floats orjson makes of integers beyond 64 bits (and only add
    constraints): a schema ``_validation_refuses_nan`` cannot vouch for, draft 4 (its
    exclusive bounds are booleans), ``oneOf`` (a stricter branch can make a document
    valid), or a constant of that size."""
    if not isinstance(document, dict) or not _validation_refuses_nan(document):
        return None
    text = json.dumps(document)
    if '"oneOf"' in text or _big_number_in(document):
        return None
    draft = str(document.get("$schema", ""))
    if "draft-04" in draft or "draft-03" in draft:
        return None

    def bound(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        out = dict(node)
        kind = node.get("type")
        kinds = set(kind) if isinstance(kind, list) else {kind}
        if "number" in kinds or "integer" in kinds:
            high, low = node.get("exclusiveMaximum", _BELOW_2_63), node.get("exclusiveMinimum", -_BELOW_2_63)
            if not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in (high, low)):
                raise ValueError("an exclusive bound that is not a number")
            out["exclusiveMaximum"], out["exclusiveMinimum"] = min(high, _BELOW_2_63), max(low, -_BELOW_2_63)
        for key in _SUBSCHEMA_MAPS:
            if isinstance(node.get(key), dict):
                out[key] = {name: bound(child) for name, child in node[key].items()}
        for key in _SUBSCHEMA_ONES:
            if isinstance(node.get(key), dict):
                out[key] = bound(node[key])
        for key in _SUBSCHEMA_LISTS:
            if isinstance(node.get(key), list):
                out[key] = [bound(child) for child in node[key]]
        return out

    try:
        return bound(document)
    except ValueError:
        return None


_REF = re.compile(r'"\$ref"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _array_of(document: Any) -> Any:
    """``{"type": "array", "items": document}`` with the same meaning for each item, or
    None: the document's definitions stay at the root, so only references into them
    (``#/definitions/...``, ``#/$defs/...``) may appear, and no ``$id``."""
    if not isinstance(document, dict):
        return None
    text = json.dumps(document)
    if '"$id"' in text or not all(ref.startswith(("#/definitions/", "#/$defs/")) for ref in _REF.findall(text)):
        return None
    roots = ("$schema", "definitions", "$defs")
    wrapper = {key: document[key] for key in roots if key in document}
    wrapper["type"] = "array"
    wrapper["items"] = {key: value for key, value in document.items() if key not in roots}
    return wrapper


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_non_finite(v) for v in value)
    return False


def _temporal_text(value: dt.date | dt.time, time_offset: bool) -> str:
    """A datetime, date or time as orjson writes it with OPT_UTC_Z ("…Z" for UTC, no
    offset when naive), except that with ``time_offset`` a naive time gets "Z"."""
    text = value.isoformat()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return text
    if value.tzinfo is None:
        return text + "Z" if time_offset and isinstance(value, dt.time) else text
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _std_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):
        return _temporal_text(value, False)
    if isinstance(value, uuid.UUID):
        return str(value)
    return _default(value)


def _std_default_offset(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):
        return _temporal_text(value, True)
    return _std_default(value)


def _default_temporal(value: Any) -> Any:
    # with OPT_PASSTHROUGH_DATETIME orjson hands datetime, date and time here
    if isinstance(value, (dt.date, dt.time)):
        return _temporal_text(value, True)
    return _default(value)


def _default(value: Any) -> Any:
    # orjson already handles datetime, date, time and UUID.
    if isinstance(value, decimal.Decimal):
        return format(value, "f")  # never "1E-10": plain decimal text
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _path_text(path: Any) -> str:
    out = "$"
    for part in path or ():
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


class JsonSchema(ParsedSchema):
    schema_type = "JSON"

    def __init__(self, text: str, references: Mapping[str, str], record_name: str | None, document: Any, validator: Any,
                 make_validator: Any = None) -> None:
        super().__init__(text, references, record_name)
        self.document = document
        self.validator = validator
        self._make_validator = make_validator  # document -> a validator built as this one was
        self._bounded: Any = None
        self._bounded_batch: Any = None

    @property
    def bounded_validator(self) -> Any:
        """The validator of ``_bounded_document``, or None (built once)."""
        if self._bounded is None:
            self._bounded = False
            bounded = _bounded_document(self.document) if self._make_validator is not None else None
            if bounded is not None:
                try:
                    self._bounded = self._make_validator(bounded)
                except Exception:  # noqa: BLE001 - the plain path then, as before
                    self._bounded = False
        return self._bounded or None

    @property
    def bounded_batch_validator(self) -> Any:
        """A validator of arrays whose every item is checked as ``bounded_validator``
        checks a document, or None (built once)."""
        if self._bounded_batch is None:
            self._bounded_batch = False
            bounded = _bounded_document(self.document) if self.bounded_validator is not None else None
            wrapper = _array_of(bounded) if bounded is not None else None
            if wrapper is not None:
                try:
                    self._bounded_batch = self._make_validator(wrapper)
                except Exception:  # noqa: BLE001 - one record at a time then
                    self._bounded_batch = False
        return self._bounded_batch or None


class JsonFormat(Format):
    name = "json"
    schema_type = "JSON"

    def parse_schema(self, source: str | SchemaSource, **options: Any) -> JsonSchema:
        import jsonschema_rs
        import orjson

        source = as_source(source)
        try:
            document = orjson.loads(source.text)
        except orjson.JSONDecodeError as exc:
            raise SchemaParseError(f"JSON Schema is not JSON: {exc}") from exc
        if not isinstance(document, (dict, bool)):
            raise SchemaParseError(f"a JSON Schema must be an object or a boolean, not {type(document).__name__}")
        referenced: dict[str, Any] = {}
        for name, text in source.references.items():
            try:
                referenced[name] = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                raise SchemaParseError(f"referenced JSON Schema {name!r} is not JSON: {exc}") from exc
        base = document.get("$id", _DEFAULT_BASE) if isinstance(document, dict) else _DEFAULT_BASE

        def retrieve(uri: str) -> Any:
            # A reference's name is the $ref text, relative to the root schema's $id.
            for name, schema in referenced.items():
                if uri == name or uri == urljoin(base, name) or uri == urljoin(_DEFAULT_BASE, name):
                    return schema
                if isinstance(schema, dict) and schema.get("$id") == uri:
                    return schema
            raise ValueError(f"unresolvable $ref {uri!r}: not among the schema's references ({', '.join(referenced) or 'none'})")

        validator_cls = jsonschema_rs.Draft7Validator
        if isinstance(document, dict) and "$schema" in document:
            validator_cls = jsonschema_rs.validator_cls_for(document)
        def make_validator(doc: Any) -> Any:
            return validator_cls(
                doc,
                retriever=retrieve,
                validate_formats=options.get("validate_formats"),
                base_uri=None if isinstance(document, dict) and "$id" in document else _DEFAULT_BASE,
            )

        try:
            validator = make_validator(document)
        except (ValueError, jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError) as exc:
            raise SchemaParseError(f"invalid JSON Schema: {str(exc).splitlines()[0]}") from exc
        title = document.get("title") if isinstance(document, dict) else None
        return JsonSchema(source.text, source.references, title if isinstance(title, str) else None, document, validator,
                          make_validator)

    def encoder(self, schema: ParsedSchema, *, validate: bool = True, check_nan: bool | None = None,
                **options: Any) -> Encoder:
        """``check_nan`` (default: where the schema could let it through) searches each
        record for NaN/Infinity, which orjson would write as null; a caller that knows its
        records hold no floats (say, read with an Avro schema without float or double)
        can turn it off."""
        import orjson

        assert isinstance(schema, JsonSchema)
        dumps = orjson.dumps
        fast_loads = orjson.loads
        validator = schema.validator
        # orjson writes NaN as null. Where the schema cannot take a null in place of a
        # number, validation catches it; only where it can (or where anything goes)
        # must each record be searched for NaN, which costs a walk of the record.
        if check_nan is not None:
            nan_can_hide = check_nan
        elif not validate:
            nan_can_hide = True  # nothing checks the record against the schema: always look
        else:
            # a null may stand for a NaN only where the schema lets both null and a number
            # through (type lists, anyOf/oneOf branches, or open parts of the schema)
            text = json.dumps(schema.document)
            nan_can_hide = _nan_can_hide(schema.document) or ('"null"' in text and '"number"' in text)

        # A schema with "format": "time" wants RFC 3339 full-time, which has an offset;
        # orjson writes a naive time without one, so such schemas get their temporal
        # values formatted here (slower, so only where a time format is asked for).
        time_offset = any(_TIME_FORMAT.search(text) for text in (json.dumps(schema.document), *schema.references.values()))
        default = _default_temporal if time_offset else _default
        option = _UTC_Z | _PASSTHROUGH_DATETIME if time_offset else _UTC_Z

        # Records holding values JSON has no type for (Decimal, datetime, UUID) are
        # checked in the form actually written, where those are text. Once one record
        # needed that, the rest of the stream (same source, same shapes) goes straight
        # to it instead of failing the object check first every time.
        check_written = [False]

        def encode_slow(record: Any) -> bytes:
            loads = fast_loads  # orjson refuses integers it cannot read back exactly
            try:
                data = dumps(record, default=default, option=option)
                if nan_can_hide and b"null" in data and _has_non_finite(record):
                    raise TypeError("NaN and Infinity have no JSON representation")
            except TypeError as exc:
                if "64-bit" not in str(exc):
                    raise RecordInvalid(f"not JSON serializable: {exc}", path="$") from exc
                try:
                    data = json_dumps(record, time_offset=time_offset)
                except (TypeError, ValueError) as again:
                    raise RecordInvalid(f"not JSON serializable: {again}", path="$") from exc
                loads = json_loads
            if validate:
                if not check_written[0]:
                    try:
                        if validator.is_valid(record):
                            return data
                    except ValueError:  # a value JSON has no type for
                        pass
                if not nan_can_hide and b"null" in data and _has_non_finite(record):
                    # the Python form failed, and the written form would turn a NaN into a
                    # null the schema may take (a string-or-null field): refuse it here
                    raise RecordInvalid("NaN and Infinity have no JSON representation", path="$")
                written = loads(data)
                if not validator.is_valid(written):
                    if _has_non_finite(record):
                        raise RecordInvalid("NaN and Infinity have no JSON representation", path="$")
                    raise _first_error(validator, written, RecordInvalid)
                check_written[0] = True
            return data

        # The fast path: when validation of the Python value refuses NaN and Infinity
        # everywhere (decided once, from the schema), a record that orjson writes and the
        # validator accepts as it is needs nothing else: no walk looking for NaN. Anything
        # else (integers beyond 64 bits, values JSON has no type for, an invalid record, a
        # stream that needed the written-form check) takes the path above, unchanged.
        if not validate or not _validation_refuses_nan(schema.document):
            return encode_slow
        is_valid = validator.is_valid

        def encode_record(record: Any) -> bytes:
            if not check_written[0]:
                try:
                    data = dumps(record, default=default, option=option)
                    if is_valid(record):
                        return data
                except (TypeError, ValueError):
                    pass
            return encode_slow(record)

        return encode_record

    def decoder(self, schema: ParsedSchema, reader: ParsedSchema | None = None, *, validate: bool = True, **options: Any) -> Decoder:
        import orjson

        assert isinstance(schema, JsonSchema)
        loads = json_loads
        # A reader schema is checked too: what we hand back must fit what the caller asked for.
        validators = [s.validator for s in (schema, reader) if isinstance(s, JsonSchema)] if validate else []

        fast_loads = orjson.loads
        translate = bytes.translate

        def load(data: bytes) -> Any:
            try:
                # json_loads inlined: the hot path of every JSON read
                if type(data) is bytes and _NINETEEN_DIGITS not in translate(data, _DIGITS_TO_ZERO):
                    return fast_loads(data)
                return loads(data)
            except json.JSONDecodeError as exc:
                raise DecodeError(f"invalid JSON: {exc}") from exc

        if len(validators) != 1:
            def decode_record(data: bytes) -> Any:
                value = load(data)
                for validator in validators:
                    if not validator.is_valid(value):
                        raise _first_error(validator, value, ValidationError)
                return value

            return decode_record
        only = validators[0]
        is_valid = only.is_valid

        def decode_checked(data: bytes) -> Any:
            value = load(data)
            if not is_valid(value):
                raise _first_error(only, value, ValidationError)
            return value

        bounded = schema.bounded_validator if reader is None else None
        if bounded is None:
            return decode_checked
        # The fast path: orjson's reading, valid under the schema with numbers bounded
        # below 2**63 in magnitude, is the exact reading and valid under the schema; no
        # look at the text for long runs of digits. Anything else (invalid JSON, a
        # document either validator refuses, integers that large) goes the way above.
        bounded_valid = bounded.is_valid

        def decode_record(data: bytes) -> Any:
            if type(data) is bytes:
                try:
                    value = fast_loads(data)
                except ValueError:
                    return decode_checked(data)
                if bounded_valid(value):
                    return value
            return decode_checked(data)

        batch = schema.bounded_batch_validator
        if batch is not None:
            batch_valid = batch.is_valid

            def decode_many(datas: list[bytes]) -> list[Any] | None:
                """The values of many payloads, validated in one call (the same schema
                for each item); None when one is not plain (the caller then decodes
                each on its own, so errors and odd records are as above)."""
                try:
                    values = [fast_loads(data) for data in datas]
                except ValueError:
                    return None
                return values if batch_valid(values) else None

            decode_record.many = decode_many  # type: ignore[attr-defined]
        return decode_record


def _first_error(validator: Any, value: Any, kind: type) -> Exception:
    errors = list(validator.iter_errors(value))
    if not errors:  # pragma: no cover - is_valid said no, so there is one
        return kind("value does not match the JSON Schema", path="$")
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return kind(f"{first.message}{more}", path=_path_text(first.instance_path))
