"""Coercing decoded values into a target schema's Python types.

Conversion hands records from one format's decoder to another's encoder. The two rarely
agree on representation (JSON has no timestamps, CSV has only text, Protobuf has enum
numbers), so each target field gets a converter built once from the target's model.
Only unambiguous conversions happen: ``"2024-01-02T03:04:05Z"`` becomes a datetime for a
timestamp field, ``"12.50"`` a Decimal for a decimal field; ``"abc"`` for an int field is
an error naming the field path, never a silent zero.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import math
import sys
import uuid
from typing import Any, Callable

from . import _model as m
from ._errors import RecordInvalid, SerdeError

Coerce = Callable[[Any, str], Any]  # (value, path) -> value

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_EPOCH_DATE = dt.date(1970, 1, 1)
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


def _fail(path: str, value: Any, what: str) -> RecordInvalid:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return RecordInvalid(f"cannot use {shown} as {what}", path=path)


def _to_int(bounds: tuple[int, int], what: str) -> Coerce:
    low, high = bounds

    def coerce(value: Any, path: str) -> Any:
        if type(value) is int:
            result = value
        elif isinstance(value, bool):
            raise _fail(path, value, what)
        elif isinstance(value, int):
            result = int(value)
        elif isinstance(value, float) and value.is_integer():
            result = int(value)
        elif isinstance(value, decimal.Decimal) and value == value.to_integral_value():
            result = int(value)
        elif isinstance(value, str):
            try:
                result = int(value.strip())
            except ValueError:
                raise _fail(path, value, what) from None
        else:
            raise _fail(path, value, what)
        if not low <= result <= high:
            raise RecordInvalid(f"{result} is out of range for {what}", path=path)
        return result

    return coerce


def _to_float(value: Any, path: str) -> Any:
    if type(value) is float:
        return value
    if isinstance(value, (int, decimal.Decimal)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            raise _fail(path, value, "a floating-point number") from None
    raise _fail(path, value, "a floating-point number")


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def _to_bool(value: Any, path: str) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _fail(path, value, "a boolean")


def _to_str(value: Any, path: str) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (int, float, uuid.UUID)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    raise _fail(path, value, "a string")


def _to_bytes(value: Any, path: str) -> Any:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        # JSON and CSV carry bytes as base64 (that is how serde writes them there)
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _fail(path, value, "bytes (base64 text)") from None
    raise _fail(path, value, "bytes")


def parse_timestamp(value: Any, path: str, micros: bool = False) -> dt.datetime:
    try:
        return _parse_timestamp(value, path, micros)
    except (OverflowError, OSError):
        raise RecordInvalid(f"{value!r} is out of the range of timestamps", path=path) from None


def _parse_timestamp(value: Any, path: str, micros: bool = False) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise _fail(path, value, "a timestamp")
        return _EPOCH + dt.timedelta(microseconds=value) if micros else _EPOCH + dt.timedelta(milliseconds=value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return _parse_timestamp(int(text), path, micros)
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise _fail(path, value, "a timestamp (ISO-8601 text or epoch milliseconds)") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    raise _fail(path, value, "a timestamp")


def _to_date(value: Any, path: str) -> Any:
    try:
        return _date(value, path)
    except (OverflowError, OSError):
        raise RecordInvalid(f"{value!r} is out of the range of dates", path=path) from None


def _date(value: Any, path: str) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return _EPOCH_DATE + dt.timedelta(days=value)
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            try:
                return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
            except ValueError:
                raise _fail(path, value, "a date (YYYY-MM-DD)") from None
    raise _fail(path, value, "a date")


def _to_time(value: Any, path: str) -> Any:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 86_400_000:
            raise RecordInvalid(f"{value} milliseconds is not a time of day", path=path)
        return (dt.datetime.min + dt.timedelta(milliseconds=value)).time()
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value.strip())
        except ValueError:
            raise _fail(path, value, "a time of day (HH:MM:SS)") from None
    raise _fail(path, value, "a time of day")


def strict_uuid(text: str) -> uuid.UUID:
    """A UUID from its usual spellings (with or without hyphens, braces or urn:uuid:);
    uuid.UUID itself also takes "+", "_" and inner spaces, which are not UUIDs."""
    digits = text.strip()
    if digits[:9].lower() == "urn:uuid:":
        digits = digits[9:]
    if digits[:1] == "{" and digits[-1:] == "}":
        digits = digits[1:-1]
    if len(digits) == 36 and digits[8] == digits[13] == digits[18] == digits[23] == "-":
        digits = digits.replace("-", "")
    if len(digits) != 32 or digits.strip("0123456789abcdefABCDEF"):
        raise ValueError(f"{text!r} is not a UUID")
    return uuid.UUID(hex=digits)


def _to_uuid(value: Any, path: str) -> Any:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return strict_uuid(value)
        except ValueError:
            raise _fail(path, value, "a UUID") from None
    if isinstance(value, bytes) and len(value) == 16:
        return uuid.UUID(bytes=value)
    raise _fail(path, value, "a UUID")


def _to_decimal(t: m.Decimal) -> Coerce:
    quantum = decimal.Decimal(1).scaleb(-t.scale)

    def coerce(value: Any, path: str) -> Any:
        if isinstance(value, decimal.Decimal):
            result = value
        elif isinstance(value, bool):
            raise _fail(path, value, "a decimal")
        elif isinstance(value, int):
            result = decimal.Decimal(value)
        elif isinstance(value, (float, str)):
            try:
                result = decimal.Decimal(str(value).strip())
            except decimal.InvalidOperation:
                raise _fail(path, value, "a decimal") from None
        else:
            raise _fail(path, value, "a decimal")
        if not result.is_finite():
            raise _fail(path, value, "a finite decimal")
        # Rounding would silently change the amount: refuse instead.
        scaled = result.quantize(quantum, context=decimal.Context(prec=max(t.precision, 1) + 30))
        if scaled != result:
            raise RecordInvalid(f"{result} has more than {t.scale} decimal places", path=path)
        if len(scaled.as_tuple().digits) > t.precision and scaled != 0:
            raise RecordInvalid(f"{result} does not fit decimal({t.precision}, {t.scale})", path=path)
        return scaled

    return coerce


def _to_enum(t: m.Enum) -> Coerce:
    symbols = set(t.symbols)

    def coerce(value: Any, path: str) -> Any:
        if isinstance(value, str):
            if value in symbols:
                return value
            text = value.strip()
            if text in symbols:
                return text
        raise RecordInvalid(f"{value!r} is not one of the {t.name} symbols {', '.join(t.symbols)}", path=path)

    return coerce


def _identity(value: Any, path: str) -> Any:
    return value


_SCALARS: dict[str, Coerce] = {
    m.STRING: _to_str,
    m.BYTES: _to_bytes,
    m.BOOLEAN: _to_bool,
    m.INT32: _to_int(_INT32, "a 32-bit integer"),
    m.INT64: _to_int(_INT64, "a 64-bit integer"),
    m.FLOAT32: _to_float,
    m.FLOAT64: _to_float,
    m.DATE: _to_date,
    m.TIME_MILLIS: _to_time,
    m.TIMESTAMP_MILLIS: lambda v, p: parse_timestamp(v, p),
    m.TIMESTAMP_MICROS: lambda v, p: parse_timestamp(v, p, micros=True),
    m.UUID: _to_uuid,
    m.ANY: _identity,
}


_EXACT: dict[str, Callable[[Any], bool]] = {
    m.STRING: lambda v: isinstance(v, str),
    m.BYTES: lambda v: isinstance(v, (bytes, bytearray)),
    m.BOOLEAN: lambda v: isinstance(v, bool),
    m.INT32: lambda v: type(v) is int and _INT32[0] <= v <= _INT32[1],
    m.INT64: lambda v: type(v) is int,
    m.FLOAT32: lambda v: isinstance(v, float),
    m.FLOAT64: lambda v: isinstance(v, float),
    m.NULL: lambda v: v is None,
    m.DATE: lambda v: isinstance(v, dt.date) and not isinstance(v, dt.datetime),
    m.TIME_MILLIS: lambda v: isinstance(v, dt.time),
    m.TIMESTAMP_MILLIS: lambda v: isinstance(v, dt.datetime),
    m.TIMESTAMP_MICROS: lambda v: isinstance(v, dt.datetime),
    m.UUID: lambda v: isinstance(v, uuid.UUID),
    m.ANY: lambda v: True,
}


def matches(t: m.Type, value: Any) -> bool:
    """Whether ``value`` already is a value of ``t`` (no conversion needed)."""
    if isinstance(t, m.Scalar):
        return _EXACT[t.kind](value)
    if isinstance(t, m.Decimal):
        return isinstance(value, decimal.Decimal)
    if isinstance(t, m.Enum):
        return isinstance(value, str) and value in t.symbols
    if isinstance(t, m.Optional):
        return value is None or matches(t.type, value)
    if isinstance(t, m.Array):
        return isinstance(value, (list, tuple))
    if isinstance(t, m.Map):
        return isinstance(value, dict)
    if isinstance(t, m.Record):
        # a dict is this record only if it has no key the record lacks and every field
        # without a default: in a union of records, the one the data actually is
        if not isinstance(value, dict):
            return False
        names = {f.name for f in t.fields}
        if not names.issuperset(value):
            return False
        return all(f.name in value for f in t.fields if not f.has_default and not isinstance(f.type, m.Optional))
    if isinstance(t, m.Union_):
        return any(matches(x, value) for x in t.types)
    if isinstance(t, m.Ref):
        return matches(t.record, value)  # a record looks at its keys only: no recursion here
    return False


def _null(value: Any, path: str) -> Any:
    if value is None:
        return None
    raise _fail(path, value, "null")


def build(t: m.Type) -> Coerce:
    """A converter ``(value, path) -> value`` for values of model type ``t``."""
    return _build(t, {})


def _build(t: m.Type, named: dict[str, Coerce]) -> Coerce:
    if isinstance(t, m.Scalar):
        return _null if t.kind == m.NULL else _SCALARS[t.kind]
    if isinstance(t, m.Decimal):
        return _to_decimal(t)
    if isinstance(t, m.Enum):
        return _to_enum(t)
    if isinstance(t, m.Optional):
        inner = _build(t.type, named)

        def optional(value: Any, path: str) -> Any:
            return None if value is None else inner(value, path)

        return optional
    if isinstance(t, m.Array):
        item = _build(t.items, named)

        def array(value: Any, path: str) -> Any:
            if isinstance(value, str):  # CSV carries arrays as JSON text
                value = _json_text(value, path, list)
            if not isinstance(value, (list, tuple)):
                raise _fail(path, value, "an array")
            return [item(v, f"{path}[{i}]") for i, v in enumerate(value)]

        return array
    if isinstance(t, m.Map):
        values = _build(t.values, named)

        def mapping(value: Any, path: str) -> Any:
            if isinstance(value, str):
                value = _json_text(value, path, dict)
            if not isinstance(value, dict):
                raise _fail(path, value, "a map")
            return {str(k): values(v, f"{path}.{k}") for k, v in value.items()}

        return mapping
    if isinstance(t, m.Union_):
        options = [(option, _build(option, named)) for option in t.types]

        def union(value: Any, path: str) -> Any:
            # a branch the value already is wins over one it could be converted to:
            # 5 in ["string", "long"] stays the long 5, not the text "5"
            for option, coerce in options:
                if matches(option, value):
                    return coerce(value, path)
            for _, coerce in options:
                try:
                    return coerce(value, path)
                except RecordInvalid:
                    continue
            raise _fail(path, value, "any type of the union")

        return union
    if isinstance(t, m.Ref):
        if t.name in named:  # recursive record (the usual case): resolve lazily
            return lambda v, p: named[t.name](v, p)
        return _build(t.record, named)  # met outside its record
    if isinstance(t, m.Record):
        if t.name in named:  # a record used again: resolve lazily
            return lambda v, p: named[t.name](v, p)
        placeholder: list[Coerce] = []
        named[t.name] = lambda v, p: placeholder[0](v, p)
        fields = [(f.name, _build(f.type, named)) for f in t.fields]

        def record(value: Any, path: str) -> Any:
            if isinstance(value, str):
                value = _json_text(value, path, dict)
            if not isinstance(value, dict):
                raise _fail(path, value, f"a {t.name} record")
            out = {}
            for name, coerce in fields:
                if name in value:
                    out[name] = coerce(value[name], f"{path}.{name}")
            return out

        placeholder.append(record)
        named[t.name] = record
        return record
    raise TypeError(f"unknown model type {t!r}")  # pragma: no cover - the model is closed


def too_deep(kind: type[SerdeError] = RecordInvalid) -> SerdeError:
    """The error for a value nested deeper than Python's recursion limit lets serde
    walk (a very long linked list, say): converters and codecs recurse per level, and a
    bare RecursionError must not escape as a traceback."""
    return kind(f"nested too deeply to convert (deeper than Python's recursion limit of {sys.getrecursionlimit()} "
                "frames allows)", path="$")


def _json_text(text: str, path: str, kind: type) -> Any:
    import orjson

    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _fail(path, text, f"JSON text of {'an array' if kind is list else 'an object'}") from None
    if not isinstance(value, kind):
        raise _fail(path, text, f"JSON text of {'an array' if kind is list else 'an object'}")
    return value


# -- text parsers: CSV cells are always text, so each column gets a parser that skips
# the type dispatch above. They raise ValueError/TypeError; callers add the path.

_BOOLS = {**{t: True for t in _TRUE}, **{f: False for f in _FALSE}}


def _text_int(bounds: tuple[int, int]) -> Callable[[str], Any]:
    low, high = bounds

    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range")
        return value

    return parse


def _text_bool(text: str) -> bool:
    try:
        return _BOOLS[text.strip().lower()]
    except KeyError:
        raise ValueError(f"{text!r} is not a boolean (true/false)") from None


def _text_timestamp(text: str) -> dt.datetime:
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    elif text.lstrip("-").isdigit():
        return _EPOCH + dt.timedelta(milliseconds=int(text))
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


_UUID_NEW = object.__new__
_UUID_SET = object.__setattr__
_SAFE_UNKNOWN = uuid.SafeUUID.unknown


def _text_uuid(text: str) -> uuid.UUID:
    # uuid.UUID(text) is pure Python and slow; the canonical 36-character form is what
    # CSV carries, so build it directly (anything else goes through uuid.UUID).
    if len(text) == 36 and text[8] == "-" and text[13] == "-" and text[18] == "-" and text[23] == "-":
        digits = text[:8] + text[9:13] + text[14:18] + text[19:23] + text[24:]
        if digits.strip("0123456789abcdefABCDEF"):
            raise ValueError(f"{text!r} is not a UUID")
        value = int(digits, 16)
        result = _UUID_NEW(uuid.UUID)
        _UUID_SET(result, "int", value)
        _UUID_SET(result, "is_safe", _SAFE_UNKNOWN)
        return result
    return strict_uuid(text)


def text_parser(t: m.Type) -> Callable[[str], Any]:
    """A parser for one CSV cell of type ``t``; errors are ValueError/TypeError/
    RecordInvalid and the caller names the column (then :func:`build` explains)."""
    if isinstance(t, m.Scalar):
        if t.kind in (m.STRING, m.ANY):
            return str
        if t.kind == m.INT32:
            return _text_int(_INT32)
        if t.kind == m.INT64:
            return _text_int(_INT64)
        if t.kind in (m.FLOAT32, m.FLOAT64):
            return float
        if t.kind == m.BOOLEAN:
            return _text_bool
        if t.kind == m.TIMESTAMP_MILLIS:
            return _text_timestamp
        if t.kind == m.DATE:
            return dt.date.fromisoformat
        if t.kind == m.UUID:
            return _text_uuid
    if isinstance(t, m.Enum):
        symbols = frozenset(t.symbols)

        def enum(text: str) -> str:
            if text in symbols:
                return text
            raise ValueError(text)

        return enum
    if isinstance(t, m.Decimal):
        exponent = -t.scale
        digits = t.precision

        def number(text: str) -> decimal.Decimal:
            value = decimal.Decimal(text)
            # exact scale and precision: anything else goes the slow, explaining way
            as_tuple = value.as_tuple()
            if as_tuple.exponent != exponent or len(as_tuple.digits) > digits:
                raise ValueError(text)
            return value

        return number
    coerce = build(t)
    return lambda text: coerce(text, "$")
