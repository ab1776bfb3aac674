"""The registry as an ASGI application: Starlette routing over ``RegistryApp.handle``.

``serde registry serve`` runs this under uvicorn. The REST API is mounted at ``/``, last,
so pages of a later web console can be routed in front of it with ordinary Starlette
``Route``/``Mount``/``StaticFiles``, on the same server. The request handling itself is the
one synchronous core the in-process transports call too (``RegistryApp.handle``); this
module only adapts ASGI to it: undecoded path (``raw_path``, so ``%2F`` in a subject
survives), headers, and a body read up to ``max_body``.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from serde.registry._app import RegistryApp

# POST lookups and compatibility checks of schemas up to this size answer on the event
# loop (a few hundred microseconds); bigger ones go to a worker thread
INLINE_BODY = 16 * 1024

__all__ = ["RegistryASGI", "asgi_app", "read_body"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool] | None:
    """The request body read from ``receive``, at most ``limit`` bytes: ``(body, False)``,
    ``(b"", True)`` when it is longer (the rest is left unread, for the server to discard),
    or None when the client went away. The registry's and the console's one bounded read."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


class RegistryASGI:
    """A raw ASGI app answering every HTTP request with ``RegistryApp.handle``."""

    def __init__(self, core: RegistryApp) -> None:
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan is Starlette's; websockets are not served
            return
        headers: dict[str, str] = {}
        for key, value in scope["headers"]:
            name, text = key.decode("latin-1").lower(), value.decode("latin-1")
            headers[name] = f"{headers[name]}, {text}" if name in headers else text
        core = self.core
        method = scope["method"]
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1") if raw else scope["path"]
        query = scope["query_string"].decode("latin-1")
        body, too_large = b"", False
        if "content-length" in headers or "transfer-encoding" in headers:
            try:
                limit, too_large = core.body_limit(headers)
            except ValueError:  # the server refuses a bad Content-Length before we see it
                limit = core.max_body
            if limit and not too_large:
                read = await read_body(receive, limit)
                if read is None:
                    return
                body, too_large = read
        # cheap reads run on the event loop: they only use the CPU, and the hop to a thread
        # costs more than a get-by-id. Writes may wait for SQLite's write lock (another
        # request or process holds it), and a big schema's lookup or compatibility check
        # takes seconds of canonicalising or compiling: those go to a worker thread, so the
        # loop keeps answering everyone else meanwhile.
        if core.reads_only(method, raw_path) and (method != "POST" or len(body) <= INLINE_BODY):
            status, out_headers, out = core.handle(method, raw_path, query, headers, body, body_too_large=too_large)
        else:
            status, out_headers, out = await anyio.to_thread.run_sync(
                lambda: core.handle(method, raw_path, query, headers, body, body_too_large=too_large)
            )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in out_headers],
            }
        )
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else out})


def asgi_app(core: RegistryApp, routes: Sequence[BaseRoute] = ()) -> Starlette:
    """A Starlette app serving ``routes`` first, then the registry's REST API at ``/``."""
    return Starlette(routes=[*routes, Mount("", app=RegistryASGI(core))])
