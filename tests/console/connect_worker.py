"""A real Kafka Connect worker (standalone mode) for the console's tests: connect-runtime
and its dependencies resolved from Maven Central with mvn (``connect-pom.xml``, cached in
``~/.cache/serde-kafka/<version>/connect-jars``), the test connector
``connect/CountingSource.java`` compiled with javac, and
``org.apache.kafka.connect.cli.ConnectStandalone`` run against the test broker."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx

from serde.local import DEFAULT_KAFKA_VERSION
from serde.local._kafka import free_ports

HERE = Path(__file__).resolve().parent
CONNECTOR = "serde.test.CountingSource"


def connect_jars(version: str = DEFAULT_KAFKA_VERSION) -> Path:
    root = Path.home() / ".cache" / "serde-kafka" / version
    jars = root / "connect-jars"
    if any(jars.glob("connect-runtime-*.jar")):
        return jars
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("the Connect tests need mvn (to fetch connect-runtime from Maven Central)")
    staging = root / f"connect-jars-{time.time_ns()}"
    result = subprocess.run([mvn, "-q", "-B", "-f", str(HERE / "connect-pom.xml"), "dependency:copy-dependencies",
                             "-DincludeScope=runtime", f"-DoutputDirectory={staging}", f"-Dkafka.version={version}"],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0 or not any(staging.glob("connect-runtime-*.jar")):
        raise RuntimeError(f"cannot resolve connect-runtime {version} with Maven:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    staging.rename(jars)
    return jars


class ConnectWorker:
    def __init__(self, bootstrap: str, workdir: Path) -> None:
        self.bootstrap = bootstrap
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 120) -> "ConnectWorker":
        jars = connect_jars()
        classes = self.workdir / "classes"
        classes.mkdir(parents=True, exist_ok=True)
        javac = shutil.which("javac")
        if javac is None:
            raise RuntimeError("the Connect tests need javac (a JDK) to build their test connector")
        subprocess.run([javac, "-cp", f"{jars}/*", "-d", str(classes), str(HERE / "connect" / "CountingSource.java")],
                       check=True, capture_output=True, timeout=120)
        (port,) = free_ports(1)
        self.url = f"http://127.0.0.1:{port}"
        properties = self.workdir / "worker.properties"
        properties.write_text("\n".join([
            f"bootstrap.servers={self.bootstrap}",
            f"listeners={self.url}",
            "key.converter=org.apache.kafka.connect.storage.StringConverter",
            "value.converter=org.apache.kafka.connect.storage.StringConverter",
            f"offset.storage.file.filename={self.workdir / 'offsets'}",
            "offset.flush.interval.ms=1000",
            "plugin.discovery=only_scan",
            "",
        ]))
        with open(self.workdir / "connect.log", "wb") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(["java", "-Xmx256m", "-cp", f"{jars}/*:{classes}",
                                          "org.apache.kafka.connect.cli.ConnectStandalone", str(properties)],
                                         cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the Connect worker exited {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                if httpx.get(self.url + "/connectors", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the Connect worker did not answer within {timeout:.0f} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        path = self.workdir / "connect.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
