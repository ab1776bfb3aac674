"""Python models as Protobuf (proto3): the class's neutral model written by
``serde.translate.protobuf`` (fields numbered 1, 2, 3... in class order, so a new field
goes at the end to keep the numbers); values as the protobuf format takes them
(decimals, dates, times and UUIDs as text, a union as its ``oneof`` members)."""
from __future__ import annotations

from ._api import model_type

__all__ = ["schema"]


def schema(cls: type) -> str:
    """The ``.proto`` text of a dataclass or pydantic model class."""
    from ..translate.protobuf import from_model

    return from_model(model_type(cls))
