"""The Kafka serializer and deserializer: a format, a registry and Confluent framing.

Both are drop-in ``confluent_kafka`` serializers: callables ``(obj, ctx) -> bytes`` and
``(bytes, ctx) -> obj`` taking a ``SerializationContext``. Everything that depends only
on the topic (subject, schema id, frame prefix, encoder) is worked out on the first
record of that topic and cached, so the per-record path is a dict lookup, the codec and
one bytes concatenation.
"""
from __future__ import annotations

import threading
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from . import _wire
from ._errors import ConfigError, DecodeError, SerdeError
from ._strategies import resolve_strategy
from ._types import RegisteredSchema, SchemaReference, SchemaSource
from .formats import Format, ParsedSchema, get_format
from .registry.client import Registry, as_reference, open_registry


class Decoded(NamedTuple):
    """A value with the writer schema it was read with (``return_schema=True``)."""

    value: Any
    schema: RegisteredSchema


def _is_key(ctx: Any) -> bool:
    field = getattr(ctx, "field", None)
    return field is not None and str(getattr(field, "value", field)).lower() == "key"


def _topic(ctx: Any) -> str:
    topic = getattr(ctx, "topic", None)
    if not topic:
        raise ConfigError("a SerializationContext with a topic is needed to choose the subject")
    return str(topic)


# Keyword options each built-in format takes, beyond the serializer's own; anything else
# is a typo that would otherwise be silently ignored. Plugin formats are not checked.
_FORMAT_OPTIONS = {
    "avro": {"reference_codec"},
    "json": {"validate_formats", "check_nan"},
    "protobuf": {"message", "well_known_types", "as_message"},
    "csv": {"record_type", "delimiter", "null_marker", "quotechar", "message"},
    "binary": {"encoding"},
}


def _check_options(format: Format, options: dict[str, Any], flags: dict[str, Any]) -> None:
    allowed = _FORMAT_OPTIONS.get(format.name)
    if allowed is not None:
        unknown = sorted(set(options) - allowed)
        if unknown:
            hint = f"; {format.name} takes {', '.join(sorted(allowed))}" if allowed else ""
            raise ConfigError(f"unknown option(s) {', '.join(unknown)} for the {format.name} format{hint}")
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be True or False, not {value!r}")


def _schema_text(schema: Any) -> Any:
    """Schema text as given, or a dict/list (an Avro or JSON schema as Python data)."""
    if schema is None or isinstance(schema, str):
        return schema
    if isinstance(schema, (dict, list)):
        import json

        return json.dumps(schema)
    return schema  # a generated Protobuf class or message: the format decides


class Serializer:
    """Serialize records to Confluent-framed bytes. Build it with :func:`serde.serializer`."""

    def __init__(
        self,
        format: str | Format,
        schema: str | None = None,
        registry: Any = None,
        *,
        references: Iterable[Any] = (),
        auto_register: bool = True,
        use_latest_version: bool = False,
        use_schema_id: int | None = None,
        normalize: bool = False,
        subject_name_strategy: Any = "topic",
        validate: bool = True,
        imports: Mapping[str, str] | None = None,
        **format_options: Any,
    ) -> None:
        self._format = get_format(format) if isinstance(format, str) else format
        _check_options(self._format, format_options, {"auto_register": auto_register, "normalize": normalize,
                                                      "use_latest_version": use_latest_version, "validate": validate})
        schema = _schema_text(schema)
        if use_schema_id is not None and (isinstance(use_schema_id, bool) or not isinstance(use_schema_id, int)):
            raise ConfigError(f"use_schema_id must be an integer schema id, not {use_schema_id!r}")
        if self._format.schema_type is None and self._format.name != "csv":
            # CSV borrows its record schema's type; binary has no schema to register
            raise ConfigError(f"format {self._format.name!r} has no registry schema; use it without a registry")
        if use_latest_version and auto_register and schema is not None:
            # Confluent refuses this combination too: which schema would be written?
            raise ConfigError("use_latest_version=True needs auto_register=False (or no schema)")
        if schema is None and not use_latest_version and use_schema_id is None:
            raise ConfigError("a schema is needed, unless use_latest_version=True or use_schema_id is given")
        self._registry: Registry = open_registry(registry)
        self._references = tuple(as_reference(r) for r in references)
        self._auto_register = auto_register and schema is not None
        self._use_latest = use_latest_version
        self._use_schema_id = use_schema_id
        self._normalize = normalize
        self._strategy = resolve_strategy(subject_name_strategy)
        self._encoder_options = dict(format_options, validate=validate) if self._format.name == "json" else dict(format_options)
        self._parse_options = {k: v for k, v in format_options.items()
                               if k in ("message", "record_type", "delimiter", "null_marker", "quotechar", "encoding")}
        self._encoder_options = {k: v for k, v in self._encoder_options.items() if k not in self._parse_options}
        self._schema_text = schema
        self._parsed: ParsedSchema | None = None
        # Protobuf imports registered as references on first use (dependencies first,
        # each under its import path, as Confluent's reference subject strategy does)
        self._import_refs: list[Any] = []
        if self._format.name == "protobuf" and schema is not None and (imports or not isinstance(schema, str)):
            from .formats.protobuf import references_for

            self._import_refs = references_for(schema, imports)
            texts = {ref.name: ref.text for ref in self._import_refs}
            self._parsed = self._format.parse_schema(SchemaSource(schema, texts) if isinstance(schema, str) else schema,
                                                     **self._parse_options)
        elif schema is not None:
            self._parsed = self._parse(schema, self._references)
        self._by_target: dict[tuple[str, bool], tuple[bytes, Any]] = {}
        self._lock = threading.Lock()

    @property
    def schema(self) -> ParsedSchema | None:
        return self._parsed

    def _parse(self, text: str, references: Sequence[SchemaReference], schema_type: str | None = None) -> ParsedSchema:
        resolved = self._registry.resolve_references(references) if references else {}
        options = dict(self._parse_options)
        if self._format.name == "csv" and schema_type:
            options["record_type"] = schema_type
        return self._format.parse_schema(SchemaSource(text, resolved), **options)

    def subject(self, topic: str, is_key: bool = False) -> str:
        """The subject this serializer uses for ``topic``."""
        return self._strategy(topic, is_key, self._parsed.record_name if self._parsed is not None else None)

    def _register_imports(self, parsed: ParsedSchema) -> tuple[SchemaReference, ...]:
        """Register (or, with auto_register off, look up) each imported file; returns
        the references of the main file's direct imports."""
        versions: dict[str, int] = {}
        for ref in self._import_refs:
            own = [SchemaReference(name, name, versions[name]) for name in ref.imports if name in versions]
            if self._auto_register:
                self._registry.register(ref.subject, "PROTOBUF", ref.text, own, self._normalize)
            found = self._registry.lookup(ref.subject, "PROTOBUF", ref.text, own, self._normalize)
            versions[ref.name] = int(found.version or 1)
        direct = list(getattr(parsed, "file_descriptor_proto").dependency)
        return tuple(SchemaReference(name, name, versions[name]) for name in direct if name in versions)

    def prepare(self, topic: str, is_key: bool = False) -> int:
        """Register (or look up) the schema for ``topic`` now, not at the first record,
        so a pipeline fails at start-up when the registry refuses; returns the id."""
        from confluent_kafka.serialization import MessageField, SerializationContext

        prefix, _ = self._resolve(SerializationContext(topic, MessageField.KEY if is_key else MessageField.VALUE))
        return int.from_bytes(prefix[1:5], "big")

    def _resolve(self, ctx: Any) -> tuple[bytes, Any]:
        topic, is_key = _topic(ctx), _is_key(ctx)
        with self._lock:
            found = self._by_target.get((topic, is_key))
            if found is not None:
                return found
            parsed = self._parsed
            format_type = (parsed.schema_type if parsed is not None else None) or self._format.schema_type or ""
            if self._use_schema_id is not None:
                registered = self._registry.by_id(self._use_schema_id)
                parsed = self._parse(registered.text, registered.references, registered.schema_type)
                schema_id = self._use_schema_id
            elif self._use_latest:
                subject = self.subject(topic, is_key)
                registered = self._registry.latest(subject)
                parsed = self._parse(registered.text, registered.references, registered.schema_type)
                schema_id = registered.id
            else:
                assert parsed is not None
                subject = self.subject(topic, is_key)
                if self._import_refs and not self._references:
                    self._references = self._register_imports(parsed)
                if self._auto_register:
                    schema_id = self._registry.register(subject, format_type, parsed.text, self._references, self._normalize)
                else:
                    schema_id = self._registry.lookup(subject, format_type, parsed.text, self._references, self._normalize).id
            encoder = self._format.encoder(parsed, **self._encoder_options)
            entry = (_wire.prefix(int(schema_id)) + parsed.frame_suffix, encoder)
            self._by_target[(topic, is_key)] = entry
            return entry

    def __call__(self, obj: Any, ctx: Any = None) -> bytes | None:
        if obj is None:  # a tombstone stays a Kafka null, as in confluent-kafka and Java
            return None
        found = self._by_target.get((ctx.topic, _is_key(ctx))) if ctx is not None else None
        prefix, encode = found if found is not None else self._resolve(ctx)
        return prefix + encode(obj)  # type: ignore[no-any-return]

    def serialize_many(self, records: Iterable[Any], ctx: Any) -> list[bytes | None]:
        """Serialize many records for one topic; an error names the record's position."""
        prefix, encode = self._resolve(ctx)
        out: list[bytes | None] = []
        for position, record in enumerate(records):
            if record is None:
                out.append(None)
                continue
            try:
                out.append(prefix + encode(record))
            except SerdeError as exc:
                raise exc.at(f"record {position}")
        return out


class Deserializer:
    """Read Confluent-framed bytes, fetching the writer schema by id (cached).
    Build it with :func:`serde.deserializer`."""

    def __init__(
        self,
        format: str | Format,
        registry: Any = None,
        *,
        reader_schema: str | None = None,
        reader_references: Iterable[Any] = (),
        return_schema: bool = False,
        validate: bool = True,
        **format_options: Any,
    ) -> None:
        self._format = get_format(format) if isinstance(format, str) else format
        _check_options(self._format, format_options, {"return_schema": return_schema, "validate": validate})
        reader_schema = _schema_text(reader_schema)
        self._registry: Registry = open_registry(registry)
        self._return_schema = return_schema
        self._decoder_options = dict(format_options, validate=validate) if self._format.name == "json" else dict(format_options)
        # CSV cell syntax is part of the parsed schema, not of the decoder
        self._parse_options = {k: self._decoder_options.pop(k) for k in ("delimiter", "null_marker", "quotechar")
                               if k in self._decoder_options}
        self._reader: ParsedSchema | None = None
        if reader_schema is not None:
            refs = tuple(as_reference(r) for r in reader_references)
            resolved = self._registry.resolve_references(refs) if refs else {}
            self._reader = self._format.parse_schema(SchemaSource(reader_schema, resolved))
        self._by_id: dict[Any, tuple[ParsedSchema, Any, RegisteredSchema]] = {}
        self._lock = threading.Lock()

    def _writer(self, schema_id: Any) -> tuple[ParsedSchema, Any, RegisteredSchema]:
        with self._lock:
            found = self._by_id.get(schema_id)
            if found is not None:
                return found
            registered = self._registry.by_id(schema_id)
            expected = self._format.schema_type
            if expected and registered.schema_type != expected:
                raise DecodeError(
                    f"schema id {schema_id} holds a {registered.schema_type} schema, which the {self._format.name} deserializer cannot read"
                )
            resolved = self._registry.resolve_references(registered.references) if registered.references else {}
            options = dict(self._parse_options)
            if self._format.name == "csv":
                options["record_type"] = registered.schema_type
            parsed = self._format.parse_schema(SchemaSource(registered.text, resolved), **options)
            decoder = self._format.decoder(parsed, self._reader, **self._decoder_options)
            found = self._by_id[schema_id] = (parsed, decoder, registered)
            return found

    def decode_with_schema(self, data: bytes, ctx: Any = None) -> Decoded:
        """Deserialize and also return the writer schema (id, type, text, references)."""
        headers = getattr(ctx, "headers", None) if ctx is not None else None
        is_key = _is_key(ctx)
        schema_id, offset, from_header = _wire.read_frame(data, headers, is_key)
        found = self._by_id.get(schema_id)
        parsed, decoder, registered = found if found is not None else self._writer(schema_id)
        if self._format.schema_type == "PROTOBUF":
            source = _wire.schema_id_header(headers, is_key) if from_header else data
            id_length = 5 if source[0] == _wire.MAGIC_V0 else 17  # type: ignore[index]
            indexes, index_end = _wire.decode_message_indexes(source, id_length)  # type: ignore[arg-type]
            if not from_header:
                offset = index_end
            decoder = self._protobuf_decoder(schema_id, parsed, indexes)
        payload = data[offset:] if offset else data
        try:
            value = decoder(payload)
        except SerdeError as exc:
            raise exc.at(f"schema id {schema_id}")
        return Decoded(value, registered)

    def _protobuf_decoder(self, schema_id: Any, parsed: ParsedSchema, indexes: list[int]) -> Any:
        key = (schema_id, tuple(indexes))
        found = self._by_id.get(key)
        if found is None:
            message = parsed.for_message_indexes(indexes)
            decoder = self._format.decoder(message, None, **self._decoder_options)
            found = self._by_id[key] = (message, decoder, self._by_id[schema_id][2])
        return found[1]

    def deserialize_many(self, datas: Iterable[bytes | None], ctx: Any = None) -> list[Any]:
        """Deserialize many messages of one topic; an error names the message's position.
        Records whose id was seen before skip the frame walk."""
        out: list[Any] = []
        append = out.append
        by_id = self._by_id
        plain = self._format.schema_type != "PROTOBUF" and (ctx is None or not getattr(ctx, "headers", None))
        wrap = self._return_schema
        for position, data in enumerate(datas):
            try:
                if data is None:
                    append(None)
                    continue
                found = by_id.get(int.from_bytes(data[1:5], "big")) if plain and data[:1] == b"\x00" else None
                if found is not None:
                    value = found[1](data[5:])
                    append(Decoded(value, found[2]) if wrap else value)
                else:
                    append(self(data, ctx))
            except SerdeError as exc:
                raise exc.at(f"record {position}")
        return out

    def __call__(self, data: bytes | None, ctx: Any = None) -> Any:
        if data is None:
            return None
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise DecodeError(f"a deserializer takes bytes, not {type(data).__name__}")
        if ctx is None or not getattr(ctx, "headers", None):
            # the common cases, inlined: a V0 prefix in the value (and, for Protobuf, the
            # one-byte index array of the first message)
            if self._format.schema_type != "PROTOBUF":
                if len(data) >= 5 and data[0] == 0:
                    found = self._by_id.get(int.from_bytes(data[1:5], "big"))
                    if found is not None:
                        try:
                            value = found[1](data[5:])
                        except SerdeError as exc:
                            raise exc.at(f"schema id {int.from_bytes(data[1:5], 'big')}")
                        return Decoded(value, found[2]) if self._return_schema else value
            elif len(data) >= 6 and data[0] == 0 and data[5] == 0:
                found = self._by_id.get((int.from_bytes(data[1:5], "big"), (0,)))
                if found is not None:
                    try:
                        value = found[1](data[6:])
                    except SerdeError as exc:
                        raise exc.at(f"schema id {int.from_bytes(data[1:5], 'big')}")
                    return Decoded(value, found[2]) if self._return_schema else value
        decoded = self.decode_with_schema(data, ctx)
        return decoded if self._return_schema else decoded.value


def serializer(
    format: str | Format,
    schema: str | None = None,
    registry: Any = None,
    *,
    references: Iterable[Any] = (),
    auto_register: bool = True,
    use_latest_version: bool = False,
    use_schema_id: int | None = None,
    normalize: bool = False,
    subject_name_strategy: Any = "topic",
    validate: bool = True,
    imports: Mapping[str, str] | None = None,
    **format_options: Any,
) -> Serializer:
    """A Kafka serializer for ``format`` (``"avro"``, ``"json"``, ``"protobuf"`` …).

    ``schema`` is the schema text; ``registry`` a URL, a ``SchemaRegistryClient``, an
    :class:`EmbeddedRegistry` or its SQLite path (default: ``$SERDE_REGISTRY`` or
    ``.serde/registry.db``). The options mirror Confluent's: ``auto_register``
    (``auto.register.schemas``), ``use_latest_version``, ``use_schema_id``,
    ``normalize`` (``normalize.schemas``), ``subject_name_strategy`` (``"topic"``,
    ``"record"``, ``"topic_record"`` or a callable ``(topic, is_key, record_name)``).
    ``validate`` switches JSON Schema validation. Other keywords go to the format
    (e.g. ``message="pkg.Msg"`` for Protobuf). ``imports`` (Protobuf) maps import paths
    to ``.proto`` texts: they are registered as references under their import paths on
    first use; a generated class brings its imports itself.
    """
    return Serializer(
        format,
        schema,
        registry,
        references=references,
        auto_register=auto_register,
        use_latest_version=use_latest_version,
        use_schema_id=use_schema_id,
        normalize=normalize,
        subject_name_strategy=subject_name_strategy,
        validate=validate,
        imports=imports,
        **format_options,
    )


def deserializer(
    format: str | Format,
    registry: Any = None,
    *,
    reader_schema: str | None = None,
    reader_references: Iterable[Any] = (),
    return_schema: bool = False,
    validate: bool = True,
    **format_options: Any,
) -> Deserializer:
    """A Kafka deserializer for ``format``: the writer schema is fetched by the id in the
    frame (or the ``__value_schema_id``/``__key_schema_id`` header) and cached.

    ``reader_schema`` resolves Avro data into another schema; ``return_schema=True``
    makes it return :class:`Decoded` ``(value, schema)`` pairs; ``validate`` switches
    JSON Schema validation on read.
    """
    return Deserializer(
        format,
        registry,
        reader_schema=reader_schema,
        reader_references=reader_references,
        return_schema=return_schema,
        validate=validate,
        **format_options,
    )
