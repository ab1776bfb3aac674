"""The test suite's Kafka broker: serde's own local broker (:mod:`serde.local`), the one
``serde local up`` runs, used throw-away (free ports, a temp dir, tied to the test process).

Usage::

    from tests.kafka.broker import KafkaBroker

    with KafkaBroker() as broker:
        broker.create_topic("t", partitions=3)
        Producer({"bootstrap.servers": broker.bootstrap}) ...

Environment knobs (all optional): ``SERDE_KAFKA_VERSION``, ``SERDE_KAFKA_CACHE`` (default
``~/.cache/serde-kafka``), ``SERDE_KAFKA_HEAP_OPTS`` or ``KAFKA_HEAP_OPTS``,
``SERDE_KAFKA_KEEP_LOGS=1`` (keep the temp dir after ``stop()``).
"""
from __future__ import annotations

import logging
import time

from serde import KafkaError as KafkaBrokerError
from serde.local import DEFAULT_KAFKA_VERSION, KafkaBroker, broker_properties, create_topic, resolve_classpath
from serde.local._kafka import POM_PATH, free_ports as _free_ports

__all__ = [
    "DEFAULT_KAFKA_VERSION",
    "POM_PATH",
    "KafkaBroker",
    "KafkaBrokerError",
    "_free_ports",
    "broker_properties",
    "create_topic",
    "resolve_classpath",
]


if __name__ == "__main__":  # manual use: python -m tests.kafka.broker
    logging.basicConfig(level=logging.INFO)
    with KafkaBroker() as b:
        print(f"bootstrap={b.bootstrap} started in {b.startup_seconds:.1f}s; workdir={b.workdir}; Ctrl-C to stop",
              flush=True)
        try:
            while b.running:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
