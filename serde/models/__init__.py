"""Python models as schemas: dataclasses and pydantic v2 models ↔ the neutral type model
(``serde._model``) ↔ Avro, JSON Schema and Protobuf.

``schema(Order, "avro")`` writes a class's schema; ``serde.serializer("avro",
model=Order)`` registers it and takes instances; ``to_source(text, "avro")`` writes
Python source for a schema. The type mapping (README "Python models")::

    Python                                   model
    ---------------------------------------  -----------------------------------------
    str, bytes, bool                         STRING, BYTES, BOOLEAN
    int / Annotated[int, Int32]              INT64 / INT32
    float / Annotated[float, Float32]        FLOAT64 / FLOAT32
    Decimal + Precision(p, s) or pydantic    Decimal(p, s)
      Field(max_digits=p, decimal_places=s)
    datetime / Annotated[.., TimestampMillis] TIMESTAMP_MICROS / TIMESTAMP_MILLIS
    date, time, UUID                         DATE, TIME_MILLIS, UUID
    Enum subclass, Literal["a", "b"]         Enum (symbols: the values when all are
                                             identifiers, else the member names)
    list[T] (tuple[T, ...], set[T])          Array(T)
    dict[str, V]                             Map(V)
    T | None, Optional[T]                    Optional(T)
    A | B                                    Union_(A, B)
    a dataclass / pydantic model             Record (recursion: Ref)
    Any                                      ANY (JSON Schema only)

Record names: ``__serde_name__`` (a full name) on the class, else the class name in
``__serde_namespace__`` or the module's namespace.
"""
from ._api import from_dict, model_type, schema, to_dict
from ._hints import Float32, Int32, Name, Precision, TimestampMillis, is_model_class
from ._source import to_source

__all__ = [
    "Float32",
    "Int32",
    "Name",
    "Precision",
    "TimestampMillis",
    "from_dict",
    "is_model_class",
    "model_type",
    "schema",
    "to_dict",
    "to_source",
]
