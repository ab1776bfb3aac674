"""The README's "Local Kafka" example, verbatim: its commands are read from README.md and
run in order (in a scratch directory, against a `serde local up` on free ports), and
each step's result is checked.

Only two things are added to what the README says: `--kafka-port`/`--registry-port` on
`serde local up`, and the environment that `serde local up` prints (its exports) instead
of the README's `export` line with the default ports. `&` runs the gateway in the
background (the test waits until it runs); `kill %1` sends it SIGTERM.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from serde.local import free_ports

ROOT = Path(__file__).resolve().parent.parent
BIN = str(Path(sys.executable).parent)

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def readme_commands() -> list[str]:
    """The commands of the sh block under "### Local Kafka", comments dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Local Kafka", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "no sh block under ### Local Kafka"
    commands = []
    for line in block.group(1).splitlines():
        command = re.sub(r"\s+#.*$", "", line).strip()  # the README's comments
        if command:
            commands.append(command)
    return commands


def test_the_readme_lists_the_whole_journey():
    steps = [c.split()[:3] for c in readme_commands()]
    assert steps[0] == ["serde", "local", "up"] and steps[-1] == ["serde", "local", "down"]
    assert ["serde", "topics", "create"] in steps and ["serde", "gateway", "run"] in steps
    assert ["serde", "produce", "orders.avro"] in steps and ["serde", "consume", "orders.json"] in steps


def test_readme_kafka_example_runs_as_written(tmp_path):
    if shutil.which("java") is None or shutil.which("mvn") is None:
        pytest.skip("needs Java 17+ and Maven")
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    kafka_port, registry_port = free_ports(2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERDE_")}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    gateway: subprocess.Popen | None = None
    gateway_log = tmp_path / "gateway.log"
    records = len((ROOT / "schemas" / "examples" / "orders.ndjson").read_text().splitlines())

    def sh(command: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    try:
        for command in readme_commands():
            if command == "serde local up":
                result = sh(f"{command} --kafka-port {kafka_port} --registry-port {registry_port}", timeout=300)
                assert result.returncode == 0, result.stderr
                exports = dict(line.removeprefix("export ").split("=", 1) for line in result.stdout.splitlines())
                assert exports == {"SERDE_BOOTSTRAP": f"localhost:{kafka_port}",
                                   "SERDE_REGISTRY": f"http://localhost:{registry_port}"}
            elif command.startswith("export "):
                # the README's line names the same variables `serde local up` printed
                names = {word.split("=", 1)[0] for word in shlex.split(command)[1:]}
                assert names == set(exports)
                env.update(exports)
            elif command.endswith("&"):
                assert command.startswith("serde gateway run ")
                with open(gateway_log, "wb") as log:
                    gateway = subprocess.Popen(["bash", "-c", f"exec {command[:-1].strip()}"], cwd=tmp_path, env=env,
                                               stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
                _wait_for(gateway_log, "gateway running", gateway)
                assert "created topic 'orders.json'" in gateway_log.read_text()
            elif command == "kill %1":
                assert gateway is not None
                gateway.send_signal(signal.SIGTERM)
                assert gateway.wait(60) == 0, gateway_log.read_text()[-3000:]
                assert "gateway stopped:" in gateway_log.read_text()
                gateway = None
            else:
                result = sh(command)
                assert result.returncode == 0, (command, result.stderr)
                _check(command, result, records)
    finally:
        if gateway is not None:
            gateway.kill()
            gateway.wait(30)
        sh("serde local down", timeout=90)
    assert not (tmp_path / ".serde" / "local" / "kafka.pid").exists()


def _check(command: str, result: subprocess.CompletedProcess, records: int) -> None:
    words = command.split()
    if words[:3] == ["serde", "topics", "create"]:
        assert f"created topic {words[3]}" in result.stderr
    elif words[:3] == ["serde", "topics", "list"]:
        assert re.search(r"^orders\.avro\s+partitions 3\s+replication 1$", result.stdout, re.M), result.stdout
    elif words[:2] == ["serde", "produce"]:
        assert f"produced {records} records to orders.avro" in result.stderr
    elif words[:2] == ["serde", "consume"]:
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(lines) == 3
        for line in lines:
            assert set(line) == {"key", "partition", "offset", "value"}
            assert str(line["value"]["order_id"]) == str(line["key"])  # converted to JSON, key carried
    elif words[:3] == ["serde", "local", "down"]:
        assert "stopped registry" in result.stderr and "kafka" in result.stderr


def _wait_for(log: Path, text: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not logged (exit {proc.poll()}):\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
