"""Avro compatibility: reader/writer schema resolution as Apache Avro defines it.

Confluent calls Apache Avro's Java ``SchemaCompatibility.checkReaderWriterCompatibility``
directly, so these rules follow that checker (and not the Python ``avro.compatibility``
port, which compares aliases unqualified and loses the pairing of messages and locations):
promotions int→long→float→double and string↔bytes, reader fields matched by name then by
alias, defaults for reader-only fields, enum defaults, named types matched by unqualified
name or by a reader alias qualified with the reader's namespace, fixed sizes, unions.
BACKWARD makes the new schema the reader and the previous one the writer.
"""
from __future__ import annotations

import json
from collections.abc import Mapping

from serde._errors import SchemaParseError
from serde.compat._types import Change, Rule

__all__ = ["RULES", "SCHEMA_TYPE", "changes", "parse"]

SCHEMA_TYPE = "AVRO"

RULES: tuple[Rule, ...] = (
    Rule("NAME_MISMATCH", SCHEMA_TYPE,
         "Checks that a named type (record, enum, fixed) keeps its name or lists the old full name in its aliases.",
         False, "named type renamed"),
    Rule("FIXED_SIZE_MISMATCH", SCHEMA_TYPE, "Checks that a fixed type keeps its size.", False,
         "fixed size changed"),
    Rule("MISSING_ENUM_SYMBOLS", SCHEMA_TYPE,
         "Checks that the reader enum has every writer symbol, or a default symbol to fall back to.",
         False, "reader enum lacks writer symbols"),
    Rule("READER_FIELD_MISSING_DEFAULT_VALUE", SCHEMA_TYPE,
         "Checks that a reader field missing from the writer has a default value.", False,
         "reader field has no default and the writer does not have it"),
    Rule("TYPE_MISMATCH", SCHEMA_TYPE,
         "Checks that the reader type can read the writer type (same type or an Avro promotion).",
         False, "reader type cannot read writer type"),
    Rule("MISSING_UNION_BRANCH", SCHEMA_TYPE,
         "Checks that every branch of a writer union is readable by the reader.", False,
         "reader cannot read a branch of the writer union"),
)

_PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
_NAMED = ("record", "error", "enum", "fixed")
# writer type → reader types that can read it (besides itself)
_PROMOTIONS = {
    "int": ("long", "float", "double"),
    "long": ("float", "double"),
    "float": ("double",),
    "string": ("bytes",),
    "bytes": ("string",),
}


class _Schema(dict):
    """A normalised Avro schema node; named types are shared objects, so recursion is a cycle."""

    __hash__ = object.__hash__  # identity, for memoising (reader, writer) pairs


class ParsedAvro:
    def __init__(self, root: _Schema, raw: object) -> None:
        self.root, self.raw = root, raw


def parse(text: str, references: Mapping[str, str] | None = None) -> ParsedAvro:
    """Parse and validate schema text (named types may come from ``references``)."""
    names: dict[str, _Schema] = {}
    named_for_fastavro: dict = {}
    for ref_name, ref_text in (references or {}).items():
        ref_raw = _json(ref_text, f"reference {ref_name!r}")
        _validate_with_fastavro(ref_raw, named_for_fastavro, f"reference {ref_name!r}")
        _normalise(ref_raw, "", names)
    raw = _json(text, "schema")
    _validate_with_fastavro(raw, named_for_fastavro, "schema")
    root = _normalise(raw, "", names)
    _check_defaults(root, set())
    return ParsedAvro(root, raw)


def _json(text: str, what: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaParseError(f"{what} is not valid JSON: {exc.msg}",
                               location=f"line {exc.lineno} column {exc.colno}") from exc


def _validate_with_fastavro(raw: object, named: dict, what: str) -> None:
    try:
        import fastavro
    except ImportError:  # the structural checks in _normalise still apply
        return
    try:
        fastavro.parse_schema(raw, named_schemas=named, _write_hint=False)
    except Exception as exc:  # fastavro raises SchemaParseException, ValueError, TypeError...
        raise SchemaParseError(f"invalid Avro {what}: {exc}") from exc


def _fullname(name: str, namespace: str) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


def _normalise(raw: object, namespace: str, names: dict[str, _Schema]) -> _Schema:
    if isinstance(raw, str):
        if raw in _PRIMITIVES:
            return _Schema(type=raw)
        for candidate in (_fullname(raw, namespace), raw):
            if candidate in names:
                return names[candidate]
        raise SchemaParseError(f"unknown Avro type {raw!r}")
    if isinstance(raw, list):
        return _Schema(type="union", branches=[_normalise(b, namespace, names) for b in raw])
    if not isinstance(raw, dict) or "type" not in raw:
        raise SchemaParseError(f"invalid Avro schema element: {json.dumps(raw)[:80]}")
    kind = raw["type"]
    if isinstance(kind, (dict, list)):
        return _normalise(kind, namespace, names)
    if kind in _PRIMITIVES:
        return _Schema(type=kind)  # logical types do not take part in resolution
    if kind in ("array", "map"):
        key = "items" if kind == "array" else "values"
        return _Schema(type=kind, **{key: _normalise(raw[key], namespace, names)})
    if kind not in _NAMED:
        return _normalise(kind, namespace, names)  # a reference to a named type
    space = raw.get("namespace", namespace) if "." not in raw["name"] else raw["name"].rpartition(".")[0]
    full = _fullname(raw["name"], space)
    node = _Schema(type="record" if kind == "error" else kind, name=full,
                   aliases=[_fullname(a, space) for a in raw.get("aliases", [])])
    names[full] = node  # registered before the fields, so a record may refer to itself
    if kind == "fixed":
        node["size"] = raw["size"]
    elif kind == "enum":
        node["symbols"] = list(raw["symbols"])
        node["default"] = raw.get("default")
    else:
        node["fields"] = [
            {
                "name": f["name"],
                "aliases": list(f.get("aliases", [])),
                "type": _normalise(f["type"], space, names),
                "has_default": "default" in f,
                "default": f.get("default"),
            }
            for f in raw["fields"]
        ]
    return node


def _check_defaults(node: _Schema, seen: set[int]) -> None:
    """Reject defaults that do not fit their field type (the registry answers 42201)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    kind = node["type"]
    if kind == "record":
        for field in node["fields"]:
            if field["has_default"] and not _fits(field["type"], field["default"]):
                raise SchemaParseError(
                    f"invalid default {json.dumps(field['default'])} for field "
                    f"'{field['name']}' of type {_show(field['type'])}", path=node["name"])
            _check_defaults(field["type"], seen)
    elif kind == "enum" and node.get("default") is not None and node["default"] not in node["symbols"]:
        raise SchemaParseError(f"enum default {node['default']!r} is not one of its symbols",
                               path=node["name"])
    elif kind in ("array", "map"):
        _check_defaults(node["items" if kind == "array" else "values"], seen)
    elif kind == "union":
        for branch in node["branches"]:
            _check_defaults(branch, seen)


def _fits(node: _Schema, value: object) -> bool:
    kind = node["type"]
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("int", "long"):
        bits = 31 if kind == "int" else 63
        return isinstance(value, int) and not isinstance(value, bool) and -(2 ** bits) <= value < 2 ** bits
    if kind in ("float", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind in ("string", "bytes"):
        return isinstance(value, str)
    if kind == "fixed":
        return isinstance(value, str) and len(value) == node["size"]
    if kind == "enum":
        return value in node["symbols"]
    if kind == "array":
        return isinstance(value, list) and all(_fits(node["items"], v) for v in value)
    if kind == "map":
        return isinstance(value, dict) and all(_fits(node["values"], v) for v in value.values())
    if kind == "record":
        return isinstance(value, dict) and all(
            _fits(f["type"], value[f["name"]]) if f["name"] in value else f["has_default"]
            for f in node["fields"])
    if kind == "union":  # Avro 1.11+ accepts a default that fits any branch
        return any(_fits(b, value) for b in node["branches"])
    return False


def _show(node: _Schema) -> str:
    kind = node["type"]
    if kind in _NAMED or kind == "record":
        return f"{kind.upper()} {node['name']}"
    if kind == "union":
        return "UNION[" + ", ".join(_show(b) for b in node["branches"]) + "]"
    return kind.upper()


# ---------------------------------------------------------------------------------------


def changes(new: ParsedAvro, old: ParsedAvro, direction: str, policy: str = "STRICT") -> list[Change]:
    """Incompatibilities of reading old data with new (BACKWARD) or new data with old."""
    reader, writer = (new, old) if direction == "BACKWARD" else (old, new)
    found: list[Change] = []
    _compatible(reader.root, writer.root, [], found, set())
    return found


def _names_match(reader: _Schema, writer: _Schema) -> bool:
    short = lambda n: n.rpartition(".")[2]  # noqa: E731 - local helper
    return short(reader["name"]) == short(writer["name"]) or writer["name"] in reader["aliases"]


def _compatible(reader: _Schema, writer: _Schema, location: list[str], found: list[Change],
                in_progress: set[tuple[int, int]]) -> bool:
    """Append every incompatibility of ``reader`` reading ``writer``; True if none."""
    pair = (id(reader), id(writer))
    if pair in in_progress:  # recursive types: a pair in progress counts as compatible
        return True
    in_progress.add(pair)
    try:
        before = len(found)
        _check_pair(reader, writer, location, found, in_progress)
        return len(found) == before
    finally:
        in_progress.discard(pair)


def _add(found: list[Change], rule_id: str, location: list[str], detail: str) -> None:
    found.append(Change(rule_id, "/" + "/".join(location), detail=detail))


def _check_pair(reader: _Schema, writer: _Schema, location: list[str], found: list[Change],
                in_progress: set) -> None:
    r_kind, w_kind = reader["type"], writer["type"]
    if w_kind == "union":
        # every branch the writer may have used must be readable
        for i, branch in enumerate(writer["branches"]):
            probe: list[Change] = []
            if not _compatible(reader, branch, [*location, str(i)], probe, in_progress):
                _add(found, "MISSING_UNION_BRANCH", [*location, str(i)],
                     f"reader union lacking writer type: {_show(branch)}" if r_kind == "union"
                     else f"reader type {_show(reader)} cannot read writer branch {_show(branch)}")
                found.extend(p for p in probe if p.rule_id != "MISSING_UNION_BRANCH")
        return
    if r_kind == "union":
        if not any(_compatible(b, writer, location, [], in_progress) for b in reader["branches"]):
            _add(found, "MISSING_UNION_BRANCH", location,
                 f"reader union lacking writer type: {_show(writer)}")
        return
    if r_kind != w_kind:
        if r_kind not in _PROMOTIONS.get(w_kind, ()):
            _add(found, "TYPE_MISMATCH", location,
                 f"reader type: {_show(reader)} not compatible with writer type: {_show(writer)}")
        return
    if r_kind in ("record", "enum", "fixed") and not _names_match(reader, writer):
        _add(found, "NAME_MISMATCH", [*location, "name"],
             f"expected: {writer['name']}, found: {reader['name']}")
        return
    if r_kind == "array":
        _compatible(reader["items"], writer["items"], [*location, "items"], found, in_progress)
    elif r_kind == "map":
        _compatible(reader["values"], writer["values"], [*location, "values"], found, in_progress)
    elif r_kind == "fixed":
        if reader["size"] != writer["size"]:
            _add(found, "FIXED_SIZE_MISMATCH", [*location, "size"],
                 f"expected: {writer['size']}, found: {reader['size']}")
    elif r_kind == "enum":
        missing = [s for s in writer["symbols"] if s not in reader["symbols"]]
        if missing and reader.get("default") not in reader["symbols"]:
            _add(found, "MISSING_ENUM_SYMBOLS", [*location, "symbols"], ", ".join(missing))
    elif r_kind == "record":
        _check_record(reader, writer, location, found, in_progress)


def _check_record(reader: _Schema, writer: _Schema, location: list[str], found: list[Change],
                  in_progress: set) -> None:
    by_name = {f["name"]: f for f in writer["fields"]}
    for index, field in enumerate(reader["fields"]):
        where = [*location, "fields", str(index)]
        written = by_name.get(field["name"])
        if written is None:
            # an alias lets a renamed field still read the old name
            written = next((by_name[a] for a in field["aliases"] if a in by_name), None)
        if written is not None:
            _compatible(field["type"], written["type"], [*where, "type"], found, in_progress)
        elif not field["has_default"]:
            if field["type"]["type"] == "enum" and field["type"].get("default") is not None:
                # Java's checker compares such an enum with the writer *record* (kept for
                # identical verdicts and error types)
                _compatible(field["type"], writer, [*where, "type"], found, in_progress)
            else:
                _add(found, "READER_FIELD_MISSING_DEFAULT_VALUE", where,
                     f"field '{field['name']}' has no default value and is missing in the writer schema")
