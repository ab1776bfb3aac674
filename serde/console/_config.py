"""The console's configuration: clusters from a TOML file, or the defaults.

    # console.toml
    [[clusters]]
    name = "prod"
    bootstrap = "broker1:9093,broker2:9093"
    registry = "https://registry.example:8081"      # a URL, or an embedded registry's SQLite path
    [clusters.kafka]                                  # any librdkafka setting
    "security.protocol" = "SASL_SSL"
    "sasl.mechanism" = "SCRAM-SHA-512"
    "sasl.username" = "console"
    "sasl.password" = "..."
    [clusters.registry_config]                        # any SchemaRegistryClient setting
    "basic.auth.user.info" = "user:secret"
    connect = "http://connect:8083"                   # optional: a Kafka Connect worker's REST API
    gateway = "gateway.toml"                          # optional: a serde gateway's config file
    gateway_metrics = "http://127.0.0.1:9100"        # optional: its metrics endpoint

Without a file the one cluster is the ``serde local up`` stack when it runs, else
``$SERDE_BOOTSTRAP`` (or ``localhost:9092``) and ``$SERDE_REGISTRY`` (or the embedded
registry). Secrets never leave this module unmasked: :meth:`Cluster.public` is what
pages show.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .._errors import ConfigError

__all__ = ["Cluster", "ConsoleConfig", "load_config", "mask_settings"]

# setting names whose values are secrets (librdkafka's and the registry client's)
_SECRET = re.compile(r"(password|secret|user\.info|jaas|token|credential|private|key\.pem|keystore|\.key$|api\.key|"
                     r"oauthbearer\.config)", re.I)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MASK = "********"


def mask_settings(settings: Mapping[str, Any]) -> dict[str, str]:
    """The settings as text with every secret value replaced by ``MASK`` and credentials
    in URLs removed."""
    out: dict[str, str] = {}
    for name, value in settings.items():
        if name in ("logger", "error_cb") or callable(value):
            continue
        out[name] = MASK if _SECRET.search(name) else redact_url(str(value))
    return out


def redact_url(text: str) -> str:
    """``scheme://user:pass@host`` → ``scheme://host`` (anywhere in the text; a password
    may itself hold '@', so the credentials run to the last '@' before the host), and
    ``password=...`` / ``pwd=...`` in a query string → ``password=***``."""
    text = re.sub(r"(?i)([a-z][a-z0-9_+.-]*://)[^/\s]*@", r"\1", text)
    return re.sub(r"(?i)([?&;](?:password|pwd|passwd|secret|token|apikey|api_key)=)[^&;#\s]*", r"\1***", text)


@dataclass
class Cluster:
    """One Kafka cluster and its schema registry."""

    name: str
    bootstrap: str
    registry: str | None = None  # URL or SQLite path; None: $SERDE_REGISTRY or the embedded default
    kafka: dict[str, Any] = field(default_factory=dict)
    registry_config: dict[str, Any] = field(default_factory=dict)
    connect: str | None = None  # a Kafka Connect worker's REST URL
    gateway: str | None = None  # a serde gateway's config file
    gateway_metrics: str | None = None  # that gateway's metrics endpoint (http://host:port)

    def kafka_settings(self) -> dict[str, Any]:
        return {"bootstrap.servers": self.bootstrap, **self.kafka}

    def public(self) -> dict[str, Any]:
        """What a page may show: names and addresses, secrets masked."""
        return {
            "name": self.name,
            "bootstrap": redact_url(self.bootstrap),
            "registry": redact_url(self.registry or "(default)"),
            "kafka": mask_settings(self.kafka),
            "registry_config": mask_settings(self.registry_config),
            "connect": redact_url(self.connect) if self.connect else None,
            "gateway": self.gateway,
            "gateway_metrics": redact_url(self.gateway_metrics) if self.gateway_metrics else None,
        }


@dataclass
class ConsoleConfig:
    clusters: list[Cluster]
    read_only: bool = False
    page_size: int = 50
    max_page_size: int = 500

    def cluster(self, name: str | None) -> Cluster:
        if name is None:
            return self.clusters[0]
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        raise KeyError(name)


def _settings(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table of settings")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict):  # [clusters.kafka.sasl] password = ... (dotted keys in TOML)
            for sub, subvalue in _settings(item, where).items():
                out[f"{key}.{sub}"] = subvalue
        elif isinstance(item, (str, int, float, bool)):
            out[str(key)] = item
        else:
            raise ConfigError(f"{where}: {key} must be a string, number or boolean")
    return out


def load_config(path: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> ConsoleConfig:
    """Read ``path`` (TOML), or build the default configuration when it is None."""
    if path is None:
        return ConsoleConfig([default_cluster()], read_only=read_only)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the console config: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    raw = data.get("clusters")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{path}: needs at least one [[clusters]] table")
    clusters: list[Cluster] = []
    for index, entry in enumerate(raw, 1):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: clusters entry {index} is not a table")
        unknown = set(entry) - {"name", "bootstrap", "registry", "kafka", "registry_config", "connect", "gateway",
                                "gateway_metrics"}
        if unknown:
            raise ConfigError(f"{path}: cluster {index}: unknown keys {', '.join(sorted(unknown))}")
        name = str(entry.get("name") or f"cluster{index}")
        if not _NAME.match(name):
            raise ConfigError(f"{path}: cluster name {name!r}: letters, digits, '.', '_' and '-' only")
        if any(c.name == name for c in clusters):
            raise ConfigError(f"{path}: two clusters are named {name!r}")
        bootstrap = entry.get("bootstrap")
        if not isinstance(bootstrap, str) or not bootstrap.strip():
            raise ConfigError(f"{path}: cluster {name!r} needs bootstrap = \"host:port\"")
        registry = entry.get("registry")
        if registry is not None and not isinstance(registry, str):
            raise ConfigError(f"{path}: cluster {name!r}: registry must be a URL or a path")
        urls: dict[str, str | None] = {}
        for key in ("connect", "gateway_metrics"):
            value = entry.get(key)
            if value is not None and (not isinstance(value, str) or not value.startswith(("http://", "https://"))):
                raise ConfigError(f"{path}: cluster {name!r}: {key} must be an http:// or https:// URL")
            urls[key] = value.rstrip("/") if value else None
        gateway = entry.get("gateway")
        if gateway is not None:
            if not isinstance(gateway, str) or not gateway.strip():
                raise ConfigError(f"{path}: cluster {name!r}: gateway must be the path of a gateway config file")
            gateway = str((Path(path).parent / gateway).resolve())
        clusters.append(Cluster(name, bootstrap.strip(), registry,
                                _settings(entry.get("kafka"), f"cluster {name!r} kafka"),
                                _settings(entry.get("registry_config"), f"cluster {name!r} registry_config"),
                                urls["connect"], gateway, urls["gateway_metrics"]))
    options = data.get("console", {})
    page_size = options.get("page_size", 50) if isinstance(options, dict) else 50
    if not isinstance(page_size, int) or not 1 <= page_size <= 500:
        raise ConfigError(f"{path}: console.page_size must be 1..500")
    return ConsoleConfig(clusters, read_only=read_only or bool(options.get("read_only", False)), page_size=page_size)


def default_cluster() -> Cluster:
    """The ``serde local up`` stack when it runs here, else the environment's defaults."""
    env_bootstrap = os.environ.get("SERDE_BOOTSTRAP", "").strip()
    env_registry = os.environ.get("SERDE_REGISTRY", "").strip() or None
    if not env_bootstrap:
        from ..local import LocalStack

        stack = LocalStack()
        if (stack.root / "kafka.pid").is_file():  # `serde local up` ran here: its ports
            registry = env_registry or (stack.registry_url if (stack.root / "registry.pid").is_file() else None)
            return Cluster("local", stack.bootstrap, registry)
    return Cluster("default", env_bootstrap or "localhost:9092", env_registry)
