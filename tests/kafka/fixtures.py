"""pytest fixtures giving tests a real Kafka broker.

Wiring (do it in exactly ONE conftest, the root ``tests/conftest.py``)::

    from tests.kafka.fixtures import kafka_bootstrap, kafka_topic, make_topic  # noqa: F401

and register the marker (``--strict-markers`` safe), e.g. in that conftest::

    def pytest_configure(config):
        config.addinivalue_line("markers", KAFKA_MARKER)   # imported from here

Do not import the fixtures in a second conftest as well: each importing
conftest would get its own copy of the session fixture.

Fixtures
--------
``kafka_bootstrap`` (session)
    ``"host:port"`` of a broker. If ``SERDE_TEST_BOOTSTRAP`` is set it is
    returned as-is and no broker is started; otherwise a
    :class:`tests.kafka.broker.KafkaBroker` is started lazily on first use
    (one per test session / xdist worker) and stopped at session end.
``make_topic`` (function)
    Factory ``make_topic(partitions=1, *, prefix="t", config=None) -> name``
    creating a fresh uniquely named topic and waiting for its leaders.
``kafka_topic`` (function)
    A fresh single-partition topic name (``make_topic()``).

Tests using them should be marked ``@pytest.mark.kafka``.
"""

from __future__ import annotations

import atexit
import os
import re
import threading
import uuid
from typing import Callable, Mapping, Optional

import pytest

from tests.kafka.broker import KafkaBroker, create_topic

__all__ = [
    "ENV_BOOTSTRAP",
    "KAFKA_MARKER",
    "kafka_bootstrap",
    "kafka_topic",
    "make_topic",
    "resolve_bootstrap",
    "shared_broker",
    "stop_shared_broker",
]

ENV_BOOTSTRAP = "SERDE_TEST_BOOTSTRAP"
KAFKA_MARKER = "kafka: needs a Kafka broker (started on demand via tests/kafka, or SERDE_TEST_BOOTSTRAP)"

_lock = threading.Lock()
_broker: Optional[KafkaBroker] = None
_broker_factory: Callable[[], KafkaBroker] = KafkaBroker


def shared_broker() -> KafkaBroker:
    """The process-wide broker, started on first call."""
    global _broker
    with _lock:
        if _broker is None or not _broker.running:
            broker = _broker_factory()
            broker.start()
            _broker = broker
            atexit.register(broker.stop)
        return _broker


def stop_shared_broker() -> None:
    global _broker
    with _lock:
        broker, _broker = _broker, None
    if broker is not None:
        broker.stop()


def resolve_bootstrap() -> str:
    """``$SERDE_TEST_BOOTSTRAP`` if set (no broker started), else the shared broker's."""
    env = os.environ.get(ENV_BOOTSTRAP, "").strip()
    if env:
        return env
    return shared_broker().bootstrap


@pytest.fixture(scope="session")
def kafka_bootstrap():
    try:
        yield resolve_bootstrap()
    finally:
        stop_shared_broker()


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@pytest.fixture
def make_topic(kafka_bootstrap, request):
    """Factory: ``make_topic(partitions=1, *, prefix=None, config=None) -> topic name``."""
    base = _SAFE.sub("-", request.node.name)[:80]

    def _make(partitions: int = 1, *, prefix: Optional[str] = None,
              config: Optional[Mapping[str, str]] = None) -> str:
        name = f"{prefix or base}-{uuid.uuid4().hex[:10]}"
        return create_topic(kafka_bootstrap, name, partitions, config=config)

    return _make


@pytest.fixture
def kafka_topic(make_topic) -> str:
    return make_topic(1)
