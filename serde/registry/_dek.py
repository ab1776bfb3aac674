"""The DEK registry (``/dek-registry/v1``): KEKs and DEKs for client-side field-level
encryption, stored in the registry's SQLite file next to the schemas.

Semantics follow Confluent's DEK registry (data-contracts.md section 6.1): KEK names
follow the rule-name syntax, DEKs are keyed by (KEK, subject, algorithm, version), objects
are soft-deleted before they can be deleted for good, a KEK cannot be deleted while DEKs
refer to it, creating an object identical to a soft-deleted one undeletes it, and at most
``max_keys`` KEKs and ``max_keys`` DEKs exist. For a *shared* KEK the registry itself
generates DEKs and wraps them with the KMS (the local KMS with the server's
``$LOCAL_SECRET``, or a cloud KMS the server has credentials for), and hands the raw key
back as ``keyMaterial``; it never stores a raw key.

Responses are Confluent's (``NON_NULL``): ``kmsProps`` always present (``{}``),
``deleted`` only when true. Errors: 40470 not found, 40471 not soft-deleted first,
40472 KEK soft-deleted, 40971 exists, 40972 too many keys, 42271 invalid or missing
field, 42272 DEKs still refer to the KEK, 50070 DEK generation (KMS) failed.
"""
from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from serde._errors import RegistryError
from serde.registry._store import Store, api_error, parse_version

__all__ = ["DEFAULT_MAX_KEYS", "DekRegistry", "NO_CONTENT"]

DEFAULT_MAX_KEYS = 20000
NO_CONTENT: Any = object()  # a 204 answer
ALGORITHMS = ("AES128_GCM", "AES256_GCM", "AES256_SIV")
_MAX_VERSION = 2**31 - 1
_DEFAULT_CONTEXT = "."

_DDL = """
CREATE TABLE IF NOT EXISTS dek_keks (
    ctx TEXT NOT NULL, name TEXT NOT NULL, kms_type TEXT NOT NULL, kms_key_id TEXT NOT NULL,
    kms_props TEXT NOT NULL, doc TEXT, shared INTEGER NOT NULL, ts INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (ctx, name));
CREATE TABLE IF NOT EXISTS dek_deks (
    ctx TEXT NOT NULL, kek_name TEXT NOT NULL, subject TEXT NOT NULL, algorithm TEXT NOT NULL,
    version INTEGER NOT NULL, encrypted_key_material TEXT NOT NULL, ts INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (ctx, kek_name, subject, algorithm, version))
"""

_KEK_COLUMNS = "name, kms_type, kms_key_id, kms_props, doc, shared, ts, deleted"
_DEK_COLUMNS = "kek_name, subject, algorithm, version, encrypted_key_material, ts, deleted"


def _not_found(name: str) -> RegistryError:
    return api_error(40470, f"Key '{name}' not found")


def _invalid(field: str) -> RegistryError:
    return api_error(42271, f"Invalid or missing key info: '{field}'")


def _exists(name: str) -> RegistryError:
    return api_error(40971, f"Key '{name}' already exists; use a different value")


def check_name(name: Any) -> str:
    """A KEK name: a letter or ``_``, then letters, digits, ``_`` or ``-``; at most 256."""
    if (
        not isinstance(name, str)
        or not name
        or len(name) > 256
        or not (name[0].isalpha() or name[0] == "_")
        or not all(c.isalnum() or c in "_-" for c in name[1:])
    ):
        raise _invalid("name")
    return name


def check_subject(subject: Any) -> str:
    if not isinstance(subject, str) or not subject or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in subject):
        raise _invalid("subject")
    return subject


def normalize_kms_type(kms_type: str) -> str:
    """Confluent's: anything starting aws / azure / gcp becomes aws-kms / azure-kms / gcp-kms."""
    low = kms_type.lower()
    for prefix in ("aws", "azure", "gcp"):
        if low.startswith(prefix):
            return f"{prefix}-kms"
    return kms_type


def _kek_json(row: tuple[Any, ...]) -> dict[str, Any]:
    name, kms_type, key_id, props, doc, shared, ts, deleted = row
    out: dict[str, Any] = {"name": name, "kmsType": kms_type, "kmsKeyId": key_id, "kmsProps": json.loads(props)}
    if doc is not None:
        out["doc"] = doc
    out["shared"] = bool(shared)
    out["ts"] = ts
    if deleted:
        out["deleted"] = True
    return out


def _dek_json(row: tuple[Any, ...]) -> dict[str, Any]:
    kek_name, subject, algorithm, version, material, ts, deleted = row
    out: dict[str, Any] = {"kekName": kek_name, "subject": subject, "version": version, "algorithm": algorithm,
                           "encryptedKeyMaterial": material, "ts": ts}
    if deleted:
        out["deleted"] = True
    return out


def _context(req: Any, subject: str) -> str:
    """The registry context of a DEK request: ``?context=``, else the subject's own
    (``:.ctx:subject``; clients send the context only on KEK calls), else the default."""
    given = req.query.get("context")
    if given:
        return given
    if subject.startswith(":."):
        end = subject.find(":", 2)
        return subject[1:end] if end > 0 else _DEFAULT_CONTEXT
    return _DEFAULT_CONTEXT


def _dek_where(ctx: str, name: str, subject: str, algorithm: str, version: int | None) -> tuple[str, list[Any]]:
    """The WHERE clause (and its arguments) of a subject's DEKs of one algorithm, or one version."""
    where = "ctx = ? AND kek_name = ? AND subject = ? AND algorithm = ?"
    args: list[Any] = [ctx, name, subject, algorithm]
    if version is not None:
        where += " AND version = ?"
        args.append(version)
    return where, args


def _now_ms() -> int:
    return int(time.time() * 1000)


class DekRegistry:
    """The ``/dek-registry/v1`` resource over the tables it adds to a registry ``Store``.

    ``kms_conf`` configures the KMS drivers the registry uses for shared KEKs (e.g.
    ``{"secret": ...}`` for the local KMS; by default ``$LOCAL_SECRET`` is read)."""

    def __init__(self, store: Store, *, max_keys: int = DEFAULT_MAX_KEYS, kms_conf: Mapping[str, str] | None = None) -> None:
        self.store = store
        self.max_keys = max_keys
        self.kms_conf = dict(kms_conf or {})
        with store._write() as conn:
            for stmt in _DDL.strip().split(";"):
                conn.execute(stmt)

    # ------------------------------------------------------------------ routing

    def dispatch(self, req: Any, seg: list[str], allow: Callable[[str, tuple[str, ...], Callable[[], Any]], Any]) -> Any:
        """Answer ``/dek-registry/v1/<seg...>``: a JSON value, or NO_CONTENT (204)."""
        m, n = req.method, len(seg)
        ctx = req.query.get("context") or _DEFAULT_CONTEXT
        if n == 0 or seg[0] != "keks":
            raise api_error(404, "HTTP 404 Not Found")
        if n == 1:
            if m == "POST":
                return self.create_kek(ctx, req.json(), test=req.flag("testSharing"))
            return allow(m, ("GET", "POST"), lambda: self.kek_names(ctx, req))
        name = check_name(seg[1])
        if n == 2:
            if m == "PUT":
                return self.update_kek(ctx, name, req.json(), test=req.flag("testSharing"))
            if m == "DELETE":
                return self.delete_kek(ctx, name, permanent=req.flag("permanent"))
            return allow(m, ("GET", "PUT", "DELETE"), lambda: _kek_json(self._kek(ctx, name, req.flag("deleted"))))
        if n == 3 and seg[2] == "undelete":
            return allow(m, ("POST",), lambda: self.undelete_kek(ctx, name))
        if n == 3 and seg[2] == "test":
            return allow(m, ("POST",), lambda: self.test_kek(ctx, name))
        if seg[2] != "deks":
            raise api_error(404, "HTTP 404 Not Found")
        if n == 3:
            if m == "POST":  # the deprecated form: subject in the body
                body = req.json()
                subject = body.get("subject") if isinstance(body, dict) else None
                subject = check_subject(subject)
                return self.create_dek(_context(req, subject), name, subject, body, rewrap=req.flag("rewrap"))
            return allow(m, ("GET", "POST"), lambda: self._page(req, self.dek_subjects(ctx, name, req.flag("deleted"))))
        subject = check_subject(seg[3])
        ctx = _context(req, subject)
        algorithm = self._algorithm(req)
        if n == 4:
            if m == "POST":
                return self.create_dek(ctx, name, subject, req.json(), rewrap=req.flag("rewrap"))
            if m == "DELETE":
                return self.delete_deks(ctx, name, subject, algorithm, None, permanent=req.flag("permanent"))
            return allow(m, ("GET", "POST", "DELETE"), lambda: self.get_dek(ctx, name, subject, algorithm, 1, req.flag("deleted")))
        if n == 5 and seg[4] == "undelete":
            return allow(m, ("POST",), lambda: self.undelete_deks(ctx, name, subject, algorithm, None))
        if seg[4] != "versions":
            raise api_error(404, "HTTP 404 Not Found")
        if n == 5:
            return allow(m, ("GET",), lambda: self._page(req, self.dek_versions(ctx, name, subject, algorithm, req.flag("deleted"))))
        parsed = parse_version(seg[5])
        version = -1 if parsed == "latest" else int(parsed)
        if n == 6:
            if m == "DELETE":
                if version == -1:
                    raise api_error(42202, f"The specified version '{seg[5]}' is not a valid version id.")
                return self.delete_deks(ctx, name, subject, algorithm, version, permanent=req.flag("permanent"))
            return allow(m, ("GET", "DELETE"), lambda: self.get_dek(ctx, name, subject, algorithm, version, req.flag("deleted")))
        if n == 7 and seg[6] == "undelete" and version != -1:
            return allow(m, ("POST",), lambda: self.undelete_deks(ctx, name, subject, algorithm, version))
        raise api_error(404, "HTTP 404 Not Found")

    @staticmethod
    def _algorithm(req: Any) -> str:
        algorithm = req.query.get("algorithm") or "AES256_GCM"
        if algorithm not in ALGORITHMS:  # JAX-RS cannot convert the enum parameter: a 404
            raise api_error(404, "HTTP 404 Not Found")
        return algorithm

    @staticmethod
    def _page(req: Any, items: list[Any]) -> list[Any]:
        offset = max(req.int_param("offset", 0), 0)
        limit = req.int_param("limit", -1)
        return items[offset:] if limit < 0 else items[offset : offset + limit]

    # ------------------------------------------------------------------ KEKs

    def _kek_row(self, conn: Any, ctx: str, name: str) -> tuple[Any, ...] | None:
        return conn.execute(f"SELECT {_KEK_COLUMNS} FROM dek_keks WHERE ctx = ? AND name = ?", (ctx, name)).fetchone()

    def _kek(self, ctx: str, name: str, deleted: bool) -> tuple[Any, ...]:
        with self.store._read() as conn:
            row = self._kek_row(conn, ctx, name)
        if row is None or (row[7] and not deleted):
            raise _not_found(name)
        return row

    def kek_names(self, ctx: str, req: Any) -> list[str]:
        deleted = req.flag("deleted")
        prefixes = [p for p in req.query_lists.get("subjectPrefix", []) if p]
        with self.store._read() as conn:
            rows = conn.execute("SELECT name, deleted FROM dek_keks WHERE ctx = ? ORDER BY name", (ctx,)).fetchall()
            names = [name for name, gone in rows if deleted or not gone]
            if prefixes:
                subjects = conn.execute("SELECT DISTINCT kek_name, subject FROM dek_deks WHERE ctx = ?", (ctx,)).fetchall()
                keep = {k for k, s in subjects if any(s.startswith(p) for p in prefixes)}
                names = [n for n in names if n in keep]
        return self._page(req, names)

    def create_kek(self, ctx: str, body: Any, *, test: bool = False) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _invalid("name")
        name = check_name(body.get("name"))
        kms_key_id, kms_type = body.get("kmsKeyId"), body.get("kmsType")
        if not isinstance(kms_key_id, str) or not kms_key_id:
            raise _invalid("kmsKeyId")
        if not isinstance(kms_type, str) or not kms_type:
            raise _invalid("kmsType")
        props = self._props(body.get("kmsProps"))
        doc = body.get("doc")
        if doc is not None and not isinstance(doc, str):
            raise _invalid("doc")
        shared, deleted = bool(body.get("shared")), bool(body.get("deleted"))
        row = (name, normalize_kms_type(kms_type), kms_key_id, json.dumps(props, sort_keys=True), doc, int(shared))
        if test and shared:
            self._generate(_kek_json((*row, 0, 0)), None, "AES256_GCM")
        with self.store._write() as conn:
            old = self._kek_row(conn, ctx, name)
            if old is not None and (bool(old[7]) == deleted or tuple(old[:6]) != row):
                raise _exists(name)
            if old is None:
                self._check_room(conn, "dek_keks")
            conn.execute(
                "INSERT OR REPLACE INTO dek_keks (ctx, name, kms_type, kms_key_id, kms_props, doc, shared, ts, deleted)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ctx, *row, _now_ms(), int(deleted)),
            )
            return _kek_json(self._kek_row(conn, ctx, name))  # type: ignore[arg-type]

    def _check_room(self, conn: Any, table: str) -> None:
        """40972 when ``table`` (KEKs or DEKs) already holds ``max_keys`` keys."""
        if conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] >= self.max_keys:
            raise api_error(40972, f"A maximum of {self.max_keys} keys already exist")

    @staticmethod
    def _props(value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise _invalid("kmsProps")
        return {str(k): v for k, v in value.items()}

    def update_kek(self, ctx: str, name: str, body: Any, *, test: bool = False) -> dict[str, Any]:
        if not isinstance(body, dict):
            body = {}
        with self.store._write() as conn:
            old = self._kek_row(conn, ctx, name)
            if old is None or old[7]:
                raise _not_found(name)
            props = json.dumps(self._props(body["kmsProps"]), sort_keys=True) if "kmsProps" in body else old[3]
            doc = body["doc"] if "doc" in body else old[4]
            if doc is not None and not isinstance(doc, str):
                raise _invalid("doc")
            shared = int(bool(body["shared"])) if "shared" in body and body["shared"] is not None else old[5]
            row = (name, old[1], old[2], props, doc, shared)
            if test and shared:
                self._generate(_kek_json((*row, 0, 0)), None, "AES256_GCM")
            if row != tuple(old[:6]):
                conn.execute(
                    "UPDATE dek_keks SET kms_props = ?, doc = ?, shared = ?, ts = ? WHERE ctx = ? AND name = ?",
                    (props, doc, shared, _now_ms(), ctx, name),
                )
            return _kek_json(self._kek_row(conn, ctx, name))  # type: ignore[arg-type]

    def delete_kek(self, ctx: str, name: str, *, permanent: bool) -> Any:
        with self.store._write() as conn:
            old = self._kek_row(conn, ctx, name)
            if old is None:
                raise _not_found(name)
            live = "" if permanent else " AND deleted = 0"
            if conn.execute(f"SELECT 1 FROM dek_deks WHERE ctx = ? AND kek_name = ?{live} LIMIT 1", (ctx, name)).fetchone():
                raise api_error(42272, f"One or more references exist to the key {name}")
            if permanent:
                if not old[7]:
                    raise api_error(40471, f"Key '{name}' was not deleted first before being permanently deleted")
                conn.execute("DELETE FROM dek_keks WHERE ctx = ? AND name = ?", (ctx, name))
            elif not old[7]:
                conn.execute("UPDATE dek_keks SET deleted = 1, ts = ? WHERE ctx = ? AND name = ?", (_now_ms(), ctx, name))
        return NO_CONTENT

    def undelete_kek(self, ctx: str, name: str) -> Any:
        with self.store._write() as conn:
            old = self._kek_row(conn, ctx, name)
            if old is None:
                raise _not_found(name)
            if old[7]:
                conn.execute("UPDATE dek_keks SET deleted = 0, ts = ? WHERE ctx = ? AND name = ?", (_now_ms(), ctx, name))
        return NO_CONTENT

    def test_kek(self, ctx: str, name: str) -> dict[str, Any]:
        kek = _kek_json(self._kek(ctx, name, False))
        if not kek["shared"]:
            raise _invalid("shared")
        raw, wrapped = self._generate(kek, None, "AES256_GCM")
        if self._unwrap(kek, wrapped) != raw:
            raise api_error(50070, f"The KMS of key '{name}' did not give back the DEK it wrapped")
        return kek

    # ------------------------------------------------------------------ DEKs

    def _dek_rows(self, conn: Any, ctx: str, name: str, subject: str, algorithm: str, version: int | None) -> list[Any]:
        where, args = _dek_where(ctx, name, subject, algorithm, version)
        return conn.execute(f"SELECT {_DEK_COLUMNS} FROM dek_deks WHERE {where} ORDER BY version", args).fetchall()

    def dek_subjects(self, ctx: str, name: str, deleted: bool) -> list[str]:
        self._kek(ctx, name, deleted)
        live = "" if deleted else " AND deleted = 0"
        with self.store._read() as conn:
            rows = conn.execute(
                f"SELECT DISTINCT subject FROM dek_deks WHERE ctx = ? AND kek_name = ?{live} ORDER BY subject", (ctx, name)
            ).fetchall()
        return [r[0] for r in rows]

    def dek_versions(self, ctx: str, name: str, subject: str, algorithm: str, deleted: bool) -> list[int]:
        self._kek(ctx, name, deleted)
        with self.store._read() as conn:
            rows = self._dek_rows(conn, ctx, name, subject, algorithm, None)
        return [r[3] for r in rows if deleted or not r[6]]

    def get_dek(self, ctx: str, name: str, subject: str, algorithm: str, version: int, deleted: bool) -> dict[str, Any]:
        kek = _kek_json(self._kek(ctx, name, deleted))
        with self.store._read() as conn:
            rows = [r for r in self._dek_rows(conn, ctx, name, subject, algorithm, None if version == -1 else version)
                    if deleted or not r[6]]
        if not rows:
            raise _not_found(subject)
        out = _dek_json(rows[-1])
        if kek["shared"]:
            out["keyMaterial"] = base64.b64encode(self._unwrap(kek, out["encryptedKeyMaterial"])).decode("ascii")
        return out

    def create_dek(self, ctx: str, name: str, subject: str, body: Any, *, rewrap: bool = False) -> dict[str, Any]:
        if not isinstance(body, dict):
            body = {}
        kek = _kek_json(self._kek(ctx, name, False))
        algorithm = body.get("algorithm") or "AES256_GCM"
        if algorithm not in ALGORITHMS:
            raise _invalid("algorithm")
        version = body.get("version")
        if version is None:
            version = 1
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= _MAX_VERSION:
            raise _invalid("version")
        material = body.get("encryptedKeyMaterial")
        if material is not None:
            if not isinstance(material, str) or not material:
                raise _invalid("encryptedKeyMaterial")
            try:
                base64.b64decode(material, validate=True)
            except ValueError:
                raise _invalid("encryptedKeyMaterial") from None
        deleted = bool(body.get("deleted"))
        with self.store._read() as conn:
            old_rows = self._dek_rows(conn, ctx, name, subject, algorithm, version)
        old = old_rows[0] if old_rows else None
        if not rewrap and old is not None and (bool(old[6]) == deleted or old[4] != material):
            raise _exists(subject)
        raw: bytes | None = None
        if material is not None:
            if kek["shared"] and old is not None:
                raise _exists(subject)
        elif kek["shared"]:
            previous = self._unwrap(kek, old[4]) if old is not None else None
            raw, wrapped = self._generate(kek, previous, algorithm)
            material = base64.b64encode(wrapped).decode("ascii")
        else:
            raise _invalid("encryptedKeyMaterial")
        with self.store._write() as conn:
            now = self._dek_rows(conn, ctx, name, subject, algorithm, version)
            if (now[0] if now else None) != old:  # another request created or changed it meanwhile
                raise _exists(subject)
            if old is None:
                self._check_room(conn, "dek_deks")
            conn.execute(
                "INSERT OR REPLACE INTO dek_deks (ctx, kek_name, subject, algorithm, version, encrypted_key_material, ts, deleted)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (ctx, name, subject, algorithm, version, material, _now_ms(), int(deleted)),
            )
            out = _dek_json(self._dek_rows(conn, ctx, name, subject, algorithm, version)[0])
        if kek["shared"]:
            out["keyMaterial"] = base64.b64encode(raw if raw is not None else self._unwrap(kek, material)).decode("ascii")
        return out

    def delete_deks(self, ctx: str, name: str, subject: str, algorithm: str, version: int | None, *, permanent: bool) -> Any:
        with self.store._write() as conn:
            if self._kek_row(conn, ctx, name) is None:
                raise _not_found(name)
            rows = self._dek_rows(conn, ctx, name, subject, algorithm, version)
            if not rows:
                raise _not_found(subject)
            where, args = _dek_where(ctx, name, subject, algorithm, version)
            if permanent:
                if any(not r[6] for r in rows):
                    raise api_error(40471, f"Key '{subject}' was not deleted first before being permanently deleted")
                conn.execute(f"DELETE FROM dek_deks WHERE {where}", args)
            else:
                conn.execute(f"UPDATE dek_deks SET deleted = 1, ts = ? WHERE {where} AND deleted = 0", [_now_ms(), *args])
        return NO_CONTENT

    def undelete_deks(self, ctx: str, name: str, subject: str, algorithm: str, version: int | None) -> Any:
        with self.store._write() as conn:
            kek = self._kek_row(conn, ctx, name)
            if kek is None:
                raise _not_found(name)
            if kek[7]:
                raise api_error(40472, f"Key '{name}' must be undeleted first")
            rows = self._dek_rows(conn, ctx, name, subject, algorithm, version)
            if not rows:
                raise _not_found(subject)
            where, args = _dek_where(ctx, name, subject, algorithm, version)
            conn.execute(f"UPDATE dek_deks SET deleted = 0, ts = ? WHERE {where} AND deleted = 1", [_now_ms(), *args])
        return NO_CONTENT

    def list_all(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Every KEK and DEK (soft-deleted ones too), for listings."""
        with self.store._read() as conn:
            keks = [_kek_json(r) for r in conn.execute(f"SELECT {_KEK_COLUMNS} FROM dek_keks ORDER BY ctx, name")]
            deks = [_dek_json(r) for r in conn.execute(
                f"SELECT {_DEK_COLUMNS} FROM dek_deks ORDER BY ctx, kek_name, subject, algorithm, version")]
        return keks, deks

    # ------------------------------------------------------------------ the KMS (shared KEKs)

    def _aead(self, kek: Mapping[str, Any]) -> Any:
        from serde.contracts.encryption._kms import get_kms_driver

        conf = {**self.kms_conf, **kek.get("kmsProps", {})}
        return get_kms_driver(kek["kmsType"]).new_aead(kek["kmsKeyId"], conf)

    def _generate(self, kek: Mapping[str, Any], raw: bytes | None, algorithm: str) -> tuple[bytes, bytes]:
        """(raw DEK, wrapped DEK): ``raw`` (re)wrapped, or a new one; 50070 if the KMS fails."""
        from serde.contracts.encryption._crypto import cipher_for

        try:
            if raw is None:
                raw = cipher_for(algorithm).generate()
            return raw, self._aead(kek).encrypt(raw)
        except Exception as exc:  # noqa: BLE001 - RuleError from a driver, SDK errors
            raise api_error(_kms_error_code(exc), f"Could not generate dek for key '{kek['name']}': {_reason(exc)}") from exc

    def _unwrap(self, kek: Mapping[str, Any], material: Any) -> bytes:
        try:
            data = base64.b64decode(material) if isinstance(material, str) else material
            return self._aead(kek).decrypt(data)
        except Exception as exc:  # noqa: BLE001
            raise api_error(_kms_error_code(exc), f"Could not decrypt dek for key '{kek['name']}': {_reason(exc)}") from exc


_DENIED = ("AccessDenied", "PermissionDenied", "Forbidden", "PermissionError", "Unauthorized")


def _kms_error_code(exc: BaseException) -> int:
    """40370 when the KMS refused access to the key (any SDK's access-denied error, or a
    reason naming one), else 50070."""
    seen: BaseException | None = exc
    while seen is not None:
        text = f"{type(seen).__name__} {getattr(seen, 'reason', '')} {getattr(seen, 'response', '') or ''}"
        if any(word in text for word in _DENIED):
            return 40370
        seen = seen.__cause__
    return 50070


def _reason(exc: BaseException) -> str:
    return getattr(exc, "reason", None) or type(exc).__name__

