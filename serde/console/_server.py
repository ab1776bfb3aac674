"""Serving the console: uvicorn on a bound socket, in a thread (tests, embedding) or in
the foreground (``serde console``). Refuses a non-loopback address without users, as
``serde registry serve`` does."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from typing import Any

from .._errors import ConfigError
from ..registry.server import is_loopback, read_users_file, refuse_public_without_auth
from ._app import create_app
from ._config import ConsoleConfig

__all__ = ["ConsoleServer"]


def uvicorn_config(app: Any, **options: Any) -> Any:
    import uvicorn

    return uvicorn.Config(app, **options)


def _server_class() -> Any:
    import uvicorn

    class _Server(uvicorn.Server):
        """uvicorn without its own signal handling, which re-raises SIGTERM after shutting
        down (the process would die of it): ``serve_forever`` owns the signals."""

        @contextlib.contextmanager
        def capture_signals(self) -> Any:
            yield

    return _Server


class ConsoleServer:
    """The console on ``host:port`` (``port=0``: a free one; ``url`` once bound)."""

    def __init__(self, config: ConsoleConfig, host: str = "127.0.0.1", port: int = 8080, *,
                 users_file: str | os.PathLike[str] | None = None, users: dict[str, str] | None = None,
                 allow_insecure_public: bool = False, quiet: bool = True) -> None:
        if users_file is not None:
            users = read_users_file(users_file)
        refuse_public_without_auth(host, users, allow_insecure_public, "the console")
        bare = host.strip("[]")
        self._sock = socket.socket(socket.AF_INET6 if ":" in bare else socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((bare, port))
            self._sock.listen(128)
        except OSError as exc:
            self._sock.close()
            raise ConfigError(f"cannot listen on {host}:{port}: {exc}") from exc
        self.app = create_app(config, users)
        if is_loopback(host) and not users:
            # unauthenticated on loopback: answer only to loopback names, so another site
            # cannot rebind its DNS name to 127.0.0.1 and read (or drive) the console
            self.app.allowed_hosts = {"localhost", "127.0.0.1", "::1", bare.lower()}
        self.port = self._sock.getsockname()[1]
        self.url = f"http://{'[' + bare + ']' if ':' in bare else bare}:{self.port}"
        self._server = _server_class()(uvicorn_config(
            self.app, lifespan="off", log_config=None, access_log=not quiet, server_header=False,
            log_level="info" if not quiet else "error", timeout_graceful_shutdown=3))
        self._thread: threading.Thread | None = None

    def start(self) -> "ConsoleServer":
        """Serve in a daemon thread; return once it accepts connections."""
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"serde-console-{self.port}", daemon=True)
        self._thread.start()
        while not self._server.started and self._thread.is_alive():
            time.sleep(0.01)
        if not self._server.started:
            raise ConfigError("the console did not start")
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until SIGINT or SIGTERM (then exit normally)."""
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, lambda signum, frame: setattr(self._server, "should_exit", True))
        try:
            self._server.run(sockets=[self._sock])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.close()

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.close()

    def close(self) -> None:
        self._sock.close()
        self.app.console.close()

    def __enter__(self) -> "ConsoleServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
