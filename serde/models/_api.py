"""The model ↔ schema entry points and the binding of a model to a serializer's format."""
from __future__ import annotations

import importlib
import threading
from typing import Any

from .. import _model as m
from .._errors import ConfigError, SchemaParseError, SerdeError
from . import _hints

_lock = threading.Lock()
_read: dict[type, tuple[m.Record, _hints.Context]] = {}

# format name -> (module of serde.models writing its schema, value flavor)
_LANGUAGES = {"avro": "avro", "json": "jsonschema", "protobuf": "protobuf"}
_SCHEMA_TYPES = {"avro": "avro", "json": "json", "jsonschema": "json", "json-schema": "json", "protobuf": "protobuf",
                 "proto": "protobuf", "AVRO": "avro", "JSON": "json", "PROTOBUF": "protobuf"}


def _reading(cls: type) -> tuple[m.Record, _hints.Context]:
    found = _read.get(cls)
    if found is None:
        with _lock:
            found = _read.get(cls)
            if found is None:
                found = _read[cls] = _hints.read(cls)
    return found


def model_type(cls: type) -> m.Record:
    """The neutral type model (``serde._model.Record``) of a dataclass or pydantic model class."""
    return _reading(cls)[0]


def class_infos(cls: type) -> list[_hints.ClassInfo]:
    """Every record class ``cls`` uses (itself included), with its fields."""
    return list(_reading(cls)[1].classes.values())


def language(schema_type: str) -> str:
    """``avro`` | ``json`` | ``protobuf`` for a format name or registry schema type."""
    found = _SCHEMA_TYPES.get(schema_type) or _SCHEMA_TYPES.get(str(schema_type).lower())
    if found is None:
        raise ConfigError(f"a model gives Avro, JSON Schema or Protobuf schemas, not {schema_type!r}")
    return found


def schema(cls: type, schema_type: str) -> str:
    """The schema text of ``cls`` in ``schema_type`` (``avro``, ``json``, ``protobuf``)."""
    module = importlib.import_module(f"{__package__}.{_LANGUAGES[language(schema_type)]}")
    return module.schema(cls)  # type: ignore[no-any-return]


def to_dict(obj: Any, schema_type: str = "avro") -> Any:
    """An instance as the dict the ``schema_type`` format encodes (instances of nested
    models included); dicts pass as they are."""
    return _converters(type(obj), schema_type)[0](obj)


def from_dict(cls: type, value: Any, schema_type: str = "avro") -> Any:
    """An instance of ``cls`` from a dict as the ``schema_type`` format decodes it."""
    from ._values import wrap_errors

    return wrap_errors(cls, _converters(cls, schema_type)[1])(value)


def _converters(cls: type, schema_type: str) -> tuple[Any, Any]:
    from ._values import converters

    if not _hints.is_model_class(cls):
        raise ConfigError(f"{cls!r} is not a dataclass or a pydantic model class")
    return converters(cls, language(schema_type))


def bind(format: Any, model: Any) -> tuple[Any, str]:
    """``(format that takes and returns instances of model, the model's schema text)``."""
    from ..formats import Format

    if not _hints.is_model_class(model):
        raise ConfigError(f"model= takes a dataclass or a pydantic model class, not {model!r}")
    flavor = language(format.name) if format.name in _LANGUAGES else None
    if flavor is None:
        raise ConfigError(f"model= works with the avro, json and protobuf formats, not {format.name!r}")
    try:
        text = schema(model, flavor)
    except SchemaParseError as exc:
        raise SchemaParseError(f"{model.__qualname__}: {exc.reason}") from exc
    return _ModelFormat(format, model, flavor, text), text


class _ModelFormat:
    """A format whose encoders take instances of the model (and dicts) and whose decoders
    return instances: the format's own codec with the generated conversion around it."""

    def __init__(self, inner: Any, model: type, flavor: str, text: str) -> None:
        self._inner = inner
        self._text = text
        self.model = model
        self._flavor = flavor
        self.name = inner.name
        self.schema_type = inner.schema_type

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @property
    def inner(self) -> Any:
        """The format whose codec this one wraps (it takes and returns dicts)."""
        return self._inner

    def converters(self) -> tuple[Any, Any]:
        """``(instance -> dict, dict -> instance)``, for code that runs between the model
        and the codec (data-contract rules work on dicts)."""
        return _converters(self.model, self._flavor)

    def parse_schema(self, source: Any, **options: Any) -> Any:
        if self._flavor == "protobuf" and getattr(source, "text", source) == self._text:
            # the model's own .proto: its message is the model's record (the first one)
            options.setdefault("message", model_type(self.model).name)
        return self._inner.parse_schema(source, **options)

    def encoder(self, schema: Any, **options: Any) -> Any:
        encode = self._inner.encoder(schema, **options)
        to_dict = _converters(self.model, self._flavor)[0]

        def encode_model(obj: Any) -> bytes:
            return encode(to_dict(obj))  # type: ignore[no-any-return]

        return encode_model

    def decoder(self, schema: Any, reader: Any = None, **options: Any) -> Any:
        from ._values import BUILD_ERRORS, build_error

        if reader is not None and _same_schema(schema, reader):
            # the writer wrote with the model's own schema (the usual case): no resolution
            # to do, and JSON need not validate the document twice
            reader = None
        decode = self._inner.decoder(schema, reader, **options)
        if options.get("as_message"):
            return decode
        build = _converters(self.model, self._flavor)[1]
        name = self.model.__qualname__

        def decode_model(data: bytes) -> Any:
            value = decode(data)
            try:
                return build(value)
            except BUILD_ERRORS as exc:  # wrap_errors' translation, without its extra frame
                error = build_error(name, exc)
                if error is exc:
                    raise
                raise error from exc

        return decode_model


def _same_schema(writer: Any, reader: Any) -> bool:
    """Whether two parsed schemas are the same schema (as text, or as parsed JSON)."""
    if writer.text == reader.text:
        return True
    for attribute in ("expanded", "document"):  # Avro, JSON Schema
        mine, theirs = getattr(writer, attribute, None), getattr(reader, attribute, None)
        if mine is not None and mine == theirs:
            return True
    return False
