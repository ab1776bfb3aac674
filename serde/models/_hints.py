"""Python classes → the neutral type model (``serde._model``).

A dataclass or a pydantic v2 model is read field by field from its type hints
(``typing.get_type_hints(..., include_extras=True)``, so forward references and
``Annotated`` metadata work) into a :class:`serde._model.Record`; the translators then
write it as Avro, JSON Schema or Protobuf. A class used inside its own definition
(directly or through other classes) becomes a :class:`serde._model.Ref`.

The result also keeps, per record, what the value converters need: the Python class of
each record and enum, the attribute behind each schema field, and the pydantic
constraints that only JSON Schema can say (:class:`ClassInfo`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import inspect
import math
import re
import types
import typing
import uuid
from dataclasses import dataclass, field
from typing import Any

from .. import _model as m
from .._errors import SchemaParseError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NO_DEFAULT: Any = object()


# -- markers for Annotated[...] ---------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """``Annotated[int, Int32]``: the model kind to use instead of the hint's default."""

    kind: str

    def __repr__(self) -> str:
        return {m.INT32: "Int32", m.FLOAT32: "Float32", m.TIMESTAMP_MILLIS: "TimestampMillis"}.get(self.kind, f"Kind({self.kind!r})")


Int32 = Kind(m.INT32)  # Avro int, Protobuf int32, JSON integer within 32 bits (int is 64 bits by default)
Float32 = Kind(m.FLOAT32)  # Avro float, Protobuf float (float is a double by default)
TimestampMillis = Kind(m.TIMESTAMP_MILLIS)  # timestamp-millis (datetime is timestamp-micros by default)


@dataclass(frozen=True)
class Precision:
    """``Annotated[Decimal, Precision(10, 2)]``: a decimal's precision and scale (pydantic's
    ``Field(max_digits=10, decimal_places=2)`` says the same)."""

    precision: int
    scale: int = 0


@dataclass(frozen=True)
class Name:
    """``Annotated[Literal["a", "b"], Name("com.acme.Status")]``: the enum (or record) name."""

    name: str


# -- what the converters need besides the model -------------------------------------------


@dataclass
class FieldInfo:
    attr: str  # the Python attribute
    name: str  # the schema field name (the alias, when there is one)
    hint: Any  # the type hint, Annotated stripped
    type: m.Type
    default: Any = NO_DEFAULT  # the Python default (a value)
    factory: Any = None  # the Python default factory
    constraints: dict[str, Any] = field(default_factory=dict)  # JSON Schema keywords


@dataclass
class ClassInfo:
    cls: type
    name: str  # the record's full name
    kind: str  # "dataclass" | "pydantic"
    fields: list[FieldInfo]
    record: m.Record | None = None


class Context:
    """One reading: the records and enums met so far, by class."""

    def __init__(self) -> None:
        self.classes: dict[type, ClassInfo] = {}
        self.records: dict[type, m.Record] = {}
        self.in_progress: dict[type, m.RecordSlot] = {}
        self.enums: dict[Any, m.Enum] = {}  # Enum class or Literal hint -> model enum
        self.names: dict[str, Any] = {}  # full name -> class: two classes may not share a name


def is_model_class(cls: Any) -> bool:
    """A dataclass or a pydantic v2 model class."""
    if not isinstance(cls, type):
        return False
    return dataclasses.is_dataclass(cls) or _is_pydantic(cls)


def _is_pydantic(cls: type) -> bool:
    return hasattr(cls, "model_fields") and hasattr(cls, "model_construct") and hasattr(cls, "__pydantic_fields_set__") or (
        hasattr(cls, "__pydantic_core_schema__") and hasattr(cls, "model_fields"))


def full_name(cls: type) -> str:
    """``__serde_name__`` (a full name) when the class sets one; else the class name in
    the namespace ``__serde_namespace__``, or the module's name (none for ``__main__``)."""
    explicit = cls.__dict__.get("__serde_name__")
    if explicit:
        return str(explicit)
    namespace = cls.__dict__.get("__serde_namespace__", getattr(cls, "__module__", None))
    if namespace in (None, "", "__main__", "builtins"):
        return cls.__name__
    return f"{namespace}.{cls.__name__}"


def _doc(cls: type) -> str | None:
    doc = cls.__dict__.get("__doc__")
    if not doc:
        return None
    if dataclasses.is_dataclass(cls) and doc.startswith(f"{cls.__name__}("):
        return None  # the signature dataclasses writes when there is no docstring
    if _is_pydantic(cls) and doc.startswith("Usage docs:"):
        return None
    return inspect.cleandoc(doc)


def read(cls: type) -> tuple[m.Record, Context]:
    """The model of ``cls`` and the reading context (classes, enums) behind it."""
    if not is_model_class(cls):
        raise SchemaParseError(f"{cls!r} is not a dataclass or a pydantic model class")
    ctx = Context()
    record = _read_class(cls, ctx, "$")
    assert isinstance(record, m.Record)
    return record, ctx


def _hints(cls: type, path: str) -> dict[str, Any]:
    localns = {cls.__name__: cls}
    try:
        return typing.get_type_hints(cls, localns=localns, include_extras=True)
    except NameError as exc:
        raise SchemaParseError(f"{path}: cannot resolve the type hints of {cls.__qualname__}: {exc} "
                               "(define the classes a forward reference names at module level)") from exc


def _read_class(cls: type, ctx: Context, path: str) -> m.Type:
    if cls in ctx.records:
        return ctx.records[cls]
    if cls in ctx.in_progress:
        return ctx.in_progress[cls].ref()
    name = full_name(cls)
    other = ctx.names.get(name)
    if other is not None and other is not cls:
        raise SchemaParseError(f"{path}: two classes are both named {name!r} ({other!r}, {cls!r}); set __serde_name__ on one")
    ctx.names[name] = cls
    slot = m.RecordSlot(name)
    ctx.in_progress[cls] = slot
    hints = _hints(cls, path)
    infos: list[FieldInfo] = []
    fields: list[m.Field] = []
    if dataclasses.is_dataclass(cls):
        kind = "dataclass"
        for f in dataclasses.fields(cls):
            meta = f.metadata or {}
            schema_name = meta.get("alias", f.name)
            default = f.default if f.default is not dataclasses.MISSING else NO_DEFAULT
            factory = f.default_factory if f.default_factory is not dataclasses.MISSING else None
            infos.append(_field(ctx, hints[f.name], f.name, schema_name, default, factory, meta.get("doc"), [], f"{path}.{schema_name}", fields))
    else:
        kind = "pydantic"
        for attr, info in cls.model_fields.items():  # type: ignore[attr-defined]
            schema_name = info.serialization_alias or info.alias or attr
            default = NO_DEFAULT
            factory = None
            if info.default_factory is not None:
                factory = info.default_factory
            elif not info.is_required():
                default = info.default
            infos.append(_field(ctx, hints.get(attr, info.annotation), attr, schema_name, default, factory,
                                info.description, list(info.metadata), f"{path}.{schema_name}", fields))
    del ctx.in_progress[cls]
    record = slot.bind(m.Record(name, tuple(fields), _doc(cls)))
    ctx.records[cls] = record
    ctx.classes[cls] = ClassInfo(cls, name, kind, infos, record)
    return record


def _split_annotated(hint: Any) -> tuple[Any, list[Any]]:
    extras: list[Any] = []
    while typing.get_origin(hint) is typing.Annotated:
        extras.extend(hint.__metadata__)
        hint = hint.__origin__
    return hint, extras


def _field(ctx: Context, hint: Any, attr: str, schema_name: str, default: Any, factory: Any, doc: str | None,
           metadata: list[Any], path: str, out: list[m.Field]) -> FieldInfo:
    bare, extras = _split_annotated(hint)
    extras = extras + metadata
    for extra in extras:  # Annotated[int, Field(description=...)] on a dataclass
        description = getattr(extra, "description", None)
        if doc is None and isinstance(description, str) and type(extra).__name__ == "FieldInfo":
            doc = description
    ftype = _type(ctx, hint if not metadata else _reannotate(hint, metadata), path, schema_name)
    value = default if default is not NO_DEFAULT else (factory() if factory is not None else NO_DEFAULT)
    schema_default, has_default = NO_DEFAULT, False
    if value is not NO_DEFAULT:
        schema_default = _json_default(value, ctx)
        has_default = schema_default is not NO_DEFAULT
    out.append(m.Field(schema_name, ftype, schema_default if has_default else None, has_default, doc))
    return FieldInfo(attr, schema_name, bare, ftype, default, factory, _constraints(extras, ftype))


def _reannotate(hint: Any, metadata: list[Any]) -> Any:
    return typing.Annotated[(hint, *metadata)]  # type: ignore[return-value]


def _type(ctx: Context, hint: Any, path: str, field_name: str) -> m.Type:
    bare, extras = _split_annotated(hint)
    kind = next((e.kind for e in extras if isinstance(e, Kind)), None)
    name = next((e.name for e in extras if isinstance(e, Name)), None)
    origin = typing.get_origin(bare)
    args = typing.get_args(bare)
    if bare is type(None):
        return m.Scalar(m.NULL)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        nullable = len(members) < len(args)
        # Annotated metadata on an Optional[...] (a Decimal's precision) is about its members
        inner = [_type(ctx, typing.Annotated[(a, *extras)] if extras else a, path, field_name) for a in members]
        t: m.Type = inner[0] if len(inner) == 1 else m.Union_(tuple(inner))
        return m.Optional(t) if nullable else t
    if origin is typing.Literal:
        return _literal(ctx, bare, args, name, path, field_name)
    if origin in (list, tuple, set, frozenset, typing.Sequence, typing.MutableSequence) or bare in (list, tuple, set, frozenset):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            raise SchemaParseError(f"{path}: a fixed-length tuple has no schema type; use tuple[T, ...] or list[T]")
        if not args:
            raise SchemaParseError(f"{path}: say the item type: list[T]")
        return m.Array(_type(ctx, args[0], f"{path}[]", field_name))
    if origin in (dict, typing.Mapping, typing.MutableMapping) or bare is dict:
        if len(args) != 2:
            raise SchemaParseError(f"{path}: say the value type: dict[str, V]")
        if args[0] is not str:
            raise SchemaParseError(f"{path}: map keys must be str (Avro, JSON and Protobuf maps are keyed by strings)")
        return m.Map(_type(ctx, args[1], f"{path}{{}}", field_name))
    if bare is typing.Any or bare is object:
        return m.Scalar(m.ANY)
    if isinstance(bare, type):
        if issubclass(bare, enum.Enum):
            return _enum(ctx, bare, path)
        if is_model_class(bare):
            return _read_class(bare, ctx, path)
        if bare is bool:
            return m.Scalar(m.BOOLEAN)
        if bare is int:
            return m.Scalar(kind if kind in (m.INT32, m.INT64) else m.INT64)
        if bare is float:
            return m.Scalar(kind if kind in (m.FLOAT32, m.FLOAT64) else m.FLOAT64)
        if bare is str:
            return m.Scalar(m.STRING)
        if bare in (bytes, bytearray):
            return m.Scalar(m.BYTES)
        if bare is dt.datetime:
            return m.Scalar(kind if kind in (m.TIMESTAMP_MILLIS, m.TIMESTAMP_MICROS) else m.TIMESTAMP_MICROS)
        if bare is dt.date:
            return m.Scalar(m.DATE)
        if bare is dt.time:
            return m.Scalar(m.TIME_MILLIS)
        if bare is uuid.UUID:
            return m.Scalar(m.UUID)
        if bare is decimal.Decimal:
            return _decimal(extras, path)
    raise SchemaParseError(f"{path}: no schema type for the Python type {hint!r}")


def _decimal(extras: list[Any], path: str) -> m.Decimal:
    for e in extras:
        if isinstance(e, Precision):
            return m.Decimal(e.precision, e.scale)
    digits = next((getattr(e, "max_digits") for e in extras if getattr(e, "max_digits", None) is not None), None)
    places = next((getattr(e, "decimal_places") for e in extras if getattr(e, "decimal_places", None) is not None), None)
    if digits is None:
        raise SchemaParseError(f"{path}: a Decimal needs its precision and scale: Annotated[Decimal, Precision(10, 2)] "
                               "or pydantic's Field(max_digits=10, decimal_places=2)")
    return m.Decimal(int(digits), int(places or 0))


def enum_symbols(cls: type[enum.Enum]) -> dict[Any, str]:
    """member → schema symbol: the values when they are all identifiers, else the names."""
    members = list(cls)
    if members and all(isinstance(x.value, str) and _IDENTIFIER.match(x.value) for x in members):
        return {x: x.value for x in members}
    return {x: x.name for x in members}


def _enum(ctx: Context, cls: type[enum.Enum], path: str) -> m.Enum:
    found = ctx.enums.get(cls)
    if found is not None:
        return found
    symbols = tuple(enum_symbols(cls).values())
    default = cls.__dict__.get("__serde_default__")
    if isinstance(default, enum.Enum):
        default = enum_symbols(cls)[default]
    doc = cls.__dict__.get("__doc__")
    if doc and doc == enum.Enum.__doc__ or (doc and doc.startswith("An enumeration.")):
        doc = None
    result = ctx.enums[cls] = m.Enum(full_name(cls), symbols, default, inspect.cleandoc(doc) if doc else None)
    _claim(ctx, result.name, cls, path)
    return result


def _literal(ctx: Context, hint: Any, args: tuple[Any, ...], name: str | None, path: str, field_name: str) -> m.Enum:
    found = ctx.enums.get(hint)
    if found is not None and (name is None or found.name == name):
        return found
    if not args or not all(isinstance(a, str) and _IDENTIFIER.match(a) for a in args):
        raise SchemaParseError(f"{path}: a Literal becomes an enum: its values must be identifier strings, not {args!r}")
    if name is None:
        # named after its field, in the enclosing record's namespace
        enclosing = list(ctx.in_progress.values())[-1].name if ctx.in_progress else ""
        namespace = enclosing.rpartition(".")[0]
        simple = "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", field_name) if part) or "Enum"
        name = f"{namespace}.{simple}" if namespace else simple
    result = m.Enum(name, tuple(args))
    existing = [e for e in ctx.enums.values() if e.name == name]
    if existing and existing[0] != result:
        raise SchemaParseError(f"{path}: two different enums would be named {name!r}; name one with Annotated[Literal[...], Name(...)]")
    ctx.enums[hint] = result
    return result


def _claim(ctx: Context, name: str, owner: Any, path: str) -> None:
    other = ctx.names.get(name)
    if other is not None and other is not owner:
        raise SchemaParseError(f"{path}: two types are both named {name!r}; set __serde_name__ on one")
    ctx.names[name] = owner


def _json_default(value: Any, ctx: Context) -> Any:
    """A Python default as the JSON value schemas carry; NO_DEFAULT when it has none
    (logical values: the class keeps its default, the schema does not say it)."""
    if isinstance(value, float) and not math.isfinite(value):
        return NO_DEFAULT  # JSON has no NaN or infinity: the class keeps it, the schema cannot
    if value is None or isinstance(value, (bool, int, float, str)) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, (set, frozenset)):
        return NO_DEFAULT if value else []  # an empty set is an empty array; others have no order
    if isinstance(value, enum.Enum):
        return enum_symbols(type(value))[value]
    if isinstance(value, (list, tuple)):
        items = [_json_default(v, ctx) for v in value]
        return NO_DEFAULT if any(i is NO_DEFAULT for i in items) else items
    if isinstance(value, dict):
        out = {k: _json_default(v, ctx) for k, v in value.items()}
        return NO_DEFAULT if any(v is NO_DEFAULT for v in out.values()) else out
    return NO_DEFAULT


# pydantic / annotated-types constraint attribute -> JSON Schema keyword, by value kind
_NUMBER_KEYWORDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum",
                    "multiple_of": "multipleOf"}
_STRING_KEYWORDS = {"min_length": "minLength", "max_length": "maxLength", "pattern": "pattern"}
_ARRAY_KEYWORDS = {"min_length": "minItems", "max_length": "maxItems"}


def _constraints(extras: list[Any], ftype: m.Type) -> dict[str, Any]:
    """The JSON Schema keywords pydantic's constraints (and annotated-types') say."""
    inner, _ = m.unwrap_optional(ftype)
    if isinstance(inner, m.Scalar) and inner.kind in (m.INT32, m.INT64, m.FLOAT32, m.FLOAT64):
        table = _NUMBER_KEYWORDS
    elif isinstance(inner, m.Scalar) and inner.kind == m.STRING:
        table = _STRING_KEYWORDS
    elif isinstance(inner, m.Array):
        table = _ARRAY_KEYWORDS
    else:
        return {}
    out: dict[str, Any] = {}
    for extra in extras:
        for attr, keyword in table.items():
            value = getattr(extra, attr, None)
            if value is not None and not isinstance(value, (Kind, Precision, Name)):
                out[keyword] = value.pattern if hasattr(value, "pattern") and not isinstance(value, str) else value
    return out
