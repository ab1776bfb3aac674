"""The Confluent Schema Registry REST API as a plain WSGI application over ``Store``.

Both the embedded registry (through ``httpx.WSGITransport``, in process) and
``serde registry serve`` (over HTTP) run this one application, so every client goes through
the same code path. Responses follow ``docs/registry-api.md``: error bodies
``{"error_code", "message"}`` whose first three digits are the HTTP status, empty fields
omitted, ``application/vnd.schemaregistry.v1+json`` unless the client asks otherwise.

Optional HTTP basic auth reads a users file (see ``load_users``).
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote

import orjson

from serde._errors import RegistryError
from serde.registry._store import (
    ASSOCIATION_LIMIT,
    LIFECYCLES,
    SCHEMA_TYPES,
    AssociationRequest,
    SchemaRequest,
    Store,
    api_error,
    invalid_association,
    serialized_proto,
)

__all__ = ["DEFAULT_MAX_BODY", "RegistryApp", "load_users", "password_ok"]

DEFAULT_MAX_BODY = 16 * 1024 * 1024
MAX_TARGET = 64 * 1024  # longest request target (path and query) answered; longer gets 414
V1_JSON = "application/vnd.schemaregistry.v1+json"
_RESPONSE_TYPES = (V1_JSON, "application/vnd.schemaregistry+json", "application/json")
_REQUEST_TYPES = (*_RESPONSE_TYPES, "application/octet-stream")
_REALM = "serde-registry"
SERVER_VERSION = "7.9.0-serde"
CLUSTER_ID = "serde-embedded"

_STATUS_TEXT = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Payload Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
}

StartResponse = Callable[..., Any]


def load_users(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a users file: one ``user:password`` or ``user:sha256:<hex digest>`` per line.

    Blank lines and ``#`` comments are skipped. ``sha256:`` entries hold
    ``hashlib.sha256(password.encode()).hexdigest()`` so the file need not hold clear text
    (``python -c 'import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())' PW``).
    Returns user → stored secret (``"plain:<pw>"`` or ``"sha256:<hex>"``).
    """
    users: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            user, sep, secret = line.partition(":")
            if not sep or not user:
                raise ValueError(f"{path}:{lineno}: expected 'user:password' or 'user:sha256:<hex>'")
            if secret.startswith("sha256:"):
                users[user] = "sha256:" + secret[len("sha256:") :].strip().lower()
            else:
                users[user] = "plain:" + secret
    if not users:
        raise ValueError(f"{path}: no users")
    return users


def password_ok(stored: str, password: str) -> bool:
    """Whether ``password`` matches a users-file entry (plain or ``sha256:<hex>``), in constant time."""
    kind, _, secret = stored.partition(":")
    if kind == "sha256":
        given = hashlib.sha256(password.encode()).hexdigest()
        return hmac.compare_digest(given, secret)
    if kind == "plain":
        return hmac.compare_digest(password.encode(), secret.encode())
    # anything else (a bare password handed over as {"user": "pw"}, not load_users'
    # "plain:pw") must not match: reading it as kind:secret let "" or a suffix in
    return False


_EMPTYABLE = (dict, list, str)


def _prune(obj: Any) -> Any:
    """Drop None / empty fields (Confluent's ``@JsonInclude(NON_EMPTY)``) and private keys."""
    if isinstance(obj, dict):
        return {
            k: _prune(v)
            for k, v in obj.items()
            if v is not None and not (not v and isinstance(v, _EMPTYABLE)) and not k.startswith("_")
        }
    if isinstance(obj, list):
        return [_prune(v) for v in obj]
    return obj


class _Response(Exception):
    """Raised by handlers to short-circuit with a non-JSON or special response."""

    def __init__(self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or []


class _Request:
    """One request as the core sees it: method, undecoded path, query, headers, body."""

    def __init__(
        self,
        app: "RegistryApp",
        method: str,
        raw_path: str,
        query_string: str,
        headers: Mapping[str, str],
        body: bytes,
        body_too_large: bool,
    ) -> None:
        self.method = method.upper()
        raw = raw_path
        if "://" in raw:  # absolute-form request target
            raw = "/" + raw.split("://", 1)[1].partition("/")[2]
        self.segments = [unquote(s) for s in raw.split("/") if s]
        self.query_lists = parse_qs(query_string, keep_blank_values=True) if query_string else {}
        self.query = {k: v[-1] for k, v in self.query_lists.items()}
        self.headers = headers
        self._body = body
        self._too_large = body_too_large
        self._app = app

    def flag(self, name: str, default: bool = False) -> bool:
        for key in (name, _snake(name)):
            if key in self.query:
                return self.query[key].strip().lower() == "true"
        return default

    def int_param(self, name: str, default: int) -> int:
        value = self.query.get(name, self.query.get(_snake(name)))
        if value in (None, ""):
            return default
        number = _java_int(value)
        if number is None:  # JAX-RS: an int query parameter that does not convert is a 404
            raise api_error(404, "HTTP 404 Not Found")
        return number

    def json(self) -> Any:
        ctype = (self.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
        if ctype and ctype not in _REQUEST_TYPES:
            raise api_error(415, "HTTP 415 Unsupported Media Type")
        if self._too_large:
            raise self._too_large_error()
        data = self._body
        if not data.strip():
            return None
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            # Confluent's JsonParseExceptionMapper: HTTP 400, error_code 400. orjson refuses
            # nesting over 1024 levels (Jackson: 1000) and integers over 64 bits, so neither
            # a deep body nor a huge number reaches the recursion limit or SQLite
            raise api_error(400, f"Unrecognized request body: {exc}") from None

    def _too_large_error(self) -> RegistryError:
        limit = self._app.max_body
        if self.segments and self.segments[0] in ("subjects", "compatibility"):
            return api_error(42209, f"Schema too large: the request body exceeds {limit} bytes")
        return api_error(413, f"Request body exceeds {limit} bytes")


def _is_empty_schema(body: dict[str, Any]) -> bool:
    """No ``schema``, null, or only whitespace: what Confluent calls an empty schema."""
    schema = body.get("schema")
    return schema is None or (isinstance(schema, str) and not schema.strip())


_JAVA_INT = re.compile(r"[+-]?[0-9]+")


def _java_int(text: str) -> int | None:
    """``text`` as Java's ``Integer.valueOf`` reads it (what JAX-RS does with an ``Integer``
    parameter), or None where Java throws: not a number, or outside 32 bits."""
    if not _JAVA_INT.fullmatch(text) or len(text) > 12:
        return None
    value = int(text)
    return value if -(2**31) <= value < 2**31 else None


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


class RegistryApp:
    """WSGI app serving the Confluent Schema Registry REST API from a ``Store``.

    ``users`` (from ``load_users``) switches on HTTP basic auth for every request;
    ``incompatible_error_code`` is 409 (Confluent ≤ 8.0.3, Karapace) or 40901 (newer Confluent);
    ``max_body`` caps request bodies (42209 on schema endpoints, 413 elsewhere).
    """

    def __init__(
        self,
        store: Store,
        *,
        users: Mapping[str, str] | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        incompatible_error_code: int = 409,
    ) -> None:
        if incompatible_error_code not in (409, 40901):
            raise ValueError("incompatible_error_code must be 409 or 40901")
        self.store = store
        self.users = dict(users) if users else None
        self.max_body = max_body
        self.incompatible_error_code = incompatible_error_code
        # the DEK registry (made on first use); kms_conf configures the KMS it wraps shared
        # KEKs' DEKs with (the local KMS reads $LOCAL_SECRET when it holds no "secret")
        self.dek_registry: Any = None
        self.kms_conf: dict[str, str] = {}

    # ------------------------------------------------------------------ the core

    def handle(
        self,
        method: str,
        raw_path: str,
        query_string: str,
        headers: Mapping[str, str],
        body: bytes = b"",
        *,
        body_too_large: bool = False,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Answer one request: (method, undecoded path, query, headers, body) → (status, headers, body).

        Every transport calls this: the WSGI adapter (``__call__``, in process), the ASGI app
        ``serde registry serve`` runs (``serde.registry._asgi``) and the embedded registry's
        httpx transport. ``headers`` has lower-case names; ``raw_path`` keeps its percent
        escapes (``%2F`` in a subject is not a separator). The transport reads the body, up to
        ``max_body`` bytes; over that it passes ``body_too_large`` instead (42209 or 413 if
        the endpoint reads a body, otherwise the body is never needed).
        """
        ctype = self._negotiate(headers.get("accept") or "")
        extra: list[tuple[str, str]] = []
        try:
            if len(raw_path) + len(query_string) > MAX_TARGET:
                raise api_error(414, f"HTTP 414 URI Too Long: the request target exceeds {MAX_TARGET} bytes")
            req = _Request(self, method, raw_path, query_string, headers, body, body_too_large)
            if self.users is not None:
                self._authenticate(headers)
            if ctype is None:
                raise api_error(406, "HTTP 406 Not Acceptable")
            result = self._dispatch(req)
            status = 200
            out = orjson.dumps(_prune(result) if isinstance(result, (dict, list)) else result, option=orjson.OPT_NON_STR_KEYS)
        except _Response as resp:
            status, out, extra = resp.status, resp.body, resp.headers
        except RegistryError as exc:
            status, out, extra = self._error(exc)
        except RecursionError:  # a schema nested too deeply for a recursive parser
            on_schema = raw_path.lstrip("/").split("/", 1)[0] in ("subjects", "compatibility")
            exc = api_error(42201 if on_schema else 400, "Invalid schema: nested too deeply")
            status, out, extra = self._error(exc)
        except Exception as exc:  # never let a bug kill the connection: report a store error
            traceback.print_exc(file=sys.stderr)
            status = 500
            out = orjson.dumps({"error_code": 50001, "message": f"Error in the backend data store: {exc}"})
        if status == 204:
            return 204, [("Content-Length", "0"), *extra], b""
        return status, [("Content-Type", ctype or V1_JSON), ("Content-Length", str(len(out))), *extra], out

    def _error(self, exc: RegistryError) -> tuple[int, bytes, list[tuple[str, str]]]:
        code = exc.code if exc.code != -1 else 50001
        if code in (409, 40901):
            code = self.incompatible_error_code
        status = int(str(code)[:3])
        body = orjson.dumps({"error_code": code, "message": exc.reason})
        if status == 401:
            return status, body, [("WWW-Authenticate", f'Basic realm="{_REALM}"')]
        return status, body, []

    def body_limit(self, headers: Mapping[str, str]) -> tuple[int, bool]:
        """How a transport should read a request body: (bytes to read, too large).

        Reads nothing for a request that will be refused anyway (bad credentials: 401) or
        whose Content-Length is over ``max_body`` (too large); otherwise up to ``max_body``
        bytes, and a body that turns out longer is too large. Raises ``ValueError`` for a
        Content-Length that is not a number.
        """
        text = headers.get("content-length")
        length = int(text) if text else -1
        if length > self.max_body:
            return 0, True
        if self.users is not None and not self.authorized(headers):
            return 0, False
        return self.max_body, False

    @staticmethod
    def reads_only(method: str, raw_path: str) -> bool:
        """True for requests that never write: an event-loop server may answer them inline
        (SQLite readers in WAL mode never wait for a lock); writes may wait on another
        process's write lock, so they belong in a worker thread."""
        if raw_path.lstrip("/").startswith("dek-registry"):
            return False  # a shared KEK's DEK is unwrapped by a KMS, maybe over the network
        if method in ("GET", "HEAD", "OPTIONS"):
            return True
        if method != "POST":
            return False
        head, _, rest = raw_path.lstrip("/").partition("/")
        # POST /subjects/{s} (lookup) only reads; a compatibility check reads too, but
        # compares with every version under transitive levels: never inline
        return head == "subjects" and bool(rest) and "/" not in rest.rstrip("/")

    # ------------------------------------------------------------------ WSGI adapter

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """WSGI entry, for in-process use (``httpx.WSGITransport``) and any WSGI server."""
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = str(environ[key])
        raw = environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("HTTP_X_SERDE_RAW_PATH")
        raw_path = str(raw).split("?", 1)[0] if raw else str(environ.get("PATH_INFO", "/"))
        query = str(environ.get("QUERY_STRING", ""))
        method = str(environ.get("REQUEST_METHOD", "GET"))
        try:
            limit, too_large = self.body_limit(headers)
        except ValueError:
            status, out, extra = self._error(api_error(400, "Invalid Content-Length"))
            response = (status, [("Content-Type", V1_JSON), ("Content-Length", str(len(out))), *extra], out)
        else:
            body = b""
            if limit and not too_large:
                length = int(headers.get("content-length") or -1)
                body = environ["wsgi.input"].read(length if 0 <= length <= limit else limit + 1)
                too_large = len(body) > limit
                if too_large:
                    body = b""
            response = self.handle(method, raw_path, query, headers, body, body_too_large=too_large)
        status, out_headers, out = response
        start_response(f"{status} {_STATUS_TEXT.get(status, 'Error')}", out_headers)
        return [out]

    @staticmethod
    @functools.lru_cache(maxsize=256)
    def _negotiate(accept: str) -> str | None:
        if not accept.strip():
            return V1_JSON
        offered = []
        for part in accept.split(","):
            media, *params = [p.strip() for p in part.split(";")]
            q = 1.0
            for p in params:
                if p.startswith("q="):
                    try:
                        q = float(p[2:])
                    except ValueError:
                        q = 0.0
            offered.append((media.lower(), q))
        best, best_score = None, 0.0
        for rank, ours in enumerate(_RESPONSE_TYPES):
            qs = (1.0, 0.9, 0.5)[rank]
            for media, q in offered:
                # "*" alone is read as "*/*", as Jersey does
                if media in (ours, "*/*", "*", "application/*") and q > 0 and q * qs > best_score:
                    best, best_score = ours, q * qs
        return best

    def authorized(self, headers: Mapping[str, str]) -> bool:
        """True when auth is off or ``headers`` carry valid basic credentials."""
        if self.users is None:
            return True
        scheme, _, value = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            stored = self.users.get(user)
            return stored is not None and password_ok(stored, password)
        return False

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        if not self.authorized(headers):
            raise api_error(401, "Unauthorized")

    # ------------------------------------------------------------------ routing

    def _dispatch(self, req: _Request) -> Any:
        seg, m = req.segments, req.method
        n = len(seg)
        if n == 0:
            return self._allow(m, ("GET", "POST"), lambda: {})
        head = seg[0]
        if head == "subjects":
            return self._subjects(req, seg[1:])
        if head == "schemas":
            return self._schemas(req, seg[1:])
        if head == "config" and n <= 2:
            return self._config(req, seg[1] if n == 2 else None)
        if head == "mode" and n <= 2:
            return self._mode(req, seg[1] if n == 2 else None)
        if head == "compatibility" and n in (4, 5) and seg[1] == "subjects" and seg[3] == "versions":
            return self._allow(m, ("POST",), lambda: self._compatibility(req, seg[2], seg[4] if n == 5 else None))
        if head == "contexts":
            if n == 1:
                return self._allow(m, ("GET",), lambda: ["."])
            if n == 2:
                return self._allow(m, ("DELETE",), lambda: self._delete_context(seg[1]))
        if head == "v1" and n == 3 and seg[1] == "metadata":
            if seg[2] == "id":
                return self._allow(
                    m,
                    ("GET",),
                    lambda: {
                        "scope": {
                            "path": [],
                            "clusters": {"kafka-cluster": CLUSTER_ID, "schema-registry-cluster": "schema-registry"},
                        }
                    },
                )
            if seg[2] == "version":
                return self._allow(m, ("GET",), lambda: {"version": SERVER_VERSION, "commitId": "serde"})
        if head == "associations":
            return self._associations(req, seg[1:])
        if head == "dek-registry" and n >= 2 and seg[1] == "v1":
            return self._dek_registry(req, seg[2:])
        raise api_error(404, "HTTP 404 Not Found")

    def _dek_registry(self, req: _Request, seg: list[str]) -> Any:
        """``/dek-registry/v1``: KEKs and DEKs (``serde.registry._dek``), answered verbatim
        (Confluent's NON_NULL, not the schema API's NON_EMPTY: ``kmsProps`` stays ``{}``)."""
        from serde.registry._dek import NO_CONTENT, DekRegistry

        if self.dek_registry is None:
            self.dek_registry = DekRegistry(self.store, kms_conf=self.kms_conf)
        self.dek_registry.kms_conf = self.kms_conf  # may be set after the first request
        result = self.dek_registry.dispatch(req, seg, self._allow)
        if result is NO_CONTENT:
            raise _Response(204, b"")
        raise _Response(200, orjson.dumps(result))

    @staticmethod
    def _allow(method: str, allowed: tuple[str, ...], handler: Callable[[], Any]) -> Any:
        if method not in allowed:
            raise _Response(
                405,
                orjson.dumps({"error_code": 405, "message": "HTTP 405 Method Not Allowed"}),
                [("Allow", ", ".join(allowed))],
            )
        return handler()

    # ------------------------------------------------------------------ /subjects

    def _subjects(self, req: _Request, seg: list[str]) -> Any:
        m, n, store = req.method, len(seg), self.store
        if n == 0:
            return self._allow(
                m,
                ("GET",),
                lambda: store.subjects(
                    prefix=req.query.get("subjectPrefix", ""),
                    deleted=req.flag("deleted"),
                    deleted_only=req.flag("deletedOnly"),
                ),
            )
        subject = seg[0]
        if n == 1:
            if m == "POST":
                return self._lookup(req, subject)
            return self._allow(m, ("DELETE",), lambda: store.delete_subject(subject, permanent=req.flag("permanent")))
        if seg[1] == "metadata" and n == 2:
            return self._allow(m, ("GET",), lambda: self._latest_with_metadata(req, subject))
        if seg[1] != "versions" or n > 4:
            raise api_error(404, "HTTP 404 Not Found")
        if n == 2:
            if m == "POST":
                return self._register(req, subject)
            return self._allow(
                m,
                ("GET",),
                lambda: store.versions(subject, deleted=req.flag("deleted"), deleted_only=req.flag("deletedOnly")),
            )
        version = seg[2]
        if n == 3:
            if m == "DELETE":
                return store.delete_version(subject, version, permanent=req.flag("permanent"))
            return self._allow(m, ("GET",), lambda: self._render(req, store.version(subject, version, deleted=req.flag("deleted"))))
        if seg[3] == "schema":
            return self._allow(
                m, ("GET",), lambda: self._raw_schema(req, store.version(subject, version, deleted=req.flag("deleted")))
            )
        if seg[3] == "referencedby":
            return self._allow(m, ("GET",), lambda: self._page(req, store.referenced_by(subject, version)))
        raise api_error(404, "HTTP 404 Not Found")

    def _schema_request(self, req: _Request, body: Any = None) -> SchemaRequest:
        body = req.json() if body is None else body
        if isinstance(body, dict):
            if _is_empty_schema(body):
                raise api_error(42201, "Empty schema")
            if body.get("references") is not None and not isinstance(body["references"], list):
                raise api_error(42201, "Invalid schema: 'references' must be a list")
        return SchemaRequest.from_body(body)

    def _register(self, req: _Request, subject: str) -> Any:
        body = req.json()
        if isinstance(body, dict) and _is_empty_schema(body):
            # Confluent (maybePopulateFromPrevious): no schema means the latest live version's
            # schema, type and references, e.g. to add metadata or rules; no version: "Empty schema"
            try:
                latest = self.store.version(subject, "latest")
            except RegistryError as exc:
                if exc.code in (40401, 40402):
                    raise api_error(42201, "Empty schema") from None
                raise
            body = {
                **body,
                "schema": latest["schema"],
                "schemaType": latest.get("schemaType") or "AVRO",
                "references": latest.get("references") or [],
            }
        schema_req = self._schema_request(req, body)
        out = self.store.register(subject, schema_req, normalize=req.flag("normalize"), force=req.flag("force"))
        return {"id": out["id"], "version": out["version"], "guid": out["guid"]}

    def _lookup(self, req: _Request, subject: str) -> Any:
        body = req.json()
        if isinstance(body, dict) and _is_empty_schema(body):  # Confluent: nothing can match
            self.store.versions(subject, deleted=True)  # 40401 when the subject does not exist
            raise api_error(40403, "Schema not found")
        schema_req = self._schema_request(req, body)
        out = self.store.lookup(subject, schema_req, normalize=req.flag("normalize"), deleted=req.flag("deleted"))
        return self._render(req, out)

    def _latest_with_metadata(self, req: _Request, subject: str) -> Any:
        keys = req.query_lists.get("key", [])
        values = req.query_lists.get("value", [])
        wanted = dict(zip(keys, values))
        deleted = req.flag("deleted")
        for version in reversed(self.store.versions(subject, deleted=deleted)):
            out = self.store.version(subject, version, deleted=deleted)
            props = ((out.get("metadata") or {}).get("properties")) or {}
            if all(props.get(k) == v for k, v in wanted.items()):
                return self._render(req, out)
        raise api_error(40403, f"Schema not found for subject '{subject}' with metadata {wanted}")

    def _render(self, req: _Request, out: dict[str, Any]) -> dict[str, Any]:
        fmt = req.query.get("format", "")
        if fmt == "serialized" and out.get("schemaType") == "PROTOBUF":
            try:
                out = {**out, "schema": serialized_proto(out["schema"], out.get("_ref_texts") or {})}
            except ImportError:
                pass  # protoc support not installed: the text is all we have
            except RegistryError:
                raise
            except Exception as exc:
                raise api_error(42201, f"Invalid schema: {exc}") from exc
        return out

    def _raw_schema(self, req: _Request, out: dict[str, Any]) -> Any:
        out = self._render(req, out)
        raise _Response(200, out["schema"].encode())

    @staticmethod
    def _page(req: _Request, items: list[Any]) -> list[Any]:
        offset = max(req.int_param("offset", 0), 0)
        limit = req.int_param("limit", -1)
        return items[offset:] if limit < 0 else items[offset : offset + limit]

    # ------------------------------------------------------------------ /schemas

    def _schemas(self, req: _Request, seg: list[str]) -> Any:
        m, n, store = req.method, len(seg), self.store
        if n == 0:
            return self._allow(
                m,
                ("GET",),
                lambda: store.schemas(
                    prefix=req.query.get("subjectPrefix", ""),
                    deleted=req.flag("deleted"),
                    latest_only=req.flag("latestOnly"),
                    offset=max(req.int_param("offset", 0), 0),
                    limit=req.int_param("limit", -1),
                ),
            )
        if seg == ["types"]:
            return self._allow(m, ("GET",), lambda: list(SCHEMA_TYPES))
        if seg[0] == "guids" and n in (2, 3):
            guid = seg[1]
            if n == 2:
                return self._allow(m, ("GET",), lambda: self._by_id_body(req, store.schema_by_guid(guid)))
            if seg[2] == "schema":
                return self._allow(m, ("GET",), lambda: self._raw_schema(req, store.schema_by_guid(guid)))
        if seg[0] == "ids" and n in (2, 3):
            schema_id = _java_int(seg[1])
            if schema_id is None:  # JAX-RS cannot convert the Integer path parameter: a plain 404
                raise api_error(404, "HTTP 404 Not Found")
            if n == 2:
                return self._allow(m, ("GET",), lambda: self._by_id(req, schema_id))
            sub = req.query.get("subject") or None
            deleted = req.flag("deleted")
            if seg[2] == "schema":
                return self._allow(m, ("GET",), lambda: self._raw_schema(req, store.schema_by_id(schema_id)))
            if seg[2] == "subjects":
                return self._allow(
                    m,
                    ("GET",),
                    lambda: self._page(
                        req,
                        sorted({r["subject"] for r in store.subjects_for_id(schema_id, deleted=deleted, subject=sub)}),
                    ),
                )
            if seg[2] == "versions":
                return self._allow(
                    m,
                    ("GET",),
                    lambda: self._page(req, store.subjects_for_id(schema_id, deleted=deleted, subject=sub)),
                )
        raise api_error(404, "HTTP 404 Not Found")

    def _by_id(self, req: _Request, schema_id: int) -> Any:
        out = self._by_id_body(req, self.store.schema_by_id(schema_id))
        if req.flag("fetchMaxId"):
            out["maxId"] = self.store.max_id()
        return out

    def _by_id_body(self, req: _Request, out: dict[str, Any]) -> dict[str, Any]:
        return self._render(req, out)

    # ------------------------------------------------------------------ /compatibility

    def _compatibility(self, req: _Request, subject: str, version: str | None) -> Any:
        verbose = req.flag("verbose")
        try:
            schema_req = self._schema_request(req)
            messages = self.store.check_compatibility(subject, schema_req, version, normalize=req.flag("normalize"))
        except RegistryError as exc:
            if verbose and exc.code == 42201:
                return {"is_compatible": False, "messages": [exc.reason]}
            raise
        out: dict[str, Any] = {"is_compatible": not messages}
        if verbose:
            out["messages"] = messages
        return out

    # ------------------------------------------------------------------ /config and /mode

    def _config(self, req: _Request, subject: str | None) -> Any:
        m, store = req.method, self.store
        if m == "GET":
            return store.get_config(subject, default_to_global=req.flag("defaultToGlobal"))
        if m == "PUT":
            body = req.json()
            if not isinstance(body, dict):
                raise api_error(42203, "Invalid compatibility level: the body must be a JSON object")
            return store.set_config(subject, body)
        return self._allow(m, ("DELETE",), lambda: store.delete_config(subject))

    def _mode(self, req: _Request, subject: str | None) -> Any:
        m, store = req.method, self.store
        if m == "GET":
            return {"mode": store.get_mode(subject, default_to_global=req.flag("defaultToGlobal"))}
        if m == "PUT":
            body = req.json()
            mode = body.get("mode") if isinstance(body, dict) else None
            return {"mode": store.set_mode(subject, mode, force=req.flag("force"))}
        return self._allow(m, ("DELETE",), lambda: {"mode": store.delete_mode(subject)})

    # ------------------------------------------------------------------ /associations

    def _associations(self, req: _Request, seg: list[str]) -> Any:
        """``AssociationsResource``: create, upsert, look up and delete topic-subject associations."""
        m, n, store = req.method, len(seg), self.store
        if n == 0:
            return self._allow(m, ("POST",), lambda: self._write_association(req, None))
        if seg[0] == "subjects" and n == 2:
            return self._allow(m, ("GET",), lambda: self._association_page(req, store.associations_by_subject, seg[1]))
        if seg[0] == "resources" and n == 2:
            if m == "PUT":
                return self._write_association(req, seg[1])
            if m == "DELETE":
                return self._delete_associations(req, seg[1])
            return self._allow(
                m,
                ("GET", "PUT", "DELETE"),
                lambda: self._association_page(req, store.associations_by_resource_id, seg[1]),
            )
        if seg[0] == "resources" and n == 3:
            namespace, name = seg[1], seg[2]
            return self._allow(
                m,
                ("GET",),
                lambda: self._association_page(
                    req, lambda n_, **kw: store.associations_by_resource_name(n_, namespace, **kw), name
                ),
            )
        raise api_error(404, "HTTP 404 Not Found")

    @staticmethod
    def _association_filters(req: _Request) -> dict[str, Any]:
        """resourceType (default ``topic``), associationType (repeatable), lifecycle.

        Like JAX-RS, a query parameter that does not convert (a lifecycle other than STRONG
        or WEAK, a non-integer offset or limit) answers 404.
        """
        lifecycle = req.query.get("lifecycle") or None
        if lifecycle is not None and lifecycle not in LIFECYCLES:
            raise api_error(404, "HTTP 404 Not Found")
        return {
            "resource_type": req.query.get("resourceType") or "topic",
            "association_types": [t for t in req.query_lists.get("associationType", []) if t],
            "lifecycle": lifecycle,
        }

    def _association_page(self, req: _Request, lookup: Callable[..., list[dict[str, Any]]], key: str) -> Any:
        filters = self._association_filters(req)
        try:
            offset = int(req.query.get("offset") or 0)
            limit = int(req.query.get("limit") or -1)
        except ValueError:
            raise api_error(404, "HTTP 404 Not Found") from None
        if not 0 < limit <= ASSOCIATION_LIMIT:  # Confluent's normalizeSchemaLimit
            limit = ASSOCIATION_LIMIT
        offset = max(offset, 0)
        return lookup(key, **filters)[offset : offset + limit]

    def _write_association(self, req: _Request, resource_id: str | None) -> Any:
        body = req.json()
        if body is None:
            raise invalid_association("request", "the request body cannot be empty")
        request = AssociationRequest.from_body(body)
        if resource_id is not None:  # PUT /associations/resources/{resourceId}
            if request.resource_id is None:
                request.resource_id = resource_id
            elif request.resource_id != resource_id:
                raise invalid_association(
                    "resourceId", "Resource ID in the path parameter does not match the resource ID in the request body"
                )
        return self.store.create_or_update_association(
            request, is_create=resource_id is None, dry_run=req.flag("dryRun")
        )

    def _delete_associations(self, req: _Request, resource_id: str) -> Any:
        filters = self._association_filters(req)
        self.store.delete_associations(
            resource_id,
            resource_type=filters["resource_type"],
            association_types=filters["association_types"],
            cascade_lifecycle=req.flag("cascadeLifecycle"),
            dry_run=req.flag("dryRun"),
        )
        raise _Response(204, b"")

    def _delete_context(self, context: str) -> Any:
        if context not in (".", ":.:"):  # URL clients drop a bare "." segment; ":.:" names it too
            raise api_error(40401, f"Context '{context}' not found.")
        if self.store.subjects(deleted=True):
            raise api_error(42211, "Context '.' is not empty")
        raise _Response(204, b"")
