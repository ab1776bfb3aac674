"""Registry access for serializers: one adapter over ``confluent_kafka``'s
``SchemaRegistryClient`` (remote HTTP, ``mock://`` in-memory, or serde's embedded
SQLite registry, which is a SchemaRegistryClient over an in-process transport).

This is the single place where registry exceptions (``SchemaRegistryError``, httpx
transport errors) become serde errors, and where schemas fetched by id are cached so
the per-record path never goes back to the registry.
"""
from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence, TypeVar

from .._errors import (
    ConfigError,
    IncompatibleSchemaError,
    RegistryError,
    SchemaNotFound,
    SubjectNotFound,
    VersionNotFound,
)
from .._types import RegisteredSchema, SchemaReference

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import SchemaRegistryClient

    from .embedded import EmbeddedRegistry

RegistryLike = "str | os.PathLike[str] | SchemaRegistryClient | EmbeddedRegistry | Registry | None"
DEFAULT_REGISTRY_ENV = "SERDE_REGISTRY"
DEFAULT_EMBEDDED_PATH = Path(".serde") / "registry.db"

T = TypeVar("T")

_BY_CODE: dict[int, type[RegistryError]] = {
    40401: SubjectNotFound,
    40402: VersionNotFound,
    40403: SchemaNotFound,
    409: IncompatibleSchemaError,
    40901: IncompatibleSchemaError,
}


def default_registry_location() -> str:
    """``$SERDE_REGISTRY`` (a URL or a SQLite path), else ``.serde/registry.db``."""
    return os.environ.get(DEFAULT_REGISTRY_ENV) or str(DEFAULT_EMBEDDED_PATH)


class Registry:
    """What serializers need from a schema registry, with caches. Private to serde:
    users pass a URL, a path, a SchemaRegistryClient or an EmbeddedRegistry."""

    def __init__(self, client: "SchemaRegistryClient", url: str, owner: Any = None) -> None:
        self.client = client
        self.url = url
        self._owner = owner  # keeps an EmbeddedRegistry alive as long as we are
        self._by_id: dict[Any, RegisteredSchema] = {}
        self._by_version: dict[tuple[str, int], RegisteredSchema] = {}
        self._lock = threading.Lock()
        self._dek_client: Any = None

    def dek_client(self) -> Any:
        """This registry's DEK registry client (``/dek-registry/v1``, or in memory for
        ``mock://``), made on first use and shared by every encryption executor."""
        found = self._dek_client
        if found is None:
            from ..contracts.encryption._client import dek_client_for

            with self._lock:
                if self._dek_client is None:
                    self._dek_client = dek_client_for(self)
                found = self._dek_client
        return found

    # -- the translation point ----------------------------------------------------------
    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        try:
            return fn(*args, **kwargs)
        except SchemaRegistryError as exc:
            kind = _BY_CODE.get(exc.error_code) or (IncompatibleSchemaError if exc.http_status_code == 409 else RegistryError)
            message = f"{what}: {exc.error_message}"
            if kind is IncompatibleSchemaError:
                raise IncompatibleSchemaError(
                    message, messages=[exc.error_message], status=exc.http_status_code, code=exc.error_code, url=self.url
                ) from exc
            raise kind(message, status=exc.http_status_code, code=exc.error_code, url=self.url) from exc
        except RegistryError:
            raise
        except Exception as exc:  # noqa: BLE001 - transport errors (httpx), bad answers
            raise RegistryError(f"{what}: {type(exc).__name__}: {exc}", url=self.url) from exc

    # -- registration -------------------------------------------------------------------
    def register(self, subject: str, schema_type: str, text: str, references: Sequence[SchemaReference] = (), normalize: bool = False,
                 *, metadata: Any = None, rule_set: Any = None) -> int:
        """Register a schema; ``metadata`` and ``rule_set`` (Confluent's JSON, as dicts)
        are its data contract, merged by the registry with the subject's defaults."""
        schema = _confluent_schema(schema_type, text, references, metadata, rule_set)
        return self.call(
            f"registering the {schema_type} schema under subject {subject!r}",
            self.client.register_schema,
            subject,
            schema,
            normalize_schemas=normalize,
        )

    def lookup(self, subject: str, schema_type: str, text: str, references: Sequence[SchemaReference] = (), normalize: bool = False,
               *, metadata: Any = None, rule_set: Any = None) -> RegisteredSchema:
        schema = _confluent_schema(schema_type, text, references, metadata, rule_set)
        found = self.call(
            f"looking up the schema under subject {subject!r} (auto_register is off)",
            self.client.lookup_schema,
            subject,
            schema,
            normalize_schemas=normalize,
        )
        return _from_confluent(found, default_type=schema_type)

    def latest(self, subject: str) -> RegisteredSchema:
        found = self.call(f"fetching the latest version of subject {subject!r}", self.client.get_latest_version, subject)
        return _from_confluent(found)

    def latest_with_metadata(self, subject: str, metadata: dict[str, str]) -> RegisteredSchema:
        """The subject's newest version whose metadata properties include ``metadata``."""
        found = self.call(
            f"fetching the latest version of subject {subject!r} with metadata {metadata!r}",
            self.client.get_latest_with_metadata,
            subject,
            metadata,
        )
        return _from_confluent(found)

    def version(self, subject: str, version: int) -> RegisteredSchema:
        key = (subject, version)
        cached = self._by_version.get(key)
        if cached is None:
            found = self.call(f"fetching version {version} of subject {subject!r}", self.client.get_version, subject, version)
            cached = self._by_version[key] = _from_confluent(found)
        return cached

    def by_id(self, schema_id: Any) -> RegisteredSchema:
        cached = self._by_id.get(schema_id)
        if cached is not None:
            return cached

        if isinstance(schema_id, uuid.UUID):
            found = self.call(f"fetching schema guid {schema_id}", self.client.get_schema_by_guid, str(schema_id))
        else:
            found = self.call(f"fetching schema id {schema_id}", self.client.get_schema, schema_id)
        schema = _from_confluent(found, schema_id=schema_id)
        with self._lock:
            self._by_id[schema_id] = schema
        return schema

    # -- associations (the ASSOCIATED subject name strategy) -----------------------------
    def associated_subjects(self, topic: str, namespace: str = "-", is_key: bool = False) -> list[str]:
        """Subjects associated with ``topic``'s key or value in resource namespace ``namespace``
        (a Kafka cluster id; ``-`` means any), as ``GET /associations/resources/{ns}/{topic}``
        answers. A 404 (no associations, or a registry without the associations API) is []."""
        lookup = getattr(self.client, "get_associations_by_resource_name", None)
        if lookup is None:
            raise ConfigError(
                "the associated subject name strategy needs confluent-kafka's associations API "
                f"(SchemaRegistryClient.get_associations_by_resource_name), which {type(self.client).__name__} lacks;"
                " upgrade confluent-kafka"
            )
        field = "key" if is_key else "value"
        try:
            found = self.call(
                f"looking up the subject associated with the {field} of topic {topic!r} (namespace {namespace!r})",
                lookup,
                resource_name=topic,
                resource_namespace=namespace,
                resource_type="topic",
                association_types=[field],
                offset=0,
                limit=-1,
            )
        except RegistryError as exc:
            if exc.status == 404:
                return []
            raise
        return [str(a.subject) for a in found or ()]

    def resolve_references(self, references: Iterable[SchemaReference]) -> dict[str, str]:
        """Texts of the references, and of theirs, by reference name (depth first)."""
        resolved: dict[str, str] = {}
        pending = list(references)
        seen: set[tuple[str, int]] = set()
        while pending:
            ref = pending.pop()
            key = (ref.subject, ref.version)
            if key in seen:
                continue
            seen.add(key)
            target = self.version(ref.subject, ref.version)
            resolved.setdefault(ref.name, target.text)
            pending.extend(target.references)
        return resolved


def _confluent_schema(schema_type: str, text: str, references: Sequence[SchemaReference], metadata: Any = None,
                      rule_set: Any = None) -> Any:
    from confluent_kafka.schema_registry import Metadata, Schema
    from confluent_kafka.schema_registry.schema_registry_client import RuleSet
    from confluent_kafka.schema_registry import SchemaReference as CkReference

    refs = [CkReference(r.name, r.subject, r.version) for r in references]
    # confluent-kafka's AvroSerializer strips the schema text before registering (its
    # JSON and Protobuf serializers do not), and writes a primitive declared by name
    # ("bytes") as {"type":"bytes"}; so must we, or the same schema gets a second id in
    # registries that compare text.
    if schema_type == "AVRO":
        text = text.strip()
        if text[:1] not in ("{", "["):
            text = '{"type":' + text + "}"
    return Schema(text, schema_type, refs, Metadata.from_dict(dict(metadata)) if metadata else None,
                  RuleSet.from_dict(dict(rule_set)) if rule_set else None)


def _from_confluent(found: Any, *, schema_id: Any = None, default_type: str = "AVRO") -> RegisteredSchema:
    # get_schema returns a Schema; lookups and versions a RegisteredSchema wrapping one.
    schema = getattr(found, "schema", None) or found
    refs = tuple(
        SchemaReference(r.name, r.subject, int(r.version)) for r in (getattr(schema, "references", None) or [])
    )
    guid = getattr(found, "guid", None) or getattr(schema, "guid", None)
    if isinstance(schema_id, uuid.UUID):
        guid = schema_id
    return RegisteredSchema(
        id=schema_id if schema_id is not None else getattr(found, "schema_id", None),
        schema_type=(getattr(schema, "schema_type", None) or default_type).upper(),
        text=schema.schema_str,
        references=refs,
        subject=getattr(found, "subject", None),
        version=getattr(found, "version", None),
        guid=_as_uuid(guid),
        metadata=_as_json(getattr(schema, "metadata", None)),
        rule_set=_as_json(getattr(schema, "rule_set", None)),
    )


def _as_uuid(value: Any) -> "uuid.UUID | None":
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:  # a registry that answers with something else: no GUID then
        return None


def _as_json(value: Any) -> Any:
    """confluent-kafka's Metadata / RuleSet objects as their JSON dicts (None when empty)."""
    if value is None:
        return None
    data = value.to_dict() if hasattr(value, "to_dict") else value
    return data or None


def as_reference(ref: Any) -> SchemaReference:
    """Accept serde's or confluent_kafka's SchemaReference, a dict or a 3-tuple."""
    if isinstance(ref, SchemaReference):
        return ref
    if isinstance(ref, dict):
        return SchemaReference(ref["name"], ref["subject"], int(ref["version"]))
    if isinstance(ref, tuple) and len(ref) == 3:
        return SchemaReference(ref[0], ref[1], int(ref[2]))
    if all(hasattr(ref, a) for a in ("name", "subject", "version")):
        return SchemaReference(ref.name, ref.subject, int(ref.version))
    raise ConfigError(f"not a schema reference: {ref!r} (expected name, subject and version)")


_cache: dict[str, Registry] = {}
_cache_lock = threading.Lock()


def forget_registry(location: str) -> None:
    """Drop the process's shared Registry (and its caches) for ``location``: for a
    registry that goes away and another that may come up at the same URL (test servers
    on reused ports), whose schema ids would otherwise be answered from the old cache."""
    with _cache_lock:
        gone = _cache.pop(location, None)
    close = getattr(gone.client, "close", None) if gone is not None else None
    if close is not None:
        try:
            close()  # its keep-alive connections point at the server that went away
        except Exception:  # noqa: BLE001 - closing a client of a dead server: nothing to report
            pass


def open_registry(registry: Any = None) -> Registry:
    """Turn what the user passed into a :class:`Registry`.

    ``None`` means ``$SERDE_REGISTRY`` or the embedded registry at ``.serde/registry.db``;
    ``http(s)://`` and ``mock://`` URLs go to confluent-kafka's client; any other string
    or path is an embedded registry's SQLite file. Registries opened by URL or path are
    shared per process, so their caches are too.
    """
    if isinstance(registry, Registry):
        return registry
    if registry is None:
        registry = default_registry_location()
    if isinstance(registry, (str, os.PathLike)):
        key = os.fspath(registry)
        with _cache_lock:
            found = _cache.get(key)
            if found is None:
                found = _cache[key] = _open_location(key)
            return found
    from confluent_kafka.schema_registry import SchemaRegistryClient

    if isinstance(registry, SchemaRegistryClient):
        conf = getattr(registry, "_conf", None) or {}
        return Registry(registry, _redact(str(conf.get("url", type(registry).__name__))))
    embedded_client = getattr(registry, "client", None)
    if isinstance(embedded_client, SchemaRegistryClient):  # an EmbeddedRegistry
        return Registry(embedded_client, f"embedded:{getattr(registry, 'path', '?')}", owner=registry)
    raise ConfigError(
        f"registry must be a URL, a SQLite path, a SchemaRegistryClient or an EmbeddedRegistry, not {type(registry).__name__}"
    )


def _open_location(location: str) -> Registry:
    from confluent_kafka.schema_registry import SchemaRegistryClient

    import re

    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", location)
    if scheme and scheme.group(1).lower() not in ("http", "https", "mock"):
        raise ConfigError(f"registry {location!r}: only http(s):// and mock:// URLs, or a SQLite file path")
    if re.fullmatch(r"[\w.-]+:\d+(/.*)?", location):
        # "localhost:8081" would silently become a SQLite file named like that
        raise ConfigError(f"registry {location!r} looks like host:port; write http://{location}")
    if location.startswith(("http://", "https://", "mock://")):
        try:
            client = SchemaRegistryClient.new_client({"url": location})
        except Exception as exc:  # noqa: BLE001 - confluent raises ValueError on bad conf
            raise ConfigError(f"cannot use registry URL {location!r}: {exc}") from exc
        return Registry(client, _redact(location))
    from .embedded import EmbeddedRegistry

    embedded = EmbeddedRegistry(location)
    return Registry(embedded.client, f"embedded:{location}", owner=embedded)


def _redact(url: str) -> str:
    """The URL without credentials: it ends up in error messages and logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
