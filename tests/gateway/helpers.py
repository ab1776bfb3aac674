"""Shared helpers of the gateway tests: configs, a gateway in a thread or a process, and
bounded reads of a topic."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[2]
SERDE = str(Path(sys.executable).with_name("serde"))

ORDER_AVSC = """{"type": "record", "name": "Order", "namespace": "shop", "fields": [
  {"name": "id", "type": "string"},
  {"name": "qty", "type": "int"},
  {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
  {"name": "placed", "type": {"type": "long", "logicalType": "timestamp-millis"}}
]}"""


def kafka_toml(bootstrap: str, registry: str, *, group: str | None = None, extra: str = "") -> str:
    return f"""
[kafka]
"bootstrap.servers" = "{bootstrap}"
"session.timeout.ms" = 6000
"heartbeat.interval.ms" = 500
"topic.metadata.refresh.interval.ms" = 2000

[registry]
path = "{registry}"

[gateway]
group = "{group or 'gw-' + uuid.uuid4().hex[:10]}"
commit_interval = 0.3
poll_timeout = 0.1
shutdown_timeout = 10
startup_timeout = 10
{extra}
"""


def numbers_route(src: str, dst: str, dlq: str, *, name: str = "numbers", keys: bool = True) -> str:
    """The tests' usual route: numbers as text in, as 8-byte longs (binary) out, bad text
    to the dead-letter topic; keys, with ``keys``, read and written as strings."""
    key = '\nkey = { format = "binary", type = "string" }' if keys else ""
    return f"""
[[routes]]
name = "{name}"
dead_letter_topic = "{dlq}"
[routes.source]
topic = "{src}"{key}
value = {{ format = "binary", type = "string" }}
[routes.target]
topic = "{dst}"{key}
value = {{ format = "binary", type = "long" }}
"""


def write_config(tmp_path: Path, text: str, name: str = "gateway.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@contextlib.contextmanager
def gateway_thread(config_path: Path) -> Iterator[Any]:
    """A gateway running in a thread of this process until the block ends."""
    from serde.gateway import Gateway, load_config

    gateway = Gateway(load_config(config_path))
    errors: list[BaseException] = []

    def target() -> None:
        try:
            gateway.run()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not gateway.ready.is_set() and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        if errors:
            raise errors[0]
        assert gateway.ready.is_set(), "gateway did not start"
        yield gateway
    finally:
        gateway.stop()
        thread.join(30)
    assert not thread.is_alive(), "gateway did not stop"
    if errors:
        raise errors[0]


def start_process(config_path: Path, log: Path, *args: str, log_level: str = "debug") -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log, "wb") as stderr:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([SERDE, "gateway", "run", str(config_path), "--log-level", log_level, *args],
                                cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=stderr, env=env)


def wait_for_log(log: Path, text: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"gateway exited {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not logged within {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


def produce(bootstrap: str, topic: str, records: list[tuple[Any, Any]] | list[tuple[Any, Any, Any]],
            timestamp: int | None = None) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2})
    for record in records:
        key, value, headers = (list(record) + [None])[:3]
        kwargs: dict[str, Any] = {"key": key, "value": value}
        if headers:
            kwargs["headers"] = headers
        if timestamp is not None:
            kwargs["timestamp"] = timestamp
        producer.produce(topic, **kwargs)
    assert producer.flush(20) == 0


def read_topic(bootstrap: str, topic: str, n: int, timeout: float = 20.0, *, exact: bool = True) -> list[Any]:
    """Every record of ``topic`` from the start: waits until ``n`` arrived (then, with
    ``exact``, a moment longer to catch extras) or ``timeout``."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"r-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "enable.partition.eof": False})
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        parts = metadata.topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        got: list[Any] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(got) >= n:
                if not exact:
                    break
                deadline = min(deadline, time.monotonic() + 0.3)
            for msg in consumer.consume(100, 0.1):
                assert msg.error() is None, msg.error()
                got.append(msg)
        return got
    finally:
        consumer.close()


def committed(bootstrap: str, group: str, topic: str, partitions: int = 1) -> list[int]:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        found = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return [tp.offset for tp in found]
    finally:
        consumer.close()


def headers_of(msg: Any) -> dict[str, bytes]:
    return {k: v for k, v in (msg.headers() or [])}


def kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)


def read_all(bootstrap: str, topic: str, timeout: float = 20.0) -> list[Any]:
    """Every record of ``topic`` up to its current high watermarks."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"r-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
        todo = {p for p, end in ends.items() if end > 0}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in todo])
        got: list[Any] = []
        deadline = time.monotonic() + timeout
        while todo and time.monotonic() < deadline:
            for msg in consumer.consume(500, 0.1):
                assert msg.error() is None, msg.error()
                got.append(msg)
                if msg.offset() >= ends[msg.partition()] - 1:
                    todo.discard(msg.partition())
        assert not todo, f"{topic}: partitions {sorted(todo)} not read to their end within {timeout}s"
        return got
    finally:
        consumer.close()


def read_committed(bootstrap: str, topic: str, timeout: float = 20.0, **conf: Any) -> list[Any]:
    """Every committed record of ``topic`` (``isolation.level=read_committed``), read until
    each partition's position reaches its end (transaction markers included)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"r-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "isolation.level": "read_committed", **conf})
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        tps = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts]
        consumer.assign(tps)
        got: list[Any] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for msg in consumer.consume(500, 0.2):
                assert msg.error() is None, msg.error()
                got.append(msg)
            ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1] for p in parts}
            positions = {tp.partition: tp.offset for tp in consumer.position([TopicPartition(topic, p) for p in parts])}
            if all(ends[p] <= 0 or positions[p] >= ends[p] for p in parts):
                return got
        raise AssertionError(f"{topic}: not read to its end within {timeout}s (positions {positions}, ends {ends})")
    finally:
        consumer.close()


def http_get(port: int, path: str) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def feeder(bootstrap: str, topic: str, records: list[Any], chunk: int = 30, pause: float = 0.05) -> tuple[threading.Thread, threading.Event]:
    """A thread producing ``records`` in chunks (records keep arriving while a test acts);
    set the event to stop it early."""
    stop = threading.Event()

    def feed() -> None:
        for start in range(0, len(records), chunk):
            produce(bootstrap, topic, records[start:start + chunk])
            if stop.wait(pause):
                return

    return threading.Thread(target=feed, daemon=True), stop
