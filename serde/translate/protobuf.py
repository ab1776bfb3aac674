"""Protobuf (proto3 ``.proto`` text) ↔ the neutral model (see ``serde.translate``).

What proto3 cannot say natively is kept in an *annotation*: a line
``// serde: {json}`` in the leading comment of a message, field, oneof, enum or enum
value (the other comment lines are the doc). Keys:

- ``name``: the model's full name, when it differs from the Protobuf full name;
- ``type``: ``decimal`` (with ``precision``, ``scale``), ``date``, ``time-millis``,
  ``uuid`` on a ``string`` field; ``timestamp-micros`` on a ``google.protobuf.Timestamp``;
- ``optional``: a ``repeated``, ``map`` or ``oneof`` that may be null;
- ``required``: a message (or Timestamp) field that may not be null (message fields are
  nullable otherwise);
- ``default``: the field's default (proto3 has no defaults);
- ``synthetic``: on an enum's zero value added only because proto3 needs one; such a
  value is dropped on the way back (see ``from_model``).

A schema without annotations (any proto3 file) reads just as well: annotations only make
A → Protobuf → A round trips exact.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from typing import Any, Mapping

from .. import _model as m
from .._errors import SchemaParseError
from .._types import SchemaSource
from ._common import check_names, child_path, fail, is_identifier, named_types, ref_target, split_name

_ANNOTATION = "serde:"
_TIMESTAMP = "google.protobuf.Timestamp"
_WRAPPERS = {
    "google.protobuf.DoubleValue": m.FLOAT64,
    "google.protobuf.FloatValue": m.FLOAT32,
    "google.protobuf.Int64Value": m.INT64,
    "google.protobuf.UInt64Value": m.INT64,
    "google.protobuf.Int32Value": m.INT32,
    "google.protobuf.UInt32Value": m.INT64,
    "google.protobuf.BoolValue": m.BOOLEAN,
    "google.protobuf.StringValue": m.STRING,
    "google.protobuf.BytesValue": m.BYTES,
}
# FieldDescriptor.TYPE_* numbers -> model kinds
_PROTO_SCALARS = {
    1: m.FLOAT64,  # double
    2: m.FLOAT32,  # float
    3: m.INT64,  # int64
    4: m.INT64,  # uint64 (one way)
    5: m.INT32,  # int32
    6: m.INT64,  # fixed64 (one way)
    7: m.INT64,  # fixed32 (one way)
    8: m.BOOLEAN,
    9: m.STRING,
    12: m.BYTES,
    13: m.INT64,  # uint32 (one way)
    15: m.INT32,  # sfixed32
    16: m.INT64,  # sfixed64
    17: m.INT32,  # sint32
    18: m.INT64,  # sint64
}
_TYPE_GROUP, _TYPE_MESSAGE, _TYPE_ENUM = 10, 11, 14
_STRING_LOGICAL = {"date": m.DATE, "time-millis": m.TIME_MILLIS, "uuid": m.UUID}
_KIND_TO_PROTO = {
    m.STRING: "string",
    m.BYTES: "bytes",
    m.BOOLEAN: "bool",
    m.INT32: "int32",
    m.INT64: "int64",
    m.FLOAT32: "float",
    m.FLOAT64: "double",
    m.DATE: "string",
    m.TIME_MILLIS: "string",
    m.UUID: "string",
    m.TIMESTAMP_MILLIS: _TIMESTAMP,
    m.TIMESTAMP_MICROS: _TIMESTAMP,
}


# -- comments and annotations ------------------------------------------------------------


def _parse_comment(text: str | None, path: str) -> tuple[str | None, dict[str, Any]]:
    """``(doc, annotation)`` from a leading comment."""
    if not text:
        return None, {}
    doc_lines, annotation = [], {}
    for line in text.rstrip("\n").split("\n"):
        body = line[1:] if line.startswith(" ") else line
        if body.strip().startswith(_ANNOTATION):
            raw = body.strip()[len(_ANNOTATION) :]
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise fail(path, f"invalid serde annotation {raw.strip()!r}: {exc.msg}") from exc
            if not isinstance(value, dict):
                raise fail(path, f"a serde annotation must be a JSON object, got {raw.strip()!r}")
            annotation.update(value)
        else:
            doc_lines.append(body)
    doc = "\n".join(doc_lines).strip("\n")
    return (doc or None), annotation


def _comments(text: str, references: Mapping[str, str]) -> dict[str, str]:
    """Leading comments of the main file, keyed by the element's full name (enum values
    as ``Enum.VALUE``). Empty when the schema is not ``.proto`` text."""
    from google.protobuf import descriptor_pb2

    from .._protoc import _run_protoc
    from ..formats.protobuf import _descriptor_from_base64, _known_imports_as_text

    if _descriptor_from_base64(text) is not None or any(_descriptor_from_base64(r) is not None for r in references.values()):
        return {}
    try:
        import grpc_tools
        from grpc_tools import protoc
    except ImportError:  # pragma: no cover - parse_schema already needed it
        return {}
    texts = {"schema.proto": text, **references}
    texts.update(_known_imports_as_text(texts))
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    with tempfile.TemporaryDirectory(prefix="serde-translate-") as tmp:
        src = os.path.join(tmp, "src")
        for name, body in texts.items():
            target = os.path.join(src, name)
            if os.path.commonpath([src, os.path.abspath(target)]) != src:
                return {}
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(body)
        out = os.path.join(tmp, "out.desc")
        args = ["protoc", f"-I{src}", f"-I{well_known}", "--include_source_info", f"--descriptor_set_out={out}", "schema.proto"]
        code, _ = _run_protoc(protoc.main, args, os.path.join(tmp, "stderr"), cwd=src)
        if code != 0:
            return {}
        fds = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as fh:
            fds.ParseFromString(fh.read())
    fdp = fds.file[-1]
    comments = {loc_key: loc for loc_key, loc in _locations(fdp).items()}
    return comments


def _locations(fdp: Any) -> dict[str, str]:
    by_path = {tuple(loc.path): loc.leading_comments for loc in fdp.source_code_info.location if loc.leading_comments}
    out: dict[str, str] = {}
    prefix = fdp.package + "." if fdp.package else ""

    def enum(e: Any, path: tuple[int, ...], full: str) -> None:
        if path in by_path:
            out[full] = by_path[path]
        for k, v in enumerate(e.value):
            if path + (2, k) in by_path:
                out[f"{full}.{v.name}"] = by_path[path + (2, k)]

    def message(msg: Any, path: tuple[int, ...], full: str) -> None:
        if path in by_path:
            out[full] = by_path[path]
        for k, f in enumerate(msg.field):
            if path + (2, k) in by_path:
                out[f"{full}.{f.name}"] = by_path[path + (2, k)]
        for k, o in enumerate(msg.oneof_decl):
            if path + (8, k) in by_path:
                out[f"{full}.{o.name}"] = by_path[path + (8, k)]
        for k, n in enumerate(msg.nested_type):
            message(n, path + (3, k), f"{full}.{n.name}")
        for k, e in enumerate(msg.enum_type):
            enum(e, path + (4, k), f"{full}.{e.name}")

    for i, msg in enumerate(fdp.message_type):
        message(msg, (4, i), prefix + msg.name)
    for i, e in enumerate(fdp.enum_type):
        enum(e, (5, i), prefix + e.name)
    return out


# -- Protobuf -> model -------------------------------------------------------------------


def to_model(text: str, references: Mapping[str, str] | None = None, *, message: str | None = None) -> m.Type:
    """The model of a Protobuf schema's message: ``message`` (``pkg.Msg``, ``Msg`` or
    ``Outer.Inner``), by default the file's first message. ``references`` maps import
    paths to ``.proto`` texts. Raises SchemaParseError."""
    from ..formats import get_format

    refs = dict(references or {})
    schema = get_format("protobuf").parse_schema(SchemaSource(text, refs), message=message)
    descriptor = schema.descriptor  # type: ignore[attr-defined]
    if descriptor is None:
        top = list(schema.file_descriptor.message_types_by_name.values())  # type: ignore[attr-defined]
        if not top:
            raise SchemaParseError("the Protobuf schema defines no message")
        descriptor = top[0]
    comments = _comments(text, refs) if isinstance(text, str) else {}
    return _Reader(comments).message(descriptor, "$")


class _Reader:
    def __init__(self, comments: Mapping[str, str]) -> None:
        self.comments = comments
        self.done: dict[str, m.Type] = {}
        # messages whose fields are being read: a field of one of these types is recursion
        self.in_progress: dict[str, m.RecordSlot] = {}

    def comment(self, full: str, path: str) -> tuple[str | None, dict[str, Any]]:
        return _parse_comment(self.comments.get(full), path)

    def message(self, d: Any, path: str) -> m.Type:
        full = d.full_name
        if full in self.done:
            return self.done[full]
        if full in self.in_progress:
            return self.in_progress[full].ref()
        from google.protobuf import descriptor_pb2

        proto = descriptor_pb2.DescriptorProto()
        d.CopyToProto(proto)
        synthetic = {f.name for f in proto.field if f.proto3_optional}
        doc, note = self.comment(full, path)
        slot = self.in_progress[full] = m.RecordSlot(note.get("name", full))
        fields: list[m.Field] = []
        seen_oneofs: set[str] = set()
        try:
            for fd in d.fields:
                fpath = child_path(path, fd.name)
                oneof = fd.containing_oneof
                if oneof is not None and fd.name not in synthetic:
                    if oneof.name in seen_oneofs:
                        continue
                    seen_oneofs.add(oneof.name)
                    fields.append(self.oneof(oneof, child_path(path, oneof.name)))
                    continue
                fields.append(self.field(fd, fd.name in synthetic, fpath))
        finally:
            del self.in_progress[full]
        record = slot.bind(m.Record(note.get("name", full), tuple(fields), doc))
        self.done[full] = record
        return record

    def oneof(self, o: Any, path: str) -> m.Field:
        full = f"{o.containing_type.full_name}.{o.name}"
        doc, note = self.comment(full, path)
        types = []
        for fd in o.fields:
            _, member_note = self.comment(fd.full_name, path)
            t = self.single(fd, member_note, path)
            if isinstance(t, m.Optional):  # a message member: set or not is the oneof's business
                t = t.type
            if t not in types:
                types.append(t)
        union: m.Type = types[0] if len(types) == 1 else m.Union_(tuple(types))
        # a oneof can be unset: it is optional unless serde wrote it from a required union
        if note.get("optional") or not note.get("required"):
            union = m.Optional(union)
        return m.Field(o.name, union, note.get("default"), "default" in note, doc)

    def field(self, fd: Any, proto3_optional: bool, path: str) -> m.Field:
        doc, note = self.comment(fd.full_name, path)
        if fd.type == _TYPE_MESSAGE and fd.message_type.GetOptions().map_entry:
            value_fd = fd.message_type.fields_by_name["value"]
            t: m.Type = m.Map(_strip(self.single(value_fd, note, path + "{}")))
        elif _is_repeated(fd):
            t = m.Array(_strip(self.single(fd, note, path + "[]")))
        else:
            t = self.single(fd, note, path)
            if proto3_optional:
                t = m.Optional(t) if not isinstance(t, m.Optional) else t
            if note.get("required") and isinstance(t, m.Optional):
                t = t.type
        if note.get("optional") and not isinstance(t, m.Optional):
            t = m.Optional(t)
        return m.Field(fd.name, t, note.get("default"), "default" in note, doc)

    def single(self, fd: Any, note: Mapping[str, Any], path: str) -> m.Type:
        """The type of one value of ``fd`` (a message type is Optional: it may be unset)."""
        logical = note.get("type")
        if fd.type == _TYPE_ENUM:
            return self.enum(fd.enum_type, path)
        if fd.type == _TYPE_MESSAGE:
            name = fd.message_type.full_name
            if name == _TIMESTAMP:
                return m.Optional(m.Scalar(m.TIMESTAMP_MICROS if logical == "timestamp-micros" else m.TIMESTAMP_MILLIS))
            if name in _WRAPPERS:
                return m.Optional(m.Scalar(_WRAPPERS[name]))
            if name == "google.protobuf.Struct":
                return m.Optional(m.Map(m.Scalar(m.ANY)))
            if name == "google.protobuf.ListValue":
                return m.Optional(m.Array(m.Scalar(m.ANY)))
            if name == "google.protobuf.Value":
                return m.Scalar(m.ANY)
            if name in ("google.protobuf.Any", "google.protobuf.Duration"):
                raise fail(path, f"{name} has no equivalent in the type model")
            return m.Optional(self.message(fd.message_type, path))
        if fd.type == _TYPE_GROUP:
            raise fail(path, "proto2 groups have no equivalent in the type model")
        kind = _PROTO_SCALARS[fd.type]
        if kind == m.STRING and logical == "decimal":
            return m.Decimal(int(note.get("precision", 0)), int(note.get("scale", 0)))
        if kind == m.STRING and logical in _STRING_LOGICAL:
            return m.Scalar(_STRING_LOGICAL[logical])
        return m.Scalar(kind)

    def enum(self, e: Any, path: str) -> m.Type:
        full = e.full_name
        if full in self.done:
            return self.done[full]
        doc, note = self.comment(full, path)
        symbols = []
        first_synthetic = False
        for i, v in enumerate(e.values):
            _, value_note = self.comment(f"{full}.{v.name}", path)
            if i == 0 and value_note.get("synthetic"):
                first_synthetic = True
                continue
            symbols.append(v.name)
        default = note.get("default") if "default" in note or first_synthetic else (symbols[0] if symbols else None)
        enum = m.Enum(note.get("name", full), tuple(symbols), default, doc)
        self.done[full] = enum
        return enum


def _is_repeated(fd: Any) -> bool:
    flag = getattr(fd, "is_repeated", None)
    if flag is not None:
        return bool(flag)
    return fd.label == 3  # pragma: no cover - older protobuf runtimes


def _strip(t: m.Type) -> m.Type:
    """Elements of repeated fields and map values are never null."""
    return t.type if isinstance(t, m.Optional) else t


# -- model -> Protobuf -------------------------------------------------------------------


def member_name(field_name: str, t: m.Type) -> str:
    """The name of the oneof member that holds a value of type ``t`` in the oneof derived
    for the Union_ field ``field_name`` (``payload`` + INT32 → ``payload_int32``)."""
    return f"{field_name}_{_suffix(t)}"


def _suffix(t: m.Type) -> str:
    if isinstance(t, m.Decimal):
        return "decimal"
    if isinstance(t, (m.Record, m.Enum, m.Ref)):
        return _snake(split_name(t.name)[1])
    if isinstance(t, m.Scalar):
        return {m.TIMESTAMP_MILLIS: "timestamp", m.TIMESTAMP_MICROS: "timestamp", m.TIME_MILLIS: "time"}.get(
            t.kind, t.kind.replace("-", "_")
        )
    return "value"


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _upper_snake(name: str) -> str:
    return _snake(name).upper()


def _annotation(note: Mapping[str, Any]) -> str:
    return f"{_ANNOTATION} {json.dumps(note, ensure_ascii=False, separators=(', ', ': '))}"


def _comment_lines(doc: str | None, note: Mapping[str, Any], indent: str) -> list[str]:
    lines = [f"{indent}// {line}".rstrip() for line in doc.split("\n")] if doc else []
    if note:
        lines.append(f"{indent}// {_annotation(note)}")
    return lines


def from_model(model: m.Type, **options: Any) -> str:
    """proto3 ``.proto`` text for ``model`` (a Record: the first message is the root).
    Raises SchemaParseError naming the path of a type Protobuf cannot express."""
    if options:
        raise TypeError(f"unknown Protobuf option(s): {', '.join(sorted(options))}")
    if not isinstance(model, m.Record):
        raise fail("$", "a Protobuf schema needs a record (message) at the top")
    check_names(model)
    return _Writer(model).render()


class _Writer:
    def __init__(self, root: m.Record) -> None:
        self.package = split_name(root.name)[0]
        self.records: list[m.Record] = []
        self.enums: list[m.Enum] = []
        self.paths: dict[str, str] = {}
        self.uses_timestamp = False
        for t in named_types(root):
            (self.records if isinstance(t, m.Record) else self.enums).append(t)
        self._find_paths(root, "$")
        # where each type goes: proto full name (relative to the package) per model name
        self.proto_names: dict[str, str] = {}
        self.nested_enums: dict[str, list[m.Enum]] = {}
        self.top_enums: list[m.Enum] = []
        top_symbols: dict[str, str] = {}
        for r in self.records:
            simple = split_name(r.name)[1]
            if simple in top_symbols:
                raise fail(self.paths[r.name], f"two messages would both be named {simple!r} in package {self.package or '(none)'}")
            top_symbols[simple] = r.name
            self.proto_names[r.name] = simple
        for e in self.enums:
            self._place_enum(e, top_symbols)

    def _find_paths(self, t: m.Type, path: str) -> None:
        if isinstance(t, m.Ref):
            if t.name not in self.paths:  # met outside its record
                self._find_paths(ref_target(t, path), path)
            return
        if isinstance(t, (m.Record, m.Enum)):
            if t.name in self.paths:
                return
            self.paths[t.name] = path
            if isinstance(t, m.Record):
                for f in t.fields:
                    self._find_paths(f.type, child_path(path, f.name))
        elif isinstance(t, m.Array):
            self._find_paths(t.items, path + "[]")
        elif isinstance(t, m.Map):
            self._find_paths(t.values, path + "{}")
        elif isinstance(t, m.Optional):
            self._find_paths(t.type, path)
        elif isinstance(t, m.Union_):
            for u in t.types:
                self._find_paths(u, path)

    def _values(self, e: m.Enum) -> list[tuple[str, bool]]:
        """``(symbol, synthetic)`` in number order: proto3 wants a zero value first, so
        one is added unless the enum's default is its first symbol."""
        values = [(s, False) for s in e.symbols]
        if not (e.default is not None and e.symbols and e.default == e.symbols[0]):
            zero = _upper_snake(split_name(e.name)[1]) + "_UNSPECIFIED"
            while zero in e.symbols:
                zero += "_"
            values.insert(0, (zero, True))
        return values

    def _place_enum(self, e: m.Enum, top_symbols: dict[str, str]) -> None:
        namespace, simple = split_name(e.name)
        names = {simple, *(v for v, _ in self._values(e))}
        path = self.paths[e.name]
        if namespace == self.package and not names & set(top_symbols):
            for n in names:
                top_symbols[n] = e.name
            self.top_enums.append(e)
            self.proto_names[e.name] = simple
            return
        # nest it in the first message that uses it: its values are scoped there
        owner = self._owner(e)
        scope = {f.name for f in owner.fields}
        for other in self.nested_enums.get(owner.name, []):
            scope |= {split_name(other.name)[1], *(v for v, _ in self._values(other))}
        clash = names & scope
        if clash:
            raise fail(path, f"enum {e.name!r}: Protobuf scopes enum values with their parent, and {sorted(clash)} clash there")
        self.nested_enums.setdefault(owner.name, []).append(e)
        self.proto_names[e.name] = f"{self.proto_names[owner.name]}.{simple}"

    def _owner(self, e: m.Enum) -> m.Record:
        for r in self.records:
            for f in r.fields:
                if _mentions(f.type, e):
                    return r
        raise AssertionError(e.name)  # pragma: no cover - named_types found it in some record

    def _full(self, name: str) -> str:
        return f"{self.package}.{self.proto_names[name]}" if self.package else self.proto_names[name]

    def _name_note(self, t: m.Record | m.Enum) -> dict[str, Any]:
        return {"name": t.name} if self._full(t.name) != t.name else {}

    def render(self) -> str:
        body: list[str] = []
        for r in self.records:
            body.append("")
            body.extend(self._message(r))
        for e in self.top_enums:
            body.append("")
            body.extend(self._enum(e, ""))
        head = ['syntax = "proto3";']
        if self.package:
            head += ["", f"package {self.package};"]
        if self.uses_timestamp:
            head += ["", 'import "google/protobuf/timestamp.proto";']
        return "\n".join(head + body) + "\n"

    def _enum(self, e: m.Enum, indent: str) -> list[str]:
        note = self._name_note(e)
        values = self._values(e)
        if values[0][1] and e.default is not None:
            note["default"] = e.default
        lines = _comment_lines(e.doc, note, indent)
        lines.append(f"{indent}enum {split_name(e.name)[1]} {{")
        for number, (symbol, synthetic) in enumerate(values):
            if synthetic:
                lines.extend(_comment_lines(None, {"synthetic": True}, indent + "  "))
            lines.append(f"{indent}  {symbol} = {number};")
        lines.append(f"{indent}}}")
        return lines

    def _message(self, r: m.Record) -> list[str]:
        lines = _comment_lines(r.doc, self._name_note(r), "")
        lines.append(f"message {split_name(r.name)[1]} {{")
        for e in self.nested_enums.get(r.name, []):
            lines.extend(self._enum(e, "  "))
        number = 1
        path = self.paths[r.name]
        for f in r.fields:
            fpath = child_path(path, f.name)
            if not is_identifier(f.name):
                raise fail(fpath, f"field name {f.name!r} is not a valid Protobuf identifier")
            field_lines, number = self._field(f, number, fpath)
            lines.extend(field_lines)
        lines.append("}")
        return lines

    def _field(self, f: m.Field, number: int, path: str) -> tuple[list[str], int]:
        note: dict[str, Any] = {}
        if f.has_default:
            note["default"] = f.default
        t, nullable = m.unwrap_optional(f.type)
        if isinstance(t, m.Union_):
            # a oneof may always be unset; a union that may not is marked required
            note["optional" if nullable else "required"] = True
            lines = _comment_lines(f.doc, note, "  ")
            lines.append(f"  oneof {f.name} {{")
            used: set[str] = set()
            for member in t.types:
                name = member_name(f.name, member)
                while name in used:
                    name += "_"
                used.add(name)
                type_text, member_note = self._single(member, path)
                if member_note.pop("required", None):
                    pass  # a oneof member is set or not: nothing to say
                lines.extend(_comment_lines(None, member_note, "    "))
                lines.append(f"    {type_text} {name} = {number};")
                number += 1
            lines.append("  }")
            return lines, number
        if isinstance(t, (m.Array, m.Map)):
            if nullable:
                note["optional"] = True
            inner = t.items if isinstance(t, m.Array) else t.values
            where = path + ("[]" if isinstance(t, m.Array) else "{}")
            if isinstance(inner, (m.Optional, m.Array, m.Map, m.Union_)):
                what = "array items" if isinstance(t, m.Array) else "map values"
                raise fail(where, f"Protobuf {what} cannot be {_describe(inner)}")
            type_text, inner_note = self._single(inner, where)
            inner_note.pop("required", None)
            note.update(inner_note)
            decl = f"repeated {type_text}" if isinstance(t, m.Array) else f"map<string, {type_text}>"
            lines = _comment_lines(f.doc, note, "  ")
            lines.append(f"  {decl} {f.name} = {number};")
            return lines, number + 1
        type_text, inner_note = self._single(t, path)
        is_message = type_text == _TIMESTAMP or isinstance(t, (m.Record, m.Ref))
        if is_message:
            if nullable:
                inner_note.pop("required", None)
        else:
            inner_note.pop("required", None)
        note.update(inner_note)
        label = "optional " if nullable and not is_message else ""
        lines = _comment_lines(f.doc, note, "  ")
        lines.append(f"  {label}{type_text} {f.name} = {number};")
        return lines, number + 1

    def _single(self, t: m.Type, path: str) -> tuple[str, dict[str, Any]]:
        """``(type text, annotation)`` for one value of ``t``; message types carry
        ``required`` (the caller drops it where nullability says otherwise)."""
        if isinstance(t, m.Decimal):
            return "string", {"type": "decimal", "precision": t.precision, "scale": t.scale}
        if isinstance(t, (m.Record, m.Ref)):  # a Ref: the message being defined, or one around it
            return self.proto_names[t.name], {"required": True}
        if isinstance(t, m.Enum):
            return self.proto_names[t.name], {}
        if isinstance(t, m.Scalar):
            proto = _KIND_TO_PROTO.get(t.kind)
            if proto is None:
                raise fail(path, f"Protobuf has no type for {t.kind!r}")
            note: dict[str, Any] = {}
            if t.kind in (m.DATE, m.TIME_MILLIS, m.UUID, m.TIMESTAMP_MICROS):
                note["type"] = t.kind
            if proto == _TIMESTAMP:
                self.uses_timestamp = True
                note["required"] = True
            return proto, note
        raise fail(path, f"Protobuf cannot express {_describe(t)} here")


def _describe(t: m.Type) -> str:
    if isinstance(t, m.Optional):
        return "nullable"
    if isinstance(t, m.Array):
        return "arrays"
    if isinstance(t, m.Map):
        return "maps"
    if isinstance(t, m.Union_):
        return "unions"
    return type(t).__name__.lower()


def _mentions(t: m.Type, target: m.Enum) -> bool:
    if t == target:
        return True
    if isinstance(t, m.Array):
        return _mentions(t.items, target)
    if isinstance(t, m.Map):
        return _mentions(t.values, target)
    if isinstance(t, m.Optional):
        return _mentions(t.type, target)
    if isinstance(t, m.Union_):
        return any(_mentions(u, target) for u in t.types)
    return False
