"""The dispatch behind ``serde.translate``: schema type names → translator modules."""
from __future__ import annotations

import importlib
from typing import Any, Iterable, Mapping

from .. import _model as m
from .._errors import ConfigError

# accepted spellings -> canonical registry schema type
_ALIASES = {
    "avro": "AVRO",
    "json": "JSON",
    "jsonschema": "JSON",
    "json-schema": "JSON",
    "protobuf": "PROTOBUF",
    "proto": "PROTOBUF",
}
_MODULES = {"AVRO": "avro", "JSON": "jsonschema", "PROTOBUF": "protobuf"}


def schema_type(name: str) -> str:
    """``"avro"``/``"AVRO"`` → ``"AVRO"``; the format names (avro, json, protobuf) and the
    registry's schema types (AVRO, JSON, PROTOBUF) are both accepted."""
    canonical = _ALIASES.get(str(name).lower())
    if canonical is None:
        raise ConfigError(f"unknown schema type {name!r}; use avro, json or protobuf")
    return canonical


def _module(name: str) -> Any:
    return importlib.import_module(f"{__package__}.{_MODULES[schema_type(name)]}")


def to_model(schema_type: str, text: str, references: Mapping[str, str] | None = None, **options: Any) -> m.Type:
    """Parse schema ``text`` of ``schema_type`` (references: name → text, resolved as the
    format resolves them) into the neutral type model. Raises SchemaParseError."""
    return _module(schema_type).to_model(text, references, **options)  # type: ignore[no-any-return]


def from_model(model: m.Type, target_type: str, **options: Any) -> str:
    """Schema text of ``target_type`` for ``model``. Raises SchemaParseError naming the
    path of a type the target cannot express."""
    return _module(target_type).from_model(model, **options)  # type: ignore[no-any-return]


def derive(
    source_type: str,
    text: str,
    target_type: str,
    references: Mapping[str, str] | None = None,
    **options: Any,
) -> str:
    """Translate a schema: ``from_model(to_model(source_type, text, references), target_type)``.
    ``options`` go to the target's ``from_model`` (e.g. ``message=`` picks a Protobuf
    message on the source side only through ``to_model``)."""
    source_options = {k: options.pop(k) for k in ("message",) if k in options}
    return from_model(to_model(source_type, text, references, **source_options), target_type, **options)


def infer(records: Iterable[Mapping[str, Any]], name: str = "Record", **options: Any) -> m.Record:
    """Propose a record type from sample records (dicts: CSV rows as text, or parsed JSON);
    ``options``: ``text``, ``null_markers``, ``decimals`` (see ``serde.translate._infer``)."""
    from ._infer import infer as _infer

    return _infer(records, name=name, **options)
