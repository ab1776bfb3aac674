"""The gateway's TOML configuration: parsed once, validated with errors that name the key.

    [kafka]                              # any librdkafka setting, for consumer and producer
    "bootstrap.servers" = "localhost:9092"
    [kafka.consumer]                     # consumer-only settings (optional)
    [kafka.producer]                     # producer-only settings (optional)

    [registry]                           # url (http(s)://, mock://) or path (embedded SQLite)
    url = "http://localhost:8081"        # other keys go to the SchemaRegistryClient

    [gateway]                            # all optional
    group = "serde-gateway"              # consumer group id
    max_in_flight = 10000                # records produced but not yet acknowledged
    commit_interval = 5.0                # seconds between offset commits
    shutdown_timeout = 30.0              # seconds to deliver in-flight records on shutdown
    startup_timeout = 15.0               # seconds to reach Kafka and the registry at start
    delivery = "at-least-once"           # or "exactly-once" (Kafka transactions)
    instance_id = "host-a"               # stable per process: transactional.id = <group>-<instance_id>
    status_interval = 10.0               # seconds between status lines on stderr (0: none)
    metrics_port = 9464                  # /metrics, /ready, /ping over HTTP (default: none)
    metrics_host = "127.0.0.1"           # the address it listens on (default: loopback only)
    create_topics = false                # true: create missing target and dead-letter topics at start

    [[routes]]
    name = "orders"
    errors = "dead-letter"               # or "fail"
    dead_letter_topic = "orders.dlq"     # required with "dead-letter"
    create_topics = true                 # this route only (default: the gateway's)
    [routes.source]
    topics = ["orders.csv"]              # or topic = "orders.csv"
    key = { format = "binary", type = "string" }
    value = { format = "csv", schema_file = "order.avsc", schema_type = "AVRO" }
    [routes.target]
    topic = "orders.avro"
    key = { format = "binary", type = "string" }
    value = { format = "avro", schema_file = "order.avsc" }

String values may use ``${NAME}`` to read an environment variable (for secrets), or
``${NAME:-default}`` to fall back to a default when it is unset or empty. Paths in
``schema_file`` are relative to the config file. Secrets never appear in ``repr`` or logs.
"""
from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .._errors import ConfigError

__all__ = [
    "GatewayConfig",
    "GatewaySettings",
    "RouteConfig",
    "SideSpec",
    "load_config",
    "parse_config",
    "redact",
    "redact_url",
    "scrub",
    "secret_values",
]

REGISTRY_TYPES = {"avro": "AVRO", "json": "JSON", "protobuf": "PROTOBUF"}
BINARY_TYPES = ("string", "int", "long", "short", "float", "double", "boolean", "uuid", "bytes")
ERROR_POLICIES = ("dead-letter", "fail")
DELIVERY = ("at-least-once", "exactly-once")
_SECRET = re.compile(r"password|secret|token|credential|sasl\.jaas|basic\.auth|\.key$|key\.pem|keystore|private"
                     r"|oauthbearer\.config|user\.info", re.I)
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")  # ${NAME} or ${NAME:-default}


def redact(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``settings`` safe to log: values of secret-looking keys become ``***``,
    and ``user:password@`` in URLs becomes ``***@``."""
    return {k: ("***" if _SECRET.search(k) else redact_url(v) if isinstance(v, str) else v) for k, v in settings.items()}


def redact_url(text: str) -> str:
    """``https://user:pw@host`` -> ``https://***@host`` (any URL inside ``text``)."""
    return _URL_USERINFO.sub("***@", text)


def secret_values(config: "GatewayConfig") -> list[str]:
    """Every secret string of a config (Kafka and registry settings, URL credentials),
    longest first: what must never be printed."""
    found: set[str] = set()
    for table in (config.kafka, config.consumer, config.producer, config.registry_conf):
        for key, value in table.items():
            if isinstance(value, str) and len(value) >= 3 and _SECRET.search(key):
                found.add(value)
                if ":" in value and "user.info" in key:  # basic auth "user:password": the password alone too
                    found.add(value.split(":", 1)[1])
    for match in _URL_USERINFO.finditer(config.registry or ""):
        userinfo = match.group(0)[:-1]
        found.add(userinfo)
        if ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
    return sorted((v for v in found if len(v) >= 3), key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``***``."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return redact_url(text)


@dataclass(frozen=True)
class SideSpec:
    """How one side (key or value) of a topic is encoded.

    ``format``: avro, json, protobuf (registry formats), csv or binary.
    Source side: registry formats need nothing (the writer schema comes by id); csv needs
    a record schema (``schema``/``schema_file`` with ``schema_type``, or ``subject``);
    binary needs ``type``. Target side: registry formats and csv take the schema
    ``schema``/``schema_file`` (registered under ``subject``, default ``<topic>-value``),
    or an existing ``subject`` (+ ``version``), or ``derive = true`` (translated from the
    source's writer schema); binary needs ``type``.
    """

    format: str
    where: str  # the config key, for messages
    schema: str | None = None  # schema text (read from schema_file if given there)
    schema_type: str | None = None  # record schema type for csv: AVRO, JSON, PROTOBUF
    subject: str | None = None
    version: int | None = None  # None = latest
    derive: bool = False
    type: str | None = None  # binary layout
    message: str | None = None  # protobuf message full name
    auto_register: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)  # extra format options
    # the data contract registered with a target schema (Confluent's JSON): its rules run
    # on every record the route writes (CEL checks, ENCRYPT of tagged fields, masking)
    rule_set: Mapping[str, Any] | None = None
    metadata: Mapping[str, Any] | None = None

    @property
    def registry_type(self) -> str | None:
        return REGISTRY_TYPES.get(self.format)


@dataclass(frozen=True)
class RouteConfig:
    name: str
    source_topics: tuple[str, ...]
    target_topic: str
    source_key: SideSpec | None
    source_value: SideSpec | None
    target_key: SideSpec | None
    target_value: SideSpec | None
    errors: str = "dead-letter"
    dead_letter_topic: str | None = None
    preserve_partition: bool = False
    delivery: str | None = None  # None: the gateway's
    create_topics: bool | None = None  # None: the gateway's


@dataclass(frozen=True)
class GatewaySettings:
    group: str = "serde-gateway"
    max_in_flight: int = 10000
    commit_interval: float = 5.0
    shutdown_timeout: float = 30.0
    startup_timeout: float = 15.0
    poll_timeout: float = 0.2
    delivery: str = "at-least-once"
    instance_id: str | None = None  # None: the host name
    status_interval: float = 10.0  # 0: no status lines
    metrics_port: int | None = None  # 0: any free port
    metrics_host: str = "127.0.0.1"  # loopback unless told otherwise
    create_topics: bool = False  # create missing target and dead-letter topics at start

    @property
    def exactly_once(self) -> bool:
        return self.delivery == "exactly-once"


@dataclass(frozen=True)
class GatewayConfig:
    kafka: Mapping[str, Any]
    consumer: Mapping[str, Any]
    producer: Mapping[str, Any]
    registry: str | None
    registry_conf: Mapping[str, Any]
    settings: GatewaySettings
    routes: tuple[RouteConfig, ...]
    path: str | None = None
    # settings for the data-contract rule executors (KMS secrets, credentials): never shown
    rule_conf: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"GatewayConfig(kafka={redact(self.kafka)!r}, registry={redact_url(self.registry or '')!r}, "
            f"routes={[r.name for r in self.routes]!r})"
        )

    def route_for(self, topic: str) -> RouteConfig:
        for route in self.routes:
            if topic in route.source_topics:
                return route
        raise KeyError(topic)


# -- loading --------------------------------------------------------------------------
def load_config(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> GatewayConfig:
    """Read and validate a gateway TOML file; raises ConfigError naming the bad key."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read gateway config {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(data, base_dir=path.parent, environ=environ, path=str(path))


def parse_config(
    data: Mapping[str, Any],
    *,
    base_dir: str | os.PathLike[str] = ".",
    environ: Mapping[str, str] | None = None,
    path: str | None = None,
) -> GatewayConfig:
    """Validate an already-parsed config mapping (see the module docstring)."""
    env = os.environ if environ is None else environ
    data = _expand(data, env, "")
    base = Path(base_dir)
    _known(data, "", {"kafka", "registry", "gateway", "routes", "rule_conf"})

    kafka = _table(data, "kafka", "")
    consumer = dict(_table(kafka, "consumer", "kafka."))
    producer = dict(_table(kafka, "producer", "kafka."))
    common = {k: v for k, v in kafka.items() if k not in ("consumer", "producer")}
    for where, table in (("kafka", common), ("kafka.consumer", consumer), ("kafka.producer", producer)):
        for key, value in table.items():
            if isinstance(value, (dict, list)):
                raise ConfigError(f"{where}.{key}: a librdkafka setting must be a string, number or boolean")
    if not (common.get("bootstrap.servers") or consumer.get("bootstrap.servers")):
        raise ConfigError('kafka."bootstrap.servers": missing (the Kafka brokers to connect to)')

    registry, registry_conf = _registry(data.get("registry"), base)
    settings = _settings(_table(data, "gateway", ""))

    routes_raw = data.get("routes")
    if not isinstance(routes_raw, list) or not routes_raw:
        raise ConfigError("routes: at least one [[routes]] table is needed")
    routes = tuple(_route(r, i, base) for i, r in enumerate(routes_raw))
    settings = _route_delivery(settings, routes, "delivery" in _table(data, "gateway", ""))
    seen: dict[str, str] = {}
    names: set[str] = set()
    for route in routes:
        if route.name in names:
            raise ConfigError(f"routes: two routes are named {route.name!r}")
        names.add(route.name)
        for topic in route.source_topics:
            if topic in seen:
                raise ConfigError(f"routes: topic {topic!r} is the source of both {seen[topic]!r} and {route.name!r}")
            seen[topic] = route.name
            if topic == route.target_topic or topic == route.dead_letter_topic:
                raise ConfigError(f"routes[{route.name}]: source topic {topic!r} is also its target or dead-letter topic")
    rule_conf = dict(_table(data, "rule_conf", ""))
    for key, value in rule_conf.items():
        if not isinstance(value, str):
            raise ConfigError(f"rule_conf.{key}: expected a string (use ${{VAR}} for secrets)")
    return GatewayConfig(common, consumer, producer, registry, registry_conf, settings, routes, path, rule_conf)


def _expand(value: Any, env: Mapping[str, str], where: str) -> Any:
    if isinstance(value, str):
        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env or (match.group(2) is not None and not env[name]):
                if match.group(2) is not None:
                    return match.group(2)
                raise ConfigError(f"{where or 'config'}: environment variable ${{{name}}} is not set")
            return env[name]

        return _ENV.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, env, f"{where}.{k}" if where else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _known(table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (expected one of: {', '.join(sorted(allowed))})"
            raise ConfigError(f"{where}{key}: unknown key{hint}")


def _table(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = parent.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}{key}: expected a table, got {type(value).__name__}")
    return value


def _str(table: Mapping[str, Any], key: str, where: str, default: Any = None, required: bool = False) -> Any:
    value = table.get(key, default)
    if value is None:
        if required:
            raise ConfigError(f"{where}{key}: missing")
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}{key}: expected a non-empty string, got {value!r}")
    return value


def _number(table: Mapping[str, Any], key: str, where: str, default: float, kind: type = float) -> Any:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{where}{key}: expected a positive number, got {value!r}")
    if kind is int and not isinstance(value, int):
        raise ConfigError(f"{where}{key}: expected a whole number, got {value!r}")
    return kind(value)


def _registry(raw: Any, base: Path) -> tuple[str | None, dict[str, Any]]:
    if raw is None:
        return None, {}
    if isinstance(raw, str):
        raw = {"url": raw} if "://" in raw else {"path": raw}
    if not isinstance(raw, dict):
        raise ConfigError("registry: expected a table with url or path, or a string")
    url, path = raw.get("url"), raw.get("path")
    if url is not None and path is not None:
        raise ConfigError("registry: give url or path, not both")
    extra = {k: v for k, v in raw.items() if k not in ("url", "path")}
    if path is not None:
        if not isinstance(path, str) or not path:
            raise ConfigError(f"registry.path: expected a file path, got {path!r}")
        if extra:
            raise ConfigError(f"registry.{sorted(extra)[0]}: client settings apply to a registry url, not an embedded path")
        resolved = Path(path) if Path(path).is_absolute() else base / path
        return str(resolved), {}
    if url is not None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "mock://")):
            raise ConfigError(f"registry.url: expected an http(s):// or mock:// URL, got {url!r}")
        return url, extra
    if extra:
        raise ConfigError("registry: url is missing")
    return None, {}


def _route_delivery(settings: GatewaySettings, routes: tuple[RouteConfig, ...], explicit: bool) -> GatewaySettings:
    """One transactional producer serves every route of a process, so delivery is per
    gateway: a route may ask for it, but routes may not disagree."""
    asked = {r.delivery for r in routes if r.delivery is not None}
    if len(asked) > 1:
        raise ConfigError("routes: some routes ask for exactly-once delivery and some for at-least-once; "
                          "delivery is per gateway process, so run them as two gateways")
    if asked:
        wanted = asked.pop()
        if explicit and wanted != settings.delivery:
            raise ConfigError(f"routes: delivery = {wanted!r} contradicts gateway.delivery = {settings.delivery!r}")
        if wanted != settings.delivery:
            from dataclasses import replace

            settings = replace(settings, delivery=wanted)
    return settings


def _settings(raw: Mapping[str, Any]) -> GatewaySettings:
    _known(raw, "gateway.", {"group", "max_in_flight", "commit_interval", "shutdown_timeout", "startup_timeout",
                             "poll_timeout", "delivery", "instance_id", "status_interval", "metrics_port",
                             "metrics_host", "create_topics"})
    d = GatewaySettings()
    delivery = _str(raw, "delivery", "gateway.", d.delivery)
    if delivery not in DELIVERY:
        raise ConfigError(f"gateway.delivery: expected one of {', '.join(DELIVERY)}, got {delivery!r}")
    status = raw.get("status_interval", d.status_interval)
    if isinstance(status, bool) or not isinstance(status, (int, float)) or status < 0:
        raise ConfigError(f"gateway.status_interval: expected a number of seconds (0: no status lines), got {status!r}")
    port = raw.get("metrics_port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < 65536):
        raise ConfigError(f"gateway.metrics_port: expected a TCP port number, got {port!r}")
    create_topics = raw.get("create_topics", False)
    if not isinstance(create_topics, bool):
        raise ConfigError("gateway.create_topics: expected true or false")
    return GatewaySettings(
        metrics_host=_str(raw, "metrics_host", "gateway.", d.metrics_host),
        create_topics=create_topics,
        delivery=delivery,
        instance_id=_str(raw, "instance_id", "gateway."),
        status_interval=float(status),
        metrics_port=port,
        group=_str(raw, "group", "gateway.", d.group),
        max_in_flight=_number(raw, "max_in_flight", "gateway.", d.max_in_flight, int),
        commit_interval=_number(raw, "commit_interval", "gateway.", d.commit_interval),
        shutdown_timeout=_number(raw, "shutdown_timeout", "gateway.", d.shutdown_timeout),
        startup_timeout=_number(raw, "startup_timeout", "gateway.", d.startup_timeout),
        poll_timeout=_number(raw, "poll_timeout", "gateway.", d.poll_timeout),
    )


_ROUTE_KEYS = {"name", "source", "target", "errors", "dead_letter_topic", "preserve_partition", "delivery",
               "create_topics"}
_SIDE_KEYS = {"format", "schema", "schema_file", "schema_type", "subject", "version", "derive", "type", "message", "auto_register",
              "rules", "metadata"}


def _route(raw: Any, index: int, base: Path) -> RouteConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"routes[{index}]: expected a table")
    name = raw.get("name", f"route-{index}")
    where = f"routes[{index}]." if not isinstance(name, str) else f"routes[{name}]."
    _known(raw, where, _ROUTE_KEYS)
    name = _str(raw, "name", where, f"route-{index}")
    source = _table(raw, "source", where)
    target = _table(raw, "target", where)
    if not source:
        raise ConfigError(f"{where}source: missing (the topic(s) to read and their formats)")
    if not target:
        raise ConfigError(f"{where}target: missing (the topic to write and its formats)")
    _known(source, f"{where}source.", {"topic", "topics", "key", "value"})
    _known(target, f"{where}target.", {"topic", "key", "value"})

    topics_raw = source.get("topics", source.get("topic"))
    if "topics" in source and "topic" in source:
        raise ConfigError(f"{where}source: give topic or topics, not both")
    if isinstance(topics_raw, str):
        topics_raw = [topics_raw]
    if not isinstance(topics_raw, list) or not topics_raw or not all(isinstance(t, str) and t for t in topics_raw):
        raise ConfigError(f"{where}source.topics: expected a topic name or a list of them")
    target_topic = _str(target, "topic", f"{where}target.", required=True)

    source_key = _side(source.get("key"), f"{where}source.key.", base, is_target=False)
    source_value = _side(source.get("value"), f"{where}source.value.", base, is_target=False)
    target_key = _side(target.get("key"), f"{where}target.key.", base, is_target=True)
    target_value = _side(target.get("value"), f"{where}target.value.", base, is_target=True)
    for part, src, dst in (("key", source_key, target_key), ("value", source_value, target_value)):
        if dst is not None and src is None:
            raise ConfigError(f"{where}source.{part}: missing; a converted {part} needs the source {part} format")
        if dst is not None and dst.derive and src is not None and src.format == "binary":
            raise ConfigError(f"{where}target.{part}.derive: cannot derive a record schema from a binary source")

    errors = _str(raw, "errors", where, "dead-letter")
    if errors not in ERROR_POLICIES:
        raise ConfigError(f"{where}errors: expected one of {', '.join(ERROR_POLICIES)}, got {errors!r}")
    dlq = _str(raw, "dead_letter_topic", where)
    if errors == "dead-letter" and dlq is None:
        raise ConfigError(f"{where}dead_letter_topic: missing (errors = \"dead-letter\" needs a topic for bad records)")
    preserve = raw.get("preserve_partition", False)
    if not isinstance(preserve, bool):
        raise ConfigError(f"{where}preserve_partition: expected true or false")
    create_topics = raw.get("create_topics")
    if create_topics is not None and not isinstance(create_topics, bool):
        raise ConfigError(f"{where}create_topics: expected true or false")
    delivery = _str(raw, "delivery", where)
    if delivery is not None and delivery not in DELIVERY:
        raise ConfigError(f"{where}delivery: expected one of {', '.join(DELIVERY)}, got {delivery!r}")
    return RouteConfig(
        name=name,
        source_topics=tuple(topics_raw),
        target_topic=target_topic,
        source_key=source_key,
        source_value=source_value,
        target_key=target_key,
        target_value=target_value,
        errors=errors,
        dead_letter_topic=dlq,
        preserve_partition=preserve,
        delivery=delivery,
        create_topics=create_topics,
    )


def _side(raw: Any, where: str, base: Path, *, is_target: bool) -> SideSpec | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"format": raw}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where.rstrip('.')}: expected a table such as {{ format = \"avro\" }}")
    _known(raw, where, _SIDE_KEYS)
    fmt = _str(raw, "format", where, required=True)
    from ..formats import available_formats

    known = available_formats()
    if fmt not in known:
        raise ConfigError(f"{where}format: unknown format {fmt!r}; known formats: {', '.join(known)}")
    schema = _str(raw, "schema", where)
    schema_file = _str(raw, "schema_file", where)
    if schema is not None and schema_file is not None:
        raise ConfigError(f"{where}schema_file: give schema or schema_file, not both")
    if schema_file is not None:
        file = Path(schema_file) if Path(schema_file).is_absolute() else base / schema_file
        try:
            schema = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{where}schema_file: cannot read {file}: {exc.strerror}") from exc
    schema_type = _str(raw, "schema_type", where)
    if schema_type is not None:
        schema_type = schema_type.upper()
        if schema_type not in REGISTRY_TYPES.values():
            raise ConfigError(f"{where}schema_type: expected AVRO, JSON or PROTOBUF, got {raw['schema_type']!r}")
    subject = _str(raw, "subject", where)
    version = raw.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        if version != "latest":
            raise ConfigError(f"{where}version: expected a version number or \"latest\", got {version!r}")
        version = None
    derive = raw.get("derive", False)
    if not isinstance(derive, bool):
        raise ConfigError(f"{where}derive: expected true or false")
    auto_register = raw.get("auto_register", True)
    if not isinstance(auto_register, bool):
        raise ConfigError(f"{where}auto_register: expected true or false")
    kind = _str(raw, "type", where)
    message = _str(raw, "message", where)
    for key in ("rules", "metadata"):
        if key in raw and (not is_target or fmt not in REGISTRY_TYPES):
            raise ConfigError(f"{where}{key}: only a registry-format target (avro, json, protobuf) registers a data "
                              "contract; a source runs its writer schema's rules by itself")
    rule_set = _contract(raw, "rules", where, base)
    metadata = _contract(raw, "metadata", where, base)
    if (rule_set or metadata) and schema is None and not derive:
        raise ConfigError(f"{where}{'rules' if rule_set else 'metadata'}: a contract is registered with a schema the "
                          "route registers (schema, schema_file or derive = true); a subject's existing version "
                          "keeps its own rules")

    if fmt == "binary":
        if kind is None and schema is None:
            raise ConfigError(f"{where}type: missing; binary needs one of {', '.join(BINARY_TYPES)}")
        kind = kind or (schema.strip() if schema else None)
        if kind not in BINARY_TYPES:
            raise ConfigError(f"{where}type: expected one of {', '.join(BINARY_TYPES)}, got {kind!r}")
        for other in ("subject", "derive", "schema_type"):
            if raw.get(other):
                raise ConfigError(f"{where}{other}: not used by the binary format")
    elif kind is not None:
        raise ConfigError(f"{where}type: only the binary format takes a type")
    if derive and not is_target:
        raise ConfigError(f"{where}derive: only a target schema can be derived")
    if derive and (schema is not None or subject is not None and version is not None):
        raise ConfigError(f"{where}derive: give a schema or derive = true, not both")
    if fmt == "csv":
        if schema is not None and schema_type is None:
            raise ConfigError(f"{where}schema_type: missing; a csv schema is a record schema of type AVRO, JSON or PROTOBUF")
        if schema is None and subject is None and not derive:
            raise ConfigError(f"{where}schema: missing; csv needs its record schema (schema, schema_file or subject{', or derive = true' if is_target else ''})")
    elif fmt in REGISTRY_TYPES:
        if schema_type is not None and schema_type != REGISTRY_TYPES[fmt]:
            raise ConfigError(f"{where}schema_type: a {fmt} schema is always {REGISTRY_TYPES[fmt]}")
        if is_target and schema is None and subject is None and not derive:
            raise ConfigError(f"{where}schema: missing; a {fmt} target needs schema, schema_file, subject or derive = true")
        if not is_target and (schema is not None or subject is not None):
            raise ConfigError(f"{where}schema: a {fmt} source is read with the writer schema from the registry; remove it")
        schema_type = REGISTRY_TYPES[fmt]
    return SideSpec(
        format=fmt,
        where=where.rstrip("."),
        schema=schema,
        schema_type=schema_type,
        subject=subject,
        version=version,
        derive=derive,
        type=kind,
        message=message,
        auto_register=auto_register,
        rule_set=rule_set,
        metadata=metadata,
    )


def _contract(raw: Mapping[str, Any], key: str, where: str, base: Path) -> Mapping[str, Any] | None:
    """``rules`` / ``metadata``: a table, or the path of a JSON file holding it."""
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        file = Path(value) if Path(value).is_absolute() else base / value
        try:
            value = json.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{where}{key}: cannot read {file}: {exc.strerror}") from exc
        except ValueError as exc:
            raise ConfigError(f"{where}{key}: {file} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"{where}{key}: expected a table (Confluent's {'ruleSet' if key == 'rules' else 'metadata'} "
                          "JSON) or the path of a JSON file")
    return value
