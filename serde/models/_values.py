"""Instances ↔ the dicts the format encoders take and the decoders return.

For each (class, format) pair two functions are generated once, as Python source
compiled with ``exec`` (as msgspec and attrs do), so the per-record path is one dict
display of attribute loads (``{"id": o.id, "items": [enc_Item(x) for x in o.items]}``)
and one constructor call: no per-field loops, no ``getattr`` by name, no type checks of
values that need no conversion. Values each format already takes as they are
(datetimes, Decimals and UUIDs for Avro) are passed through untouched.

Each format's dict shape (see ``serde.formats``):

* avro: logical types as Python values (aware UTC datetimes), enums as symbol names;
* json: the same on write (the format writes them as text); on read, text that is
  parsed back (ISO-8601, decimal text, base64 bytes);
* protobuf: timestamps as datetimes, decimals, dates, times and UUIDs as text, enums as
  value names, a union as one key per ``oneof`` member (``payload_int64``).
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import math
import threading
import uuid
from typing import Any, Callable

from .. import _model as m
from .._errors import DecodeError, RecordInvalid, SerdeError
from . import _hints

FLAVORS = ("avro", "json", "protobuf")

_lock = threading.Lock()
_cache: dict[tuple[type, str], tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {}


def converters(cls: type, flavor: str) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """``(to_dict, from_dict)`` for ``cls`` in ``flavor`` (avro, json, protobuf)."""
    key = (cls, flavor)
    found = _cache.get(key)
    if found is None:
        with _lock:
            found = _cache.get(key)
            if found is None:
                record, ctx = _hints.read(cls)
                found = _cache[key] = _Builder(ctx, flavor).build(cls)
    return found


def _text_time(value: str) -> dt.time:
    parsed = dt.time.fromisoformat(value)
    return parsed.replace(tzinfo=None) if parsed.tzinfo is not None else parsed


def _b64(value: Any) -> bytes:
    return value if isinstance(value, bytes) else base64.b64decode(value, validate=True)


def _decimal_text(value: Any) -> Any:
    return format(value, "f") if isinstance(value, decimal.Decimal) else value


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.time)) else value


def _str(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def _maybe(parse: Callable[[Any], Any], kind: type) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return value if isinstance(value, kind) else parse(value)

    return convert


# model kind -> (encode, decode) per flavor; None: the value passes as it is
_SCALARS: dict[str, dict[str, tuple[Any, Any]]] = {
    "avro": {},
    "json": {
        # JSON text is always a str here: the C parsers, called directly
        m.TIMESTAMP_MILLIS: (None, dt.datetime.fromisoformat),
        m.TIMESTAMP_MICROS: (None, dt.datetime.fromisoformat),
        m.DATE: (None, dt.date.fromisoformat),
        m.TIME_MILLIS: (None, _maybe(_text_time, dt.time)),
        m.UUID: (None, _maybe(uuid.UUID, uuid.UUID)),
        m.BYTES: (None, _b64),
    },
    "protobuf": {
        m.DATE: (_iso, _maybe(dt.date.fromisoformat, dt.date)),
        m.TIME_MILLIS: (_iso, _maybe(_text_time, dt.time)),
        m.UUID: (_str, _maybe(uuid.UUID, uuid.UUID)),
    },
}
_PY_TYPES: dict[str, tuple[type, ...]] = {
    m.STRING: (str,), m.BYTES: (bytes, bytearray), m.BOOLEAN: (bool,), m.INT32: (int,), m.INT64: (int,),
    m.FLOAT32: (float, int), m.FLOAT64: (float, int), m.DATE: (dt.date,), m.TIME_MILLIS: (dt.time,),
    m.TIMESTAMP_MILLIS: (dt.datetime,), m.TIMESTAMP_MICROS: (dt.datetime,), m.UUID: (uuid.UUID,), m.NULL: (type(None),),
}


class _Builder:
    def __init__(self, ctx: _hints.Context, flavor: str) -> None:
        if flavor not in FLAVORS:
            raise ValueError(f"no model values for format {flavor!r}")
        self.flavor = flavor
        self.scalars = _SCALARS[flavor]
        self.by_name = {info.name: info for info in ctx.classes.values()}
        self.enum_classes: dict[str, type[enum.Enum]] = {}
        for key, e in ctx.enums.items():
            if isinstance(key, type) and issubclass(key, enum.Enum):
                self.enum_classes[e.name] = key
        self.ns: dict[str, Any] = {"_RecordInvalid": RecordInvalid, "_DecodeError": DecodeError, "_new": object.__new__,
                                   "_set": object.__setattr__, "_isinstance": isinstance, "_dict": dict}
        self.counter = 0
        self.done: set[str] = set()
        self.pending: list[_hints.ClassInfo] = []

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, value: Any, prefix: str = "_c") -> str:
        n = self.name(prefix)
        self.ns[n] = value
        return n

    def build(self, cls: type) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
        self.pending.append(next(i for i in self.by_name.values() if i.cls is cls))
        source: list[str] = []
        while self.pending:
            info = self.pending.pop()
            if info.name in self.done:
                continue
            self.done.add(info.name)
            source.append(self.record_functions(info))
        exec(compile("\n".join(source), f"<serde.models {cls.__qualname__} {self.flavor}>", "exec"), self.ns)  # noqa: S102
        root = self.by_name[_hints.full_name(cls)]
        return self.ns[self.fn(root, "enc")], self.ns[self.fn(root, "dec")]

    def fn(self, info: _hints.ClassInfo, what: str) -> str:
        return f"_{what}_{abs(hash(info.name)):x}_{id(info.cls):x}"

    def record_fn(self, t: m.Type, what: str) -> str:
        info = self.by_name[t.name]  # type: ignore[union-attr]
        if info.name not in self.done:
            self.pending.append(info)
        return self.fn(info, what)

    # -- encoding ---------------------------------------------------------------------
    def enc(self, t: m.Type, expr: str) -> str | None:
        """An expression converting ``expr`` for the format; None when it passes as is."""
        if isinstance(t, (m.Record, m.Ref)):
            return f"{self.record_fn(t, 'enc')}({expr})"
        if isinstance(t, m.Enum):
            cls = self.enum_classes.get(t.name)
            if cls is None:
                return None  # a Literal: the strings are the symbols
            table = self.const(dict(_hints.enum_symbols(cls)), "_sym")
            return f"{table}.get({expr}, {expr})"
        if isinstance(t, m.Decimal):
            return f"{self.const(_decimal_text)}({expr})" if self.flavor == "protobuf" else None
        if isinstance(t, m.Scalar):
            conv = self.scalars.get(t.kind, (None, None))[0]
            return f"{self.const(conv)}({expr})" if conv is not None else None
        if isinstance(t, m.Optional):
            v = self.name("_v")
            inner = self.enc(t.type, v)
            return None if inner is None else f"(None if ({v} := {expr}) is None else {inner})"
        if isinstance(t, m.Array):
            x = self.name("_x")
            inner = self.enc(t.items, x)
            return None if inner is None else f"[{inner} for {x} in {expr}]"
        if isinstance(t, m.Map):
            k, x = self.name("_k"), self.name("_x")
            inner = self.enc(t.values, x)
            return None if inner is None else f"{{{k}: {inner} for {k}, {x} in {expr}.items()}}"
        if isinstance(t, m.Union_):
            return f"{self.const(self.union_encoder(t))}({expr})"
        return None

    def _compile_expr(self, conv: str | None) -> Callable[[Any], Any]:
        if conv is None:
            return lambda v: v
        return eval(f"lambda v: {conv}", self.ns)  # type: ignore[no-any-return]  # noqa: S307

    def union_encoder(self, t: m.Union_) -> Callable[[Any], Any]:
        branches: list[tuple[Any, Callable[[Any], Any]]] = []
        for branch in t.types:
            branches.append((self._python_types(branch), self._compile_expr(self.enc(branch, "v"))))

        def encode_union(value: Any) -> Any:
            for kinds, conv in branches:
                if kinds is not None and isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds):
                    return conv(value)
            return value

        return encode_union

    def _python_types(self, t: m.Type) -> tuple[type, ...] | None:
        if isinstance(t, (m.Record, m.Ref)):
            return (self.by_name[t.name].cls, dict)
        if isinstance(t, m.Enum):
            cls = self.enum_classes.get(t.name)
            return (cls, str) if cls is not None else (str,)
        if isinstance(t, m.Decimal):
            return (decimal.Decimal,)
        if isinstance(t, m.Scalar):
            return _PY_TYPES.get(t.kind)
        if isinstance(t, m.Array):
            return (list, tuple)
        if isinstance(t, m.Map):
            return (dict,)
        return None

    # -- decoding ---------------------------------------------------------------------
    def dec(self, t: m.Type, expr: str) -> str | None:
        if isinstance(t, (m.Record, m.Ref)):
            return f"{self.record_fn(t, 'dec')}({expr})"
        if isinstance(t, m.Enum):
            cls = self.enum_classes.get(t.name)
            if cls is None:
                return None
            table = self.const(_Members(cls, {symbol: member for member, symbol in _hints.enum_symbols(cls).items()}), "_mem")
            return f"{table}[{expr}]"
        if isinstance(t, m.Decimal):
            if self.flavor == "avro":
                return None
            return f"{self.const(decimal.Decimal)}({expr})"
        if isinstance(t, m.Scalar):
            conv = self.scalars.get(t.kind, (None, None))[1]
            return f"{self.const(conv)}({expr})" if conv is not None else None
        if isinstance(t, m.Optional):
            v = self.name("_v")
            inner = self.dec(t.type, v)
            return None if inner is None else f"(None if ({v} := {expr}) is None else {inner})"
        if isinstance(t, m.Array):
            x = self.name("_x")
            inner = self.dec(t.items, x)
            return None if inner is None else f"[{inner} for {x} in {expr}]"
        if isinstance(t, m.Map):
            k, x = self.name("_k"), self.name("_x")
            inner = self.dec(t.values, x)
            return None if inner is None else f"{{{k}: {inner} for {k}, {x} in {expr}.items()}}"
        if isinstance(t, m.Union_):
            return f"{self.const(self.union_decoder(t))}({expr})"
        return None

    def union_decoder(self, t: m.Union_) -> Callable[[Any], Any]:
        branches = [(self._matcher(b), self._compile_expr(self.dec(b, "v"))) for b in t.types]

        def decode_union(value: Any) -> Any:
            for matches, conv in branches:
                if matches(value):
                    return conv(value)
            return value

        return decode_union

    def _matcher(self, t: m.Type) -> Callable[[Any], bool]:
        if isinstance(t, (m.Record, m.Ref)):
            names = {f.name for f in self.by_name[t.name].fields}
            return lambda v: isinstance(v, dict) and set(v) <= names
        if isinstance(t, m.Enum):
            symbols = set(t.symbols)
            return lambda v: isinstance(v, str) and v in symbols
        kinds = self._python_types(t)
        if kinds is None or (self.flavor != "avro" and isinstance(t, (m.Scalar, m.Decimal))
                             and not (isinstance(t, m.Scalar) and t.kind in (m.STRING, m.BOOLEAN, m.INT32, m.INT64, m.FLOAT32, m.FLOAT64))):
            conv = self._compile_expr(self.dec(t, "v"))

            def parses(v: Any) -> bool:  # text that parses as the branch's type
                try:
                    conv(v)
                except Exception:  # noqa: BLE001
                    return False
                return True

            return parses
        return lambda v: isinstance(v, kinds) and (bool in kinds or not isinstance(v, bool))

    # -- one record -------------------------------------------------------------------
    def record_functions(self, info: _hints.ClassInfo) -> str:
        cls_name = self.const(info.cls, "_C")
        enc_items: list[str] = []
        kwargs: list[tuple[str, str]] = []
        for f in info.fields:
            attr = f"o.{f.attr}"
            inner, _ = m.unwrap_optional(f.type)
            if self.flavor == "protobuf" and isinstance(inner, m.Union_):
                enc_items.append(f"**{self.const(self.protobuf_union_encoder(f.name, inner))}({attr})")
                kwargs.append((f.attr, f"{self.const(self.protobuf_union_decoder(f.name, inner))}(d)"))
                continue
            conv = self.enc(f.type, attr)
            enc_items.append(f"{f.name!r}: {conv or attr}")
            src = f"d[{f.name!r}]"
            value = self.dec(f.type, src) or src
            container = _container(f.hint)
            if container is not None:  # arrays come back as lists: the hint's own kind
                v = self.name("_t")
                value = f"(None if ({v} := {value}) is None else {self.const(container)}({v}))"
            if self.flavor != "avro" and (f.default is not _hints.NO_DEFAULT or f.factory is not None
                                          or isinstance(f.type, m.Optional)):
                if f.factory is not None:
                    fallback = f"{self.const(f.factory)}()"
                elif f.default is not _hints.NO_DEFAULT:
                    fallback = repr(f.default) if _literal(f.default) else self.const(f.default)
                else:
                    fallback = "None"
                value = f"({value} if {f.name!r} in d else {fallback})"
            kwargs.append((f.attr, value))
        enc_name, dec_name = self.fn(info, "enc"), self.fn(info, "dec")
        lines = [
            f"def {enc_name}(o):",
            f"    if o.__class__ is not {cls_name}:",
            "        if _isinstance(o, _dict):",
            "            return o",
            f"        if not _isinstance(o, {cls_name}):",
            f"            raise _RecordInvalid('expected a ' + {info.cls.__qualname__!r} + ' or a dict, not ' + type(o).__name__, path='$')",
            "    return {" + ", ".join(enc_items) + "}",
            "",
            f"def {dec_name}(d):",
        ]
        if info.kind == "dataclass" and _plain_dataclass(info.cls):
            # what the generated __init__ would do, without its call: the instance's dict
            # (assigned directly unless __setattr__ is guarded, as a frozen dataclass's is:
            # object.__setattr__ costs a third more per instance)
            assign = ("    o.__dict__ = {" if info.cls.__setattr__ is object.__setattr__
                      else "    _set(o, '__dict__', {")
            lines += [
                f"    o = _new({cls_name})",
                assign + ", ".join(f"{a!r}: {v}" for a, v in kwargs) + ("}" if assign.endswith("= {") else "})"),
                "    return o",
            ]
        elif info.kind == "pydantic" and not getattr(info.cls, "__pydantic_post_init__", None):
            fields_set = self.const(frozenset(f.attr for f in info.fields), "_fs")
            lines += [
                f"    o = _new({cls_name})",
                "    _set(o, '__dict__', {" + ", ".join(f"{a!r}: {v}" for a, v in kwargs) + "})",
                f"    _set(o, '__pydantic_fields_set__', set({fields_set}))",
                "    _set(o, '__pydantic_extra__', None)",
                "    _set(o, '__pydantic_private__', None)",
                "    return o",
            ]
        elif info.kind == "pydantic":
            lines.append(f"    return {cls_name}.model_construct(" + ", ".join(f"{a}={v}" for a, v in kwargs) + ")")
        else:
            lines.append(f"    return {cls_name}(" + ", ".join(f"{a}={v}" for a, v in kwargs) + ")")
        return "\n".join(lines) + "\n"

    def protobuf_union_encoder(self, field: str, t: m.Union_) -> Callable[[Any], dict[str, Any]]:
        from ..translate.protobuf import member_name

        members = [(member_name(field, b), self._python_types(b), self._compile_expr(self.enc(b, "v")))
                   for b in t.types]

        def encode_oneof(value: Any) -> dict[str, Any]:
            if value is None:
                return {}
            for name, kinds, conv in members:
                if kinds is not None and isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds):
                    return {name: conv(value)}
            raise RecordInvalid(f"{type(value).__name__} fits no member of the oneof", path=f"$.{field}")

        return encode_oneof

    def protobuf_union_decoder(self, field: str, t: m.Union_) -> Callable[[Any], Any]:
        from ..translate.protobuf import member_name

        members = [(member_name(field, b), self._compile_expr(self.dec(b, "v"))) for b in t.types]

        def decode_oneof(d: dict[str, Any]) -> Any:
            for name, conv in members:
                value = d.get(name)
                if value is not None:
                    return conv(value)
            return None

        return decode_oneof


def _container(hint: Any) -> type | None:
    """``tuple``, ``set`` or ``frozenset`` when ``hint`` (or its Optional) is one of them."""
    import typing

    origin = typing.get_origin(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(inner) != 1:
            return None
        hint, origin = inner[0], typing.get_origin(inner[0])
    kind = origin or hint
    return kind if kind in (tuple, set, frozenset) else None


def _literal(value: Any) -> bool:
    """Whether ``repr(value)`` is Python source for it: exact builtin scalars only (an
    IntEnum member or a str-Enum member is an int or str too, and NaN's repr is a name)."""
    kind = type(value)
    return kind in (int, str, bool, type(None)) or (kind is float and math.isfinite(value))


class _Members(dict):  # type: ignore[type-arg]
    """Symbol -> enum member; a symbol the enum lacks is a DecodeError saying which (a
    Protobuf enum field left unset reads as the synthetic ``*_UNSPECIFIED`` zero)."""

    def __init__(self, cls: type, members: dict[Any, Any]) -> None:
        super().__init__(members)
        self.cls = cls

    def __missing__(self, symbol: Any) -> Any:
        hint = " (a Protobuf enum field left at its zero value, i.e. unset; make the field Optional to read it as None)" \
            if isinstance(symbol, str) and symbol.endswith("_UNSPECIFIED") else ""
        raise DecodeError(f"{symbol!r} is not a member of {self.cls.__qualname__}{hint}")


def _plain_dataclass(cls: type) -> bool:
    """A dataclass whose ``__init__`` only stores its arguments: no ``__post_init__``, no
    ``InitVar``, no slots, an ``__init__`` of its own making."""
    import dataclasses

    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.init or hasattr(cls, "__post_init__") or "__slots__" in cls.__dict__:
        return False
    init_fields = [f for f in dataclasses.fields(cls) if f.init]
    hidden = [f for f in getattr(cls, "__dataclass_fields__", {}).values() if f._field_type is not dataclasses._FIELD]  # type: ignore[attr-defined]
    return len(init_fields) == len(dataclasses.fields(cls)) and not hidden


def wrap_errors(cls: type, decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``decode`` raising DecodeError (naming the class) for what does not fit."""
    name = cls.__qualname__

    def from_dict(value: Any) -> Any:
        try:
            return decode(value)
        except BUILD_ERRORS as exc:
            error = build_error(name, exc)
            if error is exc:
                raise
            raise error from exc

    return from_dict


BUILD_ERRORS = (SerdeError, KeyError, ValueError, TypeError, AttributeError)


def build_error(name: str, exc: BaseException) -> BaseException:
    """What building a ``name`` instance from a decoded record raises for ``exc``: serde's
    own DecodeErrors (a symbol the model's enum lacks) say which class; Python's errors
    from the generated code become one."""
    if isinstance(exc, DecodeError):
        if not exc.reason.startswith("cannot build"):
            exc.reason = f"cannot build a {name} from the decoded record: {exc.reason}"
        return exc
    if isinstance(exc, SerdeError):
        return exc
    return DecodeError(f"cannot build a {name} from the decoded record: {type(exc).__name__}: {exc}")
