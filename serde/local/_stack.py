"""``serde local up | down | status``: a Kafka broker and serde's registry for development.

Both run detached (their own session, so they outlive the command that started them) and
keep everything under one directory, ``.serde/local/`` by default::

    .serde/local/kafka.pid       {"pid": ..., "port": ..., "address": "localhost:9092"}
    .serde/local/kafka/          server.properties, data/, broker.log, broker.out
    .serde/local/registry.pid    {"pid": ..., "port": ..., "address": "http://localhost:8081"}
    .serde/local/registry.db     the registry's SQLite file
    .serde/local/registry.log    its stdout/stderr (requests included)

``up`` waits until Kafka serves metadata and the registry answers HTTP; ``down`` sends
SIGTERM, waits, then SIGKILLs; ``status`` reads the pid files and probes each address.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .._errors import KafkaError
from ._kafka import KafkaBroker, _Spawned, _read_tail, find_java, pid_alive, port_open, resolve_classpath

__all__ = ["LocalStack", "Service"]

DEFAULT_DIR = Path(".serde") / "local"
DEFAULT_KAFKA_PORT = 9092
DEFAULT_REGISTRY_PORT = 8081
HOST = "127.0.0.1"  # both listen on loopback only
NAME = "localhost"  # what the exports say

_quiet = logging.getLogger("serde.local.probe")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


@dataclass(frozen=True)
class Service:
    """One process of the stack, as ``status`` sees it."""

    name: str  # "kafka" or "registry"
    address: str  # localhost:9092, http://localhost:8081
    pid: int | None  # from the pid file; None: not started (or stopped)
    running: bool  # the pid is alive (and is ours)
    answering: bool  # the address answers (Kafka metadata, registry HTTP)
    log: Path

    def describe(self) -> str:
        if self.pid is None:
            state = "not running" + (" (but something answers there)" if self.answering else "")
        elif not self.running:
            state = f"not running (pid {self.pid} is gone; stale pid file)"
        else:
            state = f"running, pid {self.pid}, " + ("answering" if self.answering else "NOT answering")
        return f"{self.name:<9} {self.address:<24} {state}; log {self.log}"


class LocalStack:
    """The development stack in ``root``: Kafka on ``kafka_port``, the registry on ``registry_port``."""

    def __init__(self, root: str | os.PathLike[str] = DEFAULT_DIR, *, kafka_port: int = DEFAULT_KAFKA_PORT,
                 registry_port: int = DEFAULT_REGISTRY_PORT) -> None:
        self.root = Path(root)
        self.kafka_port = kafka_port
        self.registry_port = registry_port

    # -- where things are ------------------------------------------------------------
    @property
    def bootstrap(self) -> str:
        return f"{NAME}:{self._port('kafka', self.kafka_port)}"

    @property
    def registry_url(self) -> str:
        return f"http://{NAME}:{self._port('registry', self.registry_port)}"

    def exports(self) -> dict[str, str]:
        """The environment that points serde's commands at this stack."""
        return {"SERDE_BOOTSTRAP": self.bootstrap, "SERDE_REGISTRY": self.registry_url}

    def _pidfile(self, name: str) -> Path:
        return self.root / f"{name}.pid"

    def _log(self, name: str) -> Path:
        return self.root / "kafka" / "broker.log" if name == "kafka" else self.root / "registry.log"

    def _read_pid(self, name: str) -> dict | None:
        try:
            data = json.loads(self._pidfile(name).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None

    def _port(self, name: str, default: int) -> int:
        """The port a running service uses (its pid file), else the configured one."""
        data = self._read_pid(name)
        if data is not None and isinstance(data.get("port"), int) and _ours(name, data["pid"], self.root):
            return int(data["port"])
        return default

    # -- status ----------------------------------------------------------------------
    def status(self) -> list[Service]:
        out = []
        for name in ("kafka", "registry"):
            data = self._read_pid(name)
            pid = data["pid"] if data else None
            port = int(data["port"]) if data and isinstance(data.get("port"), int) else (
                self.kafka_port if name == "kafka" else self.registry_port)
            running = pid is not None and _ours(name, pid, self.root)
            answering = _kafka_answers(port) if name == "kafka" else _registry_answers(port)
            address = f"{NAME}:{port}" if name == "kafka" else f"http://{NAME}:{port}"
            out.append(Service(name, address, pid, running, answering, self._log(name)))
        return out

    # -- up ----------------------------------------------------------------------------
    def up(self, *, timeout: float = 120.0, progress: Callable[[str], None] = lambda text: None) -> list[Service]:
        """Start whatever is not running yet and wait until both answer. Raises
        KafkaError (one line) when Java or Maven is missing, a port is taken, or a
        process does not come up (its log's last lines are in the message)."""
        java = find_java()
        self.root.mkdir(parents=True, exist_ok=True)
        started: list[tuple[str, int]] = []
        try:
            if not self._running("kafka"):
                jars_missing = not _jars_cached()
                if jars_missing:
                    progress("fetching the Kafka broker's jars from Maven Central (once, into ~/.cache/serde-kafka) ...")
                resolve_classpath()
                self._check_port("Kafka", self.kafka_port, "--kafka-port")
                progress(f"starting Kafka on {NAME}:{self.kafka_port} ...")
                broker = KafkaBroker(java=java, port=self.kafka_port, workdir=self.root / "kafka", detached=True,
                                     startup_timeout=timeout, heap_opts=os.environ.get("SERDE_KAFKA_HEAP_OPTS"))
                try:
                    broker.start()
                except KafkaError as exc:
                    raise KafkaError(_first_line(str(exc)) + f" (log: {self._log('kafka')})") from None
                assert broker.pid is not None
                started.append(("kafka", broker.pid))
                self._write_pid("kafka", broker.pid, self.kafka_port)
            else:
                progress(f"Kafka already runs on {self.bootstrap}" + self._other_port("kafka", self.kafka_port, "--kafka-port"))
            if not self._running("registry"):
                self._check_port("the registry", self.registry_port, "--registry-port")
                progress(f"starting the registry on http://{NAME}:{self.registry_port} ...")
                pid = self._start_registry(timeout)
                started.append(("registry", pid))
                self._write_pid("registry", pid, self.registry_port)
            else:
                progress(f"the registry already runs on {self.registry_url}"
                         + self._other_port("registry", self.registry_port, "--registry-port"))
        except BaseException:
            for name, pid in reversed(started):
                _terminate(pid, 30.0)
                self._pidfile(name).unlink(missing_ok=True)
            raise
        return self.status()

    def _other_port(self, name: str, asked: int, flag: str) -> str:
        """A note when the running process listens elsewhere than ``asked``: it is kept."""
        data = self._read_pid(name) or {}
        running = data.get("port")
        if isinstance(running, int) and running != asked:
            return (f" (not on {asked} as {flag} asked: it keeps running where it is; "
                    "`serde local down` first to move it)")
        return ""

    def _running(self, name: str) -> bool:
        data = self._read_pid(name)
        if data is None:
            return False
        if _ours(name, data["pid"], self.root):
            return True
        self._pidfile(name).unlink(missing_ok=True)  # stale
        return False

    def _check_port(self, what: str, port: int, option: str) -> None:
        if port_open(HOST, port, 0.5):
            raise KafkaError(f"cannot start {what} on {NAME}:{port}: something already listens there "
                             f"(choose another port with {option})")

    def _write_pid(self, name: str, pid: int, port: int) -> None:
        address = f"{NAME}:{port}" if name == "kafka" else f"http://{NAME}:{port}"
        tmp = self._pidfile(name).with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": pid, "port": port, "address": address}) + "\n")
        os.replace(tmp, self._pidfile(name))

    def _start_registry(self, timeout: float) -> int:
        log = self._log("registry")
        if log.exists():
            os.replace(log, log.with_name(log.name + ".1"))
        db = (self.root / "registry.db").resolve()
        proc = _Spawned([sys.executable, "-m", "serde.local._registry", "--db", str(db),
                         "--host", HOST, "--port", str(self.registry_port)],
                        cwd=self.root, log=log)
        deadline = time.monotonic() + min(timeout, 60.0)
        while not _registry_answers(self.registry_port):
            if proc.poll() is not None:
                raise KafkaError(f"the registry exited with code {proc.returncode} at start: "
                                 f"{_first_line(_read_tail(log, 5)) or 'no output'} (log: {log})")
            if time.monotonic() > deadline:
                _terminate(proc.pid, 10.0)
                raise KafkaError(f"the registry did not answer on http://{NAME}:{self.registry_port} "
                                 f"within {min(timeout, 60.0):.0f}s (log: {log})")
            time.sleep(0.1)
        return proc.pid

    # -- down --------------------------------------------------------------------------
    def down(self, *, timeout: float = 30.0) -> list[str]:
        """Stop both (SIGTERM, up to ``timeout`` seconds, then SIGKILL); what was stopped."""
        targets = []
        for name in ("registry", "kafka"):
            data = self._read_pid(name)
            if data is not None and _ours(name, data["pid"], self.root):
                try:
                    os.kill(data["pid"], signal.SIGTERM)  # both at once; waited for below
                except ProcessLookupError:
                    pass
                targets.append((name, data["pid"]))
            elif data is not None:
                self._pidfile(name).unlink(missing_ok=True)  # stale
        stopped = []
        for name, pid in targets:
            how = _terminate(pid, timeout)
            self._pidfile(name).unlink(missing_ok=True)
            stopped.append(f"{name} (pid {pid}){' killed after ' + format(timeout, 'g') + 's' if how == 'killed' else ''}")
        return stopped


# -- helpers -------------------------------------------------------------------------
_MARKERS = {"kafka": "kafka.Kafka", "registry": "serde.local._registry"}


def _ours(name: str, pid: int, root: Path | None = None) -> bool:
    """``pid`` is alive and is this stack's process of that name: its command line says
    what it is and it runs in this stack's folder (kafka in ``<root>/kafka``, the registry
    in ``<root>``), so a pid file copied from another stack, or a pid reused by another
    program that mentions ``kafka.Kafka``, is never taken for ours (and never killed)."""
    if not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return True  # no /proc: trust the pid file
    if _MARKERS[name] not in cmdline:
        return False
    if root is None:
        return True
    expected = (root / "kafka" if name == "kafka" else root).resolve()
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")) == expected
    except OSError:  # another user's process: not ours to stop
        return False


def _terminate(pid: int, timeout: float) -> str:
    """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL. 'stopped', 'killed' or 'gone'."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return "gone"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not pid_alive(pid):
            return "stopped"
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return "stopped"
    for _ in range(100):
        _reap(pid)
        if not pid_alive(pid):
            break
        time.sleep(0.05)
    return "killed"


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _jars_cached() -> bool:
    from ._kafka import DEFAULT_KAFKA_VERSION, _cache_root

    version = os.environ.get("SERDE_KAFKA_VERSION") or DEFAULT_KAFKA_VERSION
    return (_cache_root() / version / "complete").is_file()


def _kafka_answers(port: int) -> bool:
    if not port_open(HOST, port, 0.5):
        return False
    try:
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": f"{HOST}:{port}", "logger": _quiet})
        # the port is open, so this only waits on a slow broker (a loaded machine took
        # more than 3 s right after start): a generous wait, not a false "NOT answering"
        return bool(admin.list_topics(timeout=15).brokers)
    except Exception:  # noqa: BLE001 - a probe: anything else is "not answering"
        return False


def _registry_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/subjects", timeout=10) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
