"""Tests of the test-broker harness itself (tests/kafka)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from tests.kafka import fixtures
from tests.kafka.broker import broker_properties


def _consume(bootstrap: str, topic: str, n: int, timeout: float = 60.0):
    from confluent_kafka import Consumer

    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"g-{uuid.uuid4().hex}",
        "session.timeout.ms": 6000,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    got = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            got.append(msg)
    finally:
        consumer.close()
    return got


@pytest.mark.kafka
def test_produce_consume_roundtrip(kafka_bootstrap, kafka_topic):
    from confluent_kafka import Producer

    delivered = []
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 5})
    for i in range(100):
        producer.produce(
            kafka_topic, key=f"k{i}".encode(), value=f"v{i}".encode(),
            on_delivery=lambda err, msg: delivered.append(err),
        )
    assert producer.flush(30) == 0
    assert len(delivered) == 100 and all(e is None for e in delivered)

    msgs = _consume(kafka_bootstrap, kafka_topic, 100)
    assert [m.key() for m in msgs] == [f"k{i}".encode() for i in range(100)]
    assert [m.value() for m in msgs] == [f"v{i}".encode() for i in range(100)]
    assert [m.offset() for m in msgs] == list(range(100))
    assert {m.partition() for m in msgs} == {0}


@pytest.mark.kafka
def test_make_topic_partitions(kafka_bootstrap, make_topic):
    from confluent_kafka.admin import AdminClient

    name = make_topic(3)
    other = make_topic()
    assert name != other
    md = AdminClient({"bootstrap.servers": kafka_bootstrap}).list_topics(timeout=10)
    assert len(md.topics[name].partitions) == 3
    assert len(md.topics[other].partitions) == 1


@pytest.mark.kafka
def test_env_override_returns_given_bootstrap(kafka_bootstrap, monkeypatch):
    from confluent_kafka.admin import AdminClient

    def no_broker():
        raise AssertionError("no broker may be started when SERDE_TEST_BOOTSTRAP is set")

    monkeypatch.setattr(fixtures, "_broker_factory", no_broker)
    monkeypatch.setattr(fixtures, "_broker", None)
    monkeypatch.setenv(fixtures.ENV_BOOTSTRAP, kafka_bootstrap)

    assert fixtures.resolve_bootstrap() == kafka_bootstrap
    assert fixtures._broker is None
    md = AdminClient({"bootstrap.servers": fixtures.resolve_bootstrap()}).list_topics(timeout=10)
    assert md.brokers

    monkeypatch.setenv(fixtures.ENV_BOOTSTRAP, " 127.0.0.1:1 ")  # never contacted
    assert fixtures.resolve_bootstrap() == "127.0.0.1:1"


def test_broker_properties_extra_override(tmp_path: Path):
    props = broker_properties(
        broker_port=1111, controller_port=2222, log_dir=tmp_path,
        extra_properties={"num.partitions": 4, "sasl.enabled.mechanisms": "PLAIN"},
    )
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:2222"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:1111,CONTROLLER://127.0.0.1:2222"
    assert props["num.partitions"] == 4
    assert props["sasl.enabled.mechanisms"] == "PLAIN"
    assert props["offsets.topic.replication.factor"] == 1
