"""Protobuf compatibility rules with Confluent Schema Registry's semantics.

Confluent diffs parsed ``.proto`` files (``SchemaDiff.compare(original, update)``; BACKWARD
is original=old, update=new): messages are paired by name, fields by tag number, nested
types are walked, and a message type that comes from a different import (reference) is
compared structurally. The rule IDs are Confluent's ``Difference.Type`` names. Schemas are
compiled with protoc (``serde._protoc``), so every type name is already fully resolved.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from serde._protoc import CompiledProto, compile_proto
from serde.compat._types import Change, Rule

__all__ = ["RULES", "SCHEMA_TYPE", "changes", "parse"]

SCHEMA_TYPE = "PROTOBUF"


def _r(rule_id: str, compatible: bool, purpose: str, describe: str) -> Rule:
    return Rule(rule_id, SCHEMA_TYPE, purpose, compatible, describe)


RULES: tuple[Rule, ...] = (
    _r("PACKAGE_CHANGED", False, "Checks that the package does not change (full type names would).", "package changed"),
    _r("MESSAGE_ADDED", True, "Checks that adding a message is accepted.", "message '{name}' added"),
    _r("MESSAGE_REMOVED", False, "Checks that no message is removed (a field or reader may still use it).", "message '{name}' removed"),
    _r("MESSAGE_MOVED", True, "Checks that reordering messages is accepted (frames index the writer's schema).", "message '{name}' moved"),
    _r("ENUM_ADDED", True, "Checks that adding an enum is accepted.", "enum '{name}' added"),
    _r("ENUM_REMOVED", True, "Checks that removing an enum is accepted.", "enum '{name}' removed"),
    _r("ENUM_CONST_ADDED", True, "Checks that adding an enum value is accepted.", "enum value {name} added"),
    _r("ENUM_CONST_CHANGED", True, "Checks that renaming an enum value is accepted (the number is what is sent).", "enum value {name} renamed"),
    _r("ENUM_CONST_REMOVED", True, "Checks that removing an enum value is accepted.", "enum value {name} removed"),
    _r("FIELD_ADDED", True, "Checks that adding an optional field is accepted.", "field {name} added"),
    _r("FIELD_REMOVED", True, "Checks that removing an optional field is accepted.", "field {name} removed"),
    _r("FIELD_NAME_CHANGED", True, "Checks that renaming a field is accepted (the tag is what is sent).", "field {name} renamed"),
    _r("FIELD_KIND_CHANGED", False, "Checks that a field does not change between scalar, message and map.", "field {name} changed kind"),
    _r("FIELD_SCALAR_KIND_CHANGED", False, "Checks that a scalar field changes only within a wire-compatible group (int32/int64/uint32/uint64/bool/enum, sint32/sint64, string/bytes, fixed32/sfixed32, fixed64/sfixed64).", "field {name} changed to a wire-incompatible scalar type"),
    _r("FIELD_NAMED_TYPE_CHANGED", False, "Checks that a message-typed field keeps a compatible message type.", "field {name} changed its message type"),
    _r("FIELD_STRING_OR_BYTES_LABEL_CHANGED", True, "Checks that a string/bytes field may switch between singular and repeated.", "string/bytes field {name} switched between singular and repeated"),
    _r("FIELD_NUMERIC_LABEL_CHANGED", False, "Checks that a numeric field does not switch between singular and repeated (packed encoding differs).", "numeric field {name} switched between singular and repeated"),
    _r("REQUIRED_FIELD_ADDED", False, "Checks that no required field is added.", "required field {name} added"),
    _r("REQUIRED_FIELD_REMOVED", False, "Checks that no required field is removed.", "required field {name} removed"),
    _r("ONEOF_ADDED", True, "Checks that adding a oneof is accepted.", "oneof '{name}' added"),
    _r("ONEOF_REMOVED", True, "Checks that removing a oneof is accepted.", "oneof '{name}' removed"),
    _r("ONEOF_FIELD_ADDED", True, "Checks that adding a new field to a oneof is accepted.", "field {name} added to the oneof"),
    _r("ONEOF_FIELD_REMOVED", False, "Checks that no field is deleted from a oneof (old data may hold it).", "field {name} deleted from its oneof"),
    _r("ONEOF_FIELD_MOVED_TO_TOP_LEVEL", True, "Checks that moving a field out of a oneof to the top level is accepted.", "field {name} moved out of its oneof to the top level"),
    _r("MULTIPLE_FIELDS_MOVED_TO_ONEOF", False, "Checks that at most one existing field moves into a oneof.", "several existing fields moved into oneof '{name}'"),
    _r("FIELD_MOVED_TO_EXISTING_ONEOF", False, "Checks that a oneof does not gather fields that could be set together before.", "oneof '{name}' now holds fields that could be set together before"),
)

_ALLOWED = {r.id for r in RULES if r.compatible}

# FieldDescriptorProto.Type numbers → Confluent's wire-compatible scalar groups
_SCALAR_GROUP = {
    5: "GENERAL_NUMBER", 3: "GENERAL_NUMBER", 13: "GENERAL_NUMBER", 4: "GENERAL_NUMBER",
    8: "GENERAL_NUMBER", 14: "GENERAL_NUMBER",  # int32 int64 uint32 uint64 bool enum
    17: "SIGNED_NUMBER", 18: "SIGNED_NUMBER",  # sint32 sint64
    9: "STRING_OR_BYTES", 12: "STRING_OR_BYTES",
    7: "FIXED32", 15: "FIXED32", 6: "FIXED64", 16: "FIXED64",
    2: "FLOAT", 1: "DOUBLE",
}
_SCALAR_NAME = {1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64",
                7: "fixed32", 8: "bool", 9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32",
                16: "sfixed64", 17: "sint32", 18: "sint64"}
_TYPE_GROUP, _TYPE_MESSAGE, _TYPE_ENUM = 10, 11, 14
_LABEL_REQUIRED, _LABEL_REPEATED = 2, 3


@dataclass(frozen=True)
class _TypeInfo:
    package: str
    origin: tuple | None  # None: the schema's own file; else (import name, text) it came from
    proto: object  # DescriptorProto or EnumDescriptorProto
    is_map: bool


class ParsedProto:
    """A compiled schema plus an index of every message and enum by full name."""

    def __init__(self, compiled: CompiledProto, references: Mapping[str, str]) -> None:
        self.compiled = compiled
        self.file = compiled.file
        self.types: dict[str, _TypeInfo] = {}
        for fd in compiled.files:
            origin = None if fd.name == compiled.name else (fd.name, references.get(fd.name))
            prefix = f"{fd.package}." if fd.package else ""
            self._index(fd.package, origin, prefix, fd.message_type, fd.enum_type)

    def _index(self, package: str, origin: tuple | None, prefix: str, messages, enums) -> None:
        for enum in enums:
            self.types[prefix + enum.name] = _TypeInfo(package, origin, enum, False)
        for msg in messages:
            full = prefix + msg.name
            self.types[full] = _TypeInfo(package, origin, msg, msg.options.map_entry)
            self._index(package, origin, full + ".", msg.nested_type, msg.enum_type)


def parse(text: str, references: Mapping[str, str] | None = None) -> ParsedProto:
    """Compile schema text with protoc; errors raise ``SchemaParseError`` with line:column."""
    refs = dict(references or {})
    return ParsedProto(compile_proto(text, refs), refs)


class _Context:
    def __init__(self, original: ParsedProto, update: ParsedProto, path: list[str] | None = None,
                 in_progress: set[int] | None = None) -> None:
        self.original, self.update = original, update
        self.path = list(path or [])
        self.in_progress = set(in_progress or ())
        self.diffs: list[Change] = []

    def sub(self, path: list[str]) -> "_Context":
        return _Context(self.original, self.update, path, self.in_progress)

    def add(self, rule_id: str, detail: str = "", *extra: str) -> None:
        self.diffs.append(Change(rule_id, "#/" + "/".join([*self.path, *extra]), detail=detail))

    def compatible(self) -> bool:
        return all(d.rule_id in _ALLOWED for d in self.diffs)

    def enter(self, segment: str) -> "_Scope":
        return _Scope(self.path, segment)


class _Scope:
    def __init__(self, path: list[str], segment: str) -> None:
        self.path, self.segment = path, segment

    def __enter__(self) -> None:
        self.path.append(self.segment)

    def __exit__(self, *exc: object) -> None:
        self.path.pop()


def changes(new: ParsedProto, old: ParsedProto, direction: str, policy: str = "STRICT") -> list[Change]:
    """Every difference between ``old`` and ``new``; BACKWARD: can ``new`` read old data."""
    original, update = (old, new) if direction == "BACKWARD" else (new, old)
    ctx = _Context(original, update)
    if original.file.package != update.file.package:
        ctx.add("PACKAGE_CHANGED", f"'{original.file.package}' → '{update.file.package}'")
    _compare_types(ctx, original.file.message_type, original.file.enum_type,
                   update.file.message_type, update.file.enum_type)
    return ctx.diffs


def _compare_types(ctx: _Context, old_messages, old_enums, new_messages, new_enums) -> None:
    # map entries are synthetic: they are compared through the map fields that use them
    old_msgs = {m.name: (i, m) for i, m in enumerate(x for x in old_messages if not x.options.map_entry)}
    new_msgs = {m.name: (i, m) for i, m in enumerate(x for x in new_messages if not x.options.map_entry)}
    for name in dict.fromkeys([*old_msgs, *new_msgs]):
        with ctx.enter(name):
            if name not in new_msgs:
                ctx.add("MESSAGE_REMOVED")
            elif name not in old_msgs:
                ctx.add("MESSAGE_ADDED")
            else:
                _compare_message(ctx, old_msgs[name][1], new_msgs[name][1])
                if old_msgs[name][0] != new_msgs[name][0]:
                    ctx.add("MESSAGE_MOVED")
    olds, news = {e.name: e for e in old_enums}, {e.name: e for e in new_enums}
    for name in dict.fromkeys([*olds, *news]):
        with ctx.enter(name):
            if name not in news:
                ctx.add("ENUM_REMOVED")
            elif name not in olds:
                ctx.add("ENUM_ADDED")
            else:
                _compare_enum(ctx, olds[name], news[name])


def _compare_enum(ctx: _Context, old, new) -> None:
    olds = {v.number: v.name for v in old.value}
    news = {v.number: v.name for v in new.value}
    for number in dict.fromkeys([*olds, *news]):
        with ctx.enter(str(number)):
            if number not in news:
                ctx.add("ENUM_CONST_REMOVED", olds[number])
            elif number not in olds:
                ctx.add("ENUM_CONST_ADDED", news[number])
            elif olds[number] != news[number]:
                ctx.add("ENUM_CONST_CHANGED", f"'{olds[number]}' → '{news[number]}'")


def _layout(msg) -> tuple[dict, dict, dict]:
    """(top-level fields by tag, oneof name → fields by tag, tag → oneof name)."""
    real_oneofs = [o.name for o in msg.oneof_decl]
    top, oneofs, oneof_of = {}, {}, {}
    synthetic = {f.oneof_index for f in msg.field if f.HasField("oneof_index") and f.proto3_optional}
    for field in msg.field:
        if field.HasField("oneof_index") and field.oneof_index not in synthetic:
            name = real_oneofs[field.oneof_index]
            oneofs.setdefault(name, {})[field.number] = field
            oneof_of[field.number] = name
        else:
            top[field.number] = field
    return top, oneofs, oneof_of


def _compare_message(ctx: _Context, old, new) -> None:
    if id(old) not in ctx.in_progress:  # recursive types: a pair in progress counts as equal
        ctx.in_progress.add(id(old))
        try:
            _compare_fields(ctx, old, new)
        finally:
            ctx.in_progress.discard(id(old))
    _compare_types(ctx, old.nested_type, old.enum_type, new.nested_type, new.enum_type)


def _compare_fields(ctx: _Context, old, new) -> None:
    old_top, old_oneofs, old_oneof_of = _layout(old)
    new_top, new_oneofs, new_oneof_of = _layout(new)
    old_all = {**old_top, **{n: f for fs in old_oneofs.values() for n, f in fs.items()}}
    new_all = {**new_top, **{n: f for fs in new_oneofs.values() for n, f in fs.items()}}

    # A oneof may take over fields from one place only: gathering fields that could be set
    # together before (several top-level fields, or fields from different oneofs) loses data.
    for name, fields in new_oneofs.items():
        origins = set()
        for number in fields:
            if number in old_top:
                origins.add(("top", number))
            elif number in old_oneof_of:
                origins.add(("oneof", old_oneof_of[number]))
        if len(origins) > 1:
            rule = ("MULTIPLE_FIELDS_MOVED_TO_ONEOF" if all(kind == "top" for kind, _ in origins)
                    else "FIELD_MOVED_TO_EXISTING_ONEOF")
            with ctx.enter(name):
                ctx.add(rule)

    for name in dict.fromkeys([*old_oneofs, *new_oneofs]):
        with ctx.enter(name):
            olds, news = old_oneofs.get(name, {}), new_oneofs.get(name, {})
            if name not in new_oneofs:
                ctx.add("ONEOF_REMOVED")
            elif name not in old_oneofs:
                ctx.add("ONEOF_ADDED")
            for number in sorted({*olds, *news}):
                with ctx.enter(str(number)):
                    if number not in news:
                        if number not in new_all:  # moved elsewhere is not a deletion
                            ctx.add("ONEOF_FIELD_REMOVED", f"'{olds[number].name}'")
                    elif number not in olds:
                        if number not in old_all:
                            ctx.add("ONEOF_FIELD_ADDED", f"'{news[number].name}'")
                    else:
                        _compare_field(ctx, olds[number], news[number])

    staying_top = {n: f for n, f in old_top.items() if n not in new_oneof_of}
    for number in sorted({*staying_top, *new_top}):
        with ctx.enter(str(number)):
            old_field, new_field = staying_top.get(number), new_top.get(number)
            if new_field is None:
                ctx.add("REQUIRED_FIELD_REMOVED" if old_field.label == _LABEL_REQUIRED
                        else "FIELD_REMOVED", f"'{old_field.name}'")
            elif old_field is None:
                if number in old_oneof_of:
                    ctx.add("ONEOF_FIELD_MOVED_TO_TOP_LEVEL", f"'{new_field.name}'")
                else:
                    ctx.add("REQUIRED_FIELD_ADDED" if new_field.label == _LABEL_REQUIRED
                            else "FIELD_ADDED", f"'{new_field.name}'")
            else:
                _compare_field(ctx, old_field, new_field)

    # Fields whose oneof membership changed are compared by tag wherever they now live.
    for number in sorted(set(old_all) & set(new_all)):
        was_in, now_in = old_oneof_of.get(number), new_oneof_of.get(number)
        if was_in == now_in:
            continue  # both top level, or the same oneof: compared above
        segments = [now_in, str(number)] if now_in else [str(number)]
        for seg in segments:
            ctx.path.append(seg)
        try:
            _compare_field(ctx, old_all[number], new_all[number])
        finally:
            del ctx.path[-len(segments):]


def _compare_field(ctx: _Context, old, new) -> None:
    if old.name != new.name:
        ctx.add("FIELD_NAME_CHANGED", f"'{old.name}' → '{new.name}'")
    old_type, new_type = _field_type(ctx.original, old), _field_type(ctx.update, new)
    _compare_field_types(ctx, old_type, new_type, f"'{new.name}'")
    if old_type[0] != "map" and new_type[0] != "map" and old_type[0] == new_type[0]:
        if (old.label == _LABEL_REPEATED) != (new.label == _LABEL_REPEATED):
            if old_type[0] == "scalar":
                group = _SCALAR_GROUP[old_type[1]]
                ctx.add("FIELD_STRING_OR_BYTES_LABEL_CHANGED" if group == "STRING_OR_BYTES"
                        else "FIELD_NUMERIC_LABEL_CHANGED", f"'{new.name}'")


def _field_type(schema: ParsedProto, field) -> tuple:
    """("scalar", type number, display) | ("message", full name) | ("map", key, value)."""
    if field.type == _TYPE_ENUM:
        return ("scalar", _TYPE_ENUM, field.type_name.lstrip("."))
    if field.type in (_TYPE_MESSAGE, _TYPE_GROUP):
        full = field.type_name.lstrip(".")
        info = schema.types.get(full)
        if info is not None and info.is_map:
            key, value = sorted(info.proto.field, key=lambda f: f.number)[:2]
            return ("map", _field_type(schema, key), _field_type(schema, value))
        return ("message", full)
    return ("scalar", field.type, _SCALAR_NAME.get(field.type, str(field.type)))


def _show(t: tuple) -> str:
    if t[0] == "map":
        return f"map<{_show(t[1])}, {_show(t[2])}>"
    return t[-1] if t[0] == "scalar" else t[1]


def _compare_field_types(ctx: _Context, old: tuple, new: tuple, label: str) -> None:
    if old[0] != new[0]:
        ctx.add("FIELD_KIND_CHANGED", f"{label} {_show(old)} → {_show(new)}")
    elif old[0] == "scalar":
        if _SCALAR_GROUP[old[1]] != _SCALAR_GROUP[new[1]]:
            ctx.add("FIELD_SCALAR_KIND_CHANGED", f"{label} {_show(old)} → {_show(new)}")
    elif old[0] == "map":
        _compare_field_types(ctx, old[1], new[1], label)
        _compare_field_types(ctx, old[2], new[2], label)
    else:
        _compare_message_types(ctx, old[1], new[1], label)


def _local_name(full: str, info: _TypeInfo | None) -> str:
    if info is not None and info.package and full.startswith(info.package + "."):
        return full[len(info.package) + 1:]
    return full


def _compare_message_types(ctx: _Context, old_full: str, new_full: str, label: str) -> None:
    old_info, new_info = ctx.original.types.get(old_full), ctx.update.types.get(new_full)
    old_local, new_local = _local_name(old_full, old_info), _local_name(new_full, new_info)
    if old_local != new_local or old_info is None or new_info is None:
        if old_full != new_full:
            ctx.add("FIELD_NAMED_TYPE_CHANGED", f"{label} {old_full} → {new_full}")
        return
    if old_info.origin == new_info.origin:
        return  # same file on both sides: the message is compared where it is declared
    # The type comes from a different import (or moved in or out of one): compare its body
    # under its own name, then judge the field by the result.
    sub = ctx.sub(old_local.split("."))
    _compare_message(sub, old_info.proto, new_info.proto)
    ctx.diffs.extend(sub.diffs)
    if not sub.compatible():
        ctx.add("FIELD_NAMED_TYPE_CHANGED", f"{label} {new_full} changed incompatibly")
