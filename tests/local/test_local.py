"""``serde local up | status | down`` on free ports: detached processes that outlive the
command, pid files and logs under the chosen directory, a clean stop."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from serde.local import free_ports
from serde.local._kafka import pid_alive

ROOT = Path(__file__).resolve().parents[2]
SERDE = str(Path(sys.executable).with_name("serde"))


def _serde(*args: str, cwd: Path, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([SERDE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env or dict(os.environ), stdin=subprocess.DEVNULL)


@pytest.mark.kafka
@pytest.mark.slow
def test_up_status_down(tmp_path):
    if shutil.which("java") is None or shutil.which("mvn") is None:
        pytest.skip("needs Java 17+ and Maven")
    kafka_port, registry_port = free_ports(2)
    ports = ["--kafka-port", str(kafka_port), "--registry-port", str(registry_port)]
    up = _serde("local", "up", *ports, cwd=tmp_path)
    try:
        assert up.returncode == 0, up.stderr
        assert up.stdout.splitlines() == [f"export SERDE_BOOTSTRAP=localhost:{kafka_port}",
                                          f"export SERDE_REGISTRY=http://localhost:{registry_port}"]
        local = tmp_path / ".serde" / "local"
        pids = {name: json.loads((local / f"{name}.pid").read_text())["pid"] for name in ("kafka", "registry")}
        assert all(pid_alive(pid) for pid in pids.values())  # outlived `serde local up`
        assert (local / "kafka" / "broker.log").is_file() and (local / "registry.log").is_file()
        assert (local / "registry.db").is_file()

        status = _serde("local", "status", cwd=tmp_path)
        assert status.returncode == 0
        lines = status.stdout.splitlines()
        assert lines[0].startswith(f"kafka     localhost:{kafka_port}") and f"pid {pids['kafka']}, answering" in lines[0]
        assert lines[1].startswith(f"registry  http://localhost:{registry_port}") and "answering" in lines[1]

        again = _serde("local", "up", *ports, cwd=tmp_path)  # already running: nothing new is started
        assert again.returncode == 0 and "already runs" in again.stderr
        assert json.loads((local / "kafka.pid").read_text())["pid"] == pids["kafka"]
        elsewhere = _serde("local", "up", "--kafka-port", str(kafka_port + 1), "--registry-port", str(registry_port),
                           cwd=tmp_path)  # other ports asked of a running stack: said, not ignored
        assert elsewhere.returncode == 0
        assert f"not on {kafka_port + 1} as --kafka-port asked" in elsewhere.stderr

        # a port in use is one clear line
        other = tmp_path / "other"
        other.mkdir()
        clash = _serde("local", "up", "--kafka-port", str(kafka_port), "--registry-port", str(free_ports(1)[0]),
                       cwd=other)
        assert clash.returncode == 1
        assert clash.stderr.strip().splitlines()[-1] == (
            f"error: cannot start Kafka on localhost:{kafka_port}: something already listens there "
            "(choose another port with --kafka-port)")
    finally:
        down = _serde("local", "down", cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert "stopped registry" in down.stderr and "kafka" in down.stderr
    assert not any(pid_alive(pid) for pid in pids.values())
    assert not (local / "kafka.pid").exists()
    status = _serde("local", "status", cwd=tmp_path)
    assert "not running" in status.stdout
    assert _serde("local", "down", cwd=tmp_path).stderr.strip() == "nothing was running"


def test_up_without_java_says_so_in_one_line(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(bin_dir)  # no java, no mvn
    result = _serde("local", "up", "--kafka-port", str(free_ports(1)[0]), cwd=tmp_path, env=env, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: a local Kafka needs Java 17+ and Maven: `java` is not on PATH (nor in $JAVA_HOME)"]


@pytest.mark.parametrize("cwd_is_the_stacks", [False, True])
def test_down_never_stops_a_process_that_is_not_this_stacks(tmp_path, cwd_is_the_stacks):
    """A pid file copied from another stack, or a pid reused by a program whose command
    line mentions kafka.Kafka, must not be stopped: only a process running in this
    stack's folder is ours."""
    from serde.local._stack import LocalStack

    stack_root = tmp_path / "stack"
    (stack_root / "kafka").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cwd = stack_root / "kafka" if cwd_is_the_stacks else elsewhere
    impostor = subprocess.Popen(["bash", "-c", 'exec -a "java -cp x kafka.Kafka server.properties" sleep 60'], cwd=cwd)
    try:
        (stack_root / "kafka.pid").write_text(json.dumps({"pid": impostor.pid, "port": 1, "address": "localhost:1"}))
        stopped = LocalStack(stack_root).down(timeout=5)
        impostor_alive = impostor.poll() is None
        if cwd_is_the_stacks:  # in this stack's kafka folder, with kafka.Kafka: ours
            assert stopped == [f"kafka (pid {impostor.pid})"] and not impostor_alive
        else:
            assert stopped == [] and impostor_alive
            assert not (stack_root / "kafka.pid").exists()  # a stale pid file is removed
    finally:
        impostor.kill()
        impostor.wait()
