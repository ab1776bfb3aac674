"""Schema translation: Avro ↔ JSON Schema ↔ Protobuf through the neutral type model
(``serde._model``), and schema inference from sample data.

``to_model(schema_type, text, references=None)`` parses a schema into the model,
``from_model(model, target_type)`` writes one, ``derive`` does both, ``infer`` proposes a
record type from sample records. Schema types are ``avro``, ``json`` and ``protobuf``
(the registry's ``AVRO``/``JSON``/``PROTOBUF`` work too).

The guarantee: a schema translated A → B → A gives the same model, so a record converted
A → B → A comes back equal. What a target cannot say natively is kept in a documented
annotation (JSON Schema ``x-`` keywords, a ``// serde: {...}`` comment line in Protobuf).

Type mapping (docs/schema-translation.md has the details and the one-way cases)::

    model                 Avro                               JSON Schema                                        Protobuf (proto3)
    --------------------  ---------------------------------  -------------------------------------------------  ------------------------------------------------
    Record(ns.Name)       record (namespace ns, name Name)   object + properties, title "ns.Name";              message Name, package ns (nested ones top level,
                                                             non-root ones in definitions, used by $ref         name kept in an annotation when it differs)
    Field default         field default                      "default"                                          annotation {"default": ...}
    Optional(T)           ["null", T] ([T, "null"] when the  not required (default null) or                     optional scalar; message field; repeated/map/
                          default is not null)               type [T, "null"] / anyOf [T, {"type": "null"}]     oneof + annotation {"optional": true}
    Union_(A, B)          [A, B]                             anyOf [A, B]                                       oneof <field> { A <field>_a; B <field>_b; }
    Enum(Name, symbols)   enum (default kept)                type string + enum, title Name, x-enum-default     enum, zero value <NAME>_UNSPECIFIED added unless
                                                                                                                the default is the first symbol
    Array(T)              array                              array + items                                      repeated T
    Map(V)                map                                object + additionalProperties only                 map<string, V>
    Ref(ns.Name)          Name (a use by name)               {"$ref": "#"} (the root) or $ref to definitions    Name (the message type)
    (recursion: a record used inside its own definition; see serde._model.Ref)
    STRING                string                             string                                             string
    BYTES                 bytes (fixed reads as bytes)       string + contentEncoding base64                    bytes
    BOOLEAN               boolean                            boolean                                            bool
    INT32                 int                                integer, minimum/maximum within int32              int32 (sint32, sfixed32 read as int32)
    INT64                 long                               integer (other bounds or none)                     int64 (sint64, sfixed64, uint32, fixed32,
                                                                                                                uint64, fixed64 read as int64)
    FLOAT32 / FLOAT64     float / double                     number + format float / number                     float / double
    Decimal(p, s)         bytes + decimal logical type       string + format decimal, x-precision, x-scale      string + annotation {"type": "decimal", ...}
    DATE                  int + date                         string + format date                               string + annotation {"type": "date"}
    TIME_MILLIS           int + time-millis                  string + format time                               string + annotation {"type": "time-millis"}
    TIMESTAMP_MILLIS      long + timestamp-millis            string + format date-time                          google.protobuf.Timestamp
    TIMESTAMP_MICROS      long + timestamp-micros            string + format date-time, x-timestamp-unit micros google.protobuf.Timestamp + annotation
    UUID                  string + uuid                      string + format uuid                               string + annotation {"type": "uuid"}
    NULL                  null                               null                                               (only inside Optional)
    ANY                   (none: error)                      {} (any JSON)                                      (none: error)
"""
from ._api import derive, from_model, infer, to_model

__all__ = ["derive", "from_model", "infer", "to_model"]
