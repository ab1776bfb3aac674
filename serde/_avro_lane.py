"""A direct lane from text cells to Avro's primitive values.

Converting CSV to Avro the general way builds a Python ``datetime``, ``Decimal`` and
``UUID`` per cell, and the Avro codec then takes each apart again. This lane parses
the text straight into what Avro writes (epoch milliseconds, days, unscaled decimal
bytes, UUID text) and encodes with the schema's logical types removed, so the codec
only packs primitives: the codec schema serde.formats.avro keeps without them
(``AvroSchema.logical``). The bytes are identical to the general path (tested); any cell
the lane cannot take goes the general way, which also explains errors.
"""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any, Callable

from . import _model as m

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_EPOCH_DAY = dt.date(1970, 1, 1).toordinal()
_MILLI = dt.timedelta(milliseconds=1)
_MICRO = dt.timedelta(microseconds=1)
_HEX = "0123456789abcdefABCDEF"


# The logical types the lane writes itself, as (Avro type, logical type): exactly those
# the model represents without loss and serde.formats.avro strips from its codec schema
# (AvroSchema.logical). A schema with any other (time-micros, local timestamps, decimals
# on fixed) goes the general way.
LANE_LOGICAL_TYPES = frozenset({
    ("bytes", "decimal"), ("string", "uuid"), ("long", "timestamp-millis"), ("long", "timestamp-micros"),
    ("int", "date"), ("int", "time-millis"),
})


def fits_lane(schema: Any) -> bool:
    """Whether every logical type in the (expanded) Avro schema is one the lane writes."""
    if isinstance(schema, list):
        return all(fits_lane(item) for item in schema)
    if not isinstance(schema, dict):
        return True
    logical = schema.get("logicalType")
    if logical is not None and (schema.get("type"), logical) not in LANE_LOGICAL_TYPES:
        return False
    children = [schema.get(key) for key in ("type", "items", "values") if isinstance(schema.get(key), (dict, list))]
    children += [field.get("type") for field in schema.get("fields", []) or []]
    return all(fits_lane(child) for child in children)


def decimal_bytes(value: decimal.Decimal, precision: int, scale: int) -> bytes:
    """Unscaled two's-complement bytes, sized exactly as fastavro sizes them."""
    sign, digits, exponent = value.as_tuple()
    if len(digits) > precision or not isinstance(exponent, int) or exponent + scale < 0:
        raise ValueError(value)
    unscaled = int("".join(map(str, digits)) or "0") * 10 ** (exponent + scale)
    size = (unscaled.bit_length() + 8) // 8
    return (-unscaled if sign else unscaled).to_bytes(size, "big", signed=True)


def _timestamp_millis(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return (value - _EPOCH) // _MILLI


def _timestamp_micros(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return (value - _EPOCH) // _MICRO


def _time_millis(value: dt.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000


def typed_to_physical(t: m.Type) -> Callable[[Any], Any] | None:
    """Converts a typed value (datetime, Decimal...) to the lane's primitive; None when
    the type needs no conversion."""
    if isinstance(t, m.Decimal):
        precision, scale = t.precision, t.scale
        return lambda v: decimal_bytes(v, precision, scale)
    if isinstance(t, m.Scalar):
        return {
            m.UUID: str,
            m.DATE: lambda v: v.toordinal() - _EPOCH_DAY,
            m.TIME_MILLIS: _time_millis,
            m.TIMESTAMP_MILLIS: _timestamp_millis,
            m.TIMESTAMP_MICROS: _timestamp_micros,
        }.get(t.kind)
    if isinstance(t, m.Optional):
        inner = typed_to_physical(t.type)
        return None if inner is None else (lambda v: None if v is None else inner(v))
    if isinstance(t, m.Array):
        item = typed_to_physical(t.items)
        return None if item is None else (lambda v: [item(x) for x in v])
    if isinstance(t, m.Map):
        value = typed_to_physical(t.values)
        return None if value is None else (lambda v: {k: value(x) for k, x in v.items()})
    if isinstance(t, m.Record):
        fields = [(f.name, typed_to_physical(f.type)) for f in t.fields]
        converting = [(n, c) for n, c in fields if c is not None]
        if not converting:
            return None

        def record(v: dict) -> dict:
            out = dict(v)
            for name, convert in converting:
                if out.get(name) is not None:
                    out[name] = convert(out[name])
            return out

        return record
    if isinstance(t, m.Union_):
        if any(typed_to_physical(x) is not None for x in t.types):
            raise ValueError("the Avro lane does not take unions of logical types")
        return None
    if isinstance(t, m.Ref):
        # a recursive record would need a converter that calls itself; the lane is only
        # a shortcut, so such schemas take the general way (serde.conversion checks this)
        raise ValueError("the Avro lane does not take recursive types")
    return None


def text_to_physical(t: m.Type) -> Callable[[str], Any] | None:
    """A parser from cell text straight to the lane's primitive, or None when the
    column is not a plain scalar (then the caller goes the general way)."""
    if isinstance(t, m.Decimal):
        precision, scale = t.precision, t.scale
        exponent = -scale

        def number(text: str) -> bytes:
            value = decimal.Decimal(text)
            sign, digits, exp = value.as_tuple()
            if exp != exponent or len(digits) > precision:
                raise ValueError(text)
            unscaled = int(text.replace(".", "", 1))
            size = (abs(unscaled).bit_length() + 8) // 8
            return unscaled.to_bytes(size, "big", signed=True)

        return number
    if not isinstance(t, m.Scalar):
        return None
    if t.kind == m.UUID:
        def uuid_text(text: str) -> str:
            if len(text) == 36 and text[8] == text[13] == text[18] == text[23] == "-":
                digits = text[:8] + text[9:13] + text[14:18] + text[19:23] + text[24:]
                if digits.strip(_HEX):  # int(x, 16) would also take "+", "_" and spaces
                    raise ValueError(text)
                return text.lower()
            from ._coerce import strict_uuid

            return str(strict_uuid(text))

        return uuid_text
    if t.kind == m.DATE:
        return lambda text: dt.date.fromisoformat(text).toordinal() - _EPOCH_DAY
    if t.kind in (m.TIMESTAMP_MILLIS, m.TIMESTAMP_MICROS):
        unit = _MILLI if t.kind == m.TIMESTAMP_MILLIS else _MICRO

        def timestamp(text: str) -> int:
            if text[-1:] in ("Z", "z"):
                value = dt.datetime.fromisoformat(text[:-1] + "+00:00")
            elif text.lstrip("-").isdigit():
                raise ValueError(text)  # epoch numbers: the general way knows the unit rules
            else:
                value = dt.datetime.fromisoformat(text)
                if value.tzinfo is None:
                    value = value.replace(tzinfo=dt.timezone.utc)
            return (value - _EPOCH) // unit

        return timestamp
    if t.kind == m.TIME_MILLIS:
        return lambda text: _time_millis(dt.time.fromisoformat(text))
    return None
