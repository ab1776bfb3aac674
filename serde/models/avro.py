"""Python models as Avro schemas: the class's neutral model written by
``serde.translate.avro``; values as the avro format takes them (logical types as Python
values, enums as symbol names)."""
from __future__ import annotations

from ._api import model_type

__all__ = ["schema"]


def schema(cls: type, *, indent: int | None = 2) -> str:
    """The Avro schema (JSON text) of a dataclass or pydantic model class."""
    from ..translate.avro import from_model

    return from_model(model_type(cls), indent=indent)
