"""``serde registry serve``: the embedded registry over HTTP(S).

A threaded stdlib HTTP server runs the same WSGI app as ``EmbeddedRegistry``. It refuses a
non-loopback address unless basic auth is on (or ``allow_insecure_public``), serves TLS when
given a certificate, caps request bodies, and shuts down cleanly on SIGTERM/SIGINT.
"""
from __future__ import annotations

import ipaddress
import os
import signal
import socket
import ssl
import sys
import threading
import time
from collections.abc import Mapping
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from serde._errors import ConfigError
from serde.registry._app import DEFAULT_MAX_BODY, RegistryApp, load_users
from serde.registry._store import Store

__all__ = ["RegistryServer", "is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    """True when ``host`` only ever means this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Body:
    """``wsgi.input`` limited to the request's Content-Length, so keep-alive stays in sync."""

    def __init__(self, rfile: Any, length: int) -> None:
        self._rfile = rfile
        self.remaining = length

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        size = self.remaining if size is None or size < 0 else min(size, self.remaining)
        data = self._rfile.read(size)
        self.remaining -= len(data)
        if not data:
            self.remaining = 0
        return data

    def readline(self, size: int = -1) -> bytes:  # pragma: no cover - the app never reads lines
        return self.read(size)


class _ServerHandler(ServerHandler):
    close_after = False

    def cleanup_headers(self) -> None:
        super().cleanup_headers()
        if self.close_after:  # hop-by-hop: the app may not set it, the server does
            self.headers["Connection"] = "close"


class _Handler(WSGIRequestHandler):
    """wsgiref's handler with HTTP/1.1 keep-alive, the raw path, and quiet disconnects."""

    server_version = "serde-registry"
    protocol_version = "HTTP/1.1"
    quiet = True
    _DRAIN_LIMIT = 1024 * 1024

    def get_environ(self) -> dict[str, Any]:
        env = super().get_environ()
        env["REQUEST_URI"] = self.path  # undecoded, so %2F in a subject survives routing
        return env

    def handle(self) -> None:
        self.close_connection = True
        self._handle_one()
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if len(self.raw_requestline) > 65536:
                self.send_error(414)
                self.close_connection = True
                return
            if not self.parse_request():
                return
            if self.headers.get("Transfer-Encoding"):
                self.send_error(411, "Content-Length required")
                self.close_connection = True
                return
            try:
                length = max(int(self.headers.get("Content-Length") or 0), 0)
            except ValueError:
                self.send_error(400, "Bad Content-Length")
                self.close_connection = True
                return
            body = _Body(self.rfile, length)
            handler = _ServerHandler(body, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
            handler.http_version = "1.1"
            handler.request_handler = self
            # a body too big to drain if the app refuses it: the answer says the connection
            # closes, so the client does not send its next request into it. Decided before
            # the app runs (the header goes out with its answer), so a big body it accepts
            # closes the connection too: one reconnect per registration over 1 MiB.
            handler.close_after = length > self._DRAIN_LIMIT
            handler.run(self.server.get_app())
            if handler.close_after:
                self.close_connection = True
            if body.remaining > self._DRAIN_LIMIT:
                self._linger()  # not worth reading a huge rejected body
            elif body.remaining:
                body.read(body.remaining)
        except (ConnectionError, ssl.SSLError, TimeoutError, OSError):
            self.close_connection = True

    def _linger(self, seconds: float = 2.0) -> None:
        """Close after a refused body without losing the answer: the client may still be
        sending, and closing a socket with unread data makes the kernel reset the
        connection, which can destroy the response before the client reads it (seen as
        a flaky "connection reset" instead of the 42209 error). So: send everything,
        half-close, and discard what still arrives for a moment (a "lingering close")."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.25)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and self.connection.recv(65536):
                pass
        except (OSError, ValueError):  # reset, timed out, or an SSL socket in a state that cannot
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if not self.quiet:
            super().log_message(format, *args)


class _HTTPServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    ssl_context: ssl.SSLContext | None = None

    def server_bind(self) -> None:
        if ":" in self.server_address[0]:
            self.address_family = socket.AF_INET6
            self.socket = socket.socket(self.address_family, self.socket_type)
        super().server_bind()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        sock.settimeout(60)
        try:  # headers and body are written separately: no Nagle delay on keep-alive
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # pragma: no cover - not a TCP socket
            pass
        if self.ssl_context is not None:
            # the handshake runs on first read, in the handler thread, not the accept loop
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class RegistryServer:
    """The REST API over HTTP(S), in a background thread or in the foreground.

    ``port=0`` picks a free port; ``url`` is set once bound (in ``__init__``). ``start()``
    serves in a daemon thread; ``serve_forever()`` in the caller's; ``stop()`` stops
    either and closes the store. Usable as a context manager (starts and stops).
    ``users_file``/``users`` switch on basic auth (see ``serde.registry._app.load_users``).
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        users_file: str | os.PathLike[str] | None = None,
        users: Mapping[str, str] | None = None,
        certfile: str | os.PathLike[str] | None = None,
        keyfile: str | os.PathLike[str] | None = None,
        allow_insecure_public: bool = False,
        max_body: int = DEFAULT_MAX_BODY,
        incompatible_error_code: int = 409,
        quiet: bool = True,
    ) -> None:
        if users_file is not None:
            try:
                users = load_users(users_file)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot read the users file: {exc}") from exc
        if not is_loopback(host) and not users and not allow_insecure_public:
            raise ConfigError(
                f"refusing to serve the registry on non-loopback address {host!r} without "
                "authentication: give a users file, or allow_insecure_public to accept the risk"
            )
        if keyfile is not None and certfile is None:
            raise ConfigError("a TLS key needs a TLS certificate")
        if incompatible_error_code not in (409, 40901):
            raise ConfigError("incompatible_error_code must be 409 or 40901")
        self.db_path = os.fspath(db_path)
        self.store = Store(self.db_path)
        self.app = RegistryApp(
            self.store, users=users, max_body=max_body, incompatible_error_code=incompatible_error_code
        )
        handler = type("Handler", (_Handler,), {"quiet": quiet})
        try:
            self._httpd = _HTTPServer((host, port), handler)
        except OSError as exc:
            self.store.close()
            raise ConfigError(f"cannot listen on {host}:{port}: {exc}") from exc
        self._httpd.set_app(self.app)
        scheme = "http"
        if certfile is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            try:
                ctx.load_cert_chain(os.fspath(certfile), os.fspath(keyfile) if keyfile else None)
            except (OSError, ssl.SSLError) as exc:
                self._httpd.server_close()
                self.store.close()
                raise ConfigError(f"cannot load the TLS certificate/key: {exc}") from exc
            self._httpd.ssl_context = ctx
            scheme = "https"
        self.host = host
        self.port = self._httpd.server_address[1]
        url_host = f"[{host}]" if ":" in host else host
        self.url = f"{scheme}://{url_host}:{self.port}"
        self._thread: threading.Thread | None = None
        self._stopped = False

    def start(self) -> "RegistryServer":
        """Serve in a daemon thread and return at once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), name=f"serde-registry-{self.port}", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until ``stop()`` is called (from another thread or a signal)."""
        try:
            self._httpd.serve_forever()
        finally:
            self._close()

    def stop(self) -> None:
        """Stop serving, close the listening socket and the store. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._close()
        else:
            # serve_forever runs in another thread (or not at all): ask it to stop
            threading.Thread(target=self._httpd.shutdown, daemon=True).start()

    def reset(self) -> None:
        """Empty the registry (schemas, subjects, configs, modes); ids continue, never reused."""
        self.store.reset()

    def _close(self) -> None:
        self._httpd.server_close()
        self.store.close()

    def __enter__(self) -> "RegistryServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RegistryServer({self.db_path!r}, url={self.url!r})"


def serve(
    db_path: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 8081,
    *,
    users_file: str | os.PathLike[str] | None = None,
    certfile: str | os.PathLike[str] | None = None,
    keyfile: str | os.PathLike[str] | None = None,
    allow_insecure_public: bool = False,
    max_body: int = DEFAULT_MAX_BODY,
    incompatible_error_code: int = 409,
    quiet: bool = False,
    ready: Any = None,
) -> None:
    """Serve the registry in the foreground until SIGTERM or SIGINT.

    ``ready`` (a callable) receives the started ``RegistryServer`` before serving begins,
    e.g. to print its URL.
    """
    server = RegistryServer(
        db_path,
        host,
        port,
        users_file=users_file,
        certfile=certfile,
        keyfile=keyfile,
        allow_insecure_public=allow_insecure_public,
        max_body=max_body,
        incompatible_error_code=incompatible_error_code,
        quiet=quiet,
    )

    def _on_signal(signum: int, frame: Any) -> None:
        server.stop()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, _on_signal)
    try:
        if ready is not None:
            ready(server)
        server.serve_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
