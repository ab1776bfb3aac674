"""``serde topics`` and the gateway's topics: created on request (create_topics), and a
source topic created after the gateway started is read within seconds."""
from __future__ import annotations

import time
import uuid

import pytest
from click.testing import CliRunner

from cli.main import cli
from serde.gateway.topics import Admin

from .helpers import gateway_thread, kafka_toml, numbers_route, produce, read_topic, write_config

pytestmark = pytest.mark.kafka


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _serde(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_topics_create_list_describe_delete(kafka_bootstrap):
    a, b = _name("topics-a"), _name("topics-b")
    code, _, err = _serde("topics", "create", a, b, "--partitions", "3", "--config", "retention.ms=3600000",
                          "--bootstrap", kafka_bootstrap)
    assert code == 0, err
    assert f"created topic {a}" in err and f"created topic {b}" in err

    code, _, err = _serde("topics", "create", a, "--bootstrap", kafka_bootstrap)
    assert code == 1 and f"error: topic {a!r} already exists" in err
    assert _serde("topics", "create", a, "--if-not-exists", "--bootstrap", kafka_bootstrap)[0] == 0

    code, out, _ = _serde("topics", "list", "--bootstrap", kafka_bootstrap)
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "partitions 3  replication 1" in lines[a] and b in lines
    assert "__consumer_offsets" not in lines

    code, out, _ = _serde("topics", "describe", a, "--bootstrap", kafka_bootstrap)
    assert code == 0
    assert out.startswith(f"topic {a}: 3 partitions, replication factor 1\n")
    assert "  partition 2  leader 1  replicas 1  in-sync 1" in out
    assert "  retention.ms=3600000" in out

    # delete asks first: "no" (or no answer) keeps the topic
    code, _, err = _serde("topics", "delete", a, "--bootstrap", kafka_bootstrap, input="n\n")
    assert code == 1 and "not deleted" in err
    assert Admin(kafka_bootstrap).exists([a]) == {a}
    code, _, err = _serde("topics", "delete", a, "--bootstrap", kafka_bootstrap, input="y\n")
    assert code == 0 and f"deleted {a}" in err
    code, _, err = _serde("topics", "delete", a, b, "--yes", "--bootstrap", kafka_bootstrap)
    assert code == 1 and f"no topic {a!r}" in err and "nothing was deleted" in err
    assert _serde("topics", "delete", b, "--yes", "--bootstrap", kafka_bootstrap)[0] == 0
    assert Admin(kafka_bootstrap).exists([a, b]) == set()


def test_gateway_creates_its_target_and_dead_letter_topics(tmp_path, kafka_bootstrap, make_topic):
    src = make_topic(2)
    dst, dlq = _name("created-dst"), _name("created-dlq")
    config = write_config(tmp_path, kafka_toml(kafka_bootstrap, str(tmp_path / "r.db"), extra="create_topics = true")
                          + numbers_route(src, dst, dlq))
    produce(kafka_bootstrap, src, [(b"k", b"7"), (b"k", b"x")])
    with gateway_thread(config):
        assert Admin(kafka_bootstrap).exists([dst, dlq]) == {dst, dlq}
        assert int.from_bytes(read_topic(kafka_bootstrap, dst, 1)[0].value(), "big") == 7
        assert read_topic(kafka_bootstrap, dlq, 1)[0].value() == b"x"
    topics = {t.name: t for t in Admin(kafka_bootstrap).list()}
    assert len(topics[dst].partitions) == 2  # as many as its source
    assert len(topics[dlq].partitions) == 1  # the broker's default


def test_a_source_topic_created_after_the_start_is_read_within_seconds(tmp_path, kafka_bootstrap, make_topic):
    src, dst, dlq = _name("later-src"), make_topic(), make_topic()
    # the gateway's own default metadata refresh, not the tests' short one
    text = kafka_toml(kafka_bootstrap, str(tmp_path / "r.db")).replace('"topic.metadata.refresh.interval.ms" = 2000\n', "")
    assert "topic.metadata.refresh" not in text
    config = write_config(tmp_path, text + numbers_route(src, dst, dlq))
    with gateway_thread(config) as gateway:
        assert gateway.consumer_conf["topic.metadata.refresh.interval.ms"] == 2000
        time.sleep(1)  # subscribed to a topic that does not exist
        Admin(kafka_bootstrap).create(src, partitions=1)
        started = time.monotonic()
        produce(kafka_bootstrap, src, [(b"k", b"42")])
        out = read_topic(kafka_bootstrap, dst, 1, timeout=15)
        assert int.from_bytes(out[0].value(), "big") == 42
        assert time.monotonic() - started < 10
