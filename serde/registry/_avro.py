"""Avro schemas as Confluent Schema Registry parses, validates and stores them.

Confluent stores ``AvroSchema.canonicalString()``: the schema parsed by Apache Avro's Java
``Schema.Parser`` (1.12) and written back by ``Schema.toString(references, false)``. This
module reproduces that parser and writer, so the registry keeps the same text Confluent keeps
and reuses ids where Confluent does (``{"type":"int"}`` and ``"int"`` are one schema):

* a primitive without properties is its bare name (``"int"``); with properties an object
  whose ``"type"`` comes first, then the properties in their order;
* named types: ``type, name`` (short), ``namespace`` (only where it differs from the enclosing
  one; ``""`` for a null namespace inside a non-null one), ``doc``, then ``fields`` /
  ``symbols``, enum ``default`` / fixed ``size``, custom properties, ``aliases`` (written
  relative to the type's namespace, duplicates dropped); a named type seen before (or one of
  the references) is written as its name;
* fields: ``name, type, doc, default, order`` (only when not ascending, in lower case),
  ``aliases``, custom properties; a textual default of a float or double field becomes a number;
* ``doc`` and ``namespace`` that are not strings are dropped, as Jackson's ``textValue()`` does;
* numbers are written as Jackson writes them (doubles as Java's ``Double.toString``: ``1.0``,
  ``1.0E10``; NaN and infinities as strings).

Validation follows the parser Confluent uses for a new schema: strict names (ASCII letters,
digits, ``_``), no duplicate field or enum symbol, no redefinition, no nested or duplicate
union branch, and, for a new schema only, every default valid for its type (a union default
may match any branch, as in Avro 1.12).
"""
from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["AvroSchemaError", "canonical_string", "java_json"]

PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
_SCHEMA_RESERVED = frozenset(("doc", "fields", "items", "name", "namespace", "size", "symbols", "values", "type", "aliases"))
_ENUM_RESERVED = _SCHEMA_RESERVED | {"default"}
_FIELD_RESERVED = frozenset(("default", "doc", "name", "order", "type", "aliases"))
_ORDERS = ("ascending", "descending", "ignore")
_MISSING = object()
_STRICT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_MAX_DEPTH = 512


class AvroSchemaError(ValueError):
    """The text is not an Avro schema Confluent would accept."""


# --------------------------------------------------------------------------- JSON as Jackson writes it


def _java_double(x: float) -> str:
    """``Double.toString(x)`` (shortest digits, JDK 19+), quoted for NaN and infinities."""
    if math.isnan(x):
        return '"NaN"'
    if math.isinf(x):
        return '"Infinity"' if x > 0 else '"-Infinity"'
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    sign, digits, exp = Decimal(repr(x)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + int(exp)  # position of the decimal point relative to the digits
    prefix = "-" if sign else ""
    if 1e-3 <= abs(x) < 1e7:
        if point <= 0:
            return f"{prefix}0.{'0' * -point}{ds}"
        if point >= len(ds):
            return f"{prefix}{ds}{'0' * (point - len(ds))}.0"
        return f"{prefix}{ds[:point]}.{ds[point:]}"
    mantissa = ds[0] + "." + (ds[1:] or "0")
    return f"{prefix}{mantissa}E{point - 1}"


_ESCAPE = re.compile(r"(\\\\)|\\u00([0-9a-f]{2})")


def _java_str(s: str) -> str:
    out = json.dumps(s, ensure_ascii=False)
    if "\\u00" in out:  # Jackson writes control characters with upper-case hex digits
        out = _ESCAPE.sub(lambda m: m.group(1) or "\\u00" + m.group(2).upper(), out)
    return out


def java_json(value: Any) -> str:
    """``value`` (from ``json.loads``) written compactly as Jackson writes a ``JsonNode``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _java_str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, list):
        return "[" + ",".join(java_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_java_str(str(k))}:{java_json(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def _reject_constant(name: str) -> Any:
    raise AvroSchemaError(f"Non-standard token '{name}': not valid JSON")


def _loads(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except AvroSchemaError:
        raise
    except (ValueError, RecursionError) as exc:
        raise AvroSchemaError(f"not JSON: {exc}") from None


# --------------------------------------------------------------------------- the schema model


class _Name:
    __slots__ = ("name", "space", "full")

    def __init__(self, name: str, space: str | None) -> None:
        if "." in name:
            space, _, name = name.rpartition(".")
        if space == "":
            space = None
        self.name = name
        self.space = space
        self.full = name if space is None else f"{space}.{name}"

    def qualified(self, default_space: str | None) -> str:
        if self.space is not None and self.space == default_space and self.name not in _TYPE_NAMES:
            return self.name
        return self.full


_TYPE_NAMES = frozenset(("record", "enum", "array", "map", "union", "fixed", *PRIMITIVES))


class _Node:
    __slots__ = ("kind", "props", "name", "doc", "fields", "symbols", "default", "size", "aliases", "items", "types", "error")

    def __init__(self, kind: str) -> None:
        self.kind = kind  # a primitive name, record, enum, fixed, array, map, union, or "ref"
        self.props: list[tuple[str, Any]] = []
        self.name: _Name | None = None
        self.doc: str | None = None
        self.fields: list[_Field] = []
        self.symbols: list[str] = []
        self.default: Any = None  # an enum default symbol
        self.size = 0
        self.aliases: list[_Name] = []
        self.items: _Node | None = None  # array items / map values
        self.types: list[_Node] = []  # union branches
        self.error = False  # a record declared as "error"


class _Field:
    __slots__ = ("name", "type", "doc", "default", "order", "aliases", "props")

    def __init__(self, name: str, type_: _Node, doc: str | None, default: Any, order: str) -> None:
        self.name = name
        self.type = type_
        self.doc = doc
        self.default = default
        self.order = order
        self.aliases: list[str] = []
        self.props: list[tuple[str, Any]] = []


def _text(obj: dict[str, Any], key: str) -> str | None:
    """Jackson's ``textValue()``: the string, or None for anything else."""
    value = obj.get(key)
    return value if isinstance(value, str) else None


class _Parser:
    def __init__(self, strict: bool, validate_defaults: bool) -> None:
        self.strict = strict
        self.validate_defaults = validate_defaults
        self.named: dict[str, _Node] = {}
        self.unresolved: list[_Node] = []

    # ------------------------------------------------------------ names

    def _check_name(self, name: str | None, what: str = "Name") -> None:
        if not name:
            raise AvroSchemaError("Null name" if name is None else "Empty name")
        if self.strict:
            ok = _STRICT_NAME.match(name) is not None
        else:
            ok = (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name[1:])
        if not ok:
            raise AvroSchemaError(f"Illegal character in {what.lower()}: {name}")

    def _define(self, node: _Node) -> None:
        assert node.name is not None
        full = node.name.full
        if full in PRIMITIVES:
            raise AvroSchemaError(f"Schemas may not be named after primitives: {full}")
        parts = full.split(".")
        for part in parts[:-1]:
            self._check_name(part, "Namespace part")
        self._check_name(parts[-1])
        if full in self.named:
            raise AvroSchemaError(f"Can't redefine: {full}")
        self.named[full] = node

    def _find(self, name: str, space: str | None) -> _Node:
        if name in PRIMITIVES:
            return _Node(name)
        full = f"{space}.{name}" if space is not None and "." not in name else name
        node = self.named.get(full) or self.named.get(name)
        if node is not None:
            return node
        ref = _Node("ref")
        ref.name = _Name(full, None)
        ref.doc = name  # the name as written, to retry in the null namespace at the end
        self.unresolved.append(ref)
        return ref

    # ------------------------------------------------------------ parsing

    def parse(self, node: Any, space: str | None, depth: int = 0) -> _Node:
        if depth > _MAX_DEPTH:
            raise AvroSchemaError("the schema nests too deeply")
        if isinstance(node, str):
            return self._find(node, space)
        if isinstance(node, list):
            union = _Node("union")
            seen: set[str] = set()
            for branch in node:
                t = self.parse(branch, space, depth + 1)
                if t.kind == "union":
                    raise AvroSchemaError(f"Nested union: {java_json(node)}")
                key = t.name.full if t.name is not None else t.kind
                if key in seen:
                    raise AvroSchemaError(f"Duplicate in union:{key}")
                seen.add(key)
                union.types.append(t)
            return union
        if not isinstance(node, dict):
            raise AvroSchemaError(f"Schema not yet supported: {java_json(node)}")
        kind = _text(node, "type")
        if kind is None:
            raise AvroSchemaError(f"No type: {java_json(node)}")
        if kind in PRIMITIVES:
            out = _Node(kind)
            out.props = [(k, v) for k, v in node.items() if k not in _SCHEMA_RESERVED]
            return out
        if kind in ("record", "error"):
            return self._record(node, space, kind == "error", depth)
        if kind == "enum":
            return self._enum(node, space)
        if kind in ("array", "map"):
            key = "items" if kind == "array" else "values"
            if key not in node:
                raise AvroSchemaError(f"{'Array has no items' if kind == 'array' else 'Map has no values'} type: {java_json(node)}")
            out = _Node(kind)
            out.items = self.parse(node[key], space, depth + 1)
            out.props = [(k, v) for k, v in node.items() if k not in _SCHEMA_RESERVED]
            return out
        if kind == "fixed":
            return self._fixed(node, space)
        return self._find(kind, space)  # {"type": "com.acme.Named"}: a reference, other keys ignored

    def _named(self, kind: str, node: dict[str, Any], space: str | None) -> _Node:
        name = _text(node, "name")
        if name is None:
            raise AvroSchemaError(f"No name in schema: {java_json(node)}")
        ns = _text(node, "namespace")
        out = _Node(kind)
        out.name = _Name(name, ns if ns is not None else space)
        out.doc = _text(node, "doc")
        return out

    def _aliases(self, node: dict[str, Any]) -> list[str]:
        raw = node.get("aliases")
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise AvroSchemaError(f"aliases not an array: {java_json(node)}")
        out: list[str] = []
        for alias in raw:
            if not isinstance(alias, str):
                raise AvroSchemaError(f"alias not a string: {java_json(alias)}")
            if alias not in out:
                out.append(alias)
        return out

    def _named_aliases(self, out: _Node, node: dict[str, Any]) -> None:
        assert out.name is not None
        seen: set[str] = set()
        for alias in self._aliases(node):
            name = _Name(alias, out.name.space)
            if name.full not in seen:
                seen.add(name.full)
                out.aliases.append(name)

    def _record(self, node: dict[str, Any], space: str | None, error: bool, depth: int) -> _Node:
        out = self._named("record", node, space)
        out.error = error
        assert out.name is not None
        self._define(out)
        fields = node.get("fields")
        if not isinstance(fields, list):
            raise AvroSchemaError(f"Record has no fields: {java_json(node)}")
        names: set[str] = set()
        for f in fields:
            if not isinstance(f, dict):
                raise AvroSchemaError(f"No field name: {java_json(f)}")
            fname = _text(f, "name")
            if fname is None:
                raise AvroSchemaError(f"No field name: {java_json(f)}")
            self._check_name(fname)
            if "type" not in f:
                raise AvroSchemaError(f"No field type: {java_json(f)}")
            ftype = self.parse(f["type"], out.name.space, depth + 1)
            order = "ascending"
            if "order" in f:
                raw = f["order"]
                order = raw.lower() if isinstance(raw, str) else ""
                if order not in _ORDERS:
                    raise AvroSchemaError(f"No enum constant for order {java_json(raw)}")
            default = f.get("default", _MISSING)
            if isinstance(default, str) and ftype.kind in ("float", "double"):
                default = _parse_java_double(default)
            field = _Field(fname, ftype, _text(f, "doc"), default, order)
            field.props = [(k, v) for k, v in f.items() if k not in _FIELD_RESERVED]
            field.aliases = self._aliases(f)
            if fname in names:
                raise AvroSchemaError(f"Duplicate field {fname} in record {out.name.full}: {java_json(f)}.")
            names.add(fname)
            out.fields.append(field)
        out.props = [(k, v) for k, v in node.items() if k not in _SCHEMA_RESERVED]
        self._named_aliases(out, node)
        return out

    def _enum(self, node: dict[str, Any], space: str | None) -> _Node:
        out = self._named("enum", node, space)
        symbols = node.get("symbols")
        if not isinstance(symbols, list):
            raise AvroSchemaError(f"Enum has no symbols: {java_json(node)}")
        for s in symbols:
            s = s if isinstance(s, str) else None
            self._check_name(s)
            assert s is not None
            if s in out.symbols:
                raise AvroSchemaError(f"Duplicate enum symbol: {s}")
            out.symbols.append(s)
        out.default = _text(node, "default")
        if out.default is not None and out.default not in out.symbols:
            raise AvroSchemaError(
                f"The Enum Default: {out.default} is not in the enum symbol set: {java_json(out.symbols)}"
            )
        self._define(out)
        out.props = [(k, v) for k, v in node.items() if k not in _ENUM_RESERVED]
        self._named_aliases(out, node)
        return out

    def _fixed(self, node: dict[str, Any], space: str | None) -> _Node:
        out = self._named("fixed", node, space)
        size = node.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or not _INT32[0] <= size <= _INT32[1]:
            raise AvroSchemaError(f"Invalid or no size: {java_json(node)}")
        if size < 0:
            raise AvroSchemaError(f"Malformed data. Length is negative: {size}")
        out.size = size
        self._define(out)
        out.props = [(k, v) for k, v in node.items() if k not in _SCHEMA_RESERVED]
        self._named_aliases(out, node)
        return out

    # ------------------------------------------------------------ after parsing

    def resolve(self, node: _Node, seen: set[int] | None = None) -> _Node:
        """Replace forward references by the types they name (undefined names are errors)."""
        if node.kind == "ref":
            assert node.name is not None
            target = self.named.get(node.name.full) or self.named.get(str(node.doc))
            if target is None:
                raise AvroSchemaError(f"Undefined name: {java_json(node.doc)}")
            return target
        seen = set() if seen is None else seen
        if id(node) in seen:
            return node
        seen.add(id(node))
        if node.items is not None:
            node.items = self.resolve(node.items, seen)
        node.types = [self.resolve(t, seen) for t in node.types]
        for f in node.fields:
            f.type = self.resolve(f.type, seen)
        return node

    def check_defaults(self, root: _Node) -> None:
        stack, seen = [root], set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            for f in node.fields:
                if f.default is not _MISSING and not _valid_default(f.type, f.default):
                    raise AvroSchemaError(
                        f"Invalid default for field {f.name}: {java_json(f.default)} not a {_render(f.type, set(), None)}"
                    )
                stack.append(f.type)
            if node.items is not None:
                stack.append(node.items)
            stack.extend(node.types)


def _parse_java_double(text: str) -> float:
    """``Double.parseDouble``: surrounding blanks, a trailing f/d, NaN and (+/-)Infinity."""
    s = text.strip()
    if s.endswith(("f", "F", "d", "D")) and not s.lower().endswith("infinity"):
        s = s[:-1]
    if s in ("NaN", "+NaN", "-NaN"):
        return math.nan
    if s in ("Infinity", "+Infinity"):
        return math.inf
    if s == "-Infinity":
        return -math.inf
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
        raise AvroSchemaError(f"NumberFormatException: For input string: {java_json(text)}")
    return float(s)


def _valid_default(t: _Node, value: Any, depth: int = 0) -> bool:
    """``Schema.isValidDefault`` of Avro 1.12 (``value`` may be ``_MISSING``)."""
    if value is _MISSING or depth > _MAX_DEPTH:
        return False
    k = t.kind
    if k in ("string", "bytes", "enum", "fixed"):
        return isinstance(value, str)
    if k in ("int", "long"):
        lo, hi = _INT32 if k == "int" else _INT64
        return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
    if k in ("float", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if k == "boolean":
        return isinstance(value, bool)
    if k == "null":
        return value is None
    if k == "array":
        assert t.items is not None
        return isinstance(value, list) and all(_valid_default(t.items, v, depth + 1) for v in value)
    if k == "map":
        assert t.items is not None
        return isinstance(value, dict) and all(_valid_default(t.items, v, depth + 1) for v in value.values())
    if k == "union":
        return any(_valid_default(b, value, depth + 1) for b in t.types)
    if k == "record":
        if not isinstance(value, dict):
            return False
        for f in t.fields:
            v = value[f.name] if f.name in value else f.default
            ok = (
                any(_valid_default(b, v, depth + 1) for b in f.type.types)
                if f.type.kind == "union"
                else _valid_default(f.type, v, depth + 1)
            )
            if not ok:
                return False
        return True
    return False


# --------------------------------------------------------------------------- writing


def _props(props: Iterable[tuple[str, Any]]) -> list[str]:
    return [f"{_java_str(k)}:{java_json(v)}" for k, v in props]


def _render(t: _Node, known: set[str], space: str | None) -> str:
    k = t.kind
    if k in PRIMITIVES:
        if not t.props:
            return _java_str(k)
        return "{" + ",".join([f'"type":{_java_str(k)}', *_props(t.props)]) + "}"
    if k == "union":
        return "[" + ",".join(_render(b, known, space) for b in t.types) + "]"
    if k in ("array", "map"):
        assert t.items is not None
        key = "items" if k == "array" else "values"
        return "{" + ",".join([f'"type":"{k}"', f'"{key}":{_render(t.items, known, space)}', *_props(t.props)]) + "}"
    name = t.name
    assert name is not None
    if name.full in known:
        return _java_str(name.qualified(space))
    known.add(name.full)
    parts = [f'"type":"{"error" if t.error else k}"', f'"name":{_java_str(name.name)}']
    if name.space is not None:
        if name.space != space:
            parts.append(f'"namespace":{_java_str(name.space)}')
    elif space is not None:
        parts.append('"namespace":""')
    if t.doc is not None:
        parts.append(f'"doc":{_java_str(t.doc)}')
    if k == "record":
        parts.append('"fields":[' + ",".join(_render_field(f, known, name.space) for f in t.fields) + "]")
    elif k == "enum":
        parts.append('"symbols":[' + ",".join(_java_str(s) for s in t.symbols) + "]")
        if t.default is not None:
            parts.append(f'"default":{_java_str(t.default)}')
    else:
        parts.append(f'"size":{t.size}')
    parts.extend(_props(t.props))
    if t.aliases:
        parts.append('"aliases":[' + ",".join(_java_str(a.qualified(name.space)) for a in t.aliases) + "]")
    return "{" + ",".join(parts) + "}"


def _render_field(f: _Field, known: set[str], space: str | None) -> str:
    parts = [f'"name":{_java_str(f.name)}', f'"type":{_render(f.type, known, space)}']
    if f.doc is not None:
        parts.append(f'"doc":{_java_str(f.doc)}')
    if f.default is not _MISSING:
        parts.append(f'"default":{java_json(f.default)}')
    if f.order != "ascending":
        parts.append(f'"order":"{f.order}"')
    if f.aliases:
        parts.append('"aliases":[' + ",".join(_java_str(a) for a in f.aliases) + "]")
    parts.extend(_props(f.props))
    return "{" + ",".join(parts) + "}"


# --------------------------------------------------------------------------- entry point


_CACHE_MAX_TEXT = 64 * 1024  # texts up to this size are remembered (lookups repeat them)


def canonical_string(
    text: str, references: Sequence[str] = (), *, validate_defaults: bool = False, strict_names: bool = True
) -> str:
    """Confluent's ``AvroSchema(text, refs).canonicalString()``; raises ``AvroSchemaError``.

    ``references`` are the referenced schemas' texts, dependencies first; their top-level
    named types are written by name. ``validate_defaults`` (and strict names) is how Confluent
    parses a schema being registered; a lookup parses without checking defaults.
    """
    refs = tuple(references)
    if len(text) + sum(map(len, refs)) <= _CACHE_MAX_TEXT:
        return _cached(text, refs, validate_defaults, strict_names)
    return _canonical_string(text, refs, validate_defaults, strict_names)


@functools.lru_cache(maxsize=512)
def _cached(text: str, references: tuple[str, ...], validate_defaults: bool, strict_names: bool) -> str:
    return _canonical_string(text, references, validate_defaults, strict_names)


def _canonical_string(text: str, references: tuple[str, ...], validate_defaults: bool, strict_names: bool) -> str:
    ref_parser = _Parser(strict=False, validate_defaults=False)
    known: set[str] = set()
    for ref in references:
        node = ref_parser.parse(_loads(ref), None)
        ref_parser.unresolved.clear()
        if node.name is not None:
            known.add(node.name.full)
    parser = _Parser(strict=strict_names, validate_defaults=validate_defaults)
    parser.named = dict(ref_parser.named)
    root = parser.resolve(parser.parse(_loads(text), None))
    for ref in parser.unresolved:
        parser.resolve(ref)
    if validate_defaults:
        parser.check_defaults(root)
    return _render(root, known, None)
