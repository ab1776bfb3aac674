"""Protobuf: dynamic messages from ``.proto`` text, framed the Confluent way.

No generated classes are needed. ``.proto`` text (with its imports given as references)
is compiled by protoc (:mod:`serde._protoc`) into descriptors that live in a descriptor
pool of serde's own, one per schema, so they never collide with generated classes of the
same package already loaded in the process (nor with another version of the same schema).
A schema may also be given as a generated message class, a message instance, a
``Descriptor``/``FileDescriptor``/``FileDescriptorProto``, or as the base64
``FileDescriptorProto`` that confluent-kafka registers; it is always *registered* as
``.proto`` text (rendered from the descriptor when needed), which every registry accepts.

Records are plain dicts by default, the same shape the other formats use:

* every field of the message is a key, named as in the ``.proto`` (``snake_case``, not
  the JSON ``camelCase``), in declaration order;
* scalars are Python values: ``int`` for every integer type (int64 stays an ``int``),
  ``float``, ``bool``, ``str``, ``bytes`` for ``bytes``;
* enums are value names (``"RED"``); a number the enum does not define (open enums) stays
  an ``int``. On write, names and numbers are both accepted;
* nested messages are dicts, repeated fields lists, maps dicts;
* a field that is not set and has presence (a message field, a proto3 ``optional`` or
  proto2 field, a ``oneof`` member) is ``None``; implicit-presence scalars read as their
  default (``0``, ``""``...). Exactly one member of a set ``oneof`` is not ``None``.
  On write, ``None`` (or a missing key) means "not set"; an unknown key is an error;
* well-known types read as Python values (``well_known_types=False`` keeps them as plain
  message dicts): ``Timestamp`` → aware UTC ``datetime`` (nanoseconds are cut to
  microseconds), ``Duration`` → ``timedelta``, the wrappers (``Int64Value``...) → their
  value, ``Struct``/``Value``/``ListValue`` → dict/JSON value/list. On write both forms
  are accepted (``datetime`` or ``{"seconds": …, "nanos": …}``; a naive datetime is UTC).

Message objects work too: an encoder accepts an instance of the schema's message (from
any pool: a generated class is fine) and ``decoder(..., as_message=True)`` returns
message objects of serde's dynamic class.

The per-record path does no descriptor work: each message type gets a precompiled plan
(fields needing conversion, a template dict, converters keyed by field descriptor), and a
dict is turned into a message by upb's C constructor. Only when that constructor refuses
a record does a slower field-by-field walk run, to name the offending field
(``$.items[2].price``).
"""
from __future__ import annotations

import base64
import binascii
import datetime as _dt
import importlib
import keyword
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from .._errors import ConfigError, DecodeError, RecordInvalid, SchemaParseError
from .._types import SchemaSource
from .._wire import encode_message_indexes
from ._base import Decoder, Encoder, Format, ParsedSchema, too_deep

__all__ = [
    "ProtoReference",
    "ProtobufFormat",
    "ProtobufSchema",
    "references_for",
    "render_proto",
]

MAIN_FILE_NAME = "schema.proto"
# What confluent-kafka's ProtobufSerializer does not register (``skip.known.types``):
# these files ship with the protobuf runtimes, so every reader already has them.
KNOWN_PREFIXES = ("google/protobuf/", "google/type/", "confluent/")
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_UTC = _dt.timezone.utc
_TIMEDELTA = _dt.timedelta
_DATETIME = _dt.datetime


def _is_known(name: str) -> bool:
    return name.startswith(KNOWN_PREFIXES)


# ---------------------------------------------------------------------------------------
# Schema sources: text, base64 descriptors, generated classes
# ---------------------------------------------------------------------------------------

_B64 = re.compile(r"[A-Za-z0-9+/=\s]+")


def _descriptor_from_base64(text: str) -> Any:
    """The ``FileDescriptorProto`` ``text`` is the base64 of, or ``None`` when it is not
    (``.proto`` text always has spaces, quotes or semicolons; base64 has none)."""
    stripped = text.strip()
    if not stripped or not _B64.fullmatch(stripped):
        return None
    try:
        raw = base64.b64decode(stripped, validate=False)
    except (binascii.Error, ValueError):
        return None
    from google.protobuf import descriptor_pb2
    from google.protobuf.message import DecodeError as PbDecodeError

    fdp = descriptor_pb2.FileDescriptorProto()
    try:
        fdp.ParseFromString(raw)
    except PbDecodeError:
        return None
    if not (fdp.name or fdp.message_type or fdp.enum_type or fdp.service or fdp.extension or fdp.package or fdp.syntax):
        return None
    return fdp


def _file_proto_of(obj: Any) -> tuple[Any, str | None, Any]:
    """``(FileDescriptorProto, message full name or None, runtime FileDescriptor or None)``
    for descriptor-ish objects, ``(None, None, None)`` for anything else (text)."""
    from google.protobuf import descriptor_pb2
    from google.protobuf.descriptor import Descriptor, FileDescriptor
    from google.protobuf.message import Message

    if isinstance(obj, descriptor_pb2.FileDescriptorProto):
        copy = descriptor_pb2.FileDescriptorProto()
        copy.CopyFrom(obj)
        return copy, None, None
    if isinstance(obj, FileDescriptor):
        fdp = descriptor_pb2.FileDescriptorProto()
        obj.CopyToProto(fdp)
        return fdp, None, obj
    if isinstance(obj, type) and issubclass(obj, Message):
        obj = obj.DESCRIPTOR
    elif isinstance(obj, Message):
        obj = obj.DESCRIPTOR
    if isinstance(obj, Descriptor):
        fdp = descriptor_pb2.FileDescriptorProto()
        obj.file.CopyToProto(fdp)
        return fdp, obj.full_name, obj.file
    return None, None, None


def _runtime_file(name: str) -> Any:
    """A well-known / known-type file (``google/protobuf/timestamp.proto``) from the
    protobuf runtime (or googleapis-common-protos, confluent-kafka), or ``None``."""
    from google.protobuf import descriptor_pb2

    if not _is_known(name):  # never a user's module that happens to be importable
        return None
    module_names = [name[: -len(".proto")].replace("/", ".").replace("-", "_") + "_pb2"]
    if name.startswith("confluent/"):
        module_names.append("confluent_kafka.schema_registry." + module_names[0])
    for module_name in module_names:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        descriptor = getattr(module, "DESCRIPTOR", None)
        if descriptor is not None and descriptor.name == name:
            fdp = descriptor_pb2.FileDescriptorProto()
            fdp.ParseFromString(descriptor.serialized_pb)
            return fdp
    return None


_IMPORT = re.compile(r'^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;', re.M)


def _known_imports_as_text(texts: Mapping[str, str]) -> dict[str, str]:
    """``.proto`` text for known-type imports protoc cannot find by itself (``google/type``,
    ``confluent/``): rendered from the runtime's descriptors."""
    extra: dict[str, str] = {}
    pending = [m for text in texts.values() for m in _IMPORT.findall(text)]
    while pending:
        name = pending.pop()
        if name in texts or name in extra or name.startswith("google/protobuf/"):
            continue
        fdp = _runtime_file(name)
        if fdp is None:
            continue  # protoc reports it, with the line of the import
        extra[name] = render_proto(fdp)
        pending.extend(d for d in fdp.dependency)
    return extra


class _FileSet:
    """One compiled schema: its own pool, the main file, and per-message plans."""

    def __init__(self, main: Any, files: Sequence[Any]) -> None:
        from google.protobuf import descriptor_pool

        self.pool = descriptor_pool.DescriptorPool()
        for fdp in files:
            try:
                self.pool.Add(fdp)
            except Exception as exc:  # noqa: BLE001 - the pool's TypeError/KeyError: bad descriptor
                raise SchemaParseError(f"invalid Protobuf descriptor for {fdp.name!r}: {exc}") from exc
        self.file_proto = main
        self.file = self.pool.FindFileByName(main.name)
        self.lock = threading.RLock()
        self.schemas: dict[tuple[int, ...], ProtobufSchema] = {}
        self.classes: dict[str, Any] = {}
        self.encode_plans: dict[str, Any] = {}
        self.decode_plans: dict[tuple[str, bool], Any] = {}
        self.rendered: str | None = None
        self.source_is_text = False

    def message_class(self, descriptor: Any) -> Any:
        cls = self.classes.get(descriptor.full_name)
        if cls is None:
            from google.protobuf import message_factory

            cls = self.classes[descriptor.full_name] = message_factory.GetMessageClass(descriptor)
        return cls

    def text(self) -> str:
        if self.rendered is None:
            self.rendered = render_proto(self.file_proto)
        return self.rendered


_CACHE: "OrderedDict[Any, _FileSet]" = OrderedDict()
_CACHE_SIZE = 256
_CACHE_LOCK = threading.Lock()


def _load(source: Any, references: Mapping[str, Any]) -> tuple[_FileSet, str | None, str | None]:
    """Compile (or fetch from the cache) the file set for ``source``.

    Returns ``(fileset, text to register or None to render, message full name implied
    by the source or None)``.
    """
    fdp, implied, runtime = _file_proto_of(source)
    if fdp is not None:
        # A generated class / descriptor: the runtime knows its imports already.
        key: Any = ("descriptor", fdp.SerializeToString(deterministic=True), tuple(sorted(references)))
        return _cached(key, lambda: _from_descriptor(fdp, references, runtime)), None, implied
    if not isinstance(source, str):
        raise SchemaParseError(
            f"a Protobuf schema is .proto text, a base64 FileDescriptorProto or a generated message class, "
            f"not {type(source).__name__}"
        )
    refs_key = tuple(sorted((str(k), v if isinstance(v, str) else repr(v)) for k, v in references.items()))
    key = ("text", source, refs_key)
    fileset = _cached(key, lambda: _from_text(source, references))
    return fileset, (source if fileset.source_is_text else None), None


def _cached(key: Any, build: Callable[[], _FileSet]) -> _FileSet:
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    built = build()
    with _CACHE_LOCK:
        found = _CACHE.setdefault(key, built)
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found


def _from_descriptor(fdp: Any, references: Mapping[str, Any], runtime: Any = None) -> _FileSet:
    have: dict[str, Any] = {}
    if runtime is not None:  # a generated class: its imports are loaded in its own pool

        def add_runtime(file: Any) -> None:
            from google.protobuf import descriptor_pb2

            for dep in file.dependencies:
                if dep.name not in have:
                    dep_fdp = descriptor_pb2.FileDescriptorProto()
                    dep.CopyToProto(dep_fdp)
                    have[dep.name] = dep_fdp
                    add_runtime(dep)

        add_runtime(runtime)
    for name, ref in references.items():
        ref_fdp = _file_proto_of(ref)[0]
        if ref_fdp is None and isinstance(ref, str):
            ref_fdp = _descriptor_from_base64(ref)
        if ref_fdp is not None:
            ref_fdp.name = name
            have[name] = ref_fdp
    ordered: list[Any] = []
    done: set[str] = set()

    def visit(file: Any) -> None:
        for dep in file.dependency:
            if dep in done:
                continue
            done.add(dep)
            found = have.get(dep)
            if found is None:
                found = _runtime_file(dep)
            if found is None:
                raise SchemaParseError(f"import {dep!r} of {file.name!r} is not among the schema's references")
            visit(found)
            ordered.append(found)

    if not fdp.name:
        fdp.name = MAIN_FILE_NAME
    done.add(fdp.name)
    visit(fdp)
    return _FileSet(fdp, [*ordered, fdp])


def _from_text(text: str, references: Mapping[str, Any]) -> _FileSet:
    from google.protobuf import descriptor_pb2

    main_fdp = _descriptor_from_base64(text)
    ref_texts: dict[str, str] = {}
    ref_fdps: dict[str, Any] = {}
    for name, ref in references.items():
        ref_fdp = _descriptor_from_base64(ref) if isinstance(ref, str) else _file_proto_of(ref)[0]
        if ref_fdp is not None:
            ref_fdp.name = name
            ref_fdps[name] = ref_fdp
        elif isinstance(ref, str):
            ref_texts[name] = ref
        else:
            raise SchemaParseError(f"reference {name!r} is neither .proto text nor a descriptor")
    if main_fdp is not None and not ref_texts:
        # All descriptors (what confluent-kafka registers): no protoc needed.
        if not main_fdp.name:
            main_fdp.name = MAIN_FILE_NAME
        return _from_descriptor(main_fdp, ref_fdps)
    # Some text: compile everything with protoc, descriptors rendered back to text.
    if main_fdp is not None:
        text = render_proto(main_fdp)
    for name, ref_fdp in ref_fdps.items():
        ref_texts[name] = render_proto(ref_fdp)
    ref_texts.update(_known_imports_as_text({MAIN_FILE_NAME: text, **ref_texts}))
    from .._protoc import compile_proto

    compiled = compile_proto(text, ref_texts, name=MAIN_FILE_NAME)
    files = [descriptor_pb2.FileDescriptorProto.FromString(f.SerializeToString()) for f in compiled.files]
    main = next(f for f in files if f.name == MAIN_FILE_NAME)
    for f in files:
        f.ClearField("source_code_info")
    fileset = _FileSet(main, files)
    fileset.source_is_text = main_fdp is None
    return fileset


# ---------------------------------------------------------------------------------------
# The parsed schema
# ---------------------------------------------------------------------------------------


def _message_paths(file: Any) -> list[tuple[tuple[int, ...], Any]]:
    """Every message of ``file`` (map entries excluded) with its index path, in order."""
    out: list[tuple[tuple[int, ...], Any]] = []

    def walk(descriptors: Sequence[Any], prefix: tuple[int, ...]) -> None:
        for index, descriptor in enumerate(descriptors):
            if descriptor.GetOptions().map_entry:
                continue
            path = (*prefix, index)
            out.append((path, descriptor))
            walk(descriptor.nested_types, path)

    walk(list(file.message_types_by_name.values()), ())
    return out


def _index_path(descriptor: Any) -> tuple[int, ...]:
    path: list[int] = []
    current = descriptor
    while current.containing_type is not None:
        parent = current.containing_type
        path.append(list(parent.nested_types).index(current))
        current = parent
    path.append(list(current.file.message_types_by_name.values()).index(current))
    return tuple(reversed(path))


class ProtobufSchema(ParsedSchema):
    """A compiled ``.proto`` file with one of its messages selected.

    ``descriptor`` is the message's ``Descriptor`` (``None`` when the file has several
    top-level messages and none was chosen), ``message_class`` its dynamic class,
    ``message_indexes`` its Confluent index path and ``frame_suffix`` that path encoded.
    ``text`` is ``.proto`` text (rendered from the descriptor when the source was not
    text). ``file_descriptor`` is the main file, in serde's own pool.
    """

    schema_type = "PROTOBUF"

    def __init__(self, fileset: _FileSet, text: str | None, references: Mapping[str, Any], descriptor: Any) -> None:
        super().__init__(text or "", {k: v for k, v in references.items() if isinstance(v, str)},
                         descriptor.full_name if descriptor is not None else None)
        self._text = text
        self._fileset = fileset
        self.descriptor = descriptor
        self.file_descriptor = fileset.file
        if descriptor is not None:
            self.message_indexes: tuple[int, ...] = _index_path(descriptor)
            self.frame_suffix = encode_message_indexes(self.message_indexes)
            self.message_class: Any = fileset.message_class(descriptor)
        else:
            self.message_indexes = ()
            self.frame_suffix = b""
            self.message_class = None

    @property  # type: ignore[override]
    def text(self) -> str:
        if self._text is None:
            self._text = self._fileset.text()
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._text = value or None

    @property
    def file_descriptor_proto(self) -> Any:
        return self._fileset.file_proto

    @property
    def message_names(self) -> list[str]:
        """Full names of every message in the file, nested ones included."""
        return [d.full_name for _, d in _message_paths(self.file_descriptor)]

    def for_message(self, name: str) -> "ProtobufSchema":
        """The same file with another message selected (``pkg.Msg``, ``Msg``, ``Outer.Inner``)."""
        return self._for_descriptor(_find_message(self.file_descriptor, name))

    def _for_descriptor(self, descriptor: Any) -> "ProtobufSchema":
        path = _index_path(descriptor)
        with self._fileset.lock:
            found = self._fileset.schemas.get(path)
            if found is None:
                found = ProtobufSchema(self._fileset, self._text, self.references, descriptor)
                self._fileset.schemas[path] = found
        return found

    def for_message_indexes(self, indexes: Sequence[int]) -> "ProtobufSchema":
        """The message a Confluent message-index array points at (nested ones included)."""
        path = tuple(indexes) or (0,)
        found = self._fileset.schemas.get(path)
        if found is not None:
            return found
        candidates = [d for d in self.file_descriptor.message_types_by_name.values()]
        descriptor = None
        for depth, index in enumerate(path):
            if not 0 <= index < len(candidates):
                where = "top-level" if depth == 0 else f"nested in {descriptor.full_name}"  # type: ignore[union-attr]
                raise DecodeError(
                    f"unknown Protobuf message index {list(path)}: there are {len(candidates)} {where} messages"
                    f" in the writer schema (messages: {', '.join(self.message_names) or 'none'})"
                )
            descriptor = candidates[index]
            candidates = list(descriptor.nested_types)
        return self._for_descriptor(descriptor)

    def __repr__(self) -> str:
        return f"<ProtobufSchema {self.record_name or self.file_descriptor.name!r}>"


def _find_message(file: Any, name: str) -> Any:
    wanted = name.lstrip(".")
    package = file.package
    for _, descriptor in _message_paths(file):
        full = descriptor.full_name
        if full == wanted or (package and full == f"{package}.{wanted}"):
            return descriptor
    candidates = ", ".join(d.full_name for _, d in _message_paths(file)) or "none"
    raise SchemaParseError(f"message {name!r} is not in the schema; its messages are: {candidates}")


# ---------------------------------------------------------------------------------------
# dict -> message
# ---------------------------------------------------------------------------------------

_WRAPPERS = frozenset(
    "google.protobuf." + n
    for n in ("DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value", "UInt32Value",
              "BoolValue", "StringValue", "BytesValue")
)
_STRUCT_TYPES = frozenset({"google.protobuf.Struct", "google.protobuf.ListValue", "google.protobuf.Value"})
_WKT_CONVERTED = _WRAPPERS | {
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "google.protobuf.Struct",
    "google.protobuf.Value",
    "google.protobuf.ListValue",
}


def _is_map(fd: Any) -> bool:
    mt = fd.message_type
    return mt is not None and fd.is_repeated and mt.GetOptions().map_entry


def _datetime_to_ts(value: Any) -> Any:
    if isinstance(value, _DATETIME):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_UTC)
        delta = value - _EPOCH
        return {"seconds": delta.days * 86400 + delta.seconds, "nanos": delta.microseconds * 1000}
    return value


def _timedelta_to_duration(value: Any) -> Any:
    if isinstance(value, _TIMEDELTA):
        seconds = value.days * 86400 + value.seconds
        nanos = value.microseconds * 1000
        if seconds < 0 and nanos:
            seconds += 1
            nanos -= 1_000_000_000
        return {"seconds": seconds, "nanos": nanos}
    return value


def _wkt_to_kwargs(fileset: _FileSet, full_name: str) -> Callable[[Any], Any] | None:
    """What turns the Python form of a well-known type into constructor input.

    Struct, ListValue and Value become messages built here: upb's constructor treats a
    dict given for a Struct field as the Struct's *content*, so a dict form would be
    ambiguous one level down."""
    if full_name == "google.protobuf.Timestamp":
        return _datetime_to_ts
    if full_name == "google.protobuf.Duration":
        return _timedelta_to_duration
    if full_name in _WRAPPERS:
        return lambda v: v if isinstance(v, (Mapping, _Message())) else {"value": v}
    if full_name not in ("google.protobuf.Struct", "google.protobuf.ListValue", "google.protobuf.Value"):
        return None
    find = fileset.pool.FindMessageTypeByName
    struct_cls = fileset.message_class(find("google.protobuf.Struct"))
    list_cls = fileset.message_class(find("google.protobuf.ListValue"))
    value_cls = fileset.message_class(find("google.protobuf.Value"))
    Message = _Message()

    def to_struct(v: Any) -> Any:
        if isinstance(v, Message):
            return v
        if not isinstance(v, Mapping):
            raise TypeError(f"expected a dict for a Struct, got {type(v).__name__}")
        out = struct_cls()
        out.update(v)
        return out

    def to_list(v: Any) -> Any:
        if isinstance(v, Message):
            return v
        if not isinstance(v, (list, tuple)):
            raise TypeError(f"expected a list for a ListValue, got {type(v).__name__}")
        out = list_cls()
        out.extend(v)
        return out

    def to_value(v: Any) -> Any:
        if isinstance(v, Message):
            return v
        holder = list_cls()
        holder.append(v)  # the runtime's own Python -> Value mapping (ValueError if none)
        out = value_cls()
        out.CopyFrom(holder.values[0])
        return out

    return {"google.protobuf.Struct": to_struct, "google.protobuf.ListValue": to_list}.get(full_name, to_value)


_MESSAGE_BASE: Any = None


def _Message() -> Any:  # noqa: N802 - a lazily imported class
    global _MESSAGE_BASE
    if _MESSAGE_BASE is None:
        from google.protobuf.message import Message

        _MESSAGE_BASE = Message
    return _MESSAGE_BASE


class _EncodePlan:
    """How to turn a dict into constructor kwargs for one message type: the fields whose
    values need converting first (well-known types, and messages containing them), and
    the oneofs to check (upb's constructor would silently keep the last member set)."""

    __slots__ = ("cls", "convert", "full_name", "oneofs")

    def __init__(self, cls: Any, full_name: str) -> None:
        self.cls = cls
        self.full_name = full_name
        self.convert: list[tuple[str, Callable[[Any], Any]]] = []
        self.oneofs: list[tuple[str, ...]] = []


def _real_oneofs(descriptor: Any) -> list[tuple[str, ...]]:
    return [
        tuple(f.name for f in oneof.fields)
        for oneof in descriptor.oneofs
        if len(oneof.fields) > 1
    ]


def _encode_plan(fileset: _FileSet, descriptor: Any, well_known: bool) -> _EncodePlan:
    key = (descriptor.full_name, well_known)
    plan = fileset.encode_plans.get(key)
    if plan is not None:
        return plan  # type: ignore[no-any-return]
    plan = fileset.encode_plans[key] = _EncodePlan(fileset.message_class(descriptor), descriptor.full_name)
    plan.oneofs = _real_oneofs(descriptor)
    for fd in descriptor.fields:
        mt = fd.message_type
        if mt is None:
            continue
        if _is_map(fd):
            value_fd = mt.fields_by_name["value"]
            if value_fd.message_type is None:
                continue
            inner = _value_converter(fileset, value_fd.message_type, well_known)
            if inner is not None:
                plan.convert.append((fd.name, _map_of(inner)))
            continue
        inner = _value_converter(fileset, mt, well_known)
        if inner is None:
            continue
        plan.convert.append((fd.name, _list_of(inner) if fd.is_repeated else inner))
    return plan


def _value_converter(fileset: _FileSet, mt: Any, well_known: bool) -> Callable[[Any], Any] | None:
    if well_known and mt.full_name in _WKT_CONVERTED:
        return _wkt_to_kwargs(fileset, mt.full_name)
    if mt.full_name in _STRUCT_TYPES:  # message-shaped dicts: build them here (see _wkt_to_kwargs)

        def build(v: Any) -> Any:
            try:
                return _build_slow(fileset, mt, v, "$", well_known)
            except RecordInvalid as exc:  # the caller's slow path names the full path
                raise ValueError(str(exc)) from None

        return build
    sub = _encode_plan(fileset, mt, well_known)
    if not sub.convert and not sub.oneofs and not _needs_preparing(mt, well_known, set()):
        return None
    return lambda v: _prepare(sub, v) if isinstance(v, Mapping) else v


def _needs_preparing(mt: Any, well_known: bool, seen: set[str]) -> bool:
    # A recursive message type's plan may still be under construction; look deeper.
    if mt.full_name in seen:
        return False
    seen.add(mt.full_name)
    if _real_oneofs(mt):
        return True
    for fd in mt.fields:
        sub = fd.message_type
        if sub is None:
            continue
        if _is_map(fd):
            sub = sub.fields_by_name["value"].message_type
            if sub is None:
                continue
        if (well_known and sub.full_name in _WKT_CONVERTED) or sub.full_name in _STRUCT_TYPES:
            return True
        if _needs_preparing(sub, well_known, seen):
            return True
    return False


def _list_of(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda values: [convert(v) for v in values] if isinstance(values, (list, tuple)) else values


def _map_of(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda values: {k: convert(v) for k, v in values.items()} if isinstance(values, Mapping) else values


def _prepare(plan: _EncodePlan, record: Mapping[str, Any]) -> dict[str, Any]:
    for members in plan.oneofs:
        if sum(1 for m in members if record.get(m) is not None) > 1:
            raise ValueError("two members of a oneof")  # the slow path names them
    if not plan.convert:
        return record  # type: ignore[return-value]
    kwargs = dict(record)
    for name, convert in plan.convert:
        value = kwargs.get(name)
        if value is not None:
            kwargs[name] = convert(value)
    return kwargs


# -- the slow path: build field by field, naming the field that does not fit -------------

_INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1), "sint32": (-(2**31), 2**31 - 1), "sfixed32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1), "sint64": (-(2**63), 2**63 - 1), "sfixed64": (-(2**63), 2**63 - 1),
    "uint32": (0, 2**32 - 1), "fixed32": (0, 2**32 - 1), "uint64": (0, 2**64 - 1), "fixed64": (0, 2**64 - 1),
}
_TYPE_NAMES: dict[int, str] = {}


def _type_name(fd: Any) -> str:
    if not _TYPE_NAMES:
        from google.protobuf.descriptor import FieldDescriptor

        for attr in dir(FieldDescriptor):
            if attr.startswith("TYPE_"):
                _TYPE_NAMES[getattr(FieldDescriptor, attr)] = attr[5:].lower()
    if fd.enum_type is not None:
        return f"enum {fd.enum_type.full_name}"
    if fd.message_type is not None:
        return f"message {fd.message_type.full_name}"
    return _TYPE_NAMES.get(fd.type, "?")


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_scalar(fd: Any, value: Any, path: str) -> Any:
    kind = _type_name(fd)
    if fd.enum_type is not None:
        if isinstance(value, str):
            if value not in fd.enum_type.values_by_name:
                names = ", ".join(fd.enum_type.values_by_name)
                raise RecordInvalid(f"{value!r} is not a value of {kind} ({names})", path=path)
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            if fd.enum_type.is_closed and value not in fd.enum_type.values_by_number:
                raise RecordInvalid(f"{value} is not a number of closed {kind}", path=path)
            return value
        raise RecordInvalid(f"expected a name or number of {kind}, got {_describe(value)}", path=path)
    if kind in _INT_RANGES:
        if not isinstance(value, int) or isinstance(value, bool):
            raise RecordInvalid(f"expected an integer ({kind}), got {_describe(value)}", path=path)
        low, high = _INT_RANGES[kind]
        if not low <= value <= high:
            raise RecordInvalid(f"{value} is out of range for {kind}", path=path)
        return value
    if kind in ("double", "float"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise RecordInvalid(f"expected a number ({kind}), got {_describe(value)}", path=path)
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise RecordInvalid(f"expected a boolean, got {_describe(value)}", path=path)
        return value
    if kind == "string":
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                raise RecordInvalid("bytes that are not UTF-8 for a string field", path=path) from None
        if not isinstance(value, str):
            raise RecordInvalid(f"expected a string, got {_describe(value)}", path=path)
        return value
    if kind == "bytes":
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise RecordInvalid(f"expected bytes, got {_describe(value)}", path=path)
        return bytes(value)
    return value


def _serialized(message: Any) -> bytes:
    """``message.SerializeToString()``; a proto2 message without a required field (which
    upb refuses to write) is a RecordInvalid naming the first one missing."""
    try:
        return message.SerializeToString()  # type: ignore[no-any-return]
    except Exception as exc:
        from google.protobuf.message import EncodeError

        if not isinstance(exc, EncodeError):
            raise
        missing = list(message.FindInitializationErrors())
        fields = ", ".join(missing)
        raise RecordInvalid(f"required field{'s' if len(missing) != 1 else ''} not set: {fields}",
                            path=f"$.{missing[0]}" if missing else "$") from None


def _build_slow(fileset: _FileSet, descriptor: Any, record: Any, path: str, well_known: bool) -> Any:
    """Build a message from ``record`` field by field, checking each value; raises
    RecordInvalid naming the field. Slow, so only used once the fast path refused."""
    cls = fileset.message_class(descriptor)
    Message = _Message()
    if isinstance(record, Message):
        if record.DESCRIPTOR.full_name != descriptor.full_name:
            raise RecordInvalid(f"expected a {descriptor.full_name} message, got a {record.DESCRIPTOR.full_name}", path=path)
        return cls.FromString(record.SerializeToString())
    if well_known and descriptor.full_name in _WKT_CONVERTED:
        convert = _wkt_to_kwargs(fileset, descriptor.full_name)
        try:
            record = convert(record)  # type: ignore[misc]
        except (TypeError, ValueError) as exc:
            raise RecordInvalid(f"cannot be a {descriptor.full_name}: {exc}", path=path) from None
        if isinstance(record, Message):
            return record if type(record) is cls else cls.FromString(record.SerializeToString())
    if not isinstance(record, Mapping):
        raise RecordInvalid(f"expected a dict for message {descriptor.full_name}, got {_describe(record)}", path=path)
    fields = descriptor.fields_by_name
    kwargs: dict[str, Any] = {}
    oneofs: dict[str, str] = {}
    for key, value in record.items():
        fd = fields.get(key) if isinstance(key, str) else None
        field_path = f"{path}.{key}"
        if fd is None:
            known = ", ".join(fields)
            raise RecordInvalid(f"{descriptor.full_name} has no field {key!r} (fields: {known})", path=field_path)
        if value is None:
            continue
        oneof = fd.containing_oneof
        if oneof is not None and not (fd.has_presence and len(oneof.fields) == 1 and oneof.name.startswith("_")):
            if oneof.name in oneofs:
                raise RecordInvalid(
                    f"only one field of oneof {oneof.name!r} may be set, got {oneofs[oneof.name]!r} and {key!r}",
                    path=field_path,
                )
            oneofs[oneof.name] = key
        kwargs[key] = _build_field(fileset, fd, value, field_path, well_known)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise RecordInvalid(f"does not fit {descriptor.full_name}: {exc}", path=path) from None


def _build_field(fileset: _FileSet, fd: Any, value: Any, path: str, well_known: bool) -> Any:
    mt = fd.message_type
    if _is_map(fd):
        if not isinstance(value, Mapping):
            raise RecordInvalid(f"expected a dict for map field, got {_describe(value)}", path=path)
        key_fd, value_fd = mt.fields_by_name["key"], mt.fields_by_name["value"]
        out = {}
        for k, v in value.items():
            item_path = f"{path}[{k!r}]"
            k = _check_scalar(key_fd, k, item_path)
            if v is None:
                raise RecordInvalid("a map value cannot be None", path=item_path)
            out[k] = _build_value(fileset, value_fd, v, item_path, well_known)
        return out
    if fd.is_repeated:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise RecordInvalid(f"expected a list for repeated field, got {_describe(value)}", path=path)
        items = []
        for position, item in enumerate(value):
            item_path = f"{path}[{position}]"
            if item is None:
                raise RecordInvalid("a repeated field cannot hold None", path=item_path)
            items.append(_build_value(fileset, fd, item, item_path, well_known))
        return items
    return _build_value(fileset, fd, value, path, well_known)


def _build_value(fileset: _FileSet, fd: Any, value: Any, path: str, well_known: bool) -> Any:
    if fd.message_type is not None:
        return _build_slow(fileset, fd.message_type, value, path, well_known)
    return _check_scalar(fd, value, path)


# ---------------------------------------------------------------------------------------
# message -> dict
# ---------------------------------------------------------------------------------------


def _ts_to_datetime(message: Any) -> Any:
    try:
        return _EPOCH + _TIMEDELTA(0, message.seconds, message.nanos // 1000)
    except OverflowError:  # a Timestamp may claim any int64 seconds; datetime holds years 1-9999
        raise _TimestampOutOfRange(message.seconds, message.nanos) from None


class _TimestampOutOfRange(ValueError):
    """A Timestamp outside datetime's range; the decoder names the field it sits in."""

    def __init__(self, seconds: int, nanos: int) -> None:
        super().__init__(f"google.protobuf.Timestamp of {seconds} seconds (and {nanos} ns) since 1970 is outside "
                         "the years 1 to 9999 a Python datetime can hold; read it with well_known_types=False "
                         "to get the seconds and nanos as they are")


def _duration_to_timedelta(message: Any) -> Any:
    return _TIMEDELTA(seconds=message.seconds, microseconds=int(message.nanos / 1000))


def _value_to_py(message: Any) -> Any:
    kind = message.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "struct_value":
        return {k: _value_to_py(v) for k, v in message.struct_value.fields.items()}
    if kind == "list_value":
        return [_value_to_py(v) for v in message.list_value.values]
    return getattr(message, kind)


def _wkt_to_py(full_name: str) -> Callable[[Any], Any] | None:
    if full_name == "google.protobuf.Timestamp":
        return _ts_to_datetime
    if full_name == "google.protobuf.Duration":
        return _duration_to_timedelta
    if full_name in _WRAPPERS:
        return lambda m: m.value
    if full_name == "google.protobuf.Struct":
        return lambda m: {k: _value_to_py(v) for k, v in m.fields.items()}
    if full_name == "google.protobuf.ListValue":
        return lambda m: [_value_to_py(v) for v in m.values]
    if full_name == "google.protobuf.Value":
        return _value_to_py
    return None


class _Names(dict):  # type: ignore[type-arg]
    """Enum number -> name; a number the enum does not define stays a number."""

    def __missing__(self, number: int) -> int:
        return number


class _DecodePlan:
    __slots__ = ("to_dict",)

    def __init__(self) -> None:
        self.to_dict: Callable[[Any], dict[str, Any]] = None  # type: ignore[assignment]


def _decode_plan(fileset: _FileSet, descriptor: Any, well_known: bool) -> _DecodePlan:
    """A ``message -> dict`` function for one message type, generated as straight-line
    Python (one dict display reading each field) and compiled once per type."""
    key = (descriptor.full_name, well_known)
    plan = fileset.decode_plans.get(key)
    if plan is not None:
        return plan  # type: ignore[no-any-return]
    plan = fileset.decode_plans[key] = _DecodePlan()  # registered first: recursive types
    namespace: dict[str, Any] = {}
    head: list[str] = []
    entries: list[str] = []
    oneof_vars: dict[str, str] = {}
    for position, oneof in enumerate(descriptor.oneofs):
        if len(oneof.fields) == 1 and oneof.fields[0].has_presence and oneof.name.startswith("_"):
            continue  # proto3 `optional`: a synthetic oneof, HasField is enough
        var = oneof_vars[oneof.full_name] = f"w{position}"
        head.append(f"    {var} = m.WhichOneof({oneof.name!r})")
    for position, fd in enumerate(descriptor.fields):
        name = fd.name
        access = f"m.{name}" if name.isidentifier() and not keyword.iskeyword(name) else f"getattr(m, {name!r})"
        if _is_map(fd):
            value_fd = fd.message_type.fields_by_name["value"]
            # upb's map containers: indexing by key beats dict(container) and .items()
            inner = _value_expr(fileset, value_fd, well_known, namespace, f"v{position}", "c[k]")
            expr = f"{{k: {inner} for c in ({access},) for k in c}}"
        elif fd.is_repeated:
            inner = _value_expr(fileset, fd, well_known, namespace, f"v{position}", "x")
            expr = f"{access}[:]" if inner == "x" else f"[{inner} for x in {access}]"
        else:
            expr = _value_expr(fileset, fd, well_known, namespace, f"v{position}", access)
            oneof = fd.containing_oneof
            if oneof is not None and oneof.full_name in oneof_vars:
                expr = f"({expr} if {oneof_vars[oneof.full_name]} == {name!r} else None)"
            elif fd.has_presence:
                expr = f"({expr} if m.HasField({name!r}) else None)"
        entries.append(f"        {name!r}: {expr},")
    source = "def to_dict(m):\n" + "".join(line + "\n" for line in head) + "    return {\n" + "\n".join(entries) + "\n    }\n"
    exec(compile(source, f"<serde protobuf {descriptor.full_name}>", "exec"), namespace)  # noqa: S102 - generated from field names only
    plan.to_dict = namespace["to_dict"]
    return plan


def _value_expr(fileset: _FileSet, fd: Any, well_known: bool, namespace: dict[str, Any], var: str, value: str) -> str:
    """The expression converting one value of ``fd`` (held by the expression ``value``)."""
    if fd.enum_type is not None:
        namespace[var] = _Names((v.number, v.name) for v in fd.enum_type.values)
        return f"{var}[{value}]"
    mt = fd.message_type
    if mt is None:
        return value
    if well_known:
        wkt = _wkt_to_py(mt.full_name)
        if wkt is not None:
            namespace[var] = wkt
            return f"{var}({value})"
    sub = _decode_plan(fileset, mt, well_known)
    if sub.to_dict is not None:  # built already: call it directly
        namespace[var] = sub.to_dict
        return f"{var}({value})"
    namespace[var] = sub  # a recursive type, still being built: look it up per call
    return f"{var}.to_dict({value})"


# ---------------------------------------------------------------------------------------
# The format
# ---------------------------------------------------------------------------------------


def _find_bad_timestamp(message: Any, path: str) -> str | None:
    """The field path of the first Timestamp in ``message`` a datetime cannot hold."""
    if message.DESCRIPTOR.full_name == "google.protobuf.Timestamp":
        try:
            _ts_to_datetime(message)
        except _TimestampOutOfRange:
            return path
        return None
    for fd, value in message.ListFields():
        if fd.message_type is None:
            continue
        here = f"{path}.{fd.name}"
        if _is_map(fd):
            if fd.message_type.fields_by_name["value"].message_type is None:
                continue
            items = ((f"{here}.{k}", v) for k, v in value.items())
        elif fd.is_repeated:
            items = ((f"{here}[{i}]", v) for i, v in enumerate(value))
        else:
            items = iter(((here, value),))
        for where, item in items:
            found = _find_bad_timestamp(item, where)
            if found is not None:
                return found
    return None


# upb's decoding depth limit (upb_DecodeOptions_MaxDepth): messages nested deeper cannot
# be read back, by serde or by confluent-kafka
MAX_MESSAGE_DEPTH = 100


def _is_recursive_message(descriptor: Any) -> bool:
    """Whether a message type can contain itself (directly or through others): a
    depth-first walk of the message graph that meets a type still on its path."""
    on_path: set[str] = {descriptor.full_name}
    done: set[str] = set()
    stack = [(descriptor, iter(descriptor.fields))]
    while stack:
        message, fields = stack[-1]
        for fd in fields:
            mt = fd.message_type
            if mt is None or mt.full_name in done:
                continue
            if mt.full_name in on_path:
                return True
            on_path.add(mt.full_name)
            stack.append((mt, iter(mt.fields)))
            break
        else:
            stack.pop()
            on_path.discard(message.full_name)
            done.add(message.full_name)
    return False


def _translate_decode(exc: BaseException, schema: ProtobufSchema) -> DecodeError:
    return DecodeError(f"invalid Protobuf data for message {schema.record_name}: {exc or type(exc).__name__}")


class ProtobufFormat(Format):
    """Protobuf with Confluent message indexes. See the module docstring for the dict shape."""

    name = "protobuf"
    schema_type = "PROTOBUF"

    def parse_schema(self, source: Any, *, message: str | None = None, **options: Any) -> ProtobufSchema:
        """Compile a schema. ``source`` is ``.proto`` text, a base64 ``FileDescriptorProto``,
        a generated message class or instance, a descriptor, or a :class:`SchemaSource` of
        one of those with its references (import path → text or base64 descriptor).

        ``message`` selects the message (``pkg.Msg``, ``Msg`` or ``Outer.Inner``); by default
        the class's message, or the file's only top-level message.
        """
        if isinstance(source, SchemaSource):
            text, references = source.text, dict(source.references)
        else:
            text, references = source, {}
        try:
            fileset, registered_text, implied = _load(text, references)
        except SchemaParseError:
            raise
        except Exception as exc:  # noqa: BLE001 - the protobuf runtime's errors, one translation point
            raise SchemaParseError(f"invalid Protobuf schema: {type(exc).__name__}: {exc}") from exc
        file = fileset.file
        if message is not None:
            descriptor = _find_message(file, message)
        elif implied is not None:
            descriptor = fileset.pool.FindMessageTypeByName(implied)
        else:
            top = list(file.message_types_by_name.values())
            descriptor = top[0] if len(top) == 1 else None
        base = ProtobufSchema(fileset, registered_text, references, None)
        return base._for_descriptor(descriptor) if descriptor is not None else base

    # -- encoding -------------------------------------------------------------------------
    def encoder(self, schema: ParsedSchema, *, well_known_types: bool = True, **options: Any) -> Encoder:
        """``record -> bytes`` for a dict or a message of the schema's type."""
        if not isinstance(schema, ProtobufSchema):
            raise ConfigError(f"the protobuf format cannot encode with a {type(schema).__name__}")
        descriptor = _need_message(schema)
        fileset = schema._fileset
        with fileset.lock:  # plans are built once, never seen half-built by another thread
            plan = _encode_plan(fileset, descriptor, well_known_types)
        cls = plan.cls
        convert = bool(plan.convert or plan.oneofs or _needs_preparing(descriptor, well_known_types, set()))
        full_name = descriptor.full_name
        Message = _Message()
        good_types = {cls}

        def slow(record: Any) -> bytes:
            return _serialized(_build_slow(fileset, descriptor, record, "$", well_known_types))

        def encode_record(record: Any) -> bytes:
            if type(record) is dict:
                try:
                    if convert:
                        record = _prepare(plan, record)
                    built = cls(**record)
                except (TypeError, ValueError, AttributeError, KeyError):
                    return slow(record)
                return _serialized(built)
            if type(record) in good_types:
                return _serialized(record)
            if isinstance(record, Message):
                if record.DESCRIPTOR.full_name != full_name:
                    raise RecordInvalid(f"expected a {full_name} message, got a {record.DESCRIPTOR.full_name}", path="$")
                if issubclass(type(record), Message):  # not a proxy claiming the class: one may wrap another message
                    good_types.add(type(record))
                return _serialized(record)
            if isinstance(record, Mapping):
                return encode_record(dict(record))
            raise RecordInvalid(f"expected a dict or a {full_name} message, got {type(record).__name__}", path="$")

        # the message classes whose encoding is their own SerializeToString(): a caller
        # may call that itself (the set grows as classes of this message are met)
        encode_record.message_types = good_types  # type: ignore[attr-defined]
        if not _is_recursive_message(descriptor):
            return encode_record

        def encode_bounded(record: Any) -> bytes:
            # a message type that contains itself nests as deep as the value does; upb
            # builds it recursively in C (100,000 levels crash the process) and reads at
            # most MAX_MESSAGE_DEPTH, so nothing deeper is written
            if isinstance(record, dict):
                deep = too_deep(record, MAX_MESSAGE_DEPTH, (dict,))
                if deep is not None:
                    raise RecordInvalid(f"messages nested more than {MAX_MESSAGE_DEPTH} deep; Protobuf readers "
                                        "(upb, serde) read no deeper", path=deep)
            return encode_record(record)

        encode_bounded.message_types = good_types  # type: ignore[attr-defined]
        return encode_bounded

    def to_message(self, schema: ProtobufSchema, record: Any, *, well_known_types: bool = True) -> Any:
        """The dynamic message for a dict (raises RecordInvalid naming the field)."""
        descriptor = _need_message(schema)
        return _build_slow(schema._fileset, descriptor, record, "$", well_known_types)

    # -- decoding -------------------------------------------------------------------------
    def decoder(
        self,
        schema: ParsedSchema,
        reader: ParsedSchema | None = None,
        *,
        as_message: bool = False,
        well_known_types: bool = True,
        **options: Any,
    ) -> Decoder:
        """``bytes -> dict`` (or the dynamic message with ``as_message=True``). ``reader``,
        another ProtobufSchema, reads the bytes as its message instead (fields match by
        number, as Protobuf evolution intends)."""
        if not isinstance(schema, ProtobufSchema):
            raise ConfigError(f"the protobuf format cannot decode with a {type(schema).__name__}")
        target = reader if isinstance(reader, ProtobufSchema) and reader.descriptor is not None else schema
        if target.descriptor is None:
            problem = _ambiguous(target)

            def undecidable(data: bytes) -> Any:
                raise problem

            return undecidable
        from google.protobuf.message import DecodeError as PbDecodeError

        from_string = target.message_class.FromString
        if as_message:

            def decode_message(data: bytes) -> Any:
                try:
                    return from_string(data)
                except (PbDecodeError, RuntimeError, ValueError, TypeError) as exc:
                    raise _translate_decode(exc, target) from exc

            return decode_message
        with target._fileset.lock:
            to_dict = _decode_plan(target._fileset, target.descriptor, well_known_types).to_dict

        def decode_record(data: bytes) -> Any:
            try:
                message = from_string(data)
                return to_dict(message)
            except _TimestampOutOfRange as exc:
                raise DecodeError(str(exc), path=_find_bad_timestamp(message, "$") or "$") from None
            except (PbDecodeError, RuntimeError, ValueError, TypeError) as exc:
                raise _translate_decode(exc, target) from exc

        return decode_record

    def to_dict(self, schema: ProtobufSchema, message: Any, *, well_known_types: bool = True) -> dict[str, Any]:
        """The dict form of a message of the schema's type (from any pool)."""
        descriptor = _need_message(schema)
        if message.DESCRIPTOR.full_name != descriptor.full_name:
            raise ConfigError(f"expected a {descriptor.full_name} message, got a {message.DESCRIPTOR.full_name}")
        if type(message) is not schema.message_class:
            message = schema.message_class.FromString(message.SerializeToString())
        with schema._fileset.lock:
            to_dict = _decode_plan(schema._fileset, descriptor, well_known_types).to_dict
        try:
            return to_dict(message)  # type: ignore[no-any-return]
        except _TimestampOutOfRange as exc:
            raise DecodeError(str(exc), path=_find_bad_timestamp(message, "$") or "$") from None


def _ambiguous(schema: ProtobufSchema) -> ConfigError:
    top = [d.full_name for d in schema.file_descriptor.message_types_by_name.values()]
    if not top:
        return ConfigError("the Protobuf schema defines no message")
    return ConfigError(
        f"the Protobuf schema has {len(top)} top-level messages; choose one with message= (--message on the command line) "
        f"(candidates: {', '.join(schema.message_names)})"
    )


def _need_message(schema: ProtobufSchema) -> Any:
    if schema.descriptor is None:
        raise _ambiguous(schema)
    return schema.descriptor


# ---------------------------------------------------------------------------------------
# References: what to register before the schema itself
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProtoReference:
    """One imported file to register as a schema reference: the subject is the import path
    (Confluent's default ``reference.subject.name.strategy``); ``imports`` are its own
    references (import paths), registered before it."""

    name: str
    subject: str
    text: str
    imports: tuple[str, ...] = ()


def references_for(schema: Any, imports: Mapping[str, str] | None = None) -> list[ProtoReference]:
    """The imports of ``schema`` to register as references, dependencies first.

    ``schema`` is ``.proto`` text (its imports' texts in ``imports``: import path → text)
    or a generated class / message / descriptor (the imports' texts are then rendered from
    the runtime's descriptors). Known types (``google/protobuf/*``, ``google/type/*``,
    ``confluent/*``) are skipped, as confluent-kafka's ``skip.known.types`` does.

    Register each in order under ``ref.subject`` with references to its ``ref.imports``,
    then pass ``SchemaReference(name, subject, version)`` for the schema's direct imports
    to ``serde.serializer("protobuf", schema=..., references=[...])``.
    """
    fdp = _file_proto_of(schema)[0]
    imports = dict(imports or {})
    if fdp is not None:
        from google.protobuf import descriptor_pool

        by_name: dict[str, Any] = {}
        pool = descriptor_pool.Default()

        def collect(file_proto: Any) -> None:
            for dep in file_proto.dependency:
                if dep in by_name or _is_known(dep):
                    continue
                if dep in imports:
                    dep_fdp = _descriptor_from_base64(imports[dep]) or None
                    text = imports[dep]
                    deps = list(dep_fdp.dependency) if dep_fdp is not None else _IMPORT.findall(text)
                    by_name[dep] = (text, deps)
                    continue
                from google.protobuf import descriptor_pb2

                dep_fdp = descriptor_pb2.FileDescriptorProto()
                pool.FindFileByName(dep).CopyToProto(dep_fdp)
                by_name[dep] = (render_proto(dep_fdp), list(dep_fdp.dependency))
                collect(dep_fdp)

        try:
            collect(fdp)
        except KeyError as exc:
            raise SchemaParseError(f"an import of {fdp.name!r} is not loaded in this process: {exc}") from exc
        order = _topological(fdp.dependency, {k: v[1] for k, v in by_name.items()})
        return [
            ProtoReference(name, name, by_name[name][0], tuple(d for d in by_name[name][1] if not _is_known(d)))
            for name in order
        ]
    if not isinstance(schema, str):
        raise SchemaParseError(f"not a Protobuf schema: {type(schema).__name__}")
    from .._protoc import compile_proto

    main_fdp = _descriptor_from_base64(schema)
    text = render_proto(main_fdp) if main_fdp is not None else schema
    compiled = compile_proto(text, {**imports, **_known_imports_as_text({MAIN_FILE_NAME: text, **imports})}, name=MAIN_FILE_NAME)
    files = {f.name: f for f in compiled.files}
    deps = {name: list(f.dependency) for name, f in files.items()}
    order = _topological(files[MAIN_FILE_NAME].dependency, deps)
    return [
        ProtoReference(name, name, imports[name], tuple(d for d in deps.get(name, ()) if not _is_known(d)))
        for name in order
        if not _is_known(name)
    ]


def _topological(roots: Iterable[str], deps: Mapping[str, Sequence[str]]) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or _is_known(name):
            return
        seen.add(name)
        for dep in deps.get(name, ()):
            visit(dep)
        order.append(name)

    for root in roots:
        visit(root)
    return order


# ---------------------------------------------------------------------------------------
# Descriptor -> .proto text
# ---------------------------------------------------------------------------------------

_SCALAR_NAMES = {
    1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32", 8: "bool",
    9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64", 17: "sint32", 18: "sint64",
}
_TYPE_GROUP, _TYPE_MESSAGE, _TYPE_ENUM, _TYPE_STRING, _TYPE_BYTES = 10, 11, 14, 9, 12
_LABEL_OPTIONAL, _LABEL_REQUIRED, _LABEL_REPEATED = 1, 2, 3
_RANGE_MAX = 536870911  # 2**29 - 1: the largest field number


def render_proto(file: Any) -> str:
    """``.proto`` text for a ``FileDescriptorProto`` (or a ``FileDescriptor``): what serde
    registers when it only has descriptors (generated classes, base64 from a registry).
    Compiling the text gives back the same descriptor (``json_name`` aside)."""
    from google.protobuf import descriptor_pb2
    from google.protobuf.descriptor import FileDescriptor

    if isinstance(file, FileDescriptor):
        fdp = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(fdp)
        file = fdp
    return _Renderer(file).render()


def _quote(value: str | bytes) -> str:
    from google.protobuf import text_encoding

    raw = value.encode("utf-8") if isinstance(value, str) else value
    return '"' + text_encoding.CEscape(raw, as_utf8=isinstance(value, str)) + '"'


def _camel(name: str) -> str:
    out = []
    upper = False
    for ch in name:
        if ch == "_":
            upper = True
        elif upper:
            out.append(ch.upper())
            upper = False
        else:
            out.append(ch)
    return "".join(out)


class _Renderer:
    def __init__(self, fdp: Any) -> None:
        self.fdp = fdp
        self.lines: list[str] = []
        syntax = fdp.syntax or "proto2"
        self.syntax = syntax
        self.editions = syntax == "editions"

    def out(self, depth: int, text: str) -> None:
        self.lines.append("  " * depth + text)

    def render(self) -> str:
        fdp = self.fdp
        if self.editions:
            from google.protobuf import descriptor_pb2

            edition = descriptor_pb2.Edition.Name(fdp.edition)
            self.out(0, f'edition = "{edition.removeprefix("EDITION_")}";')
        else:
            self.out(0, f'syntax = "{self.syntax}";')
        if fdp.package:
            self.out(0, f"package {fdp.package};")
        public, weak = set(fdp.public_dependency), set(fdp.weak_dependency)
        if fdp.dependency:
            self.lines.append("")
        for position, dep in enumerate(fdp.dependency):
            modifier = "public " if position in public else "weak " if position in weak else ""
            self.out(0, f"import {modifier}{_quote(dep)};")
        for dep in getattr(fdp, "option_dependency", ()):
            self.out(0, f"import option {_quote(dep)};")
        options = self.options(fdp.options) if fdp.HasField("options") else []
        if options:
            self.lines.append("")
        for option in options:
            self.out(0, f"option {option};")
        for enum in fdp.enum_type:
            self.lines.append("")
            self.enum(enum, 0)
        for message in fdp.message_type:
            self.lines.append("")
            self.message(message, 0)
        self.extensions(fdp.extension, 0, None)
        for service in fdp.service:
            self.lines.append("")
            self.service(service)
        return "\n".join(self.lines).lstrip("\n") + "\n"

    # -- options -------------------------------------------------------------------------
    def options(self, message: Any, prefix: str = "") -> list[str]:
        out: list[str] = []
        for fd, value in message.ListFields():
            name = f"({fd.full_name})" if fd.is_extension else fd.name
            if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
                # a map (confluent/meta.proto's Meta.params): one assignment per entry
                from google.protobuf import message_factory, text_format

                entry_class = message_factory.GetMessageClass(fd.message_type)
                for key in sorted(value):
                    entry = entry_class(key=key, value=value[key])
                    out.append(f"{prefix}{name} = {{ {text_format.MessageToString(entry, as_one_line=True)} }}")
                continue
            values = list(value) if fd.is_repeated else [value]
            for item in values:
                if fd.message_type is not None and fd.is_repeated:
                    from google.protobuf import text_format

                    out.append(f"{prefix}{name} = {{ {text_format.MessageToString(item, as_one_line=True)} }}")
                elif fd.message_type is not None:
                    nested = self.options(item, f"{prefix}{name}.")
                    if nested:
                        out.extend(nested)
                    else:
                        out.append(f"{prefix}{name} = {{}}")
                else:
                    out.append(f"{prefix}{name} = {self.option_value(fd, item)}")
        return out

    @staticmethod
    def option_value(fd: Any, value: Any) -> str:
        if fd.enum_type is not None:
            found = fd.enum_type.values_by_number.get(value)
            return found.name if found is not None else str(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, bytes)):
            return _quote(value)
        if isinstance(value, float):
            if value != value:
                return "nan"
            if value in (float("inf"), float("-inf")):
                return "inf" if value > 0 else "-inf"
            return repr(value)
        return str(value)

    # -- messages ------------------------------------------------------------------------
    def message(self, message: Any, depth: int, keyword: str = "message", header: str | None = None) -> None:
        self.out(depth, header or f"{keyword} {message.name} {{")
        inner = depth + 1
        if message.HasField("options"):
            for option in self.options(message.options):
                self.out(inner, f"option {option};")
        nested_by_name = {n.name: n for n in message.nested_type}
        position = {n.name: i for i, n in enumerate(message.nested_type)}
        map_entries = {n.name for n in message.nested_type if n.options.map_entry}
        groups = {f.type_name.rsplit(".", 1)[-1] for f in message.field if f.type == _TYPE_GROUP}
        # Nested types keep their order (message indexes count map entries and groups,
        # which protoc creates where their field is declared): a declared nested message
        # is written before the first field whose synthetic type comes after it.
        plain = [n for n in message.nested_type if n.name not in map_entries and n.name not in groups]
        written = 0

        def nested_before(field: Any) -> None:
            nonlocal written
            short = field.type_name.rsplit(".", 1)[-1]
            if field.type not in (_TYPE_MESSAGE, _TYPE_GROUP) or short not in position or (
                short not in map_entries and short not in groups
            ):
                return
            while written < len(plain) and position[plain[written].name] < position[short]:
                self.message(plain[written], inner)
                written += 1

        for enum in message.enum_type:
            self.enum(enum, inner)
        emitted_oneofs: set[int] = set()
        for field in message.field:
            if field.HasField("oneof_index") and not field.proto3_optional:
                index = field.oneof_index
                if index in emitted_oneofs:
                    continue
                emitted_oneofs.add(index)
                members = [
                    m for m in message.field
                    if m.HasField("oneof_index") and m.oneof_index == index and not m.proto3_optional
                ]
                for member in members:
                    nested_before(member)
                oneof = message.oneof_decl[index]
                self.out(inner, f"oneof {oneof.name} {{")
                if oneof.HasField("options"):
                    for option in self.options(oneof.options):
                        self.out(inner + 1, f"option {option};")
                for member in members:
                    self.field(member, inner + 1, nested_by_name, map_entries, in_oneof=True)
                self.out(inner, "}")
                continue
            nested_before(field)
            self.field(field, inner, nested_by_name, map_entries)
        for nested in plain[written:]:
            self.message(nested, inner)
        for rng in message.extension_range:
            text = self.range_text(rng.start, rng.end)
            if rng.HasField("options"):
                opts = ", ".join(self.options(rng.options))
                if opts:
                    text += f" [{opts}]"
            self.out(inner, f"extensions {text};")
        self.reserved(message.reserved_range, message.reserved_name, inner, exclusive_end=True)
        self.extensions(message.extension, inner, nested_by_name)
        self.out(depth, "}")

    def range_text(self, start: int, end: int, exclusive_end: bool = True) -> str:
        last = end - 1 if exclusive_end else end
        if last == start:
            return str(start)
        if (exclusive_end and end - 1 >= _RANGE_MAX) or (not exclusive_end and end == 2**31 - 1):
            return f"{start} to max"
        return f"{start} to {last}"

    def reserved(self, ranges: Any, names: Any, depth: int, exclusive_end: bool) -> None:
        if ranges:
            self.out(depth, "reserved " + ", ".join(self.range_text(r.start, r.end, exclusive_end) for r in ranges) + ";")
        if names:
            rendered = ", ".join(n if self.editions else _quote(n) for n in names)
            self.out(depth, f"reserved {rendered};")

    def type_text(self, field: Any, nested_by_name: Mapping[str, Any] | None, map_entries: set[str]) -> str:
        if field.type in (_TYPE_MESSAGE, _TYPE_ENUM, _TYPE_GROUP):
            short = field.type_name.rsplit(".", 1)[-1]
            if field.type == _TYPE_MESSAGE and nested_by_name is not None and short in map_entries:
                entry = nested_by_name[short]
                key = next(f for f in entry.field if f.number == 1)
                value = next(f for f in entry.field if f.number == 2)
                return f"map<{self.type_text(key, None, set())}, {self.type_text(value, None, set())}>"
            return field.type_name
        return _SCALAR_NAMES[field.type]

    def field(self, field: Any, depth: int, nested_by_name: Mapping[str, Any] | None, map_entries: set[str],
              in_oneof: bool = False) -> None:
        type_text = self.type_text(field, nested_by_name, map_entries)
        is_map = type_text.startswith("map<")
        label = ""
        if not in_oneof and not is_map:
            if field.label == _LABEL_REPEATED:
                label = "repeated "
            elif self.editions:
                label = ""
            elif field.label == _LABEL_REQUIRED:
                label = "required "
            elif self.syntax == "proto2" or field.proto3_optional:
                label = "optional "
        options = []
        if field.HasField("default_value"):
            options.append(f"default = {self.default_text(field)}")
        if field.HasField("json_name") and field.json_name != _camel(field.name):
            options.append(f"json_name = {_quote(field.json_name)}")
        if field.HasField("options"):
            options.extend(self.options(field.options))
        suffix = f" [{', '.join(options)}]" if options else ""
        if field.type == _TYPE_GROUP and nested_by_name is not None:
            group = nested_by_name[field.type_name.rsplit(".", 1)[-1]]
            header = f"{label}group {group.name} = {field.number}{suffix} {{"
            self.message(group, depth, header=header)
            return
        self.out(depth, f"{label}{type_text} {field.name} = {field.number}{suffix};")

    def default_text(self, field: Any) -> str:
        value = field.default_value
        if field.type == _TYPE_STRING:
            return _quote(value)
        if field.type == _TYPE_BYTES:
            return '"' + value + '"'  # already C-escaped in the descriptor
        return value  # numbers, true/false, inf/nan and enum names are written as is

    def extensions(self, extensions: Any, depth: int, nested_by_name: Mapping[str, Any] | None) -> None:
        by_extendee: dict[str, list[Any]] = {}
        for ext in extensions:
            by_extendee.setdefault(ext.extendee, []).append(ext)
        for extendee, fields in by_extendee.items():
            self.out(depth, f"extend {extendee} {{")
            for field in fields:
                self.field(field, depth + 1, nested_by_name, set())
            self.out(depth, "}")

    # -- enums and services --------------------------------------------------------------
    def enum(self, enum: Any, depth: int) -> None:
        self.out(depth, f"enum {enum.name} {{")
        if enum.HasField("options"):
            for option in self.options(enum.options):
                self.out(depth + 1, f"option {option};")
        for value in enum.value:
            opts = ", ".join(self.options(value.options)) if value.HasField("options") else ""
            self.out(depth + 1, f"{value.name} = {value.number}{f' [{opts}]' if opts else ''};")
        self.reserved(enum.reserved_range, enum.reserved_name, depth + 1, exclusive_end=False)
        self.out(depth, "}")

    def service(self, service: Any) -> None:
        self.out(0, f"service {service.name} {{")
        if service.HasField("options"):
            for option in self.options(service.options):
                self.out(1, f"option {option};")
        for method in service.method:
            client = "stream " if method.client_streaming else ""
            server = "stream " if method.server_streaming else ""
            head = f"rpc {method.name}({client}{method.input_type}) returns ({server}{method.output_type})"
            opts = self.options(method.options) if method.HasField("options") else []
            if opts:
                self.out(1, head + " {")
                for option in opts:
                    self.out(2, f"option {option};")
                self.out(1, "}")
            else:
                self.out(1, head + ";")
        self.out(0, "}")
