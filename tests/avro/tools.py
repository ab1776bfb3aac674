"""Apache Avro's Java command-line tools (avro-tools), the reference peer for container files.

The shaded ``avro-tools`` jar is resolved once with Maven from ``tests/avro/pom.xml``
(``mvn dependency:copy-dependencies``) into ``~/.cache/serde-kafka/avro-tools/<version>/``
and reused while the pom is unchanged, as ``tests/kafka/broker.py`` does for Kafka's jars.

Environment knobs: ``SERDE_AVRO_TOOLS_VERSION`` (default :data:`DEFAULT_VERSION`),
``SERDE_KAFKA_CACHE`` (default ``~/.cache/serde-kafka``).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

DEFAULT_VERSION = "1.12.2"
POM_PATH = Path(__file__).resolve().with_name("pom.xml")
# the codecs `avro-tools fromjson --codec` writes: all six the specification names
CODECS = ("null", "deflate", "snappy", "zstandard", "bzip2", "xz")


class AvroToolsError(RuntimeError):
    """avro-tools could not be resolved or failed."""


def missing_tools() -> str | None:
    """Why the Java interop tests cannot run here, or None when they can."""
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not on PATH: the Avro interop tests run Apache Avro's Java avro-tools"
    return None


def _cache_root() -> Path:
    env = os.environ.get("SERDE_KAFKA_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "serde-kafka"


def resolve_jar(version: str | None = None, *, timeout: float = 600.0) -> Path:
    """The avro-tools jar, fetched by Maven the first time (per version and pom content)."""
    version = version or os.environ.get("SERDE_AVRO_TOOLS_VERSION") or DEFAULT_VERSION
    root = _cache_root() / "avro-tools" / version
    jar = root / f"avro-tools-{version}.jar"
    marker = root / "complete"
    digest = hashlib.sha256(POM_PATH.read_bytes()).hexdigest()
    if jar.is_file() and marker.is_file() and marker.read_text().strip() == digest:
        return jar
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="jar-", dir=root))
    cmd = ["mvn", "-q", "-B", "-Dstyle.color=never", "-f", str(POM_PATH), "dependency:copy-dependencies",
           "-DexcludeTransitive=true", f"-DoutputDirectory={staging}", f"-Davro.version={version}"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise AvroToolsError(f"avro-tools resolution timed out after {timeout:.0f}s: {' '.join(cmd)}") from exc
    fetched = staging / jar.name
    if proc.returncode != 0 or not fetched.is_file():
        shutil.rmtree(staging, ignore_errors=True)
        raise AvroToolsError(f"could not resolve avro-tools {version} with Maven (exit {proc.returncode})\n"
                             f"command: {' '.join(cmd)}\nstdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}")
    os.replace(fetched, jar)  # atomic: a concurrent resolver gets one whole jar or the other
    shutil.rmtree(staging, ignore_errors=True)
    marker.write_text(digest + "\n")
    return jar


def run(jar: Path, *args: str, timeout: float = 120.0) -> bytes:
    """``java -jar avro-tools.jar ARGS``: its stdout; AvroToolsError with its stderr on failure."""
    cmd = ["java", "-Xmx256m", "-jar", str(jar), *args]
    proc = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise AvroToolsError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr.decode(errors='replace')[-4000:]}")
    return proc.stdout
