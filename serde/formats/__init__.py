"""Pluggable formats: ``get_format("avro")`` and friends. See ``_base.Format``."""
from ._base import Decoder, Encoder, Format, ParsedSchema
from ._registry import ENTRY_POINT_GROUP, available_formats, get_format, register_format

__all__ = [
    "Decoder",
    "ENTRY_POINT_GROUP",
    "Encoder",
    "Format",
    "ParsedSchema",
    "available_formats",
    "get_format",
    "register_format",
]
