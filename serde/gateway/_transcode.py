"""Programs for the C transcoders in ``serde.gateway._speedups`` (optional, built from
``serde/gateway/_speedups.c`` when a C compiler is there).

A program is the schema as nested tuples of opcodes the C walker follows. It is built
only for schemas whose every part the transcoder writes exactly as the Python path
would; for anything else the builder returns None and the caller keeps the Python path.
Per record the transcoder may still answer None (a value it does not take), and the
caller then takes the Python path for that record: the output never depends on which
path ran (tests/test_transcode.py compares them byte for byte).
"""
from __future__ import annotations

from typing import Any, Callable

try:
    from . import _speedups
except ImportError:  # built without a C compiler: the pure-Python path everywhere
    _speedups = None  # type: ignore[assignment]

__all__ = ["available", "avro_json_program", "avro_to_json", "csv_avro_program", "csv_to_avro"]

# opcodes, as in serde/gateway/_speedups.c
(A_NULL, A_BOOLEAN, A_INT, A_LONG, A_FLOAT, A_DOUBLE, A_BYTES, A_STRING, A_FIXED, A_ENUM,
 A_RECORD, A_ARRAY, A_MAP, A_UNION, A_UUID, A_DATE, A_TIMESTAMP_MILLIS, A_TIMESTAMP_MICROS,
 A_DECIMAL) = range(19)

_PRIMITIVE_OPS = {"null": A_NULL, "boolean": A_BOOLEAN, "int": A_INT, "long": A_LONG, "float": A_FLOAT,
                  "double": A_DOUBLE, "bytes": A_BYTES, "string": A_STRING}
# the logical types serde.formats.avro converts in its own pass (AvroSchema.logical), as
# the JSON encoder then writes them; time-millis/time-micros are left to the Python path
_LOGICAL_OPS = {("string", "uuid"): A_UUID, ("int", "date"): A_DATE,
                ("long", "timestamp-millis"): A_TIMESTAMP_MILLIS, ("long", "timestamp-micros"): A_TIMESTAMP_MICROS}


_MAX_PRECISION = 10_000  # decimal precision/scale the C code takes (it holds them in a C int)


def available() -> bool:
    """Whether the C transcoders were built."""
    return _speedups is not None


class _Unsupported(Exception):
    pass


def _json_text(text: str) -> bytes:
    import orjson

    return orjson.dumps(text)


def avro_json_program(schema: Any) -> tuple | None:
    """The Avro -> JSON program of an AvroSchema, or None when the transcoder does not
    write every part of it as the JSON encoder writes the decoded values."""
    from ..formats.avro import _fullname

    has_logical = [False]
    named: dict[str, tuple] = {}
    building: set[str] = set()

    def walk(node: Any, namespace: str | None) -> tuple:
        if isinstance(node, str):
            if node in _PRIMITIVE_OPS:
                return (_PRIMITIVE_OPS[node],)
            for candidate in (_fullname(node, namespace), node):
                if candidate in building:
                    raise _Unsupported("recursive type")
                if candidate in named:
                    return named[candidate]
            raise _Unsupported(f"unknown type {node}")
        if isinstance(node, list):
            branches = tuple(walk(item, namespace) for item in node)
            non_null = [item for item in node if item != "null"]
            if len(non_null) > 1 and any(_has_logical(branch) for item, branch in zip(node, branches) if item != "null"):
                raise _Unsupported("a logical type in a union of several types")  # cavro converts those itself
            return (A_UNION, branches)
        if not isinstance(node, dict):
            raise _Unsupported(repr(node))
        kind = node.get("type")
        if isinstance(kind, (dict, list)):
            if "logicalType" in node:
                raise _Unsupported("a logical type on a complex type")
            return walk(kind, namespace)
        logical = node.get("logicalType")
        if logical is not None:
            has_logical[0] = True
            if (kind, logical) in _LOGICAL_OPS:
                return (_LOGICAL_OPS[(kind, logical)],)
            if (kind, logical) == ("bytes", "decimal"):
                precision, scale = node.get("precision"), node.get("scale", 0)
                if type(precision) is int and type(scale) is int and 0 <= scale <= precision and 0 < precision <= _MAX_PRECISION:
                    return (A_DECIMAL, precision, scale)
            raise _Unsupported(f"logical type {logical} on {kind}")
        if kind in _PRIMITIVE_OPS:
            return (_PRIMITIVE_OPS[kind],)
        if kind in ("record", "error", "enum", "fixed"):
            full = _fullname(node["name"], node.get("namespace", namespace))
            if kind == "enum":
                program: tuple = (A_ENUM, tuple(_json_text(symbol) for symbol in node["symbols"]))
            elif kind == "fixed":
                size = node["size"]
                if type(size) is not int or not 0 <= size <= 2**31:
                    raise _Unsupported(f"fixed size {size!r}")
                program = (A_FIXED, size)
            else:
                inner_ns = full.rpartition(".")[0] or None
                building.add(full)
                fields = []
                for i, field in enumerate(node.get("fields", [])):
                    key = (b"," if i else b"") + _json_text(field["name"]) + b":"
                    fields.append((key, walk(field["type"], inner_ns)))
                building.discard(full)
                program = (A_RECORD, tuple(fields))
            named.setdefault(full, program)
            return program
        if kind == "array":
            return (A_ARRAY, walk(node["items"], namespace))
        if kind == "map":
            return (A_MAP, walk(node["values"], namespace))
        raise _Unsupported(f"type {kind!r}")

    try:
        program = walk(schema.expanded, None)
    except (_Unsupported, KeyError, TypeError, ValueError):
        return None
    if has_logical[0] and not schema.logical:
        return None  # cavro converts the logical types itself there; leave it to the Python path
    return program


_LOGICAL_CODES = frozenset(_LOGICAL_OPS.values()) | {A_DECIMAL}


def _has_logical(program: tuple) -> bool:
    op = program[0]
    if op in _LOGICAL_CODES:
        return True
    if op == A_RECORD:
        return any(_has_logical(field) for _, field in program[1])
    if op == A_UNION:
        return any(_has_logical(branch) for branch in program[1])
    if op in (A_ARRAY, A_MAP):
        return _has_logical(program[1])
    return False


# CSV -> Avro column opcodes, as in serde/gateway/_speedups.c
(C_STRING, C_LONG, C_INT, C_DOUBLE, C_FLOAT, C_BOOLEAN, C_ENUM, C_UUID, C_DATE, C_TIMESTAMP_MILLIS,
 C_DECIMAL) = range(11)
_CSV_PRIMITIVES = {"string": C_STRING, "long": C_LONG, "int": C_INT, "double": C_DOUBLE, "float": C_FLOAT,
                   "boolean": C_BOOLEAN}
_CSV_LOGICAL = {("string", "uuid"): C_UUID, ("int", "date"): C_DATE, ("long", "timestamp-millis"): C_TIMESTAMP_MILLIS}


def csv_avro_program(csv_schema: Any, avro_schema: Any) -> tuple | None:
    """The CSV -> Avro program for rows of ``csv_schema`` (a CsvSchema) written with
    ``avro_schema``, the same record schema: one entry per column. None unless the record
    is flat, every column a scalar (or a nullable one) the transcoder parses, and the
    CSV dialect the default one (comma, double quote, empty cell = null)."""
    from ..formats.avro import _fullname

    if (csv_schema.delimiter, csv_schema.quotechar, csv_schema.null_marker) != (",", '"', ""):
        return None
    record = avro_schema.expanded
    if not isinstance(record, dict) or record.get("type") not in ("record", "error"):
        return None
    fields = record.get("fields", [])
    if [c.path for c in csv_schema.columns] != [(f["name"],) for f in fields]:
        return None  # nested records are flattened into several columns: the Python path
    namespace = _fullname(record["name"], record.get("namespace")).rpartition(".")[0] or None
    named: dict[str, Any] = {}
    has_logical = False
    program = []
    for field in fields:
        ftype = field["type"]
        null_index = value_index = -1
        if isinstance(ftype, list):
            if len(ftype) != 2 or "null" not in ftype or ftype[0] == ftype[1]:
                return None
            null_index = ftype.index("null")
            value_index = 1 - null_index
            ftype = ftype[value_index]
        if isinstance(ftype, str) and ftype not in _CSV_PRIMITIVES:
            ftype = named.get(_fullname(ftype, namespace), named.get(ftype))
        if isinstance(ftype, dict) and isinstance(ftype.get("type"), str) and ftype["type"] in _CSV_PRIMITIVES and set(ftype) == {"type"}:
            ftype = ftype["type"]
        if isinstance(ftype, str):
            if ftype not in _CSV_PRIMITIVES:
                return None
            program.append((_CSV_PRIMITIVES[ftype], null_index, value_index))
            continue
        if not isinstance(ftype, dict):
            return None
        kind, logical = ftype.get("type"), ftype.get("logicalType")
        if kind == "enum" and logical is None:
            named[_fullname(ftype["name"], ftype.get("namespace", namespace))] = ftype
            program.append((C_ENUM, null_index, value_index, tuple(sym.encode("utf-8") for sym in ftype["symbols"])))
        elif (kind, logical) in _CSV_LOGICAL:
            has_logical = True
            program.append((_CSV_LOGICAL[(kind, logical)], null_index, value_index))
        elif (kind, logical) == ("bytes", "decimal"):
            precision, scale = ftype.get("precision"), ftype.get("scale", 0)
            if not (type(precision) is int and type(scale) is int and 0 <= scale <= precision and 0 < precision <= _MAX_PRECISION):
                return None
            has_logical = True
            program.append((C_DECIMAL, null_index, value_index, precision, scale))
        else:
            return None
    if has_logical and not avro_schema.logical:
        return None  # cavro converts the logical types itself there
    return tuple(program)


def csv_to_avro(program: tuple, prefix: bytes) -> Callable[[bytes], bytes | None]:
    """``transcode(data)``: prefix + the Avro record of the CSV row ``data``, or None for
    the Python path. Needs :func:`available`."""
    import csv

    assert _speedups is not None
    native = _speedups.csv_to_avro
    # Python's csv module refuses fields longer than this many characters; a row shorter
    # in bytes has no such field, a longer one goes the Python way (which may refuse it)
    field_limit = csv.field_size_limit()

    def transcode(data: bytes) -> bytes | None:
        if len(data) > field_limit:
            return None
        return native(program, data, prefix)  # type: ignore[no-any-return]

    return transcode


def avro_to_json(program: tuple, prefix: bytes, start: int = 5) -> Callable[[bytes], bytes | None]:
    """``transcode(data)``: prefix + the JSON of the Avro datum at ``data[start:]``, or
    None for the Python path. Needs :func:`available`."""
    assert _speedups is not None
    native = _speedups.avro_to_json

    def transcode(data: bytes) -> bytes | None:
        return native(program, data, start, prefix)  # type: ignore[no-any-return]

    return transcode
