"""The development stack: a single-node KRaft Kafka from Maven Central jars and serde's
schema registry, as ``serde local up | down | status`` runs them, and the same broker
for test suites (:class:`KafkaBroker`).

Needs Java 17+ and Maven (``mvn`` fetches the broker's jars once, into
``~/.cache/serde-kafka``).
"""
from ._kafka import DEFAULT_KAFKA_VERSION, KafkaBroker, broker_properties, create_topic, free_ports, resolve_classpath
from ._stack import LocalStack, Service

__all__ = [
    "DEFAULT_KAFKA_VERSION",
    "KafkaBroker",
    "LocalStack",
    "Service",
    "broker_properties",
    "create_topic",
    "free_ports",
    "resolve_classpath",
]
