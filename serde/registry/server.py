"""``serde registry serve``: the registry over HTTP(S), on uvicorn.

The REST app (``RegistryApp.handle``, the core the embedded registry runs in process too)
is served as a Starlette application (``serde.registry._asgi``) by uvicorn with httptools
and uvloop, in a background thread (``RegistryServer.start()``), in the foreground
(``serve_forever()``), or in several worker processes sharing one listening socket
(``serve(..., workers=N)``). It refuses a non-loopback address unless basic auth is on (or
``allow_insecure_public``), serves TLS when given a certificate, caps request bodies, and
shuts down cleanly on SIGTERM/SIGINT.
"""
from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from serde._errors import ConfigError
from serde.registry._app import DEFAULT_MAX_BODY, V1_JSON, RegistryApp, load_users
from serde.registry._store import Store

__all__ = ["RegistryServer", "is_loopback", "read_users_file", "refuse_public_without_auth", "serve"]

KEEP_ALIVE_SECONDS = 60  # idle keep-alive connections are closed after this long
GRACEFUL_SECONDS = 5  # on stop, in-flight requests get this long to finish


def is_loopback(host: str) -> bool:
    """True when ``host`` only ever means this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refuse_public_without_auth(host: str, users: Mapping[str, str] | None, allow_insecure_public: bool, what: str) -> None:
    """Raise ConfigError when ``host`` is not loopback and there are no users (unless the
    caller accepted the risk), or when a user's entry is not a stored one: the one check of
    ``serde registry serve`` and ``serde console``."""
    for user, stored in (users or {}).items():
        # users handed over in code are stored entries, as read_users_file gives them; a
        # bare password would match nothing (password_ok refuses unknown kinds)
        if not isinstance(stored, str) or not stored.startswith(("plain:", "sha256:")):
            raise ConfigError(f"user {user!r}: a stored entry is 'plain:<password>' or 'sha256:<hex digest>'")
    if not is_loopback(host) and not users and not allow_insecure_public:
        raise ConfigError(
            f"refusing to serve {what} on non-loopback address {host!r} without "
            "authentication: give a users file, or allow_insecure_public to accept the risk"
        )


def read_users_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """A users file (``user:password`` or ``user:sha256:<hex>`` per line) or ConfigError."""
    try:
        return load_users(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the users file: {exc}") from exc


def _listen(host: str, port: int) -> socket.socket:
    bare = host.strip("[]")
    family = socket.AF_INET6 if ":" in bare else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((bare, port))
        sock.listen(1024)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def _uvicorn_server_class() -> Any:
    import uvicorn

    class _Server(uvicorn.Server):
        """uvicorn's server without its signal handling: ``serve()`` (or the embedding
        program) owns SIGTERM/SIGINT and calls ``RegistryServer.stop()``; uvicorn would
        otherwise re-raise the signal after shutting down and kill the process."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # an idle TLS keep-alive connection closes with a close_notify exchange the
            # client may never answer: uvicorn would wait out the graceful timeout for it,
            # then close the loop under the open transport. Idle ones are dropped at once.
            if self.config.is_ssl:
                for conn in list(self.server_state.connections):
                    cycle = getattr(conn, "cycle", None)
                    transport = getattr(conn, "transport", None)
                    if transport is not None and (cycle is None or cycle.response_complete):
                        transport.abort()
            await super().shutdown(sockets=sockets)
            for conn in list(self.server_state.connections):  # past the graceful timeout
                transport = getattr(conn, "transport", None)
                if transport is not None:
                    transport.abort()
            await asyncio.sleep(0)  # let the aborted transports report connection_lost

    return _Server


class RegistryServer:
    """The REST API over HTTP(S), in a background thread or in the foreground.

    ``port=0`` picks a free port; ``url`` is set once bound (in ``__init__``). ``start()``
    serves in a daemon thread; ``serve_forever()`` in the caller's; ``stop()`` stops
    either (from any thread or a signal handler) and closes the store. Usable as a context
    manager (starts and stops). ``users_file``/``users`` switch on basic auth (see
    ``serde.registry._app.load_users``).
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
            users = read_users_file(users_file)
        refuse_public_without_auth(host, users, allow_insecure_public, "the registry")
        if keyfile is not None and certfile is None:
            raise ConfigError("a TLS key needs a TLS certificate")
        if incompatible_error_code not in (409, 40901):
            raise ConfigError("incompatible_error_code must be 409 or 40901")
        if certfile is not None:  # fail here, not in the serving thread
            try:
                ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                    os.fspath(certfile), os.fspath(keyfile) if keyfile else None
                )
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"cannot load the TLS certificate/key: {exc}") from exc
        self.db_path = os.fspath(db_path)
        self._users = users
        self._max_body = max_body
        self._incompatible_error_code = incompatible_error_code
        self._certfile = os.fspath(certfile) if certfile is not None else None
        self._keyfile = os.fspath(keyfile) if keyfile is not None else None
        self._quiet = quiet
        try:
            self._sock = _listen(host, port)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc}") from exc
        try:
            self._open()
        except BaseException:
            self._sock.close()
            raise
        self.host = host
        self.port = self._sock.getsockname()[1]
        url_host = f"[{host.strip('[]')}]" if ":" in host else host
        self.url = f"{'https' if certfile is not None else 'http'}://{url_host}:{self.port}"
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._stopped = False
        self._serving = False

    def _open(self) -> None:
        """The store, the app and the uvicorn server (again in each worker process)."""
        import uvicorn

        from serde.registry._asgi import asgi_app

        self.store = Store(self.db_path)
        self.app = RegistryApp(
            self.store, users=self._users, max_body=self._max_body, incompatible_error_code=self._incompatible_error_code
        )
        self.asgi = asgi_app(self.app)
        if not self._quiet:
            _log_to_stderr()
        config = uvicorn.Config(
            self.asgi,
            http=_http_impl(),
            loop=_loop_impl(),
            lifespan="on",
            log_config=None,
            log_level=logging.INFO if not self._quiet else logging.ERROR,
            access_log=not self._quiet,
            ssl_certfile=self._certfile,
            ssl_keyfile=self._keyfile,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            server_header=False,
        )
        self._uvicorn = _uvicorn_server_class()(config)

    def start(self) -> "RegistryServer":
        """Serve in a daemon thread; return once the server accepts connections."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"serde-registry-{self.port}", daemon=True)
            self._thread.start()
            while not self._uvicorn.started and self._thread.is_alive():
                time.sleep(0.005)
            if not self._uvicorn.started:
                self._thread.join()
                self._close()
                raise ConfigError(f"the registry server did not start: {self._error}") from self._error
        return self

    def _run(self) -> None:
        try:
            self._uvicorn.run(sockets=[self._sock])
        except BaseException as exc:  # reported by start()
            self._error = exc

    def serve_forever(self) -> None:
        """Serve in this thread until ``stop()`` is called (from another thread or a signal)."""
        self._serving = True
        try:
            if not self._stopped:
                self._uvicorn.run(sockets=[self._sock])
        finally:
            self._close()

    def stop(self) -> None:
        """Stop serving, close the listening socket and the store. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        # serializers share one cached Registry per URL in this process; the next
        # server on this port (tests reuse ports) holds other schemas under the same ids
        from serde.registry.client import forget_registry

        forget_registry(self.url)
        self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=GRACEFUL_SECONDS + 5)
            self._close()
        elif not self._serving:  # never started
            self._close()
        # else serve_forever runs in another thread, or this is a signal handler in its
        # thread: it sees should_exit within 0.1 s, finishes and closes

    def reset(self) -> None:
        """Empty the registry (schemas, subjects, configs, modes); ids continue, never reused."""
        self.store.reset()

    def _close(self) -> None:
        self._sock.close()
        self.store.close()

    def __enter__(self) -> "RegistryServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RegistryServer({self.db_path!r}, url={self.url!r})"


_REQUEST_LINE = re.compile(rb"[^ ]+ [^ ]+ HTTP/[0-9]")
# A request head (request line and headers) must arrive within HEAD_SECONDS of the
# connection or of its first byte, and be at most MAX_HEAD_BYTES: httptools bounds neither.
HEAD_SECONDS = 10.0
MAX_HEAD_BYTES = 64 * 1024


def _http_impl() -> Any:
    """uvicorn's httptools protocol, answering in the registry's JSON error format."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools
        return "h11"

    class _Protocol(HttpToolsProtocol):  # type: ignore[misc]
        """Two refusals httptools does not make: an HTTP/0.9 request line (``GET /x`` with no
        version), which it would wait on forever for headers that never come, gets a 400
        and the connection closed; and a malformed request gets the registry's JSON error
        body, not text/plain."""

        _in_message = False
        _head_bytes = 0  # of the request head being read (-1: none being read)
        _head_timer: Any = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._start_head_timer()  # a client that connects must send a request head in time

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_head_timer()
            super().connection_lost(exc)

        def _start_head_timer(self) -> None:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(HEAD_SECONDS, self._head_too_slow)

        def _stop_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_too_slow(self) -> None:
            # slowloris: a head never finished holds a connection (and a file descriptor)
            # forever; uvicorn's keep-alive timeout only runs between requests
            self._head_timer = None
            if not self.transport.is_closing():
                self.transport.close()

        def data_received(self, data: bytes) -> None:
            if not self._in_message:  # the bytes start a new request: check its first line
                head = data.lstrip(b"\r\n")
                end = head.find(b"\n")
                if end != -1 and not _REQUEST_LINE.match(head[:end]):
                    self.send_400_response("Invalid HTTP request line (HTTP/0.9 is not served)")
                    return
                self._start_head_timer()
            if self._head_bytes >= 0:  # within a head: bound it (httptools has no limit)
                end = data.find(b"\r\n\r\n")  # the head may end here, the body follow
                self._head_bytes += len(data) if end == -1 else end + 4
                if self._head_bytes > MAX_HEAD_BYTES:
                    self.send_400_response(f"Request head over {MAX_HEAD_BYTES // 1024} KiB")
                    return
            super().data_received(data)

        def on_message_begin(self) -> None:
            self._in_message = True
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._head_bytes = -1
            self._stop_head_timer()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._in_message = False
            self._head_bytes = 0  # the next bytes on this connection start another head
            super().on_message_complete()

        def send_400_response(self, msg: str) -> None:
            body = orjson.dumps({"error_code": 400, "message": f"HTTP 400 Bad Request: {msg}"})
            head = [b"HTTP/1.1 400 Bad Request\r\n"]
            for name, value in self.server_state.default_headers:
                head.append(name + b": " + value + b"\r\n")
            head.append(b"content-type: " + V1_JSON.encode() + b"\r\n")
            head.append(b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n")
            self.transport.write(b"".join(head) + body)
            self.transport.close()

    return _Protocol


def _loop_impl() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it (not on Windows)
        return "asyncio"
    return "uvloop"


def _log_to_stderr() -> None:
    logger = logging.getLogger("uvicorn")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


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
    workers: int = 1,
    ready: Any = None,
) -> None:
    """Serve the registry in the foreground until SIGTERM or SIGINT.

    ``workers`` > 1 forks that many processes after binding, all accepting on the one
    socket, each with its own connections to the SQLite file (several processes may share
    it); the parent forwards SIGTERM/SIGINT and waits for them. ``ready`` (a callable)
    receives the bound ``RegistryServer`` before serving begins, e.g. to print its URL.
    """
    if workers < 1:
        raise ConfigError("workers must be at least 1")
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
    if ready is not None:
        ready(server)
    if workers == 1 or not hasattr(os, "fork"):
        with _signals_call(server.stop):
            server.serve_forever()
        return
    server.store.close()  # no SQLite connection may cross a fork
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker: its own store and event loop on the inherited socket
            code = 0
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                server._open()
                with _signals_call(server.stop):
                    server.serve_forever()
            except BaseException:  # pragma: no cover - reported, then the parent stops
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    server._sock.close()
    stopping = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stopping.set()
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    failed = False
    with _signals_call(lambda: _stop(signal.SIGTERM, None)):
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:  # pragma: no cover
                break
            except InterruptedError:  # pragma: no cover - PEP 475 retries, kept for clarity
                continue
            if pid in children:
                children.remove(pid)
                if not stopping.is_set():  # a worker died on its own: stop the rest
                    failed = True
                    _stop(signal.SIGTERM, None)
    if failed:
        raise ConfigError("a registry worker process exited unexpectedly")


@contextlib.contextmanager
def _signals_call(callback: Any) -> Iterator[None]:
    """Run ``callback()`` on SIGTERM and SIGINT while in the block (main thread only)."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda signum, frame: callback())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
