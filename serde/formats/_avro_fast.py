"""Programs for the C Avro writer and reader in ``serde.formats._avro_native`` (optional,
built from ``serde/formats/_avro_native.c`` when a C compiler is there).

A program is the schema as nested tuples the C code walks: ``(opcode, ...)`` per type.
Schemas it does not take whole (recursive ones, local timestamps) get no program; types
inside a schema it does not take (unions other than ``[null, X]``, time-of-day types)
become FALLBACK, which sends a record that reaches them to the Python path.
"""
from __future__ import annotations

import decimal
import uuid
from typing import Any, Callable

try:
    from . import _avro_native
except ImportError:  # no C compiler at install time: the Python path alone
    _avro_native = None  # type: ignore[assignment]

# opcodes, as in serde/formats/_avro_native.c
NULL, BOOLEAN, INT, LONG, FLOAT, DOUBLE, STRING, BYTES, ENUM, FIXED, RECORD, ARRAY, MAP, NULLABLE = range(14)
DECIMAL, UUID, DATE, TIMESTAMP_MILLIS, TIMESTAMP_MICROS, FALLBACK = range(14, 20)

_PRIMITIVES = {"null": NULL, "boolean": BOOLEAN, "int": INT, "long": LONG, "float": FLOAT, "double": DOUBLE,
               "string": STRING, "bytes": BYTES}
_LOGICAL = {("string", "uuid"): UUID, ("int", "date"): DATE, ("long", "timestamp-millis"): TIMESTAMP_MILLIS,
            ("long", "timestamp-micros"): TIMESTAMP_MICROS}
_TIME_OF_DAY = {"time-millis", "time-micros", "local-timestamp-millis", "local-timestamp-micros"}


def available() -> bool:
    """Whether the C writer and reader were built."""
    return _avro_native is not None


class _NoProgram(Exception):
    """The schema is not one for the C writer (it recurses)."""


def program(expanded: Any) -> tuple | None:
    """The C writer's program for an expanded schema (named types inlined at first use),
    or None for a schema it does not take."""
    from .avro import _fullname, _named_types

    named = _named_types(expanded)  # by full name
    building: set[str] = set()
    built: dict[str, tuple] = {}

    def walk(node: Any, namespace: str | None) -> tuple:
        if isinstance(node, str):
            if node in _PRIMITIVES:
                return (_PRIMITIVES[node],)
            full = _fullname(node, namespace)
            if full not in named:  # only what resolves exactly; the codecs judge anything looser
                raise _NoProgram(f"unknown type {node}")
            # the definition's names resolve in its own namespace, not the referrer's
            return walk(named[full], full.rpartition(".")[0] or None)
        if isinstance(node, list):
            branches = [walk(branch, namespace) for branch in node]
            nulls = [i for i, branch in enumerate(branches) if branch[0] == NULL]
            if len(node) == 2 and len(nulls) == 1:
                other = 1 - nulls[0]
                return (NULLABLE, nulls[0], other, branches[other])
            return (FALLBACK,)
        if not isinstance(node, dict):
            raise _NoProgram(f"not a schema: {node!r}")
        kind = node.get("type")
        logical = node.get("logicalType")
        if isinstance(kind, (dict, list)):
            return walk(kind, namespace)
        if logical in _TIME_OF_DAY:
            return (FALLBACK,)
        if kind == "bytes" and logical == "decimal":
            precision, scale = node.get("precision"), node.get("scale", 0)
            if (type(precision) is not int or type(scale) is not int or not 0 <= scale <= precision or precision <= 0
                    or scale > 30 or precision > 1000):
                return (FALLBACK,)  # an odd decimal: the codecs judge it as before
            return (DECIMAL, precision, scale, decimal.Decimal, 10**precision if precision <= 18 else -1)
        if (kind, logical) in _LOGICAL:
            return (_LOGICAL[(kind, logical)],)
        if kind in _PRIMITIVES:
            if kind == "bytes" and logical is not None:
                return (FALLBACK,)
            return (_PRIMITIVES[kind],)
        if kind in ("record", "error", "enum", "fixed"):
            full = _fullname(node["name"], node.get("namespace", namespace))
            if full in built:
                return built[full]
            if full in building:
                raise _NoProgram(f"{full} contains itself")
            inner = full.rpartition(".")[0] or None
            building.add(full)
            if kind == "enum":
                symbols = tuple(node["symbols"])
                result: tuple = (ENUM, {symbol: index for index, symbol in enumerate(symbols)}, symbols)
            elif kind == "fixed":
                size = node["size"]
                result = (FIXED, size) if logical is None and type(size) is int and 0 <= size < 2**31 else (FALLBACK,)
            else:
                fields = tuple((field["name"], walk(field["type"], inner)) for field in node.get("fields", []))
                if len({name for name, _ in fields}) != len(fields):
                    result = (FALLBACK,)
                else:
                    result = (RECORD, fields)
            building.discard(full)
            built[full] = result
            return result
        if kind == "array":
            return (ARRAY, walk(node["items"], namespace))
        if kind == "map":
            return (MAP, walk(node["values"], namespace))
        raise _NoProgram(f"unknown type {kind!r}")

    try:
        return walk(expanded, None)
    except (_NoProgram, KeyError, TypeError, ValueError):
        return None


_LOGICAL_OPS = frozenset({DECIMAL, UUID, DATE, TIMESTAMP_MILLIS, TIMESTAMP_MICROS})


def _has_logical(program: tuple) -> bool:
    stack: list[Any] = [program]  # a loop, not recursion: programs nest as deep as schemas (128)
    while stack:
        node = stack.pop()
        if isinstance(node, tuple) and node:
            if type(node[0]) is int and node[0] in _LOGICAL_OPS:
                return True
            stack.extend(node)
    return False


def _usable(schema: Any) -> tuple | None:
    """The program for a parsed Avro schema where the C code may stand in front of its
    Python path, else None; worked out once per schema (its writer and reader share it)."""
    if _avro_native is None:
        return None
    cached = getattr(schema, "_c_program", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    found = program(schema.expanded)
    if found == (FALLBACK,):
        found = None
    # without serde's logical-type pass the Python path is cavro's own logical types,
    # which take fewer forms (no int for a date, no other text for a uuid): the C code
    # follows the pass, so it stands in front of that path only
    if found is not None and not schema.logical and _has_logical(found):
        found = None
    schema._c_program = found
    return found


def writer(schema: Any, fallback: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """``fallback`` with the C writer in front of it, where there is one and a program."""
    found = _usable(schema)
    if found is None:
        return fallback
    return _avro_native.Writer(found, fallback, uuid.UUID)  # type: ignore[no-any-return]


def reader(schema: Any, fallback: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    """``fallback`` with the C reader in front of it, where there is one and a program."""
    found = _usable(schema)
    if found is None:
        return fallback
    return _avro_native.Reader(found, fallback, uuid.UUID, uuid.SafeUUID.unknown)  # type: ignore[no-any-return]
