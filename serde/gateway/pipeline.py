"""The gateway's conversion step, free of Kafka: a source record in, one record out.

:meth:`Pipeline.process` turns a :class:`SourceRecord` (bytes, headers, timestamp and
where it came from) into exactly one :class:`OutputRecord`: the converted record for the
route's target topic, or, when the record cannot be converted, a dead-letter record with
the original key, value, headers and timestamp plus Kafka Connect's ``__connect.errors.*``
headers. With ``errors = "fail"`` the error is raised instead. Transient registry
failures (no answer, HTTP 5xx) are raised too, whatever the policy, so the caller can
retry the same record: they say nothing about the record.

Each record goes decode → coerce → encode, separately for key and value:

* decode: registry formats by the writer schema id in the frame (cached per id, so a new
  writer schema on the source topic is picked up without a restart); csv and binary with
  the schema of the route;
* coerce: :func:`serde.convert.coercer` of the target schema (ISO text → datetime, names
  → enums, text → Decimal ...);
* encode: registry formats register the target schema once (or use the subject's) and
  cache the framed prefix; a derived target is translated from each new writer schema
  once and cached by its id.

Per-record work is dict lookups and the codecs; everything else happens once.
"""
from __future__ import annotations

import copy
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from .._errors import RegistryError, RuleError, SerdeError
from .._types import SchemaSource
from ..formats import ParsedSchema, get_format
from ..contracts._wrap import has_read_rules, has_write_rules
from .config import GatewayConfig, RouteConfig, SideSpec

__all__ = [
    "ERROR_HEADER_PREFIX",
    "OutputRecord",
    "Pipeline",
    "Route",
    "SourceRecord",
    "coercer",
    "is_transient",
]

log = logging.getLogger("serde.gateway")

ERROR_HEADER_PREFIX = "__connect.errors."
STAGE_KEY = "KEY_CONVERTER"
STAGE_VALUE = "VALUE_CONVERTER"
STAGE_TRANSFORM = "TRANSFORMATION"
_SCHEMA_ID_HEADERS = {"key": "__key_schema_id", "value": "__value_schema_id"}

Headers = Sequence[tuple[str, "bytes | None"]]


@dataclass(frozen=True, slots=True)
class SourceRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers | None = None
    timestamp: int | None = None  # milliseconds since the epoch; None when the broker has none


@dataclass(frozen=True, slots=True)
class OutputRecord:
    """What to produce. ``error`` is set for dead-letter records."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]] | None
    timestamp: int | None
    partition: int | None = None  # None: leave it to the partitioner
    error: BaseException | None = None
    stage: str | None = None  # dead letters: KEY_CONVERTER, VALUE_CONVERTER or TRANSFORMATION
    route: str | None = None

    @property
    def dead_letter(self) -> bool:
        return self.error is not None


def is_transient(exc: BaseException) -> bool:
    """True for failures that are not the record's fault: a registry that did not answer
    or answered 5xx/429. The caller retries the record instead of dead-lettering it."""
    if isinstance(exc, RegistryError):
        return exc.status == -1 and exc.code == -1 or exc.status >= 500 or exc.status == 429
    return False


class _Ctx:
    """The bit of ``SerializationContext`` serde's serializers read."""

    __slots__ = ("topic", "field", "headers")

    def __init__(self, topic: str, field: str, headers: Any = None) -> None:
        self.topic = topic
        self.field = field
        self.headers = headers


class _StageError(Exception):
    def __init__(self, stage: str, class_name: str, error: BaseException) -> None:
        super().__init__(str(error))
        self.stage = stage
        self.class_name = class_name
        self.error = error


def coercer(target: ParsedSchema) -> Callable[[Any], Any]:
    """A one-argument converter of decoded values into ``target``'s Python types."""
    try:
        from ..convert import coercer as public_coercer  # type: ignore[attr-defined]
    except ImportError:
        public_coercer = None
    if public_coercer is not None:
        return public_coercer(target)  # type: ignore[no-any-return]
    from .. import _coerce
    from ..conversion._api import model_of

    model = model_of(target)
    if model is None:  # schemaless: the encoder takes what it gets
        return _identity
    fields = getattr(model, "fields", None)
    if getattr(target, "schema_type", None) is None and getattr(target, "kind", None) and fields and len(fields) == 1:
        model = fields[0].type  # a binary primitive: its model wraps the scalar in a one-field record
    build = _coerce.build(model)
    return lambda value: build(value, "$")


def _json_native(value: Any) -> Any:
    import orjson

    from ..formats.jsonschema import _default

    return orjson.loads(orjson.dumps(value, default=_default))


def _identity(value: Any) -> Any:
    return value


def _derive(source_type: str, text: str, target_type: str, references: Any = None) -> str:
    if source_type == target_type:
        return text
    from ..translate import derive

    derived = derive(source_type, text, target_type, references or None)
    return derived if isinstance(derived, str) else str(getattr(derived, "text", derived))


def _class_name(obj: Any) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


# -- the source side ----------------------------------------------------------------
SchemaKey = Any  # identifies the writer schema a value was read with (for derived targets)


class _Source:
    """Decodes one side of a source topic. ``decode`` returns (value, schema_key); the
    schema key feeds derived targets through :meth:`schema_of`."""

    def __init__(self, spec: SideSpec, part: str, registry: Any, rule_conf: Mapping[str, Any] | None = None) -> None:
        self.spec = spec
        self.part = part
        self.format = get_format(spec.format)
        self.class_name = _class_name(self.format)
        self._static: tuple[str, str] | None = None  # (schema type, text) for csv
        self._deserializer: Any = None
        self._decode: Callable[[bytes], Any] | None = None
        self._registry = registry
        if spec.registry_type is not None:
            from ..serializers import Deserializer

            # the writer schema's rules run on read (decrypting tagged fields, READ conditions)
            self._deserializer = Deserializer(self.format, registry, return_schema=True, rule_conf=rule_conf)
        elif spec.format == "binary":
            self._decode = self.format.decoder(self.format.parse_schema(spec.type or "bytes"))
        else:
            schema_type, text = _record_schema(spec, registry)
            self._static = (schema_type, text)
            options = {"record_type": schema_type}
            if spec.message:
                options["message"] = spec.message
            self._decode = self.format.decoder(self.format.parse_schema(SchemaSource(text), **options))

    def decode(self, data: bytes, topic: str, headers: Any) -> tuple[Any, SchemaKey]:
        if self._decode is not None:
            return self._decode(data), None
        decoded = self._deserializer.decode_with_schema(data, _Ctx(topic, self.part, headers))
        return decoded.value, decoded.schema

    def fast_decoder(self, topic: str) -> tuple[Callable[[bytes], Any], bool]:
        """(decode, with_schema) for records without headers: ``decode(data)`` returns the
        value, or ``(value, schema_key)`` when ``with_schema``. Same results as
        :meth:`decode`, minus its per-call context; errors are raised as they come."""
        if self._decode is not None:
            return self._decode, False
        deserializer = self._deserializer
        ctx = _Ctx(topic, self.part)
        slow = deserializer.decode_with_schema
        by_id = getattr(deserializer, "_by_id", None)
        if by_id is None or self.format.schema_type == "PROTOBUF":
            def decode(data: bytes) -> tuple[Any, SchemaKey]:
                decoded = slow(data, ctx)
                return decoded.value, decoded.schema

            return decode, True
        from_bytes = int.from_bytes

        def decode_framed(data: bytes) -> tuple[Any, SchemaKey]:
            # the usual case inlined: a V0 frame whose writer schema is cached
            found = by_id.get(from_bytes(data[1:5], "big")) if data[:1] == b"\x00" and len(data) >= 5 else None
            if found is not None:
                return found[1](data[5:]), found[2]
            decoded = slow(data, ctx)
            return decoded.value, decoded.schema

        return decode_framed, True

    def schema_of(self, key: SchemaKey) -> tuple[str, str, dict[str, str]]:
        """(schema type, text, referenced texts) of the schema a value was read with."""
        if self._static is not None:
            return self._static[0], self._static[1], {}
        if key is None:
            raise SerdeError(f"{self.spec.where}: a {self.spec.format} source has no record schema to derive from")
        refs = self._registry.resolve_references(key.references) if key.references else {}
        return key.schema_type, key.text, refs


def _avro_json_transcoder(writer: tuple[str, str, dict[str, str]], prefix: bytes) -> Callable[[bytes], bytes | None] | None:
    """The C transcoder from a framed Avro record to the framed JSON derived from its
    writer schema, when it was built and takes this schema (gateway._transcode)."""
    from . import _transcode

    if not _transcode.available():
        return None
    program = _transcode.avro_json_program(get_format("avro").parse_schema(SchemaSource(writer[1], writer[2])))
    return None if program is None else _transcode.avro_to_json(program, prefix)


def _csv_avro_transcoder(csv_side: tuple[str, str], target: ParsedSchema, prefix: bytes) -> Callable[[bytes], bytes | None] | None:
    """The C transcoder from a CSV row to the framed Avro record of the same record
    schema, when it was built and takes this schema (gateway._transcode)."""
    from . import _transcode

    if not _transcode.available() or csv_side[0] != "AVRO":
        return None
    csv_schema = get_format("csv").parse_schema(SchemaSource(csv_side[1]), record_type="AVRO")
    program = _transcode.csv_avro_program(csv_schema, target)
    return None if program is None else _transcode.csv_to_avro(program, prefix)


def _record_schema(spec: SideSpec, registry: Any) -> tuple[str, str]:
    """(schema type, text) of a csv side's record schema: given, or from its subject."""
    if spec.schema is not None:
        assert spec.schema_type is not None
        return spec.schema_type, spec.schema
    assert spec.subject is not None
    found = registry.version(spec.subject, spec.version) if spec.version else registry.latest(spec.subject)
    return found.schema_type, found.text


# -- the target side ----------------------------------------------------------------
class _Encoding:
    """One target schema: coerce then encode (framed, for registry formats). ``native``,
    when set, goes from the framed source bytes straight to the framed target bytes
    (gateway._transcode), or answers None for a record it leaves to coerce + encode."""

    __slots__ = ("coerce", "encode", "schema", "native")

    def __init__(self, coerce: Callable[[Any], Any], encode: Callable[[Any], bytes], schema: ParsedSchema,
                 native: Callable[[bytes], bytes | None] | None = None) -> None:
        self.coerce = coerce
        self.encode = encode
        self.schema = schema
        self.native = native


class _Target:
    def __init__(self, spec: SideSpec, part: str, topic: str, registry: Any, source: _Source | None,
                 rule_conf: Mapping[str, Any] | None = None) -> None:
        self.spec = spec
        self._rule_conf = rule_conf
        self.part = part
        self.topic = topic
        self.format = get_format(spec.format)
        self.class_name = _class_name(self.format)
        self._registry = registry
        self._source = source
        self._fixed: _Encoding | None = None
        self._derived: dict[Any, _Encoding] = {}
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Resolve (and register) a fixed target schema now, so registry problems show
        at start and the schema is registered once."""
        if not self.spec.derive:
            self._fixed = self._build(None)
        elif self._source is not None and self._source._static is not None:
            self._fixed = self._build(self._source.schema_of(None))

    def encoding(self, schema_key: SchemaKey) -> _Encoding:
        if self._fixed is not None:
            return self._fixed
        if not self.spec.derive or self._source is None or self._source._static is not None:
            with self._lock:
                if self._fixed is None:
                    self.prepare()
            assert self._fixed is not None
            return self._fixed
        cache_key = getattr(schema_key, "id", schema_key)
        found = self._derived.get(cache_key)
        if found is None:
            assert self._source is not None
            with self._lock:
                found = self._derived.get(cache_key)
                if found is None:
                    writer_rules = schema_key is not None and not isinstance(schema_key, str) and has_read_rules(schema_key)
                    found = self._derived[cache_key] = self._build((*self._source.schema_of(schema_key), writer_rules))
                    log.info("%s: derived the target schema from writer schema %s", self.spec.where, cache_key)
        return found

    def _build(self, derived_from: tuple[Any, ...] | None) -> _Encoding:
        # derived_from: (schema type, text, referenced texts[, whether the writer has read rules])
        writer_rules = bool(derived_from is not None and len(derived_from) > 3 and derived_from[3])
        derived_from = derived_from[:3] if derived_from is not None else None  # type: ignore[assignment]
        spec, fmt = self.spec, self.format
        if spec.format == "binary":
            parsed = fmt.parse_schema(spec.type or "bytes")
            return _Encoding(coercer(parsed), fmt.encoder(parsed), parsed)
        if spec.format == "csv":
            if derived_from is not None:
                schema_type, text, _refs = derived_from
            else:
                schema_type, text = _record_schema(spec, self._registry)
            options: dict[str, Any] = {"record_type": schema_type}
            if spec.message:
                options["message"] = spec.message
            parsed = fmt.parse_schema(SchemaSource(text), **options)
            return _Encoding(coercer(parsed), fmt.encoder(parsed), parsed)
        # a registry format: frame with the registered id
        from ..serializers import Serializer

        assert spec.registry_type is not None
        extra: dict[str, Any] = {"message": spec.message} if spec.message else {}
        extra["rule_conf"] = self._rule_conf
        contract = {"rule_set": spec.rule_set, "metadata": spec.metadata}
        strategy: Any = "topic"
        if spec.subject is not None:
            subject = spec.subject
            strategy = lambda topic, is_key, record_name: subject  # noqa: E731
        if derived_from is not None:
            text = _derive(derived_from[0], derived_from[1], spec.registry_type, derived_from[2])
            # A JSON Schema derived from the writer schema describes exactly what values read
            # with that schema become, so validating each record again would only cost time
            # (half the JSON encode on the Avro -> JSON route); tests/translate prove the mapping.
            if spec.format == "json" and derived_from[0] in ("AVRO", "PROTOBUF"):
                extra["validate"] = False
                # and NaN (written as null by orjson) can only come from a float field
                extra["check_nan"] = bool(derived_from[2]) or any(
                    word in derived_from[1] for word in ("double", "float", "Struct", "Value", "google.protobuf"))
            serializer = Serializer(fmt, text, self._registry, auto_register=spec.auto_register,
                                    subject_name_strategy=strategy, **contract, **extra)
        elif spec.schema is not None:
            serializer = Serializer(fmt, spec.schema, self._registry, auto_register=spec.auto_register,
                                    subject_name_strategy=strategy, **contract, **extra)
        else:
            assert spec.subject is not None
            found = self._registry.version(spec.subject, spec.version) if spec.version else self._registry.latest(spec.subject)
            if found.schema_type != spec.registry_type:
                raise SerdeError(f"{spec.where}subject: subject {spec.subject!r} holds a {found.schema_type} schema, not {spec.registry_type}")
            serializer = Serializer(fmt, found.text, self._registry, references=found.references,
                                    use_schema_id=found.id, auto_register=False, **extra)
        ctx = _Ctx(self.topic, self.part)
        schema_id = serializer.prepare(self.topic, self.part == "key")  # registers (or looks up) now, once; raises early
        # rules on either side (the target schema's, or the writer schema's it derives from)
        rules = writer_rules or has_write_rules(self._registry.by_id(schema_id))
        parsed = serializer.schema
        assert parsed is not None
        resolve = getattr(serializer, "_resolve", None)
        cached = resolve(ctx) if resolve is not None else None
        if cached is not None:
            # the framed prefix and the encoder the serializer caches for this topic:
            # what serializer(value, ctx) does, without its per-call lookups
            prefix, raw_encode = cached

            def encode(value: Any) -> bytes:
                return prefix + raw_encode(value)  # type: ignore[no-any-return]
        else:
            def encode(value: Any) -> bytes:
                return serializer(value, ctx)  # type: ignore[return-value]

        if spec.format == "json":
            # The JSON Schema validator judges Python values (Decimal, datetime) by their
            # Python type, not by the JSON text written; on a refusal, validate the JSON form.
            # Rules change the record in place, so with rules the first try gets a copy and
            # the second the untouched record; a rule's own refusal is final.
            plain = encode

            def encode(value: Any) -> bytes:
                try:
                    return plain(copy.deepcopy(value) if rules else value)
                except RuleError:
                    raise
                except (SerdeError, ValueError):
                    return plain(_json_native(value))

        native = None
        if rules:
            pass  # the byte-to-byte transcoders know nothing of rules: records take the Python path
        elif (cached is not None and derived_from is not None and derived_from[0] == "AVRO" and spec.format == "json"
                and self._source is not None and self._source.spec.format == "avro"):
            # framed Avro records only: a CSV source typed by an Avro schema derives from
            # "AVRO" too, but its bytes are CSV rows
            native = _avro_json_transcoder(derived_from, cached[0])
        elif (cached is not None and spec.format == "avro" and self._source is not None
              and self._source.spec.format == "csv" and self._source._static is not None
              and self._same_types(derived_from)):
            native = _csv_avro_transcoder(self._source._static, parsed, cached[0])
        return _Encoding(_identity if self._same_types(derived_from) else coercer(parsed), encode, parsed, native)

    def _same_types(self, derived_from: tuple[str, str, dict[str, str]] | None) -> bool:
        """True when decoded source values already have the target's Python types, so the
        coercion step (about half the per-record cost on a nested record) is skipped:
        the target is the source's own schema, or a JSON Schema derived from it (the JSON
        encoder validates what it writes anyway)."""
        spec, source = self.spec, self._source
        if source is None or source.spec.format == "binary":
            return False
        if derived_from is not None:
            return spec.format == "json" or _derive(derived_from[0], derived_from[1], spec.registry_type or "",
                                                    derived_from[2]) == derived_from[1]
        static = source._static
        return (static is not None and spec.schema is not None and spec.registry_type == static[0]
                and spec.schema.strip() == static[1].strip())


# -- a route ------------------------------------------------------------------------
class Route:
    """One configured route: converts records of its source topics to its target."""

    def __init__(self, config: RouteConfig, registry: Any, rule_conf: Mapping[str, Any] | None = None) -> None:
        self.config = config
        self.name = config.name
        self.target_topic = config.target_topic
        self.dead_letter_topic = config.dead_letter_topic
        self.fail_fast = config.errors == "fail"
        self._key_source = (_Source(config.source_key, "key", registry, rule_conf)
                            if config.target_key and config.source_key else None)
        self._value_source = (_Source(config.source_value, "value", registry, rule_conf)
                              if config.target_value and config.source_value else None)
        self._key_target = (
            _Target(config.target_key, "key", config.target_topic, registry, self._key_source, rule_conf)
            if config.target_key else None
        )
        self._value_target = (
            _Target(config.target_value, "value", config.target_topic, registry, self._value_source, rule_conf)
            if config.target_value
            else None
        )
        dropped = set()
        if self._key_target is not None:
            dropped.add(_SCHEMA_ID_HEADERS["key"])
        if self._value_target is not None:
            dropped.add(_SCHEMA_ID_HEADERS["value"])
        self._dropped_headers = frozenset(dropped)

    def prepare(self) -> None:
        for target in (self._key_target, self._value_target):
            if target is not None:
                target.prepare()

    def fast_sides(self, topic: str) -> tuple[Callable[[Any], Any] | None, Callable[[Any], Any] | None]:
        """(key converter, value converter) for this route's records of ``topic`` that carry
        no headers: bytes in, bytes out, None for a side that passes through unchanged. On
        the happy path they give what :meth:`process` gives; any exception means "take
        :meth:`process` for this record" (which applies the error policy, retries, dead
        letters): they have no side effects a second attempt would repeat."""
        return (_fast_side(self._key_source, self._key_target, topic),
                _fast_side(self._value_source, self._value_target, topic))

    def _convert(self, data: bytes | None, source: _Source | None, target: _Target | None, record: SourceRecord,
                 stage: str) -> bytes | None:
        if data is None or target is None or source is None:
            return data  # tombstones stay tombstones; unconverted sides pass through as bytes
        try:
            value, schema_key = source.decode(data, record.topic, record.headers)
        except Exception as exc:  # noqa: BLE001 - any decode failure is the record's
            raise _StageError(stage, source.class_name, exc) from exc
        try:
            encoding = target.encoding(schema_key)
        except Exception as exc:  # noqa: BLE001 - e.g. a writer schema that cannot be translated
            raise _StageError(stage, target.class_name, exc) from exc
        try:
            value = encoding.coerce(value)
        except Exception as exc:  # noqa: BLE001
            raise _StageError(STAGE_TRANSFORM, "serde.convert.coercer", exc) from exc
        if value is None:
            return None
        try:
            return encoding.encode(value)
        except Exception as exc:  # noqa: BLE001
            raise _StageError(stage, target.class_name, exc) from exc

    def process(self, record: SourceRecord) -> OutputRecord:
        try:
            key = self._convert(record.key, self._key_source, self._key_target, record, STAGE_KEY)
            value = self._convert(record.value, self._value_source, self._value_target, record, STAGE_VALUE)
        except _StageError as failure:
            exc = failure.error
            if is_transient(exc):
                raise exc
            if self.fail_fast or self.dead_letter_topic is None:
                where = f"{record.topic}[{record.partition}]@{record.offset} ({failure.stage})"
                if isinstance(exc, SerdeError):
                    exc.location = f"{where}, {exc.location}" if exc.location else where
                    raise exc
                raise SerdeError(f"{where}: {type(exc).__name__}: {exc}") from exc
            return self.dead_letter(record, failure.stage, failure.class_name, exc)
        headers = record.headers
        if headers is not None:
            headers = [h for h in headers if h[0] not in self._dropped_headers]
        return OutputRecord(
            self.target_topic,
            key,
            value,
            list(headers) if headers else None,
            record.timestamp,
            record.partition if self.config.preserve_partition else None,
        )

    def dead_letter(self, record: SourceRecord, stage: str, class_name: str, exc: BaseException) -> OutputRecord:
        assert self.dead_letter_topic is not None
        headers = list(record.headers or ())
        headers.extend(error_headers(record, self.name, stage, class_name, exc))
        return OutputRecord(self.dead_letter_topic, record.key, record.value, headers, record.timestamp, None, exc,
                            stage, self.name)


def _fast_side(source: _Source | None, target: _Target | None, topic: str) -> Callable[[Any], Any] | None:
    if source is None or target is None:
        return None
    decode, with_schema = source.fast_decoder(topic)
    if not with_schema:
        encoding = target.encoding(None)
        coerce, encode = encoding.coerce, encoding.encode
        native_fixed = encoding.native
        if native_fixed is not None:
            def convert_native(data: Any) -> Any:
                if data is None:
                    return None
                out = native_fixed(data)
                if out is not None:
                    return out
                value = coerce(decode(data))  # the Python path: the same bytes, or the error
                return None if value is None else encode(value)

            return convert_native
        if coerce is _identity:
            def convert_plain(data: Any) -> Any:
                if data is None:
                    return None
                value = decode(data)
                return None if value is None else encode(value)

            return convert_plain

        def convert_coerced(data: Any) -> Any:
            if data is None:
                return None
            value = coerce(decode(data))
            return None if value is None else encode(value)

        return convert_coerced
    encoding_of = target.encoding
    from_bytes = int.from_bytes
    native: dict[int, Callable[[bytes], bytes | None]] = {}  # writer schema id -> transcoder

    def convert_registry(data: Any) -> Any:
        if data is None:
            return None
        if native and data[:1] == b"\x00":
            transcode = native.get(from_bytes(data[1:5], "big"))
            if transcode is not None:
                out = transcode(data)
                if out is not None:
                    return out
        value, schema_key = decode(data)
        encoding = encoding_of(schema_key)
        if encoding.native is not None and data[:1] == b"\x00" and len(data) >= 5:
            # later records of this writer schema go straight from bytes to bytes
            schema_id = getattr(schema_key, "id", None)
            if schema_id == from_bytes(data[1:5], "big"):
                native[schema_id] = encoding.native
        value = encoding.coerce(value)
        return None if value is None else encoding.encode(value)

    return convert_registry


def error_headers(record: SourceRecord, route: str, stage: str, class_name: str, exc: BaseException) -> list[tuple[str, bytes]]:
    """Kafka Connect's dead-letter context headers (``DeadLetterQueueReporter``), UTF-8."""
    p = ERROR_HEADER_PREFIX
    out = [
        (p + "topic", record.topic),
        (p + "partition", str(record.partition)),
        (p + "offset", str(record.offset)),
        (p + "connector.name", route),
        (p + "task.id", "0"),
        (p + "stage", stage),
        (p + "class.name", class_name),
        (p + "exception.class.name", _class_name(exc)),
        (p + "exception.message", str(exc) or type(exc).__name__),
    ]
    path = getattr(exc, "path", None)
    if path:
        out.append(("__serde.errors.path", str(path)))
    if isinstance(exc, RuleError) and exc.rule:
        # confluent-kafka's DLQ action headers: a consumer replaying the dead letter skips
        # the rule named here (and a person reading it sees which rule said no, and why)
        out.extend([("__rule.name", exc.rule), ("__rule.mode", exc.mode or ""),
                    ("__rule.subject", getattr(exc, "subject", None) or ""), ("__rule.topic", record.topic),
                    ("__rule.exception", exc.reason)])
    return [(name, value.encode("utf-8")) for name, value in out]


# -- the whole pipeline ---------------------------------------------------------------
def open_config_registry(config: GatewayConfig) -> Any:
    """The configured registry as serde's :class:`Registry` (opened, not contacted)."""
    from ..registry.client import open_registry

    if config.registry_conf:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        try:
            client = SchemaRegistryClient({"url": config.registry, **config.registry_conf})
        except Exception as exc:  # noqa: BLE001 - confluent raises ValueError on bad conf
            raise SerdeError(f"registry: invalid client settings: {exc}") from None
        return open_registry(client)
    return open_registry(config.registry)


def _uses_registry(route: RouteConfig) -> bool:
    for side in (route.source_key, route.source_value, route.target_key, route.target_value):
        if side is not None and (side.registry_type is not None or side.subject is not None):
            return True
    return False


class Pipeline:
    """All routes of a config, by source topic."""

    def __init__(self, config: GatewayConfig, registry: Any = None) -> None:
        self.config = config
        self._registry = registry
        self._uses_registry = any(_uses_registry(r) for r in config.routes)
        if registry is None and self._uses_registry:
            self._registry = open_config_registry(config)
        self.routes = [Route(r, self._registry, config.rule_conf) for r in config.routes]
        self._by_topic = {topic: route for route in self.routes for topic in route.config.source_topics}
        self._fast: dict[str, tuple[Route, Callable[[Any], Any] | None, Callable[[Any], Any] | None]] = {}

    @property
    def topics(self) -> list[str]:
        return sorted(self._by_topic)

    def check_registry(self) -> None:
        """Contact the registry once (raises RegistryError when it does not answer)."""
        if self._uses_registry:
            self._registry.call("connecting to the schema registry", self._registry.client.get_subjects)

    def prepare(self) -> None:
        """Check the registry and register/resolve every fixed target schema."""
        self.check_registry()
        for route in self.routes:
            route.prepare()

    def route(self, topic: str) -> Route:
        return self._by_topic[topic]

    def process(self, record: SourceRecord) -> OutputRecord:
        return self._by_topic[record.topic].process(record)

    def fast(self, topic: str) -> tuple[Route, Callable[[Any], Any] | None, Callable[[Any], Any] | None] | None:
        """(route, key converter, value converter) for header-less records of ``topic``
        (see :meth:`Route.fast_sides`); None for a topic no route reads. Built once per
        topic, after :meth:`prepare`."""
        cache = self._fast
        found = cache.get(topic)
        if found is None and topic in self._by_topic:
            route = self._by_topic[topic]
            found = cache[topic] = (route, *route.fast_sides(topic))
        return found
