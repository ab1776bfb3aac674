"""Helpers shared by the schema translators: naming rules, path text, the annotation
convention, and the walk that turns a model into named definitions."""
from __future__ import annotations

import re
from typing import Any, Iterator

from .. import _model as m
from .._errors import SchemaParseError

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FULLNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


def is_identifier(name: str) -> bool:
    return bool(_IDENTIFIER.match(name))


def is_fullname(name: str) -> bool:
    return bool(_FULLNAME.match(name))


def pascal_case(text: str) -> str:
    """``"shipping_address"`` / ``"shipping-address"`` / ``"shipping address"`` →
    ``"ShippingAddress"``; always a valid identifier (``"Record"`` when nothing is left)."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]
    out = "".join(w[:1].upper() + w[1:] for w in words)
    if not out:
        return "Record"
    if out[0].isdigit():
        out = "_" + out
    return out


def type_name(name: str) -> str:
    """A usable dotted type name from free text (a JSON ``title``): kept as it is when it
    already is a valid full name, otherwise PascalCased."""
    if is_fullname(name):
        return name
    return pascal_case(name)


def split_name(fullname: str) -> tuple[str, str]:
    """``"com.acme.Order"`` → ``("com.acme", "Order")``."""
    namespace, _, simple = fullname.rpartition(".")
    return namespace, simple


def child_path(path: str, name: str) -> str:
    return f"{path}.{name}" if is_identifier(name) else f"{path}[{name!r}]"


def fail(path: str, reason: str) -> SchemaParseError:
    return SchemaParseError(reason, path=path or "$")


def ref_target(t: m.Ref, path: str) -> m.Record:
    """The record of a Ref met outside that record's definition."""
    try:
        return t.record
    except LookupError:
        raise fail(path, f"a recursive reference to {t.name!r} outside any record of that name") from None


def named_types(model: m.Type) -> Iterator[m.Record | m.Enum]:
    """Every Record and Enum reachable from ``model``, each once, in first-use order
    (depth first, a record before the types its fields use). A recursive record is
    listed once: its Refs point back at a record already seen."""
    seen: dict[str, Any] = {}

    def walk(t: m.Type) -> Iterator[m.Record | m.Enum]:
        if isinstance(t, m.Ref):
            if t.name not in seen:  # met outside its record: list the record itself
                yield from walk(ref_target(t, "$"))
            return
        if isinstance(t, (m.Record, m.Enum)):
            if t.name in seen:
                return
            seen[t.name] = t
            yield t
            if isinstance(t, m.Record):
                for f in t.fields:
                    yield from walk(f.type)
        elif isinstance(t, (m.Array,)):
            yield from walk(t.items)
        elif isinstance(t, m.Map):
            yield from walk(t.values)
        elif isinstance(t, m.Optional):
            yield from walk(t.type)
        elif isinstance(t, m.Union_):
            for u in t.types:
                yield from walk(u)

    yield from walk(model)


def check_names(model: m.Type) -> None:
    """Two different types under one name cannot be written as named definitions."""
    seen: dict[str, Any] = {}

    def walk(t: m.Type, path: str) -> None:
        if isinstance(t, m.Ref):
            if t.name in seen:
                if not isinstance(seen[t.name], m.Record):
                    raise fail(path, f"{t.name!r} refers to a record, but a non-record type has that name")
                return
            walk(ref_target(t, path), path)  # met outside its record: check the record itself
            return
        if isinstance(t, (m.Record, m.Enum)):
            other = seen.get(t.name)
            if other is not None:
                if other != t:
                    raise fail(path, f"two different types are both named {t.name!r}")
                return
            seen[t.name] = t
            if isinstance(t, m.Record):
                for f in t.fields:
                    walk(f.type, child_path(path, f.name))
        elif isinstance(t, m.Array):
            walk(t.items, path + "[]")
        elif isinstance(t, m.Map):
            walk(t.values, path + "{}")
        elif isinstance(t, m.Optional):
            walk(t.type, path)
        elif isinstance(t, m.Union_):
            for u in t.types:
                walk(u, path)

    walk(model, "$")


def make_optional(t: m.Type) -> m.Type:
    return t if isinstance(t, m.Optional) else m.Optional(t)


def union_of(types: list[m.Type], path: str) -> m.Type:
    """The model for a choice among ``types``: nulls become Optional, one type stays
    itself, several become a Union_ (nested unions flattened, duplicates removed)."""
    nullable = False
    flat: list[m.Type] = []
    for t in types:
        if isinstance(t, m.Optional):
            nullable = True
            t = t.type
        if t == m.Scalar(m.NULL):
            nullable = True
            continue
        for u in t.types if isinstance(t, m.Union_) else (t,):
            if u not in flat:
                flat.append(u)
    if not flat:
        return m.Scalar(m.NULL)
    inner: m.Type = flat[0] if len(flat) == 1 else m.Union_(tuple(flat))
    return m.Optional(inner) if nullable else inner
