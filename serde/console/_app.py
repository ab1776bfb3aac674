"""The console's web application: the Starlette app factory, its security layer and the
helpers every view uses.

Security, in one place (:class:`SecurityMiddleware`), for every request:

* basic auth against a users file in the registry's format, when one is given;
* a session cookie (random, HttpOnly, SameSite=Strict) and a CSRF token derived from it
  (HMAC with a per-process secret): every POST, PUT, PATCH and DELETE must carry it, in the
  ``csrf_token`` form field or the ``X-CSRF-Token`` header, and a cross-origin ``Origin``
  is refused outright;
* request bodies capped at ``MAX_BODY``;
* a Content-Security-Policy allowing only the console's own scripts and styles (no
  inline script runs, whatever a message contains), ``nosniff`` and no framing.

Pages are Jinja2 templates with autoescaping on: message contents are hostile input.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from pathlib import Path
from typing import Any, Awaitable, Callable, MutableMapping
from urllib.parse import parse_qs, quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .._errors import (
    ConfigError,
    DecodeError,
    EncodeError,
    IncompatibleSchemaError,
    KafkaError,
    RegistryError,
    SchemaNotFound,
    SchemaParseError,
    SerdeError,
    SubjectNotFound,
    VersionNotFound,
)
from ._config import Cluster, ConsoleConfig

__all__ = ["Console", "create_app"]

HERE = Path(__file__).parent
MAX_BODY = 2 * 1024 * 1024  # a pasted or uploaded draft schema, a record to produce
MAX_FIELDS = 2000  # form fields (a page of dead letters selected, up to 500, and the rest)
SESSION_COOKIE = "serde_console_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class HttpError(Exception):
    """An answer other than the page: status and a message shown to the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Resources:
    """One cluster's registry, Kafka clients and message decoder, opened on first use."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._registry: Any = None
        self._browser: Any = None
        self._decoder: Any = None
        self._own_client: Any = None  # a registry client made here (with registry_config): closed here
        self._lock = threading.Lock()

    @property
    def registry(self) -> Any:
        with self._lock:
            if self._registry is None:
                from ..registry.client import open_registry

                location = self.cluster.registry
                if location and location.startswith(("http://", "https://")) and self.cluster.registry_config:
                    from confluent_kafka.schema_registry import SchemaRegistryClient

                    try:
                        client = SchemaRegistryClient({"url": location, **self.cluster.registry_config})
                    except Exception as exc:  # noqa: BLE001 - confluent raises ValueError on bad conf
                        raise ConfigError(f"cluster {self.cluster.name!r}: bad registry_config: {exc}") from exc
                    self._registry = open_registry(client)
                    self._own_client = client
                else:
                    self._registry = open_registry(location)
            return self._registry

    @property
    def browser(self) -> Any:
        with self._lock:
            if self._browser is None:
                from ._kafka import Browser

                self._browser = Browser(self.cluster.kafka_settings())
            return self._browser

    @property
    def admin(self) -> Any:
        from ._admin import Admin

        return Admin(self.browser.admin())

    @property
    def decoder(self) -> Any:
        registry = self.registry
        with self._lock:
            if self._decoder is None:
                from ._decode import MessageDecoder

                self._decoder = MessageDecoder(registry)
            return self._decoder

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._own_client is not None:
            self._own_client._rest_client.session.close()


class Console:
    """The state shared by all requests: configuration, users, per-cluster resources."""

    def __init__(self, config: ConsoleConfig, users: dict[str, str] | None = None) -> None:
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        self.config = config
        self.users = users
        self.secret = secrets.token_bytes(32)
        self._resources: dict[str, Resources] = {c.name: Resources(c) for c in config.clusters}
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                                     trim_blocks=True, lstrip_blocks=True)
        self.templates.filters["q"] = lambda text: path_segment(str(text))

    def resources(self, request: Request) -> Resources:
        name = request.path_params.get("cluster")
        found = self._resources.get(name if name is not None else self.config.clusters[0].name)
        if found is None:
            raise HttpError(404, f"no cluster named {name!r} in the configuration")
        return found

    def csrf_token(self, session: str) -> str:
        return hmac.new(self.secret, session.encode(), hashlib.sha256).hexdigest()

    def close(self) -> None:
        for resources in self._resources.values():
            resources.close()


def path_segment(text: str) -> str:
    """``text`` as one URL path segment: every reserved character escaped, and '.' and
    '..' written as %2E (HTTP clients resolve dot segments: a subject named '.' would
    reach /config, the global level, instead of /config/%2E)."""
    quoted = quote(text, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def base(request: Request) -> str:
    """The URL prefix of the request's cluster ("" for the first one)."""
    name = request.path_params.get("cluster")
    return "" if name is None else f"/clusters/{quote(name, safe='')}"


def console_of(request: Request) -> Console:
    return request.app.state.console  # type: ignore[no-any-return]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    console = console_of(request)
    cluster = console.resources(request).cluster if "cluster" not in context else context["cluster"]
    section = request.url.path[len(base(request)):].split("/")[1:2]
    section_path = "/" + section[0] if section and section[0] not in ("", "clusters", "static") else "/subjects"
    page = console.templates.get_template(template).render(
        request=request,
        base=base(request),
        cluster=cluster,
        clusters=[c.name for c in console.config.clusters],
        cluster_links=[(c.name, ("" if i == 0 else f"/clusters/{quote(c.name, safe='')}") + section_path)
                       for i, c in enumerate(console.config.clusters)],
        read_only=console.config.read_only,
        csrf_token=request.scope.get("serde.csrf", ""),
        **{k: v for k, v in context.items() if k != "cluster"},
    )
    return HTMLResponse(page, status_code=status_code)


def refuse_if_read_only(request: Request) -> None:
    if console_of(request).config.read_only:
        raise HttpError(403, "the console runs read-only (--read-only): nothing may be changed")


async def form(request: Request) -> dict[str, str]:
    """The request's urlencoded form (first value of each field); the body was bounded and
    its CSRF token checked by the middleware."""
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpError(400, "the form is not UTF-8") from exc
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(text or "{}")
        except (ValueError, RecursionError) as exc:
            raise HttpError(400, f"not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise HttpError(400, "expected a JSON object")
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    return {k: v[0] for k, v in _parse_form(text).items()}


async def form_lists(request: Request) -> dict[str, list[str]]:
    """The request's urlencoded form, every value of each field (checkboxes)."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpError(400, "the form is not UTF-8") from exc
    return _parse_form(text)


def _parse_form(text: str) -> dict[str, list[str]]:
    try:
        return parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as exc:  # too many fields
        raise HttpError(400, f"a form has at most {MAX_FIELDS} fields") from exc


def redirect(request: Request, path: str, **query: str) -> Response:
    """303 to ``path`` under the request's cluster (after a change: a reload does not repeat it)."""
    from urllib.parse import urlencode

    return RedirectResponse(f"{base(request)}{path}" + (f"?{urlencode(query)}" if query else ""), status_code=303)


def int_param(value: str | None, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError as exc:
        raise HttpError(400, f"{name} must be a whole number, not {value[:40]!r}") from exc
    if minimum is not None and number < minimum or maximum is not None and number > maximum:
        raise HttpError(400, f"{name} must be between {minimum} and {maximum}")
    return number


def _status_of(exc: BaseException) -> int:
    if isinstance(exc, HttpError):
        return exc.status
    if isinstance(exc, (SubjectNotFound, VersionNotFound, SchemaNotFound)):
        return 404
    if isinstance(exc, IncompatibleSchemaError):
        return 409
    if isinstance(exc, RegistryError) and exc.status in (400, 404, 409, 422):
        return int(exc.status)  # the registry refused what the user sent: say so, not "bad gateway"
    if isinstance(exc, (RegistryError, KafkaError)):
        return 502
    if isinstance(exc, (ConfigError, SchemaParseError)):
        return 400
    if isinstance(exc, (EncodeError, DecodeError)):
        return 422
    return 500


async def _error_page(request: Request, exc: Exception) -> Response:
    status = _status_of(exc)
    message = exc.message if isinstance(exc, HttpError) else str(exc)
    from ._config import redact_url

    message = redact_url(message)
    if request.url.path.endswith("/validate") or "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"error": message}, status_code=status)
    try:
        return render(request, "error.html", status_code=status, status=status, message=message, title=f"Error {status}")
    except HttpError:  # an unknown cluster: no cluster to show
        return HTMLResponse(f"<h1>{status}</h1>", status_code=status)


def _unauthorized() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return 401, [(b"www-authenticate", b'Basic realm="serde console", charset="UTF-8"'),
                 (b"content-type", b"text/plain; charset=utf-8")], b"authentication required\n"


class SecurityMiddleware:
    """Authentication, session, CSRF, body bound and security headers (see the module doc)."""

    def __init__(self, app: Any, console: Console) -> None:
        self.app = app
        self.console = console
        # host names a loopback console answers to (None: any); see ConsoleServer
        self.allowed_hosts: set[str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.allowed_hosts is not None and _host_name(headers.get("host", "")) not in self.allowed_hosts:
            # DNS rebinding: a page of another site whose name now resolves to 127.0.0.1
            await self._answer(send, 421, [(b"content-type", b"text/plain; charset=utf-8")],
                               b"this console answers to its loopback address only\n")
            return
        if self.console.users is not None and not self._authenticated(headers.get("authorization", "")):
            await self._answer(send, *_unauthorized())
            return
        session = _cookie(headers.get("cookie", ""), SESSION_COOKIE)
        new_session = None
        if not session or len(session) != 43:
            session = new_session = secrets.token_urlsafe(32)
        token = self.console.csrf_token(session)
        scope["serde.csrf"] = token
        method = scope["method"]
        if method in _UNSAFE:
            if "origin" in headers and not _same_origin(headers["origin"], headers.get("host", "")):
                await self._answer(send, 403, [(b"content-type", b"text/plain; charset=utf-8")], b"cross-origin request refused\n")
                return
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
                await self._answer(send, 413, [(b"content-type", b"text/plain; charset=utf-8")],
                                   f"request body over {MAX_BODY} bytes\n".encode())
                return
            from ..registry._asgi import read_body

            read = await read_body(receive, MAX_BODY)
            if read is None:
                return
            body, too_large = read
            if too_large:
                await self._answer(send, 413, [(b"content-type", b"text/plain; charset=utf-8")],
                                   f"request body over {MAX_BODY} bytes\n".encode())
                return
            given = headers.get(CSRF_HEADER) or _form_field(body, headers.get("content-type", ""), CSRF_FIELD)
            if new_session is not None or not given or not hmac.compare_digest(given, token):
                await self._answer(send, 403, [(b"content-type", b"text/plain; charset=utf-8")],
                                   b"CSRF token missing or wrong: reload the page and try again\n")
                return
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            receive = replay

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = list(message.get("headers", []))
                out += [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                        (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
                        (b"cache-control", b"no-store")]
                if new_session is not None:
                    out.append((b"set-cookie", f"{SESSION_COOKIE}={new_session}; Path=/; HttpOnly; SameSite=Strict".encode()))
                message = {**message, "headers": out}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _authenticated(self, header: str) -> bool:
        from ..registry._app import password_ok

        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        stored = self.console.users.get(user) if sep and self.console.users else None
        return stored is not None and password_ok(stored, password)

    @staticmethod
    async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": headers + [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _host_name(host: str) -> str:
    """The Host header without its port (``[::1]:8080`` -> ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _form_field(body: bytes, content_type: str, name: str) -> str | None:
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return None
    try:
        values = parse_qs(body.decode("utf-8"), max_num_fields=MAX_FIELDS).get(name)
    except (UnicodeDecodeError, ValueError):
        return None
    return values[0] if values else None


def _same_origin(origin: str, host: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc.lower() == host.lower()


def _index(request: Request) -> Response:
    return RedirectResponse(f"{base(request)}/subjects", status_code=302)


def _clusters(request: Request) -> Response:
    console = console_of(request)
    return render(request, "clusters.html", title="Clusters", items=[c.public() for c in console.config.clusters])


def create_app(config: ConsoleConfig, users: dict[str, str] | None = None) -> Any:
    """The console as an ASGI application (Starlette inside the security middleware);
    ``.console`` holds its state (``close()`` it when done)."""
    from . import acls, connect, gateway, groups, messages, operations, produce, schemas

    console = Console(config, users)
    views = [Route("/", _index), Route("/clusters", _clusters), *schemas.routes(), *operations.routes(),
             *messages.routes(), *produce.routes(), *groups.routes(), *acls.routes(), *connect.routes(),
             *gateway.routes()]
    app = Starlette(
        routes=[
            Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
            Mount("/clusters/{cluster}", routes=views),
            *views,
        ],
        exception_handlers={HttpError: _error_page, SerdeError: _error_page},
    )
    app.state.console = console
    wrapped = SecurityMiddleware(app, console)
    wrapped.console = console  # type: ignore[attr-defined]
    return wrapped
