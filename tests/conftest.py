"""Root conftest of the serde test-suite."""

from tests.kafka.fixtures import kafka_bootstrap, kafka_topic, make_topic  # noqa: F401
