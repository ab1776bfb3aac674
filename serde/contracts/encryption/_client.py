"""DEK registry clients: the ``/dek-registry/v1`` REST API of Confluent Schema Registry
(and of ``serde registry serve`` and serde's embedded registry), and an in-memory one for
``mock://`` registries.

:class:`DekRegistryClient` sends its requests through the schema registry client serde
already holds (its URLs, basic or bearer auth, TLS settings, retries; for the embedded
registry, the in-process transport), so wherever serde can read schemas it can read keys.
No caching here: the executors cache, with expiry.
"""
from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Mapping
from urllib.parse import quote

from ..._errors import RegistryError

__all__ = ["Dek", "DekRegistryClient", "Kek", "MockDekRegistryClient", "dek_client_for"]

_PREFIX = "/dek-registry/v1"


@dataclass(frozen=True)
class Kek:
    """A key encryption key: only a pointer to a KMS key (and whether the registry may use it)."""

    name: str
    kms_type: str
    kms_key_id: str
    kms_props: Mapping[str, str] = field(default_factory=dict)
    doc: str | None = None
    shared: bool = False
    ts: int | None = None
    deleted: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Kek":
        return cls(
            name=str(data.get("name") or ""),
            kms_type=str(data.get("kmsType") or ""),
            kms_key_id=str(data.get("kmsKeyId") or ""),
            kms_props=dict(data.get("kmsProps") or {}),
            doc=data.get("doc"),
            shared=bool(data.get("shared")),
            ts=data.get("ts"),
            deleted=bool(data.get("deleted")),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kmsType": self.kms_type, "kmsKeyId": self.kms_key_id,
                               "kmsProps": dict(self.kms_props)}
        if self.doc is not None:
            out["doc"] = self.doc
        out["shared"] = self.shared
        if self.ts is not None:
            out["ts"] = self.ts
        if self.deleted:
            out["deleted"] = True
        return out


@dataclass(frozen=True)
class Dek:
    """A data encryption key of one (KEK, subject, algorithm, version). ``key_material`` (the
    raw DEK, base64) comes back only for shared KEKs; ``repr`` never shows it."""

    kek_name: str
    subject: str
    version: int
    algorithm: str
    encrypted_key_material: str | None = None
    key_material: str | None = field(default=None, repr=False)
    ts: int | None = None
    deleted: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Dek":
        return cls(
            kek_name=str(data.get("kekName") or ""),
            subject=str(data.get("subject") or ""),
            version=int(data.get("version") or 1),
            algorithm=str(data.get("algorithm") or "AES256_GCM"),
            encrypted_key_material=data.get("encryptedKeyMaterial"),
            key_material=data.get("keyMaterial"),
            ts=data.get("ts"),
            deleted=bool(data.get("deleted")),
        )

    def to_json(self, *, with_key_material: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"kekName": self.kek_name, "subject": self.subject, "version": self.version,
                               "algorithm": self.algorithm}
        if self.encrypted_key_material is not None:
            out["encryptedKeyMaterial"] = self.encrypted_key_material
        if with_key_material and self.key_material is not None:
            out["keyMaterial"] = self.key_material
        if self.ts is not None:
            out["ts"] = self.ts
        if self.deleted:
            out["deleted"] = True
        return out

    def encrypted_bytes(self) -> bytes | None:
        return base64.b64decode(self.encrypted_key_material) if self.encrypted_key_material else None

    def key_bytes(self) -> bytes | None:
        return base64.b64decode(self.key_material) if self.key_material else None


def _error(exc: Exception, what: str) -> RegistryError:
    from confluent_kafka.schema_registry.error import SchemaRegistryError

    if isinstance(exc, SchemaRegistryError):
        return RegistryError(f"{what}: {exc.error_message}", status=exc.http_status_code, code=exc.error_code)
    return RegistryError(f"{what}: {type(exc).__name__}: {exc}")


def _kek_path(name: str) -> str:
    return f"{_PREFIX}/keks/{quote(name, safe='')}"


class DekRegistryClient:
    """The DEK registry REST API over a confluent-kafka schema registry ``_RestClient``.

    Every failure is a :class:`serde.RegistryError` with the registry's ``status`` and
    ``code`` (40470 not found, 40971 exists, ...)."""

    def __init__(self, rest: Any, url: str = "") -> None:
        self._rest = rest
        self.url = url

    def _call(self, what: str, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None) -> Any:
        params = {k: v for k, v in (query or {}).items() if v is not None}
        try:
            if method == "GET":
                return self._rest.get(path, params)
            if method == "POST":
                return self._rest.send_request(path, method="POST", body=body, query=params or None)
            if method == "PUT":
                return self._rest.send_request(path, method="PUT", body=body, query=params or None)
            return self._rest.send_request(path, method="DELETE", query=params or None)
        except Exception as exc:  # noqa: BLE001 - SchemaRegistryError, httpx transport errors
            raise _error(exc, what) from exc

    # -- KEKs
    def list_keks(self, *, deleted: bool = False, subject_prefix: str | None = None) -> list[str]:
        query: dict[str, Any] = {"deleted": deleted}
        if subject_prefix:
            query["subjectPrefix"] = subject_prefix
        return list(self._call("listing KEKs", "GET", f"{_PREFIX}/keks", query=query) or [])

    def get_kek(self, name: str, *, deleted: bool = False, context: str | None = None) -> Kek:
        out = self._call(f"fetching KEK {name!r}", "GET", _kek_path(name), query={"deleted": deleted, "context": context})
        return Kek.from_json(out)

    def register_kek(self, name: str, kms_type: str, kms_key_id: str, *, shared: bool = False,
                     kms_props: Mapping[str, str] | None = None, doc: str | None = None,
                     context: str | None = None) -> Kek:
        body: dict[str, Any] = {"name": name, "kmsType": kms_type, "kmsKeyId": kms_key_id, "shared": shared}
        if kms_props:
            body["kmsProps"] = dict(kms_props)
        if doc is not None:
            body["doc"] = doc
        out = self._call(f"creating KEK {name!r}", "POST", f"{_PREFIX}/keks", body, {"context": context})
        return Kek.from_json(out)

    def update_kek(self, name: str, *, kms_props: Mapping[str, str] | None = None, doc: str | None = None,
                   shared: bool | None = None) -> Kek:
        body: dict[str, Any] = {}
        if kms_props is not None:
            body["kmsProps"] = dict(kms_props)
        if doc is not None:
            body["doc"] = doc
        if shared is not None:
            body["shared"] = shared
        return Kek.from_json(self._call(f"updating KEK {name!r}", "PUT", _kek_path(name), body))

    def delete_kek(self, name: str, *, permanent: bool = False) -> None:
        self._call(f"deleting KEK {name!r}", "DELETE", _kek_path(name), query={"permanent": permanent})

    def undelete_kek(self, name: str) -> None:
        self._call(f"undeleting KEK {name!r}", "POST", _kek_path(name) + "/undelete")

    # -- DEKs
    def list_deks(self, kek_name: str, *, deleted: bool = False) -> list[str]:
        return list(self._call(f"listing the DEKs of KEK {kek_name!r}", "GET", _kek_path(kek_name) + "/deks",
                               query={"deleted": deleted}) or [])

    def dek_versions(self, kek_name: str, subject: str, algorithm: str = "AES256_GCM", *, deleted: bool = False) -> list[int]:
        path = f"{_kek_path(kek_name)}/deks/{quote(subject, safe='')}/versions"
        out = self._call(f"listing DEK versions of {subject!r} under KEK {kek_name!r}", "GET", path,
                         query={"algorithm": algorithm, "deleted": deleted})
        return [int(v) for v in out or []]

    def get_dek(self, kek_name: str, subject: str, algorithm: str = "AES256_GCM", version: int = 1, *,
                deleted: bool = False) -> Dek:
        path = f"{_kek_path(kek_name)}/deks/{quote(subject, safe='')}/versions/{version}"
        out = self._call(f"fetching DEK {subject!r} version {version} of KEK {kek_name!r}", "GET", path,
                         query={"algorithm": algorithm, "deleted": deleted})
        return Dek.from_json(out)

    def register_dek(self, kek_name: str, subject: str, encrypted_key_material: str | None,
                     algorithm: str = "AES256_GCM", version: int = 1) -> Dek:
        """Create a DEK (``encrypted_key_material`` None: the registry generates it, for a
        shared KEK). Uses ``POST …/deks/{subject}``, or the older ``POST …/deks`` when the
        registry answers 405 (Confluent before 7.7)."""
        body: dict[str, Any] = {"subject": subject, "version": version, "algorithm": algorithm}
        if encrypted_key_material is not None:
            body["encryptedKeyMaterial"] = encrypted_key_material
        what = f"creating DEK {subject!r} version {version} of KEK {kek_name!r}"
        try:
            out = self._call(what, "POST", f"{_kek_path(kek_name)}/deks/{quote(subject, safe='')}", body)
        except RegistryError as exc:
            if exc.status != 405:
                raise
            out = self._call(what, "POST", f"{_kek_path(kek_name)}/deks", body)
        return Dek.from_json(out)

    def delete_dek(self, kek_name: str, subject: str, algorithm: str = "AES256_GCM", version: int | None = None, *,
                   permanent: bool = False) -> None:
        path = f"{_kek_path(kek_name)}/deks/{quote(subject, safe='')}"
        if version is not None:
            path += f"/versions/{version}"
        self._call(f"deleting DEK {subject!r} of KEK {kek_name!r}", "DELETE", path,
                   query={"algorithm": algorithm, "permanent": permanent})

    def undelete_dek(self, kek_name: str, subject: str, algorithm: str = "AES256_GCM", version: int | None = None) -> None:
        path = f"{_kek_path(kek_name)}/deks/{quote(subject, safe='')}"
        if version is not None:
            path += f"/versions/{version}"
        self._call(f"undeleting DEK {subject!r} of KEK {kek_name!r}", "POST", path + "/undelete",
                   query={"algorithm": algorithm})

    def close(self) -> None:
        """Nothing of its own: the schema registry client owns the connections."""


def _not_found(what: str) -> RegistryError:
    return RegistryError(f"{what}: Key not found", status=404, code=40470)


class MockDekRegistryClient:
    """In-memory DEK registry for ``mock://`` registries: one store per URL, shared by
    every client of that URL in the process (like confluent-kafka's mock clients).
    Shared KEKs are refused (the mock has no KMS of its own)."""

    _stores: dict[str, dict[str, Any]] = {}
    _stores_lock = threading.Lock()

    def __init__(self, url: str) -> None:
        self.url = url
        with self._stores_lock:
            self._store = self._stores.setdefault(url, {"keks": {}, "deks": {}, "lock": threading.Lock()})

    @classmethod
    def clear(cls, url: str | None = None) -> None:
        with cls._stores_lock:
            if url is None:
                cls._stores.clear()
            else:
                cls._stores.pop(url, None)

    def list_keks(self, *, deleted: bool = False, subject_prefix: str | None = None) -> list[str]:
        return sorted(n for n, k in self._store["keks"].items() if deleted or not k.deleted)

    def get_kek(self, name: str, *, deleted: bool = False, context: str | None = None) -> Kek:
        kek = self._store["keks"].get(name)
        if kek is None or (kek.deleted and not deleted):
            raise _not_found(f"fetching KEK {name!r}")
        return kek

    def register_kek(self, name: str, kms_type: str, kms_key_id: str, *, shared: bool = False,
                     kms_props: Mapping[str, str] | None = None, doc: str | None = None,
                     context: str | None = None) -> Kek:
        if shared:
            raise RegistryError("creating KEK: the mock DEK registry has no KMS for shared KEKs", status=422, code=42271)
        with self._store["lock"]:
            if name in self._store["keks"]:
                raise RegistryError(f"creating KEK {name!r}: Key '{name}' already exists", status=409, code=40971)
            kek = Kek(name, kms_type, kms_key_id, dict(kms_props or {}), doc, shared, int(time.time() * 1000))
            self._store["keks"][name] = kek
        return kek

    def list_deks(self, kek_name: str, *, deleted: bool = False) -> list[str]:
        return sorted({d.subject for (k, _, _, _), d in self._store["deks"].items() if k == kek_name and (deleted or not d.deleted)})

    def dek_versions(self, kek_name: str, subject: str, algorithm: str = "AES256_GCM", *, deleted: bool = False) -> list[int]:
        return sorted(v for (k, s, a, v), d in self._store["deks"].items()
                      if (k, s, a) == (kek_name, subject, algorithm) and (deleted or not d.deleted))

    def get_dek(self, kek_name: str, subject: str, algorithm: str = "AES256_GCM", version: int = 1, *,
                deleted: bool = False) -> Dek:
        what = f"fetching DEK {subject!r} version {version} of KEK {kek_name!r}"
        if version == -1:
            versions = self.dek_versions(kek_name, subject, algorithm, deleted=deleted)
            if not versions:
                raise _not_found(what)
            version = versions[-1]
        dek = self._store["deks"].get((kek_name, subject, algorithm, version))
        if dek is None or (dek.deleted and not deleted):
            raise _not_found(what)
        return dek

    def register_dek(self, kek_name: str, subject: str, encrypted_key_material: str | None,
                     algorithm: str = "AES256_GCM", version: int = 1) -> Dek:
        what = f"creating DEK {subject!r} version {version} of KEK {kek_name!r}"
        if kek_name not in self._store["keks"]:
            raise _not_found(what)
        if not encrypted_key_material:
            raise RegistryError(f"{what}: Invalid key: encryptedKeyMaterial", status=422, code=42271)
        key = (kek_name, subject, algorithm, version)
        with self._store["lock"]:
            if key in self._store["deks"]:
                raise RegistryError(f"{what}: Key '{subject}' already exists", status=409, code=40971)
            dek = Dek(kek_name, subject, version, algorithm, encrypted_key_material, None, int(time.time() * 1000))
            self._store["deks"][key] = dek
        return dek

    def delete_dek(self, kek_name: str, subject: str, algorithm: str = "AES256_GCM", version: int | None = None, *,
                   permanent: bool = False) -> None:
        with self._store["lock"]:
            for key, dek in list(self._store["deks"].items()):
                if key[:3] == (kek_name, subject, algorithm) and (version is None or key[3] == version):
                    if permanent:
                        del self._store["deks"][key]
                    else:
                        self._store["deks"][key] = replace(dek, deleted=True)

    def close(self) -> None:
        pass


def dek_client_for(registry: Any) -> Any:
    """The DEK registry client of a serde ``Registry`` (http(s), embedded or ``mock://``)."""
    client = getattr(registry, "client", registry)
    url = str(getattr(registry, "url", "") or "")
    conf = getattr(client, "_conf", None) or {}
    conf_url = str(conf.get("url") or "") if isinstance(conf, Mapping) else ""
    if url.startswith("mock://") or conf_url.startswith("mock://") or type(client).__name__.startswith("Mock"):
        return MockDekRegistryClient(conf_url or url or "mock://")
    rest = getattr(client, "_rest_client", None)
    if rest is None or not hasattr(rest, "send_request"):
        from ..._errors import ConfigError

        raise ConfigError(f"{type(client).__name__} has no REST client to reach a DEK registry through")
    return DekRegistryClient(rest, url)
