"""The Kafka serializer and deserializer: a format, a registry and Confluent framing.

Both are drop-in ``confluent_kafka`` serializers: callables ``(obj, ctx) -> bytes`` and
``(bytes, ctx) -> obj`` taking a ``SerializationContext``. Everything that depends only
on the topic (subject, schema id, frame prefix, encoder) is worked out on the first
record of that topic and cached, so the per-record path is a dict lookup, the codec and
one bytes concatenation.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Iterable, Mapping, NamedTuple, NoReturn, Sequence

from .. import _wire
from .._errors import ConfigError, DecodeError, RecordInvalid, SerdeError, _rebuild
from ._strategies import resolve_strategy
from .._types import RegisteredSchema, SchemaReference, SchemaSource
from ..contracts import RuleOverride, Rules
from ..contracts._wrap import has_read_rules, has_write_rules, migrations, reading, writing
from ..formats import Format, ParsedSchema, get_format
from ..registry.client import DEFAULT_REGISTRY_ENV, Registry, as_reference, open_registry


class Decoded(NamedTuple):
    """A value with the writer schema it was read with (``return_schema=True``)."""

    value: Any
    schema: RegisteredSchema


def _is_key(ctx: Any) -> bool:
    field = getattr(ctx, "field", None)
    # confluent-kafka's MessageField.KEY / VALUE are the strings "key" / "value": the
    # common cases first (this runs on every record), then enums and other spellings
    if field == "value" or field is None:
        return False
    if field == "key":
        return True
    return str(getattr(field, "value", field)).lower() == "key"


def _topic(ctx: Any) -> str:
    topic = getattr(ctx, "topic", None)
    if not topic:
        raise ConfigError("a SerializationContext with a topic is needed to choose the subject")
    return str(topic)


# Keyword options each built-in format takes, beyond the serializer's own; anything else
# is a typo that would otherwise be silently ignored. Plugin formats are not checked.
_FORMAT_OPTIONS = {
    "avro": {"reference_codec", "max_items"},
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


# -- what confluent-kafka code catches ------------------------------------------------
#
# Code written against confluent-kafka catches ``SerializationError`` around its
# serializers. Every error a serde serializer or deserializer raises is re-classed, at
# this one boundary, into a twin of its serde class that also derives from
# SerializationError: ``except serde.RecordInvalid`` and ``except SerializationError``
# both keep working, and the error stays the same object with the same message.
_TWINS: dict[type, type] = {}


def _as_serialization_error(exc: SerdeError) -> SerdeError:
    from confluent_kafka.serialization import SerializationError

    if isinstance(exc, SerializationError):
        return exc
    kind = type(exc)
    twin = _TWINS.get(kind)
    if twin is None:
        def reduce(self: SerdeError) -> tuple:  # pickled as the plain serde class
            return (_rebuild, (kind, self.reason, self.__dict__))

        twin = _TWINS[kind] = type(kind.__name__, (kind, SerializationError),
                                   {"__module__": kind.__module__, "__qualname__": kind.__qualname__, "__reduce__": reduce})
    try:
        exc.__class__ = twin
    except TypeError:  # pragma: no cover - a layout the twin cannot take; a copy then
        copy = _rebuild(twin, exc.reason, exc.__dict__)
        copy.__cause__, copy.__traceback__ = exc.__cause__, exc.__traceback__
        return copy  # type: ignore[no-any-return]
    return exc


def _contract_part(value: Any, name: str) -> dict[str, Any] | None:
    """A metadata or ruleSet option: a dict, or its JSON text."""
    if value is None:
        return None
    if isinstance(value, str):
        import orjson

        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"{name} is not JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name} must be a dict (Confluent's JSON), not {type(value).__name__}")
    return dict(value)


def _model_converters(format: Any) -> tuple[Any, Any] | None:
    """(to_dict, from_dict) of a model-bound format (serializer(model=...)), else None."""
    converters = getattr(format, "converters", None)
    return converters() if callable(converters) else None


def _record_name(parsed: ParsedSchema | None) -> str | None:
    """The name the record strategies use: the record's full name, and for an Avro
    primitive its type name (``"int"``), as confluent-kafka names it."""
    if parsed is None:
        return None
    if parsed.record_name is None and getattr(parsed, "schema_type", None) == "AVRO":
        expanded = getattr(parsed, "expanded", None)
        if isinstance(expanded, dict) and isinstance(expanded.get("type"), str):
            return expanded["type"]  # type: ignore[no-any-return]
        if isinstance(expanded, str):
            return expanded
    return parsed.record_name


def _is_top_level_bytes(parsed: ParsedSchema) -> bool:
    """An Avro schema that is just ``bytes``: Confluent frames its value raw, without the
    Avro length prefix (confluent-kafka's AvroSerializer and Java's KafkaAvroSerializer)."""
    if getattr(parsed, "schema_type", None) != "AVRO":
        return False
    expanded = getattr(parsed, "expanded", None)
    return expanded == "bytes" or (isinstance(expanded, dict) and expanded.get("type") == "bytes")


def _raw_bytes_encoder(parsed: ParsedSchema) -> Any:
    logical = parsed.expanded.get("logicalType") if isinstance(parsed.expanded, dict) else None  # type: ignore[attr-defined]
    decimal = logical == "decimal"
    scale = int(parsed.expanded.get("scale", 0) or 0) if decimal else 0  # type: ignore[attr-defined]

    def encode_raw(value: Any) -> bytes:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        if isinstance(value, str):  # as confluent-kafka: text is written as its UTF-8
            return value.encode()
        if decimal:
            import decimal as _decimal

            if isinstance(value, _decimal.Decimal) and value.is_finite():
                unscaled = int(value.scaleb(scale))
                return unscaled.to_bytes((unscaled.bit_length() + 8) // 8, "big", signed=True)
        raise RecordInvalid(f"expected bytes for the Avro bytes schema, got {type(value).__name__}", path="$")

    return encode_raw


def _raw_bytes_decoder(parsed: ParsedSchema) -> Any:
    logical = parsed.expanded.get("logicalType") if isinstance(parsed.expanded, dict) else None  # type: ignore[attr-defined]
    if logical == "decimal":
        import decimal as _decimal

        scale = int(parsed.expanded.get("scale", 0) or 0)  # type: ignore[attr-defined]
        return lambda data: _decimal.Decimal(int.from_bytes(data, "big", signed=True)).scaleb(-scale)
    return bytes


def _id_serializer_mode(value: Any) -> tuple[str, Any]:
    """``schema_id_serializer``: ``"prefix"`` (the default), ``"header"``, confluent-kafka's
    ``prefix_schema_id_serializer`` / ``header_schema_id_serializer``, or any callable of
    theirs ``(payload, ctx, SchemaId) -> bytes``. Returns (mode, callable or None)."""
    if value is None or value == "prefix":
        return "prefix", None
    if value == "header":
        return "header", None
    if callable(value):
        from confluent_kafka import schema_registry as ck

        if value is getattr(ck, "prefix_schema_id_serializer", None):
            return "prefix", None
        if value is getattr(ck, "header_schema_id_serializer", None):
            return "header", None
        return "callable", value
    raise ConfigError(f"schema_id_serializer must be 'prefix', 'header' or a callable (payload, ctx, schema_id), not {value!r}")


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
        subject_name_strategy: Any = "associated",
        subject_name_strategy_kafka_cluster_id: str | None = None,
        subject_name_strategy_fallback_type: str | None = None,
        use_latest_with_metadata: Mapping[str, str] | None = None,
        schema_id_serializer: Any = "prefix",
        validate: bool = True,
        validate_strict: bool = False,
        validate_strict_allow_default: bool = False,
        ignore_rules: bool = False,
        rule_conf: Mapping[str, Any] | None = None,
        rule_executors: Mapping[str, Any] | None = None,
        rule_overrides: Mapping[str, RuleOverride | Mapping[str, Any]] | None = None,
        rule_actions: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | str | None = None,
        rule_set: Mapping[str, Any] | str | None = None,
        imports: Mapping[str, str] | None = None,
        model: Any = None,
        **format_options: Any,
    ) -> None:
        self._format = get_format(format) if isinstance(format, str) else format
        if model is not None:  # a dataclass / pydantic model: its schema, and instances in
            from ..models._api import bind

            self._format, derived = bind(self._format, model)
            schema = derived if schema is None else schema
        _check_options(self._format, format_options, {
            "auto_register": auto_register, "normalize": normalize, "use_latest_version": use_latest_version,
            "validate": validate, "validate_strict": validate_strict,
            "validate_strict_allow_default": validate_strict_allow_default, "ignore_rules": ignore_rules})
        schema = _schema_text(schema)
        if use_schema_id is not None and (isinstance(use_schema_id, bool) or not isinstance(use_schema_id, int)):
            raise ConfigError(f"use_schema_id must be an integer schema id, not {use_schema_id!r}")
        if self._format.schema_type is None and self._format.name != "csv":
            # CSV borrows its record schema's type; binary has no schema to register
            raise ConfigError(f"format {self._format.name!r} has no registry schema; use it without a registry")
        if use_latest_with_metadata is not None and not isinstance(use_latest_with_metadata, Mapping):
            raise ConfigError(f"use_latest_with_metadata must be a dict of metadata properties, not {use_latest_with_metadata!r}")
        latest = use_latest_version or use_latest_with_metadata is not None
        if latest and auto_register and schema is not None:
            # Confluent refuses this combination too: which schema would be written?
            raise ConfigError("use_latest_version=True (or use_latest_with_metadata) needs auto_register=False (or no schema)")
        if schema is None and not latest and use_schema_id is None:
            raise ConfigError("a schema is needed, unless use_latest_version=True, use_latest_with_metadata or use_schema_id is given")
        if (validate_strict or validate_strict_allow_default) and self._format.name != "avro":
            raise ConfigError("validate_strict and validate_strict_allow_default are Avro options (fastavro's strict writing)")
        self._id_mode, self._id_callable = _id_serializer_mode(schema_id_serializer)
        self._registry: Registry = open_registry(registry)
        self._references = tuple(as_reference(r) for r in references)
        self._auto_register = auto_register and schema is not None
        self._use_latest = latest
        self._latest_metadata = dict(use_latest_with_metadata) if use_latest_with_metadata is not None else None
        self._use_schema_id = use_schema_id
        self._normalize = normalize
        self._ignore_rules = ignore_rules
        self._rules = Rules(self._registry, rule_conf=rule_conf, executors=rule_executors, overrides=rule_overrides,
                            actions=rule_actions)
        # the data contract registered with the schema (Confluent's metadata and ruleSet JSON)
        self._metadata = _contract_part(metadata, "metadata")
        self._rule_set = _contract_part(rule_set, "rule_set")
        if (self._metadata or self._rule_set) and schema is None:
            raise ConfigError("metadata and rule_set are registered with the schema; give a schema (or use the "
                              "registered one's with use_latest_version)")
        self._strategy = resolve_strategy(subject_name_strategy, registry=self._registry,
                                          kafka_cluster_id=subject_name_strategy_kafka_cluster_id,
                                          fallback=subject_name_strategy_fallback_type)
        self._encoder_options = dict(format_options, validate=validate) if self._format.name == "json" else dict(format_options)
        if validate_strict or validate_strict_allow_default:
            self._encoder_options.update(strict=validate_strict, strict_allow_default=validate_strict_allow_default)
        self._parse_options = {k: v for k, v in format_options.items()
                               if k in ("message", "record_type", "delimiter", "null_marker", "quotechar", "encoding",
                                        "validate_formats")}
        if schema is None and hasattr(self._parse_options.get("message"), "DESCRIPTOR"):
            # a generated class with the schema from the registry: its message, by name
            self._parse_options["message"] = self._parse_options["message"].DESCRIPTOR.full_name
        self._encoder_options = {k: v for k, v in self._encoder_options.items() if k not in self._parse_options}
        self._schema_text = schema
        self._parsed: ParsedSchema | None = None
        # Protobuf imports registered as references on first use (dependencies first,
        # each under its import path, as Confluent's reference subject strategy does)
        self._import_refs: list[Any] = []
        if self._format.name == "protobuf" and schema is not None and (imports or not isinstance(schema, str)):
            from ..formats.protobuf import references_for

            self._import_refs = references_for(schema, imports)
            texts = {ref.name: ref.text for ref in self._import_refs}
            self._parsed = self._format.parse_schema(SchemaSource(schema, texts) if isinstance(schema, str) else schema,
                                                     **self._parse_options)
            if not isinstance(schema, str) and self._parsed.record_name:
                # a generated class names its message: the same one in the schema that
                # use_schema_id / use_latest_version fetch, even when its file has several
                self._parse_options.setdefault("message", self._parsed.record_name)
        elif schema is not None:
            self._parsed = self._parse(schema, self._references)
        self._by_target: dict[tuple[str, bool], tuple[bytes, Any]] = {}
        self._values: dict[Any, tuple[bytes, Any, Any]] = {}  # topic -> its value's _by_target entry, prefix mode
        self._ids: dict[tuple[str, bool], Any] = {}  # confluent-kafka SchemaIds, header/callable modes
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
        return self._strategy(topic, is_key, _record_name(self._parsed))

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
                subject = None
            elif self._use_latest:
                subject = self.subject(topic, is_key)
                if self._latest_metadata is not None:
                    registered = self._registry.latest_with_metadata(subject, self._latest_metadata)
                else:
                    registered = self._registry.latest(subject)
                parsed = self._parse(registered.text, registered.references, registered.schema_type)
                schema_id = registered.id
            else:
                assert parsed is not None
                subject = self.subject(topic, is_key)
                if self._import_refs and not self._references:
                    self._references = self._register_imports(parsed)
                contract = {"metadata": self._metadata, "rule_set": self._rule_set}
                if self._auto_register:
                    schema_id = self._registry.register(subject, format_type, parsed.text, self._references, self._normalize,
                                                        **contract)
                else:
                    schema_id = self._registry.lookup(subject, format_type, parsed.text, self._references, self._normalize,
                                                      **contract).id
                # the registry may have given the schema rules of its own (carried over
                # from the previous version, or from the subject's default rule set)
                registered = self._registry.by_id(int(schema_id))
            rules = not self._ignore_rules and has_write_rules(registered)
            converters = _model_converters(self._format) if rules else None
            codec = self._format.inner if converters is not None else self._format  # type: ignore[attr-defined]
            if _is_top_level_bytes(parsed):
                encoder = _raw_bytes_encoder(parsed)
            else:
                encoder = codec.encoder(parsed, **self._encoder_options)
            if rules:
                # the record's rules run around the codec (as confluent-kafka's serializers,
                # but whatever registered the schema: an unexecuted ENCRYPT rule leaks PII)
                encoder = writing(self._rules, registered, parsed, encoder,
                                  subject=subject if subject is not None else self.subject(topic, is_key),
                                  topic=topic, is_key=is_key, to_dict=converters[0] if converters else None)
            if self._id_mode == "prefix":
                entry = (_wire.prefix(int(schema_id)) + parsed.frame_suffix, encoder)
            else:
                entry = (b"", encoder)
                self._ids[(topic, is_key)] = self._schema_id_of(topic, is_key, registered, int(schema_id), parsed)
            self._by_target[(topic, is_key)] = entry
            return entry

    def _schema_id_of(self, topic: str, is_key: bool, registered: RegisteredSchema, schema_id: int, parsed: ParsedSchema) -> Any:
        """confluent-kafka's ``SchemaId`` for the header and callable id serializers."""
        from confluent_kafka.schema_registry.common.serde import SchemaId

        guid = registered.guid
        if guid is None:
            # fetched by id, which does not say the GUID: the subject's version does
            subject = self.subject(topic, is_key)
            guid = self._registry.lookup(subject, registered.schema_type, registered.text, registered.references).guid
            if guid is None and self._id_mode == "header":
                raise ConfigError(f"schema_id_serializer='header' writes the schema's GUID, which registry {self._registry.url} did not give for schema id {schema_id}")
        indexes = list(getattr(parsed, "message_indexes", None) or [0]) if parsed.schema_type == "PROTOBUF" else None
        return SchemaId(parsed.schema_type or "AVRO", schema_id, str(guid) if guid is not None else None, indexes)

    def _write_id(self, payload: bytes, ctx: Any) -> bytes:
        """The header or callable schema id serializer: the payload, its id elsewhere."""
        schema_id = self._ids[(ctx.topic, _is_key(ctx))]
        if self._id_mode == "callable":
            return self._id_callable(payload, ctx, schema_id)  # type: ignore[no-any-return, misc]
        headers = getattr(ctx, "headers", None)
        name = _wire.KEY_SCHEMA_ID_HEADER if _is_key(ctx) else _wire.VALUE_SCHEMA_ID_HEADER
        value = schema_id.guid_to_bytes()
        if isinstance(headers, list):
            headers.append((name, value))
        elif isinstance(headers, dict):
            headers[name] = value
        else:
            raise ConfigError(
                f"schema_id_serializer='header' adds a {name} header, so the SerializationContext needs headers "
                f"(a list or a dict; with a producer, pass headers=[] to produce()), not {type(headers).__name__}"
            )
        return payload

    def __call__(self, obj: Any, ctx: Any = None) -> bytes | None:
        # the commonest case first: the value of a topic written before, its id in front
        try:
            found = self._values.get(ctx.topic) if ctx.field == "value" else None
        except AttributeError:  # no context, or one without a topic or field
            found = None
        if found is not None:
            if type(obj) in found[2]:  # a message its codec writes as it is (Protobuf)
                try:
                    return found[0] + obj.SerializeToString()  # type: ignore[no-any-return]
                except Exception:  # noqa: BLE001, S110 - the encoder below says what is wrong, in serde's words
                    pass
            if obj is not None:
                try:
                    return found[0] + found[1](obj)  # type: ignore[no-any-return]
                except SerdeError as exc:
                    raise _as_serialization_error(exc) from exc.__cause__
        if obj is None:  # a tombstone stays a Kafka null, as in confluent-kafka and Java
            return None
        topic = getattr(ctx, "topic", None)
        try:
            found = self._by_target.get((topic, _is_key(ctx)))
            prefix, encode = found if found is not None else self._resolve(ctx)
            if self._id_mode == "prefix":
                if getattr(ctx, "field", None) == "value":
                    # the encoder's message types (a set it grows) let the line above skip it
                    self._values[topic] = (prefix, encode, getattr(encode, "message_types", frozenset()))
                return prefix + encode(obj)  # type: ignore[no-any-return]
            return self._write_id(encode(obj), ctx)
        except SerdeError as exc:
            raise _as_serialization_error(exc) from exc.__cause__

    def serialize_many(self, records: Iterable[Any], ctx: Any) -> list[bytes | None]:
        """Serialize many records for one topic; an error names the record's position.
        With the header id serializer, ``ctx.headers`` receives one header per record."""
        try:
            prefix, encode = self._resolve(ctx)
        except SerdeError as exc:
            raise _as_serialization_error(exc) from exc.__cause__
        out: list[bytes | None] = []
        for position, record in enumerate(records):
            if record is None:
                out.append(None)
                continue
            try:
                out.append(prefix + encode(record) if self._id_mode == "prefix" else self._write_id(encode(record), ctx))
            except SerdeError as exc:
                raise _as_serialization_error(exc.at(f"record {position}")) from exc.__cause__
        return out


def _encoder_failed(exc: BaseException) -> NoReturn:
    """What Serializer.__call__ raises for an error of its encoder (the C call's way out)."""
    if isinstance(exc, SerdeError):
        raise _as_serialization_error(exc) from exc.__cause__
    raise exc


try:  # the commonest call in C where it was built (serde/serializers/_call.c); same results
    from ._call import ValueCall
except ImportError:  # built without a C compiler: the Python __call__ alone
    pass
else:
    Serializer.__call__ = ValueCall(Serializer.__call__, _encoder_failed)  # type: ignore[method-assign]


class Deserializer:
    """Read Confluent-framed bytes, fetching the writer schema by id (cached).
    Build it with :func:`serde.deserializer`."""

    def __init__(
        self,
        format: str | Format,
        registry: Any = None,
        *,
        reader_schema: Any = None,
        reader_references: Iterable[Any] = (),
        return_schema: bool = False,
        validate: bool = True,
        use_latest_version: bool = False,
        use_latest_with_metadata: Mapping[str, str] | None = None,
        subject_name_strategy: Any = "associated",
        subject_name_strategy_kafka_cluster_id: str | None = None,
        subject_name_strategy_fallback_type: str | None = None,
        ignore_rules: bool = False,
        rule_conf: Mapping[str, Any] | None = None,
        rule_executors: Mapping[str, Any] | None = None,
        rule_overrides: Mapping[str, RuleOverride | Mapping[str, Any]] | None = None,
        rule_actions: Mapping[str, Any] | None = None,
        model: Any = None,
        **format_options: Any,
    ) -> None:
        self._format = get_format(format) if isinstance(format, str) else format
        self._rule_options = {"rule_conf": rule_conf, "executors": rule_executors, "overrides": rule_overrides,
                              "actions": rule_actions}
        self._rules_obj: Rules | None = None
        if model is not None:  # instances out, read with the model's schema as the reader schema
            from ..models._api import bind

            self._format, derived = bind(self._format, model)
            if reader_schema is None and not use_latest_version and use_latest_with_metadata is None:
                reader_schema = derived
        _check_options(self._format, format_options, {"return_schema": return_schema, "validate": validate,
                                                      "use_latest_version": use_latest_version, "ignore_rules": ignore_rules})
        if use_latest_with_metadata is not None and not isinstance(use_latest_with_metadata, Mapping):
            raise ConfigError(f"use_latest_with_metadata must be a dict of metadata properties, not {use_latest_with_metadata!r}")
        reader_schema = _schema_text(reader_schema)
        self._registry_arg = registry
        self._registry_obj: Registry | None = None
        self._return_schema = return_schema
        self._ignore_rules = ignore_rules
        self._use_latest = use_latest_version or use_latest_with_metadata is not None
        self._latest_metadata = dict(use_latest_with_metadata) if use_latest_with_metadata is not None else None
        if self._use_latest and reader_schema is not None:
            raise ConfigError("use_latest_version reads with the subject's latest schema; give no reader_schema with it")
        self._strategy_options = (subject_name_strategy, subject_name_strategy_kafka_cluster_id, subject_name_strategy_fallback_type)
        self._strategy: Any = None
        self._decoder_options = dict(format_options, validate=validate) if self._format.name == "json" else dict(format_options)
        # CSV cell syntax is part of the parsed schema, not of the decoder
        self._parse_options = {k: self._decoder_options.pop(k) for k in ("delimiter", "null_marker", "quotechar",
                                                                         "validate_formats")
                               if k in self._decoder_options}
        self._reader: ParsedSchema | None = None
        self._message_class: Any = None
        message = format_options.get("message")
        if self._format.name == "protobuf" and message is not None and not isinstance(message, str):
            # a generated class: confluent-kafka's ProtobufDeserializer(message_type) reads
            # every payload as that class and returns its instances, registry or not
            self._reader = self._format.parse_schema(message)
            self._message_class = message
            self._decoder_options.pop("message", None)
        elif reader_schema is not None:
            if not isinstance(reader_schema, str):
                raise ConfigError(f"reader_schema must be schema text (or, for Avro and JSON, a dict), not {type(reader_schema).__name__}")
            refs = tuple(as_reference(r) for r in reader_references)
            resolved = self._registry.resolve_references(refs) if refs else {}
            formats = {k: v for k, v in self._parse_options.items() if k == "validate_formats"}
            self._reader = self._format.parse_schema(SchemaSource(reader_schema, resolved), **formats)
        # Without the writer schema: a JSON document read with the schema given (as
        # confluent-kafka's JSONDeserializer with a schema), a Protobuf payload with the
        # class given. The registry is then never asked, so none is needed.
        self._static: Any = None
        if self._reader is not None and not return_schema and not self._use_latest:
            if self._format.name == "json":
                self._static = self._format.decoder(self._reader, None, **self._decoder_options)
            elif self._message_class is not None:
                self._static = self._class_decoder(self._message_class)
        # with a registry given (or $SERDE_REGISTRY), the static path still checks each
        # writer schema's rules once; with none, there is nothing to ask
        self._check_static_rules = registry is not None or bool(os.environ.get(DEFAULT_REGISTRY_ENV))
        self._static_checked: dict[Any, Any] = {}  # writer id -> the static decoder, with its rules
        self._by_id: dict[Any, tuple[ParsedSchema, Any, RegisteredSchema]] = {}
        # frames seen before (b"\x00" + schema id, and for Protobuf the [0] index byte)
        # -> their decoder: bytes without headers go straight to it (see __call__)
        self._frames: dict[bytes, Any] = {}
        self._frame_length = 6 if self._format.schema_type == "PROTOBUF" else 5
        self._latest_by_target: dict[tuple[str, bool], tuple[str, RegisteredSchema, ParsedSchema]] = {}
        self._lock = threading.Lock()

    @property
    def _registry(self) -> Registry:
        # opened on first use: a deserializer that never needs a writer schema (see
        # _static) works without one, and does not create the embedded default's file
        if self._registry_obj is None:
            self._registry_obj = open_registry(self._registry_arg)
        return self._registry_obj

    def _class_decoder(self, message_class: Any) -> Any:
        from google.protobuf.message import DecodeError as PbDecodeError

        from_string = message_class.FromString
        name = getattr(getattr(message_class, "DESCRIPTOR", None), "full_name", getattr(message_class, "__name__", "message"))

        def decode_instance(data: bytes) -> Any:
            try:
                return from_string(bytes(data))
            except (PbDecodeError, RuntimeError, ValueError, TypeError) as exc:
                raise DecodeError(f"invalid Protobuf data for message {name}: {exc or type(exc).__name__}") from exc

        return decode_instance

    def _latest(self, ctx: Any, writer: RegisteredSchema) -> tuple[str, RegisteredSchema, ParsedSchema]:
        """(subject, latest registered, parsed) for use_latest_version, per topic and field."""
        topic, is_key = _topic(ctx), _is_key(ctx)
        found = self._latest_by_target.get((topic, is_key))
        if found is None:
            subject = self._subject(ctx, self._parse_writer(writer).record_name)
            if self._latest_metadata is not None:
                registered = self._registry.latest_with_metadata(subject, self._latest_metadata)
            else:
                registered = self._registry.latest(subject)
            found = (subject, registered, self._parse_writer(registered))
            self._latest_by_target[(topic, is_key)] = found
        return found

    def _parse_writer(self, registered: RegisteredSchema) -> ParsedSchema:
        expected = self._format.schema_type
        if expected and registered.schema_type != expected:
            raise DecodeError(
                f"schema id {registered.id} holds a {registered.schema_type} schema, which the {self._format.name} deserializer cannot read"
            )
        resolved = self._registry.resolve_references(registered.references) if registered.references else {}
        options = dict(self._parse_options)
        if self._format.name == "csv":
            options["record_type"] = registered.schema_type
        return self._format.parse_schema(SchemaSource(registered.text, resolved), **options)

    def _writer(self, schema_id: Any, ctx: Any = None) -> tuple[ParsedSchema, Any, RegisteredSchema]:
        with self._lock:
            registered = self._registry.by_id(schema_id)
            key = self._writer_key(schema_id, ctx, registered)
            found = self._by_id.get(key)
            if found is not None:
                return found
            parsed = self._parse_writer(registered)
            reader = self._reader
            latest = None
            if self._use_latest:
                subject, latest, reader = self._latest(ctx, registered)
            if self._message_class is not None:
                decoder = self._class_decoder(self._message_class)
            elif _is_top_level_bytes(parsed):
                decoder = _raw_bytes_decoder(parsed)
            else:
                decoder = None
            if not self._ignore_rules and (has_read_rules(registered) or latest is not None):
                decoder = self._with_rules(decoder, registered, parsed, reader, latest, ctx)
            elif decoder is None:
                decoder = self._format.decoder(parsed, reader, **self._decoder_options)
            found = self._by_id[key] = (parsed, decoder, registered)
            return found

    @property
    def _rules(self) -> Rules:
        if self._rules_obj is None:
            self._rules_obj = Rules(self._registry, **self._rule_options)
        return self._rules_obj

    def _subject(self, ctx: Any, record_name: str | None) -> str:
        if self._strategy is None:
            name, cluster, fallback = self._strategy_options
            self._strategy = resolve_strategy(name, registry=self._registry, kafka_cluster_id=cluster, fallback=fallback)
        return self._strategy(_topic(ctx), _is_key(ctx), record_name)  # type: ignore[no-any-return]

    def _with_rules(self, decoder: Any, writer: RegisteredSchema, parsed: ParsedSchema, reader: ParsedSchema | None,
                    latest: RegisteredSchema | None, ctx: Any) -> Any:
        # ``decoder``: a fixed one (a generated Protobuf class, raw bytes), else None and
        # the format's is built here, with or without the reader as migrations need
        """The decoder with the rules around it, or the plain one when none apply: the
        writer's encoding rules, the migrations to the latest version, the reader's
        domain rules."""
        target = latest if latest is not None else writer
        steps = []
        subject = self._subject(ctx, parsed.record_name)
        if latest is not None and latest.id != writer.id:
            steps = migrations(self._registry, subject, writer, latest)
        if not steps and not has_read_rules(target) and not has_read_rules(writer):
            return decoder if decoder is not None else self._format.decoder(parsed, reader, **self._decoder_options)
        converters = _model_converters(self._format)
        codec = self._format.inner if converters is not None else self._format  # type: ignore[attr-defined]
        if decoder is None:
            # migrations work on the record as the writer wrote it (confluent-kafka's too)
            decoder = codec.decoder(parsed, None if steps else reader, **self._decoder_options)
        return reading(self._rules, writer, parsed, decoder, target=target,
                       target_parsed=reader if reader is not None else parsed, steps=steps, subject=subject,
                       topic=_topic(ctx), is_key=_is_key(ctx), from_dict=converters[1] if converters else None)

    def decode_with_schema(self, data: bytes, ctx: Any = None) -> Decoded:
        """Deserialize and also return the writer schema (id, type, text, references)."""
        try:
            return self._decode_with_schema(data, ctx)
        except SerdeError as exc:
            raise _as_serialization_error(exc) from exc.__cause__

    def _decode_with_schema(self, data: bytes, ctx: Any = None) -> Decoded:
        headers = getattr(ctx, "headers", None) if ctx is not None else None
        is_key = _is_key(ctx)
        schema_id, offset, from_header = _wire.read_frame(data, headers, is_key)
        found = self._by_id.get(schema_id) if not self._use_latest else None
        parsed, decoder, registered = found if found is not None else self._writer(schema_id, ctx)
        if self._format.schema_type == "PROTOBUF":
            source = _wire.schema_id_header(headers, is_key) if from_header else data
            id_length = 5 if source[0] == _wire.MAGIC_V0 else 17  # type: ignore[index]
            indexes, index_end = _wire.decode_message_indexes(source, id_length)  # type: ignore[arg-type]
            if not from_header:
                offset = index_end
            if self._message_class is None:
                decoder = self._protobuf_decoder(schema_id, parsed, indexes, ctx)
        payload = data[offset:] if offset else data
        try:
            # a decoder with rules around it sees the headers (a dead letter's __rule.name)
            value = decoder(payload, headers) if getattr(decoder, "takes_headers", False) else decoder(payload)
        except SerdeError as exc:
            raise exc.at(f"schema id {schema_id}")
        return Decoded(value, registered)

    def _decode_static(self, data: bytes, ctx: Any) -> Any:
        """Skip the frame (prefix, or header) and read the payload with the given schema."""
        headers = getattr(ctx, "headers", None) if ctx is not None else None
        is_key = _is_key(ctx)
        schema_id, offset, from_header = _wire.read_frame(data, headers, is_key)
        if self._format.schema_type == "PROTOBUF" and not from_header:
            _, offset = _wire.decode_message_indexes(data, offset)
        decode = self._static
        if self._check_static_rules and not self._ignore_rules:
            # a registry was given: the writer schema's rules run (as confluent-kafka
            # fetches the writer schema to run them), on the record read with the schema given
            decode = self._static_checked.get(schema_id)
            if decode is None:
                writer = self._registry.by_id(schema_id)
                decode = self._static
                if has_read_rules(writer):
                    assert self._reader is not None
                    decode = reading(self._rules, writer, self._reader, self._static, target=writer,
                                     target_parsed=self._reader, steps=[],
                                     subject=self._subject(ctx, self._reader.record_name), topic=_topic(ctx),
                                     is_key=is_key)
                self._static_checked[schema_id] = decode
        try:
            payload = bytes(data[offset:])
            return decode(payload, headers) if getattr(decode, "takes_headers", False) else decode(payload)
        except SerdeError as exc:
            raise exc.at(f"schema id {schema_id}")

    def _protobuf_decoder(self, schema_id: Any, parsed: ParsedSchema, indexes: list[int], ctx: Any) -> Any:
        writer_key = self._writer_key(schema_id, ctx)
        key = (writer_key, tuple(indexes)) if self._use_latest else (schema_id, tuple(indexes))
        found = self._by_id.get(key)
        if found is None:
            registered = self._by_id[writer_key][2]
            message = parsed.for_message_indexes(indexes)
            reader = self._reader
            latest = None
            if self._use_latest:  # the latest version's message of the same name, as confluent-kafka
                _, latest, latest_parsed = self._latest(ctx, registered)
                reader = _same_message(latest_parsed, message)
            if not self._ignore_rules and (has_read_rules(registered) or latest is not None):
                decoder = self._with_rules(None, registered, message, reader, latest, ctx)
            else:
                decoder = self._format.decoder(message, reader, **self._decoder_options)
            found = self._by_id[key] = (message, decoder, registered)
        return found[1]

    def _writer_key(self, schema_id: Any, ctx: Any, registered: RegisteredSchema | None = None) -> Any:
        """Decoders are cached by writer id; with use_latest_version by (id, subject)."""
        if not self._use_latest:
            return schema_id
        if registered is None:
            registered = self._registry.by_id(schema_id)
        return (schema_id, self._latest(ctx, registered)[0])

    def deserialize_many(self, datas: Iterable[bytes | None], ctx: Any = None) -> list[Any]:
        """Deserialize many messages of one topic; an error names the message's position.
        Records whose id was seen before skip the frame walk; a run of records with one
        frame shares its lookup, and its decoder's batch form where it has one (JSON:
        one validation for the run)."""
        if not self._return_schema and (ctx is None or not getattr(ctx, "headers", None)):
            return self._deserialize_runs(datas if isinstance(datas, list) else list(datas), ctx)
        out: list[Any] = []
        append = out.append
        by_id = self._by_id
        plain = (self._format.schema_type != "PROTOBUF" and self._static is None and not self._use_latest
                 and (ctx is None or not getattr(ctx, "headers", None)))
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
                raise _as_serialization_error(exc.at(f"record {position}")) from exc.__cause__
        return out

    def _deserialize_runs(self, datas: list[Any], ctx: Any) -> list[Any]:
        """deserialize_many without headers or return_schema: runs of frames read before."""
        out: list[Any] = []
        frames, n, by_id = self._frames, self._frame_length, self._by_id
        # errors are located as before: the record's position, or for Protobuf (which
        # went through __call__ record by record) the schema id
        by_position = self._format.schema_type != "PROTOBUF"
        ids = by_position and self._static is None and not self._use_latest
        position, end = 0, len(datas)
        while position < end:
            data = datas[position]
            decode = frames.get(data[:n]) if data.__class__ is bytes else None
            if decode is None and ids and data.__class__ is bytes and len(data) >= 5 and data[0] == 0:
                found = by_id.get(int.from_bytes(data[1:5], "big"))
                if found is not None:
                    decode = frames[data[:5]] = found[1]
            if decode is None:  # None, another type, or a frame not read yet: one by one
                try:
                    out.append(self(data, ctx))
                except SerdeError as exc:
                    raise _as_serialization_error(exc.at(f"record {position}")) from exc.__cause__
                position += 1
                continue
            frame, stop = data[:n], position + 1
            while stop < end and datas[stop].__class__ is bytes and datas[stop].startswith(frame):
                stop += 1
            many = getattr(decode, "many", None)
            values = many([d[n:] for d in datas[position:stop]]) if many is not None and stop - position > 1 else None
            if values is not None:  # None: some record is not plain; each then on its own
                out.extend(values)
                position = stop
                continue
            for position in range(position, stop):
                try:
                    out.append(decode(datas[position][n:]))
                except SerdeError as exc:
                    where = f"record {position}" if by_position else f"schema id {int.from_bytes(frame[1:5], 'big')}"
                    raise _as_serialization_error(exc.at(where)) from exc.__cause__
            position = stop
        return out

    def __call__(self, data: bytes | None, ctx: Any = None) -> Any:
        if data is None:
            return None
        # the commonest case first: bytes whose frame was read before (the inline path
        # below remembers it), no headers (a schema id header would take precedence)
        frames = self._frames
        if frames and data.__class__ is bytes and (ctx is None or not getattr(ctx, "headers", None)):
            n = self._frame_length
            decode = frames.get(data[:n])
            if decode is not None:
                try:
                    return decode(data[n:])
                except SerdeError as exc:
                    exc = exc.at(f"schema id {int.from_bytes(data[1:5], 'big')}")
                    raise _as_serialization_error(exc) from exc.__cause__
        try:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise DecodeError(f"a deserializer takes bytes, not {type(data).__name__}")
            if self._static is not None:
                return self._decode_static(data, ctx)
            if (ctx is None or not getattr(ctx, "headers", None)) and not self._use_latest:
                # the common cases, inlined: a V0 prefix in the value (and, for Protobuf,
                # the one-byte index array of the first message)
                if self._format.schema_type != "PROTOBUF":
                    if len(data) >= 5 and data[0] == 0:
                        found = self._by_id.get(int.from_bytes(data[1:5], "big"))
                        if found is not None:
                            if not self._return_schema and data.__class__ is bytes:
                                frames[data[:5]] = found[1]
                            try:
                                value = found[1](data[5:])
                            except SerdeError as exc:
                                raise exc.at(f"schema id {int.from_bytes(data[1:5], 'big')}")
                            return Decoded(value, found[2]) if self._return_schema else value
                elif len(data) >= 6 and data[0] == 0 and data[5] == 0 and self._message_class is None:
                    found = self._by_id.get((int.from_bytes(data[1:5], "big"), (0,)))
                    if found is not None:
                        if not self._return_schema and data.__class__ is bytes:
                            frames[data[:6]] = found[1]
                        try:
                            value = found[1](data[6:])
                        except SerdeError as exc:
                            raise exc.at(f"schema id {int.from_bytes(data[1:5], 'big')}")
                        return Decoded(value, found[2]) if self._return_schema else value
            decoded = self._decode_with_schema(data, ctx)
            return decoded if self._return_schema else decoded.value
        except SerdeError as exc:
            raise _as_serialization_error(exc) from exc.__cause__


def _same_message(latest: ParsedSchema, writer_message: ParsedSchema) -> ParsedSchema | None:
    """The message of ``latest`` named like ``writer_message`` (else its first message)."""
    name = writer_message.record_name
    try:
        return latest.for_message(name) if name else latest  # type: ignore[attr-defined, no-any-return]
    except SerdeError:
        return latest.for_message_indexes([0])


def serializer(
    format: str | Format,
    schema: Any = None,
    registry: Any = None,
    *,
    references: Iterable[Any] = (),
    auto_register: bool = True,
    use_latest_version: bool = False,
    use_latest_with_metadata: Mapping[str, str] | None = None,
    use_schema_id: int | None = None,
    normalize: bool = False,
    subject_name_strategy: Any = "associated",
    subject_name_strategy_kafka_cluster_id: str | None = None,
    subject_name_strategy_fallback_type: str | None = None,
    schema_id_serializer: Any = "prefix",
    validate: bool = True,
    validate_strict: bool = False,
    validate_strict_allow_default: bool = False,
    ignore_rules: bool = False,
    rule_conf: Mapping[str, Any] | None = None,
    rule_executors: Mapping[str, Any] | None = None,
    rule_overrides: Mapping[str, RuleOverride | Mapping[str, Any]] | None = None,
    rule_actions: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | str | None = None,
    rule_set: Mapping[str, Any] | str | None = None,
    imports: Mapping[str, str] | None = None,
    model: Any = None,
    **format_options: Any,
) -> Serializer:
    """A Kafka serializer for ``format`` (``"avro"``, ``"json"``, ``"protobuf"`` …).

    ``schema`` is the schema text; ``registry`` a URL, a ``SchemaRegistryClient``, an
    :class:`EmbeddedRegistry` or its SQLite path (default: ``$SERDE_REGISTRY`` or
    ``.serde/registry.db``). The options are confluent-kafka's configs in snake_case:
    ``auto_register`` (``auto.register.schemas``), ``use_latest_version``,
    ``use_latest_with_metadata``, ``use_schema_id``, ``normalize``
    (``normalize.schemas``), ``subject_name_strategy`` (``"associated"``, the default as
    in confluent-kafka: the subject the registry associates with the topic, else
    ``subject_name_strategy_fallback_type``, TOPIC unless set; ``"topic"``, ``"record"``,
    ``"topic_record"`` or a callable ``(topic, is_key, record_name)``),
    ``schema_id_serializer`` (``"prefix"`` or ``"header"``: the schema GUID in a
    ``__value_schema_id``/``__key_schema_id`` header), ``validate`` (JSON Schema
    validation), ``validate_strict`` / ``validate_strict_allow_default`` (Avro: records
    must have exactly the schema's fields).

    Data contracts: the rules of the schema written (its ``ruleSet``: CEL, CEL_FIELD,
    JSONATA, ENCRYPT, ENCRYPT_PAYLOAD, or a plug-in's type) run on every record, however
    the schema was chosen. ``rule_conf`` gives the executors their settings (e.g.
    ``{"secret": ...}`` for the local KMS, KMS credentials); ``rule_executors`` adds or
    replaces executors by rule type; ``rule_overrides`` (rule name or type ->
    :class:`serde.contracts.RuleOverride`) disables rules or changes their actions;
    ``rule_actions`` adds onSuccess/onFailure actions by name (``fn(ctx, record, error)``);
    ``ignore_rules=True`` runs none. ``metadata`` and ``rule_set`` (Confluent's JSON, a
    dict or its text) are registered with the schema: its tags, properties and rules.
    Other keywords go
    to the format (e.g. ``message="pkg.Msg"`` for Protobuf). ``imports`` (Protobuf) maps
    import paths to ``.proto`` texts: they are registered as references under their
    import paths on first use; a generated class brings its imports itself. ``model``
    (a dataclass or pydantic model class) derives the schema from the class (unless
    ``schema`` is given) and takes its instances as well as dicts (``serde.models``).
    """
    return Serializer(
        format,
        schema,
        registry,
        references=references,
        auto_register=auto_register,
        use_latest_version=use_latest_version,
        use_latest_with_metadata=use_latest_with_metadata,
        use_schema_id=use_schema_id,
        normalize=normalize,
        subject_name_strategy=subject_name_strategy,
        subject_name_strategy_kafka_cluster_id=subject_name_strategy_kafka_cluster_id,
        subject_name_strategy_fallback_type=subject_name_strategy_fallback_type,
        schema_id_serializer=schema_id_serializer,
        validate=validate,
        validate_strict=validate_strict,
        validate_strict_allow_default=validate_strict_allow_default,
        ignore_rules=ignore_rules,
        rule_conf=rule_conf,
        rule_executors=rule_executors,
        rule_overrides=rule_overrides,
        rule_actions=rule_actions,
        metadata=metadata,
        rule_set=rule_set,
        imports=imports,
        model=model,
        **format_options,
    )


def deserializer(
    format: str | Format,
    registry: Any = None,
    *,
    reader_schema: Any = None,
    reader_references: Iterable[Any] = (),
    return_schema: bool = False,
    validate: bool = True,
    use_latest_version: bool = False,
    use_latest_with_metadata: Mapping[str, str] | None = None,
    subject_name_strategy: Any = "associated",
    subject_name_strategy_kafka_cluster_id: str | None = None,
    subject_name_strategy_fallback_type: str | None = None,
    ignore_rules: bool = False,
    rule_conf: Mapping[str, Any] | None = None,
    rule_executors: Mapping[str, Any] | None = None,
    rule_overrides: Mapping[str, RuleOverride | Mapping[str, Any]] | None = None,
    rule_actions: Mapping[str, Any] | None = None,
    model: Any = None,
    **format_options: Any,
) -> Deserializer:
    """A Kafka deserializer for ``format``: the writer schema is fetched by the id in the
    frame (or the ``__value_schema_id``/``__key_schema_id`` header) and cached.

    ``reader_schema`` resolves Avro data into another schema; for JSON it is the schema
    documents are validated with, and then no registry is needed (as confluent-kafka's
    ``JSONDeserializer`` with a schema). ``message=<generated class>`` (Protobuf) returns
    instances of that class, also without a registry. ``use_latest_version`` (or
    ``use_latest_with_metadata``) reads with the subject's latest schema as the reader
    schema, the subject chosen by ``subject_name_strategy`` as for serializers.
    ``return_schema=True`` makes it return :class:`Decoded` ``(value, schema)`` pairs;
    ``validate`` switches JSON Schema validation on read. The writer schema's encoding
    rules, the migrations between the writer's version and the latest (JSONATA
    UPGRADE/DOWNGRADE rules, with ``use_latest_version``), and the reader schema's READ
    domain rules run on every record; ``rule_conf``, ``rule_executors``,
    ``rule_overrides``, ``rule_actions`` and ``ignore_rules`` as for :func:`serializer`. ``model`` (a dataclass or pydantic model class) returns its
    instances, reading with the model's schema as the reader schema (unless one is
    given): Avro resolves an evolved writer schema into it, JSON validates against it,
    Protobuf matches fields by number.
    """
    return Deserializer(
        format,
        registry,
        reader_schema=reader_schema,
        reader_references=reader_references,
        return_schema=return_schema,
        validate=validate,
        use_latest_version=use_latest_version,
        use_latest_with_metadata=use_latest_with_metadata,
        subject_name_strategy=subject_name_strategy,
        subject_name_strategy_kafka_cluster_id=subject_name_strategy_kafka_cluster_id,
        subject_name_strategy_fallback_type=subject_name_strategy_fallback_type,
        ignore_rules=ignore_rules,
        rule_conf=rule_conf,
        rule_executors=rule_executors,
        rule_overrides=rule_overrides,
        rule_actions=rule_actions,
        model=model,
        **format_options,
    )
