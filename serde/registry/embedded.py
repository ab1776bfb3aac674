"""The embedded registry: a SQLite file behind a real ``SchemaRegistryClient``.

``EmbeddedRegistry(path).client`` is a genuine ``confluent_kafka.schema_registry``
``SchemaRegistryClient`` whose HTTP session talks to the REST app in process
(an httpx transport calling ``RegistryApp.handle``), so the embedded registry and
``serde registry serve`` run exactly the same code. Several processes may open the same file at once.

The same file holds the DEK registry (``/dek-registry/v1``: the KEKs and DEKs of ENCRYPT
rules), which the in-process transport serves like every other endpoint; shared KEKs
are wrapped with ``app.kms_conf`` (default: the local KMS reads ``$LOCAL_SECRET``).
"""
from __future__ import annotations

import os
from typing import Any

from serde.registry._app import DEFAULT_MAX_BODY, RegistryApp
from serde.registry._store import Store

__all__ = ["EmbeddedRegistry"]

EMBEDDED_URL = "http://embedded.serde.invalid"


def _httpx() -> Any:
    """The httpx module confluent-kafka's client uses (``httpx2`` when installed)."""
    try:
        from confluent_kafka.schema_registry.common._httpx_compat import httpx
    except ImportError:  # older confluent-kafka: plain httpx
        import httpx
    return httpx


def _transport(app: RegistryApp) -> Any:
    """An httpx transport that hands each request to ``RegistryApp.handle`` in process."""
    httpx = _httpx()

    class _CoreTransport(httpx.BaseTransport):
        """No sockets, no WSGI: the request's method, undecoded path (so ``%2F`` in a subject
        keeps its slash), query, headers and body go straight to the app's core, the same
        function ``serde registry serve`` calls for each HTTP request."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            headers: dict[str, str] = {}
            for key, value in request.headers.multi_items():
                name = key.lower()
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
            body = request.read()
            too_large = len(body) > app.max_body
            status, out_headers, out = app.handle(
                request.method,
                request.url.raw_path.decode("ascii").split("?", 1)[0],
                request.url.query.decode("ascii"),
                headers,
                b"" if too_large else body,
                body_too_large=too_large,
            )
            return httpx.Response(status, headers=out_headers, content=out, request=request)

    return _CoreTransport()


class EmbeddedRegistry:
    """A Confluent-compatible schema registry stored in one SQLite file.

    ``path`` is created on first use (parent directories too). ``client`` is a
    ``SchemaRegistryClient`` bound to it; ``app`` the ``RegistryApp`` (also a WSGI app);
    ``close()`` (or leaving a ``with`` block) closes both.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        incompatible_error_code: int = 409,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.path = os.fspath(path)
        self.url = EMBEDDED_URL
        self._store = Store(self.path)
        self.app = RegistryApp(self._store, incompatible_error_code=incompatible_error_code, max_body=max_body)
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The ``confluent_kafka.schema_registry.SchemaRegistryClient`` of this registry."""
        if self._client is None:
            httpx = _httpx()
            from confluent_kafka.schema_registry import SchemaRegistryClient

            client = SchemaRegistryClient({"url": EMBEDDED_URL})
            old = client._rest_client.session
            client._rest_client.session = httpx.Client(transport=_transport(self.app), base_url=EMBEDDED_URL)
            old.close()
            self._client = client
        return self._client

    def http_client(self) -> Any:
        """A new ``httpx.Client`` speaking raw REST to this registry in process (caller closes it)."""
        httpx = _httpx()

        return httpx.Client(transport=_transport(self.app), base_url=EMBEDDED_URL)

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client._rest_client.session.close()
            except Exception:  # pragma: no cover - closing is best effort
                pass
            self._client = None
        self._store.close()

    def __enter__(self) -> "EmbeddedRegistry":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EmbeddedRegistry({self.path!r})"
