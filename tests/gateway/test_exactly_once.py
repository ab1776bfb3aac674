"""Exactly-once and scale-out against the real broker: SIGKILL mid-transaction, two
processes sharing a group with one killed, producer fencing."""
from __future__ import annotations

import collections
import re
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest

import serde

from .helpers import (
    feeder,
    kafka_toml,
    kill,
    numbers_route,
    produce,
    read_committed,
    read_topic,
    start_process,
    wait_for_log,
    write_config,
)

pytestmark = pytest.mark.kafka


def _eos_config(tmp_path: Path, bootstrap: str, registry_path: str, src: str, dst: str, dlq: str, group: str,
                instance: str, name: str = "gateway.toml", txn_timeout_ms: int = 10000) -> Path:
    extra = f"""delivery = "exactly-once"
instance_id = "{instance}"
status_interval = 1

[kafka.producer]
"transaction.timeout.ms" = {txn_timeout_ms}
"""
    return write_config(tmp_path, kafka_toml(bootstrap, registry_path, group=group, extra=extra)
                        + numbers_route(src, dst, dlq), name)


def _records(total: int) -> tuple[list[bytes], list[tuple[bytes, bytes]]]:
    keys = [f"k{i}".encode() for i in range(total)]
    # every 50th record is not a number: it goes to the dead-letter topic, inside the transaction
    return keys, [(k, (b"bad" if i % 50 == 7 else str(i).encode())) for i, k in enumerate(keys)]


def _wait_all_committed(bootstrap: str, topics: list[str], keys: list[bytes], timeout: float,
                        procs: list) -> None:
    deadline = time.monotonic() + timeout
    missing = set(keys)
    while time.monotonic() < deadline:
        seen = {m.key() for topic in topics for m in read_committed(bootstrap, topic)}
        missing = set(keys) - seen
        if not missing:
            return
        for proc in procs:
            assert proc.poll() is None, f"gateway exited {proc.returncode}"
        time.sleep(0.3)
    raise AssertionError(f"{len(missing)} records not committed within {timeout}s, e.g. {sorted(missing)[:5]}")


def _assert_exactly_once(bootstrap: str, dst: str, dlq: str, keys: list[bytes]) -> None:
    out = read_committed(bootstrap, dst)
    dead = read_committed(bootstrap, dlq)
    counts = collections.Counter(m.key() for m in out + dead)
    duplicates = {k: n for k, n in counts.items() if n > 1}
    assert not duplicates, f"{len(duplicates)} records seen more than once, e.g. {list(duplicates.items())[:5]}"
    assert set(counts) == set(keys)
    assert {m.key() for m in dead} == {k for i, k in enumerate(keys) if i % 50 == 7}
    for m in out:  # the value is the number in the key
        assert int.from_bytes(m.value(), "big", signed=True) == int(m.key()[1:])


def test_exactly_once_sigkill_mid_transaction_then_restart(tmp_path, kafka_bootstrap, make_topic):
    src, dst, dlq = make_topic(2, prefix="eos-src"), make_topic(2, prefix="eos-dst"), make_topic(prefix="eos-dlq")
    group = f"g-{uuid.uuid4().hex[:8]}"
    config = _eos_config(tmp_path, kafka_bootstrap, str(tmp_path / "r.db"), src, dst, dlq, group, "node-1")
    keys, records = _records(600)
    log = tmp_path / "gateway.log"
    proc = start_process(config, log)
    feed, stop_feeding = feeder(kafka_bootstrap, src, records)
    try:
        wait_for_log(log, f"assigned {src}[", proc)
        feed.start()
        deadline = time.monotonic() + 20
        # records are being produced in open transactions (read_uncommitted sees them)
        while len(read_topic(kafka_bootstrap, dst, 150, timeout=0.5, exact=False)) < 150 and time.monotonic() < deadline:
            pass
        kill(proc)
        assert proc.wait(10) == -signal.SIGKILL
        feed.join(30)
        # the same transactional.id: init_transactions fences the dead process's id and
        # aborts its open transaction at once
        restarted = start_process(config, tmp_path / "gateway2.log")
        try:
            _wait_all_committed(kafka_bootstrap, [dst, dlq], keys, 60, [restarted])
            restarted.send_signal(signal.SIGTERM)
            assert restarted.wait(20) == 0
        finally:
            kill(restarted)
    finally:
        stop_feeding.set()
        kill(proc)
    _assert_exactly_once(kafka_bootstrap, dst, dlq, keys)
    text = (tmp_path / "gateway2.log").read_text()
    assert "transactional.id " + f"{group}-node-1" in text
    assert re.search(r"status: in \d+, out \d+, dead-lettered \d+, errors \d+, lag \d+", text)  # every second


def test_two_processes_share_partitions_one_killed_survivor_finishes(tmp_path, kafka_bootstrap, make_topic):
    src, dst, dlq = make_topic(4, prefix="two-src"), make_topic(4, prefix="two-dst"), make_topic(prefix="two-dlq")
    group = f"g-{uuid.uuid4().hex[:8]}"
    registry = str(tmp_path / "r.db")
    # the killed process's open transaction blocks its partitions' offsets until it times out
    config_a = _eos_config(tmp_path, kafka_bootstrap, registry, src, dst, dlq, group, "a", "a.toml", 5000)
    config_b = _eos_config(tmp_path, kafka_bootstrap, registry, src, dst, dlq, group, "b", "b.toml", 5000)
    keys, records = _records(1000)
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    proc_a = start_process(config_a, log_a)
    proc_b = None
    feed, stop_feeding = feeder(kafka_bootstrap, src, records, chunk=40)
    try:
        wait_for_log(log_a, f"assigned {src}[", proc_a)
        proc_b = start_process(config_b, log_b)
        wait_for_log(log_b, f"assigned {src}[", proc_b)  # cooperative: b takes some of a's partitions
        wait_for_log(log_a, "revoked " + src, proc_a)
        feed.start()
        deadline = time.monotonic() + 20
        while len(read_topic(kafka_bootstrap, dst, 300, timeout=0.5, exact=False)) < 300 and time.monotonic() < deadline:
            pass
        kill(proc_b)
        feed.join(30)
        _wait_all_committed(kafka_bootstrap, [dst, dlq], keys, 90, [proc_a])
        text_b = log_b.read_text()
        assert "committed a transaction" in text_b  # b did share the work before it died
        proc_a.send_signal(signal.SIGTERM)
        assert proc_a.wait(20) == 0
    finally:
        stop_feeding.set()
        kill(proc_a)
        if proc_b is not None:
            kill(proc_b)
    _assert_exactly_once(kafka_bootstrap, dst, dlq, keys)
    text_a = log_a.read_text()
    assert text_a.count(f"assigned {src}[") >= 2  # took b's partitions over


def test_a_fenced_producer_stops_with_a_clear_error(tmp_path, kafka_bootstrap, make_topic):
    from serde.gateway import Gateway, load_config

    src, dst, dlq = make_topic(prefix="fence-src"), make_topic(prefix="fence-dst"), make_topic(prefix="fence-dlq")
    group = f"g-{uuid.uuid4().hex[:8]}"
    config = load_config(_eos_config(tmp_path, kafka_bootstrap, str(tmp_path / "r.db"), src, dst, dlq, group, "same"))
    first = Gateway(config)
    errors: list[BaseException] = []

    def run_first() -> None:
        try:
            first.run()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=run_first, daemon=True)
    thread.start()
    second = Gateway(config)
    second_thread = None
    try:
        assert first.ready.wait(20)
        produce(kafka_bootstrap, src, [(b"a", b"1")])
        deadline = time.monotonic() + 20
        while first.stats["produced"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        # a second process with the same group and instance id: its init_transactions fences the first
        second_thread = threading.Thread(target=second.run, daemon=True)
        second_thread.start()
        assert second.ready.wait(20)
        deadline = time.monotonic() + 30
        i = 0
        while thread.is_alive() and time.monotonic() < deadline:
            produce(kafka_bootstrap, src, [(f"b{i}".encode(), b"2")])
            i += 1
            thread.join(0.3)
        assert not thread.is_alive(), "the fenced gateway kept running"
    finally:
        first.stop()
        second.stop()
        thread.join(20)
        if second_thread is not None:
            second_thread.join(20)
    assert len(errors) == 1 and isinstance(errors[0], serde.KafkaError)
    assert "producer fenced" in str(errors[0]) and f"{group}-same" in str(errors[0])
