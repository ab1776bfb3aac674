"""Formats by name: a sorted table of built-ins loaded lazily, plus the ``serde.formats``
entry-point group for third-party formats. Only this module knows where formats live."""
from __future__ import annotations

import importlib
import threading
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping

from .._errors import FormatUnavailable

if TYPE_CHECKING:
    from ._base import Format

ENTRY_POINT_GROUP = "serde.formats"

# name -> ("module:Class", install hint when the import fails). Kept sorted (tested).
_BUILTINS: dict[str, tuple[str, str]] = {
    "avro": ("serde.formats.avro:AvroFormat", "pip install fastavro"),
    "binary": ("serde.formats.binary:BinaryFormat", ""),
    "csv": ("serde.formats.csv:CsvFormat", ""),
    "json": ("serde.formats.jsonschema:JsonFormat", "pip install jsonschema-rs orjson"),
    "protobuf": ("serde.formats.protobuf:ProtobufFormat", "pip install protobuf grpcio-tools"),
}
BUILTIN_FORMATS: Mapping[str, tuple[str, str]] = MappingProxyType(_BUILTINS)

_registered: dict[str, "type[Format] | str"] = {}
_instances: dict[str, "Format"] = {}
_lock = threading.Lock()
_entry_points_loaded = False


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        # Built-ins win: a plugin cannot silently replace "avro".
        if ep.name not in _BUILTINS:
            _registered.setdefault(ep.name, ep.value)


def register_format(name: str, cls: "type[Format] | str", *, clobber: bool = False) -> None:
    """Add a format under ``name``; ``cls`` is a Format subclass or a ``"module:Class"``
    path (imported on first use). Refuses a taken name unless ``clobber``."""
    with _lock:
        _load_entry_points()
        if not clobber and (name in _BUILTINS or name in _registered):
            raise FormatUnavailable(f"format name {name!r} is already registered; pass clobber=True to replace it")
        _registered[name] = cls
        _instances.pop(name, None)


def available_formats() -> list[str]:
    """Names of every known format (built-in or registered), sorted."""
    with _lock:
        _load_entry_points()
        return sorted(set(_BUILTINS) | set(_registered))


def _import(path: str, hint: str, name: str) -> "type[Format]":
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if exc.name and module_name.startswith(exc.name) and exc.name.startswith("serde.formats"):
            raise FormatUnavailable(f"format {name!r} is not implemented in this version of serde") from exc
        extra = f"; install it with: {hint}" if hint else ""
        raise FormatUnavailable(f"format {name!r} needs a missing dependency ({exc.name}){extra}") from exc
    try:
        return getattr(module, attr)  # type: ignore[no-any-return]
    except AttributeError as exc:
        raise FormatUnavailable(f"format {name!r}: {path} does not exist") from exc


def get_format(name: str) -> "Format":
    """The format registered under ``name`` (one shared instance per name)."""
    instance = _instances.get(name)
    if instance is not None:
        return instance
    with _lock:
        _load_entry_points()
        target = _registered.get(name)
        hint = ""
        if target is None and name in _BUILTINS:
            target, hint = _BUILTINS[name]
        if target is None:
            known = ", ".join(sorted(set(_BUILTINS) | set(_registered)))
            raise FormatUnavailable(f"unknown format {name!r}; known formats: {known}")
    cls = _import(target, hint, name) if isinstance(target, str) else target
    instance = cls()
    _instances[name] = instance
    return instance
