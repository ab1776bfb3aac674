"""A real single-node Apache Kafka 4.x broker (KRaft, no Docker, no distribution tarball):
what ``serde local up`` runs, and the test suite's session broker.

How it works
------------
* The broker's jars are resolved once with Maven from ``kafka-pom.xml`` (package data)
  (``mvn dependency:copy-dependencies``) into
  ``~/.cache/serde-kafka/<kafka version>/jars`` and reused afterwards (mvn is
  not run again while the cache is complete and the pom is unchanged).
* Each :class:`KafkaBroker` gets a directory (a temp dir, or ``workdir``, which is
  kept) holding ``server.properties``, a log4j2 config, the data dir and the logs
  (``broker.log`` is the log4j output, ``broker.out`` the process's stdout/stderr).
* The node is a combined ``broker,controller`` KRaft node with a static
  controller quorum on loopback ports (free ones unless ``port`` is given); storage is formatted with
  ``kafka.tools.StorageTool`` and a random cluster id, then ``kafka.Kafka``
  is started and polled with an AdminClient until it serves metadata.
* The JVM is started with PR_SET_PDEATHSIG (Linux), so it is SIGTERMed if
  the Python process dies without running ``stop()`` (e.g. SIGKILL). Caveat:
  Linux ties that to the *thread* that spawned it, so start brokers from a
  long-lived thread (the main thread, as pytest fixtures do). With
  ``detached=True`` (``serde local up``) it is not: the broker outlives the
  process that started it, in its own session, until SIGTERMed.

Usage::

    from serde.local import KafkaBroker

    with KafkaBroker() as broker:
        broker.create_topic("t", partitions=3)
        Producer({"bootstrap.servers": broker.bootstrap}) ...

Environment knobs (all optional):
``SERDE_KAFKA_VERSION`` (default :data:`DEFAULT_KAFKA_VERSION`),
``SERDE_KAFKA_CACHE`` (default ``~/.cache/serde-kafka``),
``SERDE_KAFKA_HEAP_OPTS`` or ``KAFKA_HEAP_OPTS`` (default ``-Xmx512m -Xms128m``),
``SERDE_KAFKA_KEEP_LOGS=1`` (keep the temp dir after ``stop()``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterable, Mapping, Optional

from .._errors import KafkaError

__all__ = [
    "DEFAULT_KAFKA_VERSION",
    "KafkaBroker",
    "broker_properties",
    "create_topic",
    "find_java",
    "free_ports",
    "resolve_classpath",
]

DEFAULT_KAFKA_VERSION = "4.4.0"
POM_PATH = Path(__file__).resolve().with_name("kafka-pom.xml")

_log = logging.getLogger("serde.local.kafka")

# the broker could not be provisioned, started or used
KafkaBrokerError = KafkaError


# --------------------------------------------------------------------------
# jar resolution
# --------------------------------------------------------------------------


def _cache_root() -> Path:
    env = os.environ.get("SERDE_KAFKA_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "serde-kafka"


def _pom_digest(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def resolve_classpath(
    version: Optional[str] = None,
    *,
    pom: Path = POM_PATH,
    cache_root: Optional[Path] = None,
    timeout: float = 900.0,
) -> Path:
    """Return a directory holding every jar the broker needs.

    Runs ``mvn dependency:copy-dependencies`` the first time (per Kafka
    version and pom content) and reuses ``<cache>/<version>/jars`` afterwards.
    """
    version = version or os.environ.get("SERDE_KAFKA_VERSION") or DEFAULT_KAFKA_VERSION
    root = (cache_root or _cache_root()) / version
    jars = root / "jars"
    marker = root / "complete"
    digest = _pom_digest(pom)
    if marker.is_file() and marker.read_text().strip() == digest and any(jars.glob("kafka_2.13-*.jar")):
        return jars

    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaBrokerError(
            "a local Kafka needs Java 17+ and Maven: `mvn` is not on PATH (it fetches the broker's jars "
            "from Maven Central once, into ~/.cache/serde-kafka)"
        )
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="jars-", dir=root))
    cmd = [
        mvn, "-q", "-B", "-Dstyle.color=never",
        "-f", str(pom),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={staging}",
        f"-Dkafka.version={version}",
    ]
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise KafkaBrokerError(f"Kafka jar resolution timed out after {timeout:.0f}s: {' '.join(cmd)}") from exc
    if proc.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
        shutil.rmtree(staging, ignore_errors=True)
        raise KafkaBrokerError(
            "Could not resolve the Kafka broker jars with Maven "
            f"(exit {proc.returncode}).\ncommand: {' '.join(cmd)}\n"
            f"stdout:\n{_tail(proc.stdout, 40)}\nstderr:\n{_tail(proc.stderr, 40)}"
        )
    # Publish atomically; a concurrent resolver (e.g. another xdist worker)
    # may have won the race, in which case its result is used.
    old = None
    if jars.exists():
        old = root / f"old-{uuid.uuid4().hex}"
        try:
            jars.rename(old)
        except OSError:
            old = None
    try:
        staging.rename(jars)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    marker.write_text(digest + "\n")
    _log.info("resolved Kafka %s jars in %.1fs into %s", version, time.monotonic() - started, jars)
    return jars


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------


def broker_properties(
    *,
    broker_port: int,
    controller_port: int,
    log_dir: Path,
    host: str = "127.0.0.1",
    node_id: int = 1,
    extra_properties: Optional[Mapping[str, object]] = None,
) -> dict:
    """All ``server.properties`` of the single combined KRaft node.

    ``extra_properties`` is merged last (overrides); to add e.g. a SASL/TLS
    listener, override ``listeners``, ``advertised.listeners`` and
    ``listener.security.protocol.map`` and add the listener's own settings.
    """
    props = {
        "process.roles": "broker,controller",
        "node.id": node_id,
        "controller.quorum.voters": f"{node_id}@{host}:{controller_port}",
        "listeners": f"PLAINTEXT://{host}:{broker_port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{broker_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": 1,
        "default.replication.factor": 1,
        "min.insync.replicas": 1,
        "auto.create.topics.enable": "true",
        "delete.topic.enable": "true",
        # internal topics: single replica, few partitions (fast first use)
        "offsets.topic.replication.factor": 1,
        "offsets.topic.num.partitions": 1,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 1,
        # abort a dead producer's timed-out transaction within ~1s (default 10s)
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": 1000,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "share.coordinator.state.topic.num.partitions": 1,
        "group.initial.rebalance.delay.ms": 0,
        # 2-core machines: keep the thread count modest
        "num.network.threads": 2,
        "num.io.threads": 4,
        "background.threads": 4,
        "log.cleaner.threads": 1,
        "num.recovery.threads.per.data.dir": 1,
    }
    if extra_properties:
        props.update(extra_properties)
    return props


def _render_properties(props: Mapping[str, object]) -> str:
    def esc(v: object) -> str:
        if isinstance(v, bool):
            v = "true" if v else "false"
        return str(v).replace("\\", "\\\\").replace("\n", "\\n")

    return "".join(f"{k}={esc(v)}\n" for k, v in props.items())


_LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
"""


def _random_cluster_id() -> str:
    # Same format as org.apache.kafka.common.Uuid#toString (22 chars,
    # url-safe base64, no padding); Kafka rejects ids starting with '-'.
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


def free_ports(n: int, host: str = "127.0.0.1") -> list:
    """``n`` distinct TCP ports that were free a moment ago (racy: bind soon)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join((text or "").splitlines()[-lines:])


def _head_tail(text: str, head: int = 15, tail: int = 15) -> str:
    lines = (text or "").splitlines()
    if len(lines) <= head + tail:
        return "\n".join(lines)
    return "\n".join(lines[:head] + [f"... ({len(lines) - head - tail} lines) ..."] + lines[-tail:])


def _read_tail(path: Path, lines: int = 60) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return f"<{path} not readable>"
    return _tail(data, lines)


_free_ports = free_ports


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def find_java(java: Optional[str] = None) -> str:
    """The ``java`` to run the broker with ($JAVA_HOME's, else PATH's); it must be 17 or newer."""
    if java is None:
        java_home = os.environ.get("JAVA_HOME")
        if java_home and (Path(java_home) / "bin" / "java").exists():
            java = str(Path(java_home) / "bin" / "java")
        else:
            java = shutil.which("java")
    if java is None:
        raise KafkaBrokerError("a local Kafka needs Java 17+ and Maven: `java` is not on PATH (nor in $JAVA_HOME)")
    version = _java_version(java)
    if version is not None and version < 17:
        raise KafkaBrokerError(f"a local Kafka needs Java 17+ and Maven: {java} is Java {version}")
    return java


_JAVA_VERSIONS: dict = {}


def _java_version(java: str) -> Optional[int]:
    if java not in _JAVA_VERSIONS:
        try:
            out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30,
                                 stdin=subprocess.DEVNULL).stderr
        except (OSError, subprocess.SubprocessError):
            out = ""
        import re

        m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
        major = None
        if m:
            major = int(m.group(1))
            if major == 1 and m.group(2):  # "1.8.0_292"
                major = int(m.group(2))
        _JAVA_VERSIONS[java] = major
    return _JAVA_VERSIONS[java]


class _Spawned:
    """A process started with ``os.posix_spawn`` in its own session (``detached``): the
    parts of ``subprocess.Popen`` the broker uses, without Popen's warning when the
    object goes away while the process still runs (which is the point)."""

    stdout = None

    def __init__(self, argv: list, *, cwd: Path, log: Path) -> None:
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(Path(log).resolve()), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ]
        old = os.getcwd()
        os.chdir(cwd)  # posix_spawn has no cwd; Kafka's paths are absolute anyway
        try:
            self.pid = os.posix_spawn(argv[0], argv, dict(os.environ), file_actions=actions, setsid=True)
        finally:
            os.chdir(old)
        self.args = argv
        self.returncode: Optional[int] = None

    def poll(self) -> Optional[int]:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = 0 if not pid_alive(self.pid) else None
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: Optional[float] = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.05)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _pdeathsig_preexec():  # pragma: no cover - runs in the child
    """Ask Linux to SIGTERM the broker if the Python process dies abruptly."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:
        pass


# --------------------------------------------------------------------------
# the broker
# --------------------------------------------------------------------------


class KafkaBroker:
    """A single-node KRaft Kafka broker on 127.0.0.1.

    ``start()`` (or ``with KafkaBroker() as b:``) provisions jars, formats
    storage, launches ``kafka.Kafka`` and waits until it serves metadata;
    ``bootstrap`` is then ``"127.0.0.1:<port>"``. ``stop()`` terminates it
    (SIGTERM, then SIGKILL) and removes its temp dir.

    By default it is throw-away: free ports, a temp dir, tied to this process.
    ``port``/``controller_port`` fix the ports (a port in use is an error, not a
    retry), ``workdir`` keeps data and logs in that directory across restarts,
    and ``detached`` lets the broker outlive this process (``pid`` says which it is).
    """

    host = "127.0.0.1"

    def __init__(
        self,
        version: Optional[str] = None,
        *,
        extra_properties: Optional[Mapping[str, object]] = None,
        startup_timeout: float = 90.0,
        stop_timeout: float = 20.0,
        heap_opts: Optional[str] = None,
        jvm_opts: Iterable[str] = (),
        java: Optional[str] = None,
        keep_logs: Optional[bool] = None,
        format_args: Iterable[str] = (),
        port: Optional[int] = None,
        controller_port: Optional[int] = None,
        workdir: Optional[Path] = None,
        detached: bool = False,
    ):
        self.version = version or os.environ.get("SERDE_KAFKA_VERSION") or DEFAULT_KAFKA_VERSION
        # a callable value is called with the broker once its ports are known, e.g.
        # {"listeners": lambda b: f"PLAINTEXT://127.0.0.1:{b.port},CONTROLLER://...,SASL_PLAINTEXT://..."}
        self.extra_properties = dict(extra_properties or {})
        # extra ``kafka.tools.StorageTool format`` arguments, e.g.
        # ("--add-scram", "SCRAM-SHA-256=[name=alice,password=secret]")
        self.format_args = list(format_args)
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.heap_opts = (
            heap_opts
            or os.environ.get("SERDE_KAFKA_HEAP_OPTS")
            or os.environ.get("KAFKA_HEAP_OPTS")
            or "-Xmx512m -Xms128m"
        )
        self.jvm_opts = list(jvm_opts)
        self.java = find_java(java)
        if keep_logs is None:
            keep_logs = os.environ.get("SERDE_KAFKA_KEEP_LOGS", "") not in ("", "0", "false")
        self.keep_logs = keep_logs or workdir is not None
        self.detached = detached
        self._fixed_workdir = Path(workdir).resolve() if workdir is not None else None
        self._fixed_ports = (port, controller_port)

        self.workdir: Optional[Path] = None
        self.port: Optional[int] = None
        self.controller_port: Optional[int] = None
        self.cluster_id: Optional[str] = None
        self.properties: dict = {}
        self.proc = None  # subprocess.Popen, or _Spawned when detached
        self.startup_seconds: Optional[float] = None
        self._admin = None

    # -- public API ---------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        if self.port is None or self.proc is None:
            raise KafkaBrokerError("broker is not running (call start() first)")
        return f"{self.host}:{self.port}"

    @property
    def log_path(self) -> Optional[Path]:
        return self.workdir / "broker.log" if self.workdir else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> "KafkaBroker":
        if self.running:
            return self
        jars = resolve_classpath(self.version)
        self._classpath = str(jars / "*")
        t0 = time.monotonic()
        last_error: Optional[Exception] = None
        # Free-port picking is racy; retry a couple of times on a bind clash.
        for attempt in range(3 if self._fixed_ports == (None, None) else 1):
            try:
                self._start_once()
                self.startup_seconds = time.monotonic() - t0
                _log.info("Kafka %s broker up at %s in %.1fs (workdir %s)",
                          self.version, self.bootstrap, self.startup_seconds, self.workdir)
                return self
            except _PortClash as exc:
                last_error = exc
                self._cleanup(force_remove=True)
            except BaseException:
                self.stop()
                raise
        raise KafkaBrokerError(f"could not start Kafka broker: {last_error}")

    def stop(self) -> None:
        if self._admin is not None:
            self._admin = None
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        self._cleanup()

    def __enter__(self) -> "KafkaBroker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):  # best effort: never leave a JVM behind (unless asked to)
        try:
            if self.proc is not None and not self.detached and self.proc.poll() is None:
                self.proc.kill()
        except Exception:
            pass

    def admin(self):
        """A (cached) confluent_kafka AdminClient for this broker."""
        if self._admin is None:
            from confluent_kafka.admin import AdminClient

            self._admin = AdminClient({"bootstrap.servers": self.bootstrap, "logger": _log})
        return self._admin

    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        *,
        config: Optional[Mapping[str, str]] = None,
        timeout: float = 30.0,
        exist_ok: bool = False,
    ) -> str:
        return create_topic(self.bootstrap, name, partitions, config=config, timeout=timeout,
                            exist_ok=exist_ok, admin=self.admin())

    def log_tail(self, lines: int = 60) -> str:
        if not self.workdir:
            return ""
        out = []
        for name in ("broker.out", "broker.log"):
            p = self.workdir / name
            if p.exists():
                out.append(f"--- {p} (last {lines} lines) ---\n{_read_tail(p, lines)}")
        return "\n".join(out)

    # -- internals ----------------------------------------------------------

    def _java_cmd(self, main: str, *args: str, heap: Optional[str] = None) -> list:
        log4j = self.workdir / "log4j2.properties"
        return [
            self.java,
            *(heap or self.heap_opts).split(),
            "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            f"-Dkafka.logs.dir={self.workdir}",
            *self.jvm_opts,
            "-cp", self._classpath,
            main, *args,
        ]

    def _start_once(self) -> None:
        if self._fixed_workdir is not None:
            self.workdir = self._fixed_workdir
            self.workdir.mkdir(parents=True, exist_ok=True)
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix="serde-kafka-"))
        port, controller_port = self._fixed_ports
        if port is None or controller_port is None:
            free = iter(free_ports(2, self.host))
            port = port or next(free)
            controller_port = controller_port or next(p for p in free if p != port)
        for what, number in (("Kafka", port), ("the Kafka controller", controller_port)):
            if self._fixed_ports != (None, None) and port_open(self.host, number, 0.5):
                raise KafkaBrokerError(f"cannot start {what} on {self.host}:{number}: the port is in use")
        self.port, self.controller_port = port, controller_port
        if self._fixed_workdir is not None:  # the previous run's logs become *.1
            for name in ("broker.log", "broker.out"):
                if (self.workdir / name).exists():
                    os.replace(self.workdir / name, self.workdir / f"{name}.1")
        # a kept data dir keeps its cluster id (storage is formatted once)
        id_file = self.workdir / "cluster.id"
        if self._fixed_workdir is not None and id_file.is_file():
            self.cluster_id = id_file.read_text().strip()
        else:
            self.cluster_id = _random_cluster_id()
            id_file.write_text(self.cluster_id + "\n")
        self.properties = broker_properties(
            broker_port=self.port,
            controller_port=self.controller_port,
            log_dir=self.workdir / "data",
            host=self.host,
            extra_properties={k: (v(self) if callable(v) else v) for k, v in self.extra_properties.items()},
        )
        props_path = self.workdir / "server.properties"
        props_path.write_text(_render_properties(self.properties))
        (self.workdir / "log4j2.properties").write_text(
            _LOG4J2.format(log=self.workdir / "broker.log")
        )

        fmt = subprocess.run(
            self._java_cmd("kafka.tools.StorageTool", "format",
                           "--cluster-id", self.cluster_id,
                           "--config", str(props_path),
                           "--ignore-formatted",
                           *self.format_args,
                           heap="-Xmx256m"),
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )
        if fmt.returncode != 0:
            raise KafkaBrokerError(
                f"formatting Kafka storage failed (exit {fmt.returncode}):\n"
                f"command: {' '.join(fmt.args)}\n{_head_tail(fmt.stdout)}\n{_head_tail(fmt.stderr)}"
            )

        if self.detached:
            self.proc = _Spawned(self._java_cmd("kafka.Kafka", str(props_path)), cwd=self.workdir,
                                 log=self.workdir / "broker.out")
            self._wait_ready()
            return
        out = open(self.workdir / "broker.out", "wb")
        try:
            self.proc = subprocess.Popen(
                self._java_cmd("kafka.Kafka", str(props_path)),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,  # Ctrl-C goes to pytest; we stop the broker
                preexec_fn=_pdeathsig_preexec if sys.platform.startswith("linux") else None,
            )
        finally:
            out.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        # Phase 1: cheap TCP probe (avoids librdkafka connection-refused noise).
        while True:
            self._check_alive()
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self._fail_start(f"port {self.port} did not open within {self.startup_timeout:.0f}s")
            time.sleep(0.1)
        # Phase 2: the broker serves metadata with itself registered.
        last = None
        while True:
            self._check_alive()
            try:
                md = self.admin().list_topics(timeout=min(2.0, max(0.5, deadline - time.monotonic())))
                if md.brokers:
                    return
                last = "no brokers in metadata yet"
            except Exception as exc:  # KafkaException, timeouts
                last = repr(exc)
            if time.monotonic() > deadline:
                self._fail_start(f"broker did not answer metadata within {self.startup_timeout:.0f}s ({last})")
            time.sleep(0.2)

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # A bind failure can take seconds to turn into a process exit.
            if "BindException" in _read_tail(self.workdir / "broker.log", 200):
                raise _PortClash(f"port clash on {self.port}/{self.controller_port}")
        if self.proc is not None and self.proc.poll() is not None:
            tail = self.log_tail()
            if "Address already in use" in tail or "BindException" in tail:
                raise _PortClash(f"port clash on {self.port}/{self.controller_port}")
            self._fail_start(f"broker process exited early with code {self.proc.returncode}")

    def _fail_start(self, why: str) -> None:
        msg = f"Kafka {self.version} broker failed to start: {why}\nworkdir: {self.workdir}\n{self.log_tail()}"
        raise KafkaBrokerError(msg)

    def _cleanup(self, force_remove: bool = False) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
        self._admin = None
        if self._fixed_workdir is not None:
            return  # the caller's directory: data and logs stay
        if self.workdir is not None and (force_remove or not self.keep_logs):
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


class _PortClash(KafkaBrokerError):
    pass


# --------------------------------------------------------------------------
# helpers usable against any bootstrap (also an external SERDE_TEST_BOOTSTRAP)
# --------------------------------------------------------------------------


def create_topic(
    bootstrap: str,
    name: str,
    partitions: int = 1,
    *,
    replication_factor: int = 1,
    config: Optional[Mapping[str, str]] = None,
    timeout: float = 30.0,
    exist_ok: bool = False,
    admin=None,
) -> str:
    """Create ``name`` and wait until every partition has a leader."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = admin or AdminClient({"bootstrap.servers": bootstrap, "logger": _log})
    fut = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=replication_factor,
                  config=dict(config or {}))],
        operation_timeout=timeout, request_timeout=timeout,
    )[name]
    try:
        fut.result(timeout=timeout)
    except KafkaException as exc:
        err = exc.args[0] if exc.args else None
        if not (exist_ok and getattr(err, "code", lambda: None)() == KafkaError.TOPIC_ALREADY_EXISTS):
            raise
    deadline = time.monotonic() + timeout
    while True:
        md = admin.list_topics(topic=name, timeout=max(0.5, deadline - time.monotonic()))
        t = md.topics.get(name)
        if t is not None and t.error is None and len(t.partitions) >= partitions and all(
            p.leader >= 0 for p in t.partitions.values()
        ):
            return name
        if time.monotonic() > deadline:
            raise KafkaBrokerError(f"topic {name!r} not ready after {timeout}s: {t and t.error}")
        time.sleep(0.1)


if __name__ == "__main__":  # manual use: python -m serde.local._kafka
    logging.basicConfig(level=logging.INFO)
    with KafkaBroker() as b:
        print(f"bootstrap={b.bootstrap} started in {b.startup_seconds:.1f}s; workdir={b.workdir}; Ctrl-C to stop",
              flush=True)
        try:
            while b.running:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
