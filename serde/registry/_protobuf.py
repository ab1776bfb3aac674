"""Protobuf schemas in the registry store, as Confluent Schema Registry treats them.

* A schema is ``.proto`` text or a base64 ``FileDescriptorProto`` (what confluent-kafka's
  ``ProtobufSerializer`` registers). The store keeps text: a descriptor is rendered to
  ``.proto`` text on the way in (:func:`proto_text`), and ``format=serialized`` renders
  the other way (:func:`serialized`).
* Id reuse is decided on the compiled descriptor, not the characters (:func:`canonical`):
  whitespace, comments, the order options are written in and how type names are spelled do
  not make a new id, so a descriptor and the text it was rendered from share one. With
  ``normalize``, imports, fields (by number; ``oneof`` members with their ``oneof``), enum
  values, reserved and extension ranges are ordered as Confluent's normaliser
  (``ProtobufSchemaUtils.toNormalizedString``) orders them; messages and enums keep their
  order, as the message indexes of framed data count them.
* The files Confluent bundles resolve without references, and options it ignores do not
  fail (both in :func:`serde._protoc.compile_proto`).
"""
from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

# protoc's default json_name, and how a base64 descriptor is told from .proto text: one definition
from serde.formats.protobuf import _camel, _descriptor_from_base64

__all__ = ["canonical", "proto_text", "serialized", "validate"]


def descriptor_of(text: str) -> Any:
    """The ``FileDescriptorProto`` a base64 ``text`` encodes, or None for ``.proto`` text."""
    from serde._proto_files import load_confluent_options

    load_confluent_options()  # (confluent.field_meta) options parse as options, and render
    return _descriptor_from_base64(text)


def proto_text(text: str) -> str:
    """``.proto`` text for a schema: ``text`` itself, or the rendering of the base64
    ``FileDescriptorProto`` it is."""
    fdp = descriptor_of(text)
    if fdp is None:
        return text
    from serde.formats.protobuf import render_proto

    return render_proto(fdp)


def _compile(text: str, refs: Mapping[str, str]) -> Any:
    from serde._protoc import compile_proto

    return compile_proto(proto_text(text), {name: proto_text(body) for name, body in refs.items()})


def validate(text: str, refs: Mapping[str, str]) -> None:
    """Raise ``SchemaParseError`` (protoc's message) when the schema does not compile."""
    _compile(text, refs)


def serialized(text: str, refs: Mapping[str, str]) -> str:
    """``format=serialized``: the schema as a base64 ``FileDescriptorProto``."""
    from google.protobuf import descriptor_pb2

    fdp = descriptor_pb2.FileDescriptorProto()
    fdp.CopyFrom(_compile(text, refs).file)
    fdp.ClearField("source_code_info")
    return base64.b64encode(fdp.SerializeToString(deterministic=True)).decode("ascii")


def canonical(text: str, refs: Mapping[str, str], normalize: bool = False) -> str:
    """The string whose hash decides id reuse: the compiled main file, without its name,
    source positions and default JSON names; ordered as Confluent's normaliser orders when
    ``normalize``. Raises ``SchemaParseError`` when the schema does not compile."""
    from google.protobuf import descriptor_pb2

    fdp = descriptor_pb2.FileDescriptorProto()
    fdp.CopyFrom(_compile(text, refs).file)
    fdp.ClearField("name")
    fdp.ClearField("source_code_info")
    for message in fdp.message_type:
        _message(message, normalize)
    for enum in fdp.enum_type:
        _enum(enum, normalize)
    for field in fdp.extension:
        _field(field)
    if normalize:
        _sort_imports(fdp)
        _sort(fdp.extension, key=lambda f: (f.extendee, f.number))
    return "PROTOBUF:" + base64.b64encode(fdp.SerializeToString(deterministic=True)).decode("ascii")


def _sort(repeated: Any, key: Any) -> None:
    _replace(repeated, sorted(repeated, key=key))


def _field(field: Any) -> None:
    if field.json_name == _camel(field.name):
        field.ClearField("json_name")


def _message(message: Any, normalize: bool) -> None:
    for field in message.field:
        _field(field)
    for field in message.extension:
        _field(field)
    for nested in message.nested_type:
        _message(nested, normalize)
    for enum in message.enum_type:
        _enum(enum, normalize)
    if not normalize:
        return
    # oneofs in the order of their lowest field number, members by number (Confluent)
    if message.oneof_decl:
        lowest: dict[int, int] = {}
        for field in message.field:
            if field.HasField("oneof_index"):
                lowest[field.oneof_index] = min(lowest.get(field.oneof_index, field.number), field.number)
        order = sorted(range(len(message.oneof_decl)), key=lambda i: (lowest.get(i, 1 << 30), i))
        remap = {old: new for new, old in enumerate(order)}
        decls = [message.oneof_decl[i] for i in order]
        _replace(message.oneof_decl, decls)
        for field in message.field:
            if field.HasField("oneof_index"):
                field.oneof_index = remap[field.oneof_index]
    _sort(message.field, key=lambda f: f.number)
    _sort(message.extension, key=lambda f: (f.extendee, f.number))
    _sort(message.extension_range, key=lambda r: (r.start, r.end))
    _sort(message.reserved_range, key=lambda r: (r.start, r.end))
    names = sorted(set(message.reserved_name))
    del message.reserved_name[:]
    message.reserved_name.extend(names)


def _enum(enum: Any, normalize: bool) -> None:
    if not normalize:
        return
    _sort(enum.value, key=lambda v: (v.number, v.name))
    _sort(enum.reserved_range, key=lambda r: (r.start, r.end))
    names = sorted(set(enum.reserved_name))
    del enum.reserved_name[:]
    enum.reserved_name.extend(names)


def _replace(repeated: Any, items: list[Any]) -> None:
    copies = []
    for item in items:
        copy = type(item)()
        copy.CopyFrom(item)
        copies.append(copy)
    del repeated[:]
    repeated.extend(copies)


def _sort_imports(fdp: Any) -> None:
    """Imports sorted and de-duplicated, public and weak ones apart (Confluent lists plain
    imports, then public ones)."""
    public = {fdp.dependency[i] for i in fdp.public_dependency}
    weak = {fdp.dependency[i] for i in fdp.weak_dependency}
    plain = sorted({d for d in fdp.dependency if d not in public and d not in weak})
    ordered = plain + sorted(public) + sorted(weak - public)
    del fdp.dependency[:]
    fdp.dependency.extend(ordered)
    del fdp.public_dependency[:]
    fdp.public_dependency.extend(ordered.index(d) for d in sorted(public))
    del fdp.weak_dependency[:]
    fdp.weak_dependency.extend(ordered.index(d) for d in sorted(weak - public))
