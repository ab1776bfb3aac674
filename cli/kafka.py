"""``serde produce`` and ``serde consume``: records between a terminal and a topic, encoded
and decoded with schemas from the registry (what kcat never did for writing).

    serde produce orders --format avro --schema order.avsc --key-field order_id < orders.ndjson
    serde consume orders --from-beginning --show key,partition,offset -n 10

Exit codes: 0 success; 1 a record that could not be encoded, decoded or delivered, or an
unreachable broker or registry; 2 usage errors.
"""
from __future__ import annotations

import base64
import copy
import csv
import datetime as dt
import decimal
import io
import logging
import sys
import uuid
from typing import Any, BinaryIO, Callable, Iterator

import click

from serde import ConfigError, FramingError, KafkaError, RegistryError, RuleError, SchemaNotFound, SerdeError

from .options import read_text, registry_option

__all__ = ["consume", "produce"]

FORMATS = ("avro", "binary", "csv", "json", "protobuf")
REGISTRY_FORMATS = {"avro": "AVRO", "json": "JSON", "protobuf": "PROTOBUF"}
_BY_TYPE = {v: k for k, v in REGISTRY_FORMATS.items()}
SHOW_FIELDS = ("topic", "partition", "offset", "timestamp", "key", "headers", "schema")

bootstrap_option = click.option(
    "--bootstrap", "-b", envvar="SERDE_BOOTSTRAP", default="localhost:9092", show_default=True,
    help="Kafka bootstrap servers (or $SERDE_BOOTSTRAP).")
kafka_conf_option = click.option(
    "-X", "kafka_conf", multiple=True, metavar="KEY=VALUE",
    help="Any librdkafka setting, e.g. -X security.protocol=SSL (repeatable).")


def _pairs(values: tuple[str, ...], what: str) -> list[tuple[str, str]]:
    out = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{value!r}: expected NAME=VALUE", param_hint=what)
        out.append((name, rest))
    return out


def _client_logger() -> logging.Logger:
    logger = logging.getLogger("serde.kafka.client")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("kafka: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.WARNING)
    return logger


def _kafka_settings(bootstrap: str, conf: tuple[str, ...]) -> dict[str, Any]:
    """librdkafka settings; its log lines and errors go through a ClientLog: repeats
    collapsed, connection failures kept for the one-line error until the broker answers."""
    from serde.gateway.kafka import ClientLog

    client_log = ClientLog(_client_logger())
    settings: dict[str, Any] = {"bootstrap.servers": bootstrap, "logger": client_log, "error_cb": client_log.error_cb}
    settings.update(_pairs(conf, "-X"))
    return settings


def _kafka_text(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    text = getattr(arg, "str", None)
    return text() if callable(text) else str(arg)


def _check_topic(client: Any, topic: str, bootstrap: str, must_exist: bool, client_log: Any) -> int:
    """Partition count of ``topic``; one clear line when the broker does not answer."""
    from serde.gateway.kafka import metadata

    found = metadata(client, bootstrap, 10, client_log, topic).topics.get(topic)
    if found is None or found.error is not None:
        if must_exist:
            reason = found.error.str() if found is not None and found.error is not None else "unknown topic"
            raise SerdeError(f"topic {topic!r} cannot be read: {reason}")
        return 0
    return len(found.partitions)


# -- encoding -------------------------------------------------------------------------
class _Ctx:
    __slots__ = ("topic", "field", "headers")

    def __init__(self, topic: str, field: str) -> None:
        self.topic, self.field, self.headers = topic, field, None


def _encoder(part: str, topic: str, fmt: str, schema: str | None, schema_type: str | None, binary_type: str | None,
             subject: str | None, message: str | None, registry: str | None) -> Callable[[Any], bytes | None]:
    """value -> bytes for one side, coercing into the schema's types first."""
    from serde import get_format
    from serde import SchemaSource
    from serde.gateway.pipeline import _json_native, coercer

    if fmt == "binary":
        f = get_format("binary")
        parsed = f.parse_schema(binary_type or schema or "string")
        encode = f.encoder(parsed)
        as_text = getattr(parsed, "kind", "") == "string"

        def binary(value: Any) -> bytes | None:
            if value is None:
                return None
            if as_text and not isinstance(value, str):
                value = str(value)
            return encode(value)  # type: ignore[no-any-return]

        return binary
    if fmt == "csv":
        from serde.conversion._api import detect_schema_type

        if schema is None:
            raise click.UsageError(f"--{'key-' if part == 'key' else ''}schema is needed for csv: the record schema of the columns")
        f = get_format("csv")
        options: dict[str, Any] = {"record_type": schema_type or detect_schema_type(schema)}
        if message:
            options["message"] = message
        parsed = f.parse_schema(SchemaSource(schema), **options)
        encode, coerce = f.encoder(parsed), coercer(parsed)
        return lambda value: None if value is None else encode(coerce(value))
    import serde

    strategy: Any = "topic"
    if subject is not None:
        strategy = lambda t, is_key, name: subject  # noqa: E731
    extra = {"message": message} if message else {}
    if schema is None:  # the subject's latest schema
        ser = serde.serializer(fmt, None, registry, use_latest_version=True, auto_register=False,
                               subject_name_strategy=strategy, **extra)
    else:
        ser = serde.serializer(fmt, schema, registry, subject_name_strategy=strategy, **extra)
    ctx = _Ctx(topic, part)
    ser.prepare(topic, part == "key")  # register / fetch now: a registry problem shows before any record
    parsed = ser.schema if ser.schema is not None else None
    if parsed is None:
        registered = ser._registry.latest(ser.subject(topic, part == "key"))
        parsed = get_format(fmt).parse_schema(SchemaSource(registered.text, ser._registry.resolve_references(registered.references)), **extra)
    coerce = coercer(parsed)

    # rules change the record in place: a second try must not see the first one's changes
    from serde.contracts._wrap import has_write_rules

    rules = has_write_rules(ser._registry.by_id(ser.prepare(topic, part == "key")))

    def encode_framed(value: Any) -> bytes | None:
        if value is None:
            return None
        value = coerce(value)
        try:
            return ser(copy.deepcopy(value) if rules and fmt == "json" else value, ctx)
        except RuleError:
            raise
        except (SerdeError, ValueError):
            if fmt != "json":
                raise
            return ser(_json_native(value), ctx)

    return encode_framed


def _records(stream: BinaryIO, input_format: str) -> Iterator[tuple[int, Any]]:
    """(line number, record) from NDJSON or CSV with a header row (nested records as the
    parent.child columns `serde convert` writes); a byte that is not UTF-8 names its line."""
    import orjson

    from serde.conversion._chunked import utf8_problem

    if input_format == "csv":
        from serde.conversion._api import _text_lines
        from serde.formats.csv import nest_columns

        def lines() -> Iterator[str]:
            for number, raw in enumerate(_text_lines(stream), 1):
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise SerdeError(f"line {number}: {utf8_problem(raw)}") from None

        reader = csv.DictReader(lines())
        try:
            header = reader.fieldnames
            if not header:
                raise SerdeError("the CSV input is empty: no header row names its columns")
            header = [header[0].removeprefix("\ufeff"), *header[1:]]
            reader.fieldnames = header
            nest = nest_columns(header)
            for row in reader:
                if None in row:
                    raise SerdeError(f"line {reader.line_num}: more values than header columns")
                yield reader.line_num, nest({k: (None if v == "" else v) for k, v in row.items()})
        except csv.Error as exc:
            raise SerdeError(f"line {reader.line_num}: malformed CSV: {exc}") from None
        return
    for number, line in enumerate(stream, 1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            problem = utf8_problem(line)
            raise SerdeError(f"line {number}: {problem or f'not JSON: {exc}'}") from None


@click.command()
@click.argument("topic")
@click.option("--input", "-i", "input_path", default="-", type=click.Path(allow_dash=True, dir_okay=False),
              help="NDJSON or CSV file (default: stdin).")
@click.option("--input-format", type=click.Choice(["ndjson", "csv"]),
              help="How records are written in the input (default: csv for *.csv, else ndjson).")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), required=True, help="Value format on the topic.")
@click.option("--schema", "schema_file", type=click.Path(dir_okay=False),
              help="Value schema file (.avsc, JSON Schema, .proto; for csv the record schema of the columns). "
              "Default for registry formats: the subject's latest schema.")
@click.option("--schema-type", type=click.Choice(["AVRO", "JSON", "PROTOBUF"], case_sensitive=False),
              help="For --format csv: the type of --schema (default: detected).")
@click.option("--type", "binary_type", help="For --format binary: string, int, long, short, float, double, boolean, uuid or bytes.")
@click.option("--message", help="Protobuf message of the value (when the .proto has several).")
@click.option("--subject", help="Value subject (default: <topic>-value).")
@click.option("--key-field", help="Take each record's key from this field of the record.")
@click.option("--key-format", type=click.Choice(FORMATS), default="binary", show_default=True, help="Key format.")
@click.option("--key-schema", "key_schema_file", type=click.Path(dir_okay=False), help="Key schema file (registry formats).")
@click.option("--key-type", default="string", show_default=True, help="For a binary key: its layout.")
@click.option("--envelope", is_flag=True,
              help='Each NDJSON line is {"key": ..., "value": ..., "headers": {...}} (a null value is a tombstone).')
@click.option("--header", "-H", "headers", multiple=True, metavar="NAME=VALUE", help="Header for every record (repeatable).")
@bootstrap_option
@registry_option
@kafka_conf_option
def produce(topic: str, input_path: str, input_format: str | None, fmt: str, schema_file: str | None,
            schema_type: str | None, binary_type: str | None, message: str | None, subject: str | None,
            key_field: str | None, key_format: str, key_schema_file: str | None, key_type: str, envelope: bool,
            headers: tuple[str, ...], bootstrap: str, registry: str | None, kafka_conf: tuple[str, ...]) -> None:
    """Encode records from NDJSON or CSV and produce them to TOPIC.

    Values are coerced into the schema's types (ISO text → timestamps, text → decimals,
    names → enums), so plain NDJSON or CSV can feed an Avro or Protobuf topic. The
    schema is registered under <topic>-value unless it is already there.
    """
    from confluent_kafka import Producer

    if input_format is None:
        input_format = "csv" if input_path.lower().endswith(".csv") else "ndjson"
    if envelope and input_format != "ndjson":
        raise click.UsageError("--envelope needs NDJSON input")
    if envelope and key_field:
        raise click.UsageError("--envelope and --key-field both name the key: use one")
    schema = read_text(schema_file, "schema")
    key_schema = read_text(key_schema_file, "key schema")
    if fmt == "binary" and binary_type is None and schema is None:
        raise click.UsageError("--format binary needs --type (string, int, long, ...)")
    extra_headers = [(k, v.encode()) for k, v in _pairs(headers, "--header")]
    settings = _kafka_settings(bootstrap, kafka_conf)
    settings.setdefault("linger.ms", 5)
    try:
        producer = Producer(settings)
    except Exception as exc:  # noqa: BLE001 - confluent raises KafkaException/ValueError on bad settings
        raise ConfigError(f"invalid Kafka settings: {_kafka_text(exc)}") from None
    _check_topic(producer, topic, bootstrap, must_exist=False, client_log=settings["logger"])
    encode_value = _encoder("value", topic, fmt, schema, schema_type, binary_type, subject, message, registry)
    encode_key = None
    if key_field or envelope:
        encode_key = _encoder("key", topic, key_format, key_schema, None, key_type, None, None, registry)

    failures: list[str] = []

    def delivered(err: Any, msg: Any) -> None:
        if err is not None:
            failures.append(err.str())

    count = 0
    last_line = 0
    stream = sys.stdin.buffer if input_path == "-" else open(input_path, "rb")
    stopped: SerdeError | None = None
    try:
        for line, record in _records(stream, input_format):
            record_headers = list(extra_headers)
            key: Any = None
            value: Any = record
            try:
                if envelope:
                    if not isinstance(record, dict) or "value" not in record:
                        raise SerdeError('expected an envelope {"key": ..., "value": ..., "headers": {...}}')
                    key, value = record.get("key"), record["value"]
                    for name, text in (record.get("headers") or {}).items():
                        record_headers.append((name, None if text is None else str(text).encode()))
                elif key_field:
                    if not isinstance(record, dict) or key_field not in record:
                        raise SerdeError(f"the record has no field {key_field!r} for the key", path=f"$.{key_field}")
                    key = record[key_field]
                key_bytes = encode_key(key) if encode_key is not None and key is not None else None
                value_bytes = encode_value(value)
            except SerdeError as exc:
                stopped = exc.at(f"line {line}")
                break
            while True:
                try:
                    producer.produce(topic, value=value_bytes, key=key_bytes, headers=record_headers or None,
                                     on_delivery=delivered)
                    break
                except BufferError:
                    producer.poll(0.1)
            count += 1
            last_line = line
            producer.poll(0)
    except SerdeError as exc:  # the input itself: not UTF-8, not JSON, malformed CSV
        stopped = exc
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
        remaining = producer.flush(30)
    if remaining or failures:
        raise KafkaError(f"{len(failures) + remaining} of {count} {_records_word(count)} were not delivered to {topic}"
                         + (f": {failures[0]}" if failures else ""))
    if stopped is not None:
        raise SerdeError(f"{stopped}\n{_sent_before(count, last_line, topic)}") from None
    click.echo(f"produced {count} {_records_word(count)} to {topic}", err=True)


def _records_word(count: int) -> str:
    return "record" if count == 1 else "records"


def _sent_before(count: int, last_line: int, topic: str) -> str:
    """What a produce run that stopped at a bad line had already sent."""
    if count == 0:
        return f"stopped before sending anything: no records were sent to {topic}"
    return (f"stopped there: the {count} {_records_word(count)} before it (up to line {last_line}) "
            f"{'was' if count == 1 else 'were'} sent to {topic}; nothing after it was")


# -- decoding -------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json_line(value: Any) -> bytes:
    """One NDJSON line, written as `serde convert` writes JSON (timestamps ISO-8601 in UTC
    with Z, decimals as plain text, bytes as base64)."""
    import orjson

    from serde.formats.jsonschema import json_dumps

    try:
        return json_dumps(value, orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # NaN or infinity in a float: written as null, as orjson does
        return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE)


def _timestamp(millis: int) -> dt.datetime:
    """A Kafka record's timestamp (epoch milliseconds) as a UTC datetime."""
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=millis)


def _text(data: bytes) -> Any:
    """Unframed bytes for people: JSON if it is JSON, else text, else base64."""
    import orjson

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return text


class _Decoder:
    """bytes -> (value, schema id or None) for one side: a fixed format, or ``auto``
    (registry-framed records by the writer schema's type; anything else as JSON or text)."""

    def __init__(self, part: str, fmt: str, schema: str | None, schema_type: str | None, binary_type: str | None,
                 message: str | None, registry: str | None) -> None:
        self.part, self.fmt, self.registry_location = part, fmt, registry
        self._fixed: Callable[[bytes], Any] | None = None
        self._by_format: dict[str, Any] = {}
        self._registry: Any = None
        from serde import get_format
        from serde import SchemaSource

        if fmt == "binary":
            f = get_format("binary")
            self._fixed = f.decoder(f.parse_schema(binary_type or schema or "string"))
        elif fmt == "csv":
            from serde.conversion._api import detect_schema_type

            if schema is None:
                raise click.UsageError("--schema is needed for csv: the record schema of the columns")
            f = get_format("csv")
            options: dict[str, Any] = {"record_type": schema_type or detect_schema_type(schema)}
            if message:
                options["message"] = message
            self._fixed = f.decoder(f.parse_schema(SchemaSource(schema), **options))

    def _deserializer(self, fmt: str) -> Any:
        found = self._by_format.get(fmt)
        if found is None:
            import serde
            from serde.registry.client import open_registry

            if self._registry is None:
                self._registry = open_registry(self.registry_location)
            found = self._by_format[fmt] = serde.deserializer(fmt, self._registry, return_schema=True)
        return found

    def __call__(self, data: bytes | None, topic: str, headers: Any) -> tuple[Any, Any]:
        if data is None:
            return None, None
        if self._fixed is not None:
            return self._fixed(data), None
        ctx = _Ctx(topic, self.part)
        ctx.headers = headers
        fmt = self.fmt
        if fmt == "auto":
            from serde import _wire
            from serde.registry.client import open_registry

            try:
                schema_id, _, _ = _wire.read_frame(data, headers, self.part == "key")
            except FramingError:
                return _text(data), None
            if self._registry is None:
                self._registry = open_registry(self.registry_location)
            try:
                registered = self._registry.by_id(schema_id)
            except SchemaNotFound:
                return _text(data), None  # five bytes that look like a frame, but are not one
            fmt = _BY_TYPE.get(registered.schema_type, "avro")
        decoded = self._deserializer(fmt).decode_with_schema(data, ctx)
        return decoded.value, decoded.schema.id


def _show(value: str) -> tuple[str, ...]:
    fields = tuple(f.strip() for f in value.split(",") if f.strip()) if value else ()
    for name in fields:
        if name not in SHOW_FIELDS:
            raise click.BadParameter(f"{name!r}: expected some of {', '.join(SHOW_FIELDS)}", param_hint="--show")
    return fields


def _headers_json(headers: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in headers or ():
        value = None if raw is None else _header_text(raw)
        if name in out:
            previous = out[name]
            out[name] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            out[name] = value
    return out


def _header_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(raw).decode("ascii")


@click.command()
@click.argument("topic")
@click.option("--format", "-f", "fmt", type=click.Choice(("auto",) + FORMATS), default="auto", show_default=True,
              help="Value format; auto reads registry-framed records by their writer schema, and anything else as JSON or text.")
@click.option("--schema", "schema_file", type=click.Path(dir_okay=False), help="For csv: the record schema of the columns.")
@click.option("--schema-type", type=click.Choice(["AVRO", "JSON", "PROTOBUF"], case_sensitive=False),
              help="For --format csv: the type of --schema (default: detected).")
@click.option("--type", "binary_type", help="For --format binary: the value layout (string, int, long, ...).")
@click.option("--message", help="Protobuf message for csv columns from a .proto.")
@click.option("--key-format", type=click.Choice(("auto",) + FORMATS), default="auto", show_default=True, help="Key format.")
@click.option("--key-type", help="The key's binary layout (string, int, long, ...; implies --key-format binary).")
@click.option("--show", "show", default="", metavar="FIELDS",
              help=f"Print each record as an object with these fields besides the value (comma-separated): {', '.join(SHOW_FIELDS)}.")
@click.option("-n", "--count", type=click.IntRange(min=1), help="Stop after N records (waiting for them).")
@click.option("--from-beginning", is_flag=True, help="Start at the oldest record (default: the end, or the group's offsets).")
@click.option("--follow", is_flag=True, help="Keep waiting for new records (default: stop at the end of the topic).")
@click.option("--group", "-g", help="Consumer group: resume from its committed offsets and commit as records are printed.")
@click.option("--timeout", type=click.FloatRange(min=0), help="Stop after this many seconds without a record.")
@bootstrap_option
@registry_option
@kafka_conf_option
def consume(topic: str, fmt: str, schema_file: str | None, schema_type: str | None, binary_type: str | None,
            message: str | None, key_format: str, key_type: str | None, show: str, count: int | None,
            from_beginning: bool, follow: bool, group: str | None, timeout: float | None, bootstrap: str,
            registry: str | None, kafka_conf: tuple[str, ...]) -> None:
    """Read TOPIC and print its records as NDJSON, decoded with their writer schemas.

    Values print as `serde convert` writes JSON: timestamps as ISO-8601 text in UTC,
    decimals and UUIDs as text, bytes as base64; --show timestamp is ISO-8601 too, and
    schema an id (a number). With --show the line
    is an object holding the value and the chosen fields (key, headers, partition, ...).
    """
    import time

    import orjson
    from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, TopicPartition
    from confluent_kafka import KafkaError as _CK  # serde's KafkaError is the one raised

    fields = _show(show)
    schema = read_text(schema_file, "schema")
    if fmt == "binary" and not binary_type:
        raise click.UsageError("--format binary needs --type (string, int, long, ...)")
    decode_value = _Decoder("value", fmt, schema, schema_type, binary_type, message, registry)
    if key_type and key_format == "auto":
        key_format = "binary"  # --key-type names the key's layout: binary (as produce --key-type writes it)
    decode_key = _Decoder("key", key_format, None, None, key_type or "string", None, registry) if "key" in fields else None
    settings = _kafka_settings(bootstrap, kafka_conf)
    settings.update({
        "group.id": group or f"serde-consume-{uuid.uuid4().hex[:12]}",
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest" if from_beginning else "latest",
        "enable.auto.commit": bool(group),
    })
    settings.setdefault("session.timeout.ms", 6000)
    try:
        consumer = Consumer(settings)
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(f"invalid Kafka settings: {_kafka_text(exc)}") from None
    out = sys.stdout.buffer
    printed = errors = 0
    try:
        partitions = _check_topic(consumer, topic, bootstrap, must_exist=True, client_log=settings["logger"])
        if group:
            def on_assign(c: Any, assigned: list[Any]) -> None:
                if from_beginning:
                    for tp in assigned:
                        tp.offset = OFFSET_BEGINNING
                    c.assign(assigned)

            consumer.subscribe([topic], on_assign=on_assign)
            pending_eof: set[int] | None = None  # known once assigned
        else:
            start = OFFSET_BEGINNING if from_beginning else OFFSET_END
            consumer.assign([TopicPartition(topic, p, start) for p in range(partitions)])
            pending_eof = set(range(partitions))
        last_record = time.monotonic()
        while True:
            if count is not None and printed >= count:
                break
            if timeout is not None and time.monotonic() - last_record > timeout:
                break
            msg = consumer.poll(0.2)
            if pending_eof is None and group:
                assignment = consumer.assignment()
                if assignment:
                    pending_eof = {tp.partition for tp in assignment}
            if msg is None:
                continue
            err = msg.error()
            if err is not None:
                if err.code() == _CK._PARTITION_EOF:
                    if pending_eof is not None:
                        pending_eof.discard(msg.partition())
                        if not pending_eof and not follow and count is None:
                            break
                    continue
                if err.fatal():
                    raise KafkaError(f"Kafka: {err.str()}")
                click.echo(f"warning: {err.str()}", err=True)
                continue
            last_record = time.monotonic()
            where = f"{topic}[{msg.partition()}]@{msg.offset()}"
            try:
                value, schema_id = decode_value(msg.value(), topic, msg.headers())
                line: Any = value
                if fields:
                    line = {}
                    for name in fields:
                        if name == "topic":
                            line["topic"] = msg.topic()
                        elif name == "partition":
                            line["partition"] = msg.partition()
                        elif name == "offset":
                            line["offset"] = msg.offset()
                        elif name == "timestamp":
                            ts_type, ts = msg.timestamp()
                            line["timestamp"] = _timestamp(ts) if ts_type else None
                        elif name == "key":
                            line["key"] = decode_key(msg.key(), topic, msg.headers())[0] if decode_key else None
                        elif name == "headers":
                            line["headers"] = _headers_json(msg.headers())
                        elif name == "schema":
                            line["schema"] = schema_id
                    line["value"] = value
                out.write(_json_line(line))
                out.flush()
                printed += 1
            except RegistryError as exc:
                if exc.status == -1 and exc.code == -1:
                    raise exc.at(where)
                errors += 1
                click.echo(f"error: {exc.at(where)}", err=True)
            except SerdeError as exc:
                errors += 1
                click.echo(f"error: {exc.at(where)}", err=True)
    finally:
        consumer.close()
    if errors:
        raise SerdeError(f"{errors} {_records_word(errors)} could not be decoded (printed {printed})")
