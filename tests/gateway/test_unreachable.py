"""A broker that is down: one clear line naming the address and the reason, for
``gateway run``, ``produce`` and ``consume`` alike (not hundreds of librdkafka retries)."""
from __future__ import annotations

import logging
import subprocess

from serde.gateway.kafka import ClientLog
from serde.local import free_ports

from .helpers import ROOT, SERDE, kafka_toml, numbers_route, write_config


def test_a_broker_that_is_down_is_one_line_for_each_command(tmp_path):
    address = f"127.0.0.1:{free_ports(1)[0]}"  # nothing listens there
    config = write_config(tmp_path, kafka_toml(address, str(tmp_path / "r.db")) + numbers_route("a", "b", "c"))
    commands = {
        "gateway run": ([SERDE, "gateway", "run", str(config)], b""),
        "produce": ([SERDE, "produce", "t", "--format", "binary", "--type", "string", "--bootstrap", address], b'"x"\n'),
        "consume": ([SERDE, "consume", "t", "--bootstrap", address], b""),
    }
    # all three at once: each tries for 10 s
    procs = {name: subprocess.Popen(args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE) for name, (args, _) in commands.items()}
    try:
        for name, proc in procs.items():
            out, err = proc.communicate(commands[name][1], timeout=60)
            lines = err.decode().splitlines()
            assert proc.returncode == 1, (name, lines)
            assert len(lines) <= 3, (name, lines)
            assert lines[-1] == f"error: cannot reach Kafka at {address} (tried for 10 s): Connection refused", (name, lines)
            assert "Traceback" not in err.decode()
            assert out == b""
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def test_client_log_collapses_repeats_and_keeps_the_reason(caplog):
    logger = logging.getLogger("test.client-log")
    client_log = ClientLog(logger)
    fail = "[thrd:localhost:1/bootstrap]: localhost:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after {}ms in state CONNECT)"
    with caplog.at_level(logging.INFO, logger="test.client-log"):
        for ms in range(50):  # what librdkafka says while it retries
            client_log.log(40, "%s [%s] %s", "FAIL", "rdkafka#producer-1", fail.format(ms))
        assert caplog.records == []  # not connected yet: kept for the error, not shown
        assert str(client_log.unreachable("localhost:1", 10)) == \
            "cannot reach Kafka at localhost:1 (tried for 10 s): Connection refused"
        client_log.connected()
        for ms in range(50):
            client_log.log(40, "%s [%s] %s", "FAIL", "rdkafka#producer-1", fail.format(ms))
            client_log.error(fail.split("]: ", 1)[1].format(ms))
        assert len(caplog.records) == 2  # once as a log line, once as an error
        client_log.log(30, "%s [%s] %s", "CONFWARN", "rdkafka#producer-1", "something else")
        assert len(caplog.records) == 3


def test_client_log_names_a_name_that_does_not_resolve():
    client_log = ClientLog(logging.getLogger("test.client-log"))
    client_log.error("nohost.invalid:9092/bootstrap: Failed to resolve 'nohost.invalid:9092': Name or service not "
                     "known (after 2ms in state CONNECT)")
    client_log.error("1/1 brokers are down")
    assert str(client_log.unreachable("nohost.invalid:9092", 15)) == (
        "cannot reach Kafka at nohost.invalid:9092 (tried for 15 s): "
        "Failed to resolve 'nohost.invalid:9092': Name or service not known")
