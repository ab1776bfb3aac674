"""The README's "Quickstart: serializers" runs as written: its shell block starts the
registry, its Python block (executed verbatim) round-trips an order through it."""
import datetime as dt
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Quickstart: serializers\n")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", _section(), re.S)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is no obstacle
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def readme_registry(tmp_path):
    """The README's `serde registry serve` command, run as written (from the venv) in a
    scratch copy of the repository's schemas."""
    (command,) = _blocks("sh")
    argv = shlex.split(command.strip())
    assert argv[0] == ".venv/bin/serde"
    if not _port_free(8081):
        pytest.skip("port 8081 (the README's registry port) is taken")
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERDE_")}
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert "serving" in line and "http://127.0.0.1:8081" in line, line
        yield tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# the block reads the schema with open().read() and leaves its registry clients to the
# garbage collector, as a snippet does: what that leaves unclosed is not the point here
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_quickstart_python_block_runs_verbatim(readme_registry, monkeypatch):
    (code,) = _blocks("python")
    monkeypatch.chdir(readme_registry)
    namespace: dict = {}
    exec(compile(code, "README.md (Quickstart: serializers)", "exec"), namespace)  # noqa: S102
    order, data = namespace["order"], namespace["data"]
    assert data[0] == 0 and int.from_bytes(data[1:5], "big") >= 1
    assert order["created_at"] == dt.datetime(2024, 5, 1, 8, 0, 11, 332000, tzinfo=dt.timezone.utc)
    assert order["shipping_address"]["city"] == "Berlin"
    namespace["producer"].flush(0)
    namespace.clear()
    import gc

    gc.collect()


def test_text_where_a_timestamp_belongs_is_one_record_invalid(tmp_path):
    import serde
    from confluent_kafka.serialization import MessageField, SerializationContext

    schema = (ROOT / "schemas" / "avro" / "order.avsc").read_text()
    order = {"order_id": 1, "order_uuid": "ffa9b9f1-5c14-4c4a-829e-07b0829a48d4",
             "created_at": "2024-05-01T08:00:11.332Z", "delivery_date": dt.date(2024, 5, 6), "status": "PAID",
             "customer": "x", "total": "1.00", "items": [],
             "shipping_address": {"street": "s", "city": "c", "postal_code": "p", "country": "DE"}}
    ser = serde.serializer("avro", schema, registry=str(tmp_path / "r.db"))
    with pytest.raises(serde.RecordInvalid) as caught:
        ser(order, SerializationContext("orders", MessageField.VALUE))
    assert caught.value.path == "$.created_at"
    assert "timestamp" in str(caught.value)
