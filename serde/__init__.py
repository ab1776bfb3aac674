"""serde: schema-aware Kafka serializers, format conversion and compatibility checks.

This module only re-exports; the implementation lives in private modules.
"""
from ._errors import (
    ConfigError,
    DecodeError,
    EncodeError,
    FormatUnavailable,
    FramingError,
    IncompatibleSchemaError,
    KafkaError,
    RecordInvalid,
    RegistryError,
    RuleConditionError,
    RuleError,
    SchemaNotFound,
    SchemaParseError,
    SerdeError,
    SubjectNotFound,
    ValidationError,
    VersionNotFound,
)
from .conversion import ConversionReport, convert
from .serializers import (
    AsyncDeserializer,
    AsyncSerializer,
    Decoded,
    Deserializer,
    Serializer,
    async_deserializer,
    async_serializer,
    deserializer,
    serializer,
)
from ._types import RegisteredSchema, SchemaReference, SchemaSource
from .formats import Format, ParsedSchema, available_formats, get_format, register_format

__version__ = "0.1.0"

__all__ = [
    "AsyncDeserializer",
    "AsyncSerializer",
    "ConfigError",
    "ConversionReport",
    "DecodeError",
    "Decoded",
    "Deserializer",
    "EncodeError",
    "Format",
    "FormatUnavailable",
    "FramingError",
    "IncompatibleSchemaError",
    "KafkaError",
    "ParsedSchema",
    "RecordInvalid",
    "RegisteredSchema",
    "RegistryError",
    "RuleConditionError",
    "RuleError",
    "SchemaNotFound",
    "SchemaParseError",
    "SchemaReference",
    "SchemaSource",
    "SerdeError",
    "Serializer",
    "SubjectNotFound",
    "ValidationError",
    "VersionNotFound",
    "async_deserializer",
    "async_serializer",
    "available_formats",
    "convert",
    "deserializer",
    "get_format",
    "register_format",
    "serializer",
]

for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and isinstance(_obj, type):
        try:
            _obj.__module__ = "serde"
        except (AttributeError, TypeError):  # pragma: no cover
            pass
del _name, _obj
