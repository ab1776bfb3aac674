"""Propose a record type from sample records: CSV rows (every value text) or parsed JSON.

Rules (docs/schema-translation.md):

- *Text* (CSV, or any sample whose values are all strings): a value is read as the
  narrowest of boolean (``true``/``false``, any case), int64 (no leading zeros but
  ``0``: ``02134`` stays text), an array or object written as JSON text (as serde writes
  them in CSV cells; typed as JSON values are), float64 (or a decimal with ``decimals=True``: precision and scale from the
  widest value), timestamp (ISO-8601 date and time; micros when any value has more than
  3 fraction digits), date (``YYYY-MM-DD``), time (``HH:MM[:SS[.fff]]``), uuid, else
  string. A column whose values disagree becomes the common wider type (int64 + float64 →
  float64) or string.
- *JSON*: types come from the JSON values; strings still become timestamps, dates, times
  or uuids when every value is one. Disagreeing non-string types become a union.
  Objects become nested records named after their field in PascalCase (objects whose keys
  are not identifiers become maps); arrays take the merged type of their items.
- A field that is missing, null, or (text) equal to a null marker (``""`` by default) in
  any sample is optional with a null default. A field never seen with a value is an
  optional string.
- Samples cannot show recursion (a linked list looks like ever deeper records), so
  values nested more than ``MAX_DEPTH`` objects/arrays deep are refused with a
  SchemaParseError naming the record and the path; write that schema by hand, with a
  record that refers to itself.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, Iterable, Mapping

from .. import _model as m
from .._errors import SchemaParseError
from ._common import is_identifier, pascal_case, split_name

_UNKNOWN = m.Scalar("unknown")  # internal: no value seen yet
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\Z")
_DECIMAL = re.compile(r"[-+]?([0-9]*)\.?([0-9]*)\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.([0-9]{1,3}))?)?\Z")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.([0-9]+))?)?(Z|[+-][0-9]{2}:?[0-9]{2})?\Z")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_STRINGISH = frozenset({m.STRING, m.DATE, m.TIME_MILLIS, m.TIMESTAMP_MILLIS, m.TIMESTAMP_MICROS, m.UUID})
_INT64_MAX = 2**63 - 1
# Nesting levels (objects and arrays) inference follows. Each level costs a few Python
# frames here and in the schema writers, so this keeps far below the recursion limit;
# real data this deep is a recursive type the samples cannot reveal.
MAX_DEPTH = 100


def infer(
    records: Iterable[Mapping[str, Any]],
    name: str = "Record",
    *,
    text: bool | None = None,
    null_markers: Iterable[str] = ("",),
    decimals: bool = False,
) -> m.Record:
    """A record type that fits every sample in ``records``. ``text`` says the values are
    text to be read (CSV); by default it is true when every value is a string. Raises
    SchemaParseError when there is no sample or a sample is not an object."""
    rows = list(records)
    if not rows:
        raise SchemaParseError("cannot infer a schema from no records")
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise SchemaParseError(f"record {i} is a {type(row).__name__}, not an object; only records can be inferred")
    for i, row in enumerate(rows):
        deep = _too_deep(row)
        if deep is not None:
            shown = deep if len(deep) <= 80 else deep[:77] + "..."
            raise SchemaParseError(f"record {i}: {shown}: nested more than {MAX_DEPTH} levels deep; inference cannot "
                                   "tell a recursive type from samples, so write this schema (a record that refers "
                                   "to itself, e.g. Avro {\"name\": \"next\", \"type\": [\"null\", \"Node\"]})")
    if text is None:
        text = all(isinstance(v, str) or v is None for row in rows for v in row.values())
    inferrer = _Inferrer(bool(text), frozenset(null_markers), decimals)
    merged: m.Type | None = None
    for row in rows:
        observed = inferrer.record(row, name)
        merged = observed if merged is None else inferrer.merge(merged, observed)
    assert isinstance(merged, m.Record)
    return _Finisher().finish(merged)  # type: ignore[return-value]


def _too_deep(row: Mapping[str, Any]) -> str | None:
    """The path of the first value nested more than MAX_DEPTH levels deep, or None.
    Iterative: the point is to look at data too deep for recursion."""
    stack: list[tuple[Any, str, int]] = [(row, "$", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, Mapping):
            children: Iterable[tuple[Any, str]] = ((v, f"{path}.{k}") for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            children = ((v, f"{path}[{i}]") for i, v in enumerate(value))
        else:
            continue
        if depth > MAX_DEPTH:
            return path
        stack.extend((v, p, depth + 1) for v, p in children if isinstance(v, (Mapping, list, tuple)))
    return None


class _Inferrer:
    def __init__(self, text: bool, null_markers: frozenset[str], decimals: bool) -> None:
        self.text = text
        self.null_markers = null_markers
        self.decimals = decimals

    # -- one value ----------------------------------------------------------------------
    def value(self, v: Any, hint: str) -> m.Type:
        if v is None:
            return m.Optional(_UNKNOWN)
        if isinstance(v, str):
            if self.text and v in self.null_markers:
                return m.Optional(_UNKNOWN)
            return self.string(v, hint)
        if isinstance(v, bool):
            return m.Scalar(m.BOOLEAN)
        if isinstance(v, int):
            return m.Scalar(m.INT64) if abs(v) <= _INT64_MAX else m.Decimal(len(str(abs(v))), 0)
        if isinstance(v, float):
            return m.Scalar(m.FLOAT64)
        if isinstance(v, Mapping):
            if v and all(isinstance(k, str) and is_identifier(k) for k in v):
                return self.record(v, hint)
            values = [self.value(x, hint) for x in v.values()]
            return m.Map(self._merge_all(values))
        if isinstance(v, (list, tuple)):
            return m.Array(_strip(self._merge_all([self.value(x, hint) for x in v])))
        if isinstance(v, dt.datetime):
            return m.Scalar(m.TIMESTAMP_MICROS if v.microsecond % 1000 else m.TIMESTAMP_MILLIS)
        if isinstance(v, dt.date):
            return m.Scalar(m.DATE)
        if isinstance(v, dt.time):
            return m.Scalar(m.TIME_MILLIS)
        if isinstance(v, uuid.UUID):
            return m.Scalar(m.UUID)
        if isinstance(v, (bytes, bytearray)):
            return m.Scalar(m.BYTES)
        return m.Scalar(m.STRING)

    def _merge_all(self, types: list[m.Type]) -> m.Type:
        out: m.Type = _UNKNOWN
        for t in types:
            out = self.merge(out, t)
        return out

    def string(self, s: str, hint: str = "Item") -> m.Type:
        if self.text:
            if s[:1] in ("[", "{") and s[-1:] in ("]", "}"):
                # an array, map or record written as JSON text (how serde writes them in CSV)
                structured = _json_structure(s)
                if structured is not None:
                    return _Inferrer(False, self.null_markers, self.decimals).value(structured, hint)
            lowered = s.lower()
            if lowered in ("true", "false"):
                return m.Scalar(m.BOOLEAN)
            if _INT.match(s):
                if self.decimals:  # digits count when merged with decimals; int64 again at the end
                    return m.Decimal(len(s.lstrip("+-")), 0)
                return m.Scalar(m.INT64) if abs(int(s)) <= _INT64_MAX else m.Decimal(len(s.lstrip("+-")), 0)
            if _FLOAT.match(s) and not re.match(r"[-+]?0[0-9]", s):  # leading zeros: an id, not a number
                decimal = _DECIMAL.match(s)
                if self.decimals and decimal:
                    whole, fraction = decimal.group(1).lstrip("0"), decimal.group(2)
                    return m.Decimal(max(len(whole) + len(fraction), 1), len(fraction))
                return m.Scalar(m.FLOAT64)
        found = _DATETIME.match(s)
        if found:
            try:
                dt.datetime.fromisoformat(s)
            except ValueError:
                return m.Scalar(m.STRING)
            fraction = found.group(3) or ""
            return m.Scalar(m.TIMESTAMP_MICROS if len(fraction) > 3 else m.TIMESTAMP_MILLIS)
        if _DATE.match(s):
            try:
                dt.date.fromisoformat(s)
            except ValueError:
                return m.Scalar(m.STRING)
            return m.Scalar(m.DATE)
        if _TIME.match(s):
            return m.Scalar(m.TIME_MILLIS)
        if _UUID.match(s):
            return m.Scalar(m.UUID)
        return m.Scalar(m.STRING)

    def record(self, row: Mapping[str, Any], name: str) -> m.Record:
        namespace = split_name(name)[0]
        fields = []
        for key, v in row.items():
            if not isinstance(key, str):
                key = str(key)
            hint = f"{namespace}.{pascal_case(key)}" if namespace else pascal_case(key)
            fields.append(m.Field(key, self.value(v, hint)))
        return m.Record(name, tuple(fields))

    # -- two observations ----------------------------------------------------------------
    def merge(self, a: m.Type, b: m.Type) -> m.Type:
        if a == b:
            return a
        a_inner, a_null = m.unwrap_optional(a)
        b_inner, b_null = m.unwrap_optional(b)
        if a_null or b_null:
            inner = self.merge(a_inner, b_inner)
            return m.Optional(inner)
        if a == _UNKNOWN:
            return b
        if b == _UNKNOWN:
            return a
        if isinstance(a, m.Record) and isinstance(b, m.Record):
            return self._merge_records(a, b)
        if isinstance(a, m.Array) and isinstance(b, m.Array):
            return m.Array(_strip(self.merge(a.items, b.items)))
        if isinstance(a, (m.Map, m.Record)) and isinstance(b, (m.Map, m.Record)):
            values = [t.values if isinstance(t, m.Map) else _strip(self._merge_all([f.type for f in t.fields])) for t in (a, b)]
            return m.Map(self.merge(values[0], values[1]))
        if isinstance(a, m.Decimal) and isinstance(b, m.Decimal):
            scale = max(a.scale, b.scale)
            return m.Decimal(max(a.precision - a.scale, b.precision - b.scale) + scale, scale)
        for x, y in ((a, b), (b, a)):
            if isinstance(x, m.Decimal) and y == m.Scalar(m.INT64):
                return m.Decimal(max(x.precision, 19 + x.scale), x.scale)
            if isinstance(x, m.Decimal) and y == m.Scalar(m.FLOAT64):
                return y
        if isinstance(a, m.Scalar) and isinstance(b, m.Scalar):
            kinds = {a.kind, b.kind}
            if kinds == {m.INT64, m.FLOAT64}:
                return m.Scalar(m.FLOAT64)
            if kinds == {m.TIMESTAMP_MILLIS, m.TIMESTAMP_MICROS}:
                return m.Scalar(m.TIMESTAMP_MICROS)
            if self.text or kinds <= _STRINGISH:
                return m.Scalar(m.STRING)
        if self.text:
            return m.Scalar(m.STRING)
        return self._union(a, b)

    def _merge_records(self, a: m.Record, b: m.Record) -> m.Record:
        by_name = {f.name: f for f in b.fields}
        fields = []
        for f in a.fields:
            other = by_name.pop(f.name, None)
            t = self.merge(f.type, other.type) if other is not None else _optional(f.type)
            fields.append(m.Field(f.name, t))
        for f in by_name.values():  # only in b
            fields.append(m.Field(f.name, _optional(f.type)))
        return m.Record(a.name, tuple(fields))

    def _union(self, a: m.Type, b: m.Type) -> m.Type:
        members = list(a.types) if isinstance(a, m.Union_) else [a]
        for new in b.types if isinstance(b, m.Union_) else (b,):
            for i, old in enumerate(members):
                merged = self.merge(old, new) if _same_family(old, new) else None
                if merged is not None:
                    members[i] = merged
                    break
            else:
                members.append(new)
        return members[0] if len(members) == 1 else m.Union_(tuple(members))


def _json_structure(s: str) -> list[Any] | dict[str, Any] | None:
    """The array or object a text cell holds as JSON, else None."""
    import json

    try:
        value = json.loads(s)
    except ValueError:
        return None
    return value if isinstance(value, (list, dict)) else None


def _family(t: m.Type) -> str:
    if isinstance(t, m.Scalar):
        if t.kind in _STRINGISH:
            return "string"
        if t.kind in (m.INT64, m.FLOAT64):
            return "number"
        return t.kind
    if isinstance(t, m.Decimal):
        return "number"
    if isinstance(t, (m.Record, m.Map)):
        return "object"
    return type(t).__name__


def _same_family(a: m.Type, b: m.Type) -> bool:
    return _family(a) == _family(b)


def _optional(t: m.Type) -> m.Type:
    return t if isinstance(t, m.Optional) else m.Optional(t)


def _strip(t: m.Type) -> m.Type:
    """Array items: a null among them makes the items nullable (kept as they are)."""
    return t


class _Finisher:
    """Replace never-seen types with string, give optional fields a null default, and
    make nested record names unique."""

    def __init__(self) -> None:
        self.names: dict[str, m.Record] = {}

    def finish(self, t: m.Type) -> m.Type:
        if t == _UNKNOWN:
            return m.Scalar(m.STRING)
        if isinstance(t, m.Optional):
            inner = self.finish(t.type)
            return inner if isinstance(inner, m.Optional) else m.Optional(inner)
        if isinstance(t, m.Array):
            return m.Array(self.finish(t.items))
        if isinstance(t, m.Map):
            return m.Map(self.finish(t.values))
        if isinstance(t, m.Union_):
            return m.Union_(tuple(self.finish(u) for u in t.types))
        if isinstance(t, m.Decimal) and t.scale == 0 and t.precision <= 18:
            return m.Scalar(m.INT64)
        if isinstance(t, m.Record):
            fields = []
            for f in t.fields:
                ft = self.finish(f.type)
                if isinstance(ft, m.Optional):
                    fields.append(m.Field(f.name, ft, None, True))
                else:
                    fields.append(m.Field(f.name, ft))
            record = m.Record(t.name, tuple(fields))
            name, n = t.name, 1
            while name in self.names and self.names[name] != record:
                n += 1
                namespace, simple = split_name(t.name)
                name = f"{namespace}.{simple}{n}" if namespace else f"{simple}{n}"
            record = m.Record(name, record.fields)
            self.names[name] = record
            return record
        return t
