"""Topics of a Kafka cluster: list, create, describe, delete (``serde topics``), and the
gateway's ``create_topics``. The one place that talks to confluent_kafka's AdminClient;
its errors become :class:`KafkaError` here.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .._errors import KafkaError
from .kafka import ClientLog, metadata

__all__ = ["Admin", "PartitionInfo", "TopicInfo"]

_log = logging.getLogger("serde.kafka.admin")
# settings only one client kind takes: an AdminClient warns about each, for nothing
_CLIENT_ONLY = ("group.", "session.timeout.ms", "heartbeat.interval.ms", "auto.offset.reset", "enable.auto",
                "isolation.level", "partition.assignment.strategy", "max.poll", "fetch.", "linger.ms", "acks",
                "enable.idempotence", "transactional.id", "batch.", "compression.", "queue.buffering",
                "delivery.timeout.ms", "message.timeout.ms", "retries", "topic.metadata.refresh")


@dataclass(frozen=True)
class PartitionInfo:
    id: int
    leader: int
    replicas: tuple[int, ...]
    isrs: tuple[int, ...]


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: tuple[PartitionInfo, ...]
    configs: Mapping[str, str] = field(default_factory=dict)  # with describe(): the non-default ones (or all)

    @property
    def replication_factor(self) -> int:
        return len(self.partitions[0].replicas) if self.partitions else 0


class Admin:
    """An AdminClient for ``bootstrap`` (plus any librdkafka ``settings``): one clear
    :class:`KafkaError` when the cluster cannot be reached within ``timeout`` seconds."""

    def __init__(self, bootstrap: str, settings: Mapping[str, Any] | None = None, *, timeout: float = 10.0,
                 logger: logging.Logger | None = None) -> None:
        from confluent_kafka.admin import AdminClient

        conf = {k: v for k, v in (settings or {}).items()
                if k not in ("logger", "error_cb") and not k.startswith(_CLIENT_ONLY)}
        conf["bootstrap.servers"] = bootstrap
        self.bootstrap = bootstrap
        self.timeout = timeout
        self.log = ClientLog(logger or _log)
        conf["logger"] = self.log
        conf["error_cb"] = self.log.error_cb
        try:
            self.client = AdminClient(conf)
        except Exception as exc:  # noqa: BLE001 - KafkaException/ValueError on bad settings
            from .._errors import ConfigError

            raise ConfigError(f"invalid Kafka settings: {_text(exc)}") from None

    def _metadata(self, topic: str | None = None) -> Any:
        return metadata(self.client, self.bootstrap, self.timeout, self.log, topic)

    # -- reading ------------------------------------------------------------------------
    def list(self, *, internal: bool = False) -> list[TopicInfo]:
        """Every topic, by name (internal ones such as ``__consumer_offsets`` only if asked)."""
        md = self._metadata()
        return sorted((_info(t) for name, t in md.topics.items() if internal or not name.startswith("__")),
                      key=lambda t: t.name)

    def exists(self, names: Iterable[str]) -> set[str]:
        md = self._metadata()
        return {n for n in names if n in md.topics and md.topics[n].error is None}

    def describe(self, name: str, *, all_configs: bool = False) -> TopicInfo:
        """Partitions (leader, replicas, in-sync replicas) and configs: the ones set on the
        topic or by the broker, or with ``all_configs`` every one."""
        from confluent_kafka.admin import ConfigResource

        md = self._metadata()
        topic = md.topics.get(name)
        if topic is None or topic.error is not None:
            raise KafkaError(f"topic {name!r} does not exist on {self.bootstrap}")
        resource = ConfigResource(ConfigResource.Type.TOPIC, name)
        try:
            entries = self.client.describe_configs([resource], request_timeout=self.timeout)[resource].result(self.timeout)
        except Exception as exc:  # noqa: BLE001 - KafkaException, timeouts
            raise KafkaError(f"cannot describe the configs of topic {name!r}: {_text(exc)}") from None
        configs = {k: ("***" if e.is_sensitive else str(e.value)) for k, e in sorted(entries.items())
                   if all_configs or not e.is_default}
        info = _info(topic)
        return TopicInfo(info.name, info.partitions, configs)

    # -- changing -----------------------------------------------------------------------
    def create(self, name: str, *, partitions: int = -1, replication_factor: int = -1,
               config: Mapping[str, str] | None = None, exist_ok: bool = False) -> bool:
        """Create ``name`` (-1: the broker's default partitions / replication factor) and
        wait until every partition has a leader. False if it existed (with ``exist_ok``)."""
        from confluent_kafka import KafkaError as CK
        from confluent_kafka.admin import NewTopic

        self._metadata()  # one clear line if the cluster is not there
        future = self.client.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=replication_factor,
                      config={k: str(v) for k, v in (config or {}).items()})],
            operation_timeout=self.timeout, request_timeout=self.timeout)[name]
        try:
            future.result(self.timeout + 5)
        except Exception as exc:  # noqa: BLE001
            err = exc.args[0] if exc.args else None
            if getattr(err, "code", lambda: None)() == CK.TOPIC_ALREADY_EXISTS:
                if exist_ok:
                    return False
                raise KafkaError(f"topic {name!r} already exists") from None
            raise KafkaError(f"cannot create topic {name!r}: {_text(exc)}") from None
        self._wait(name, lambda t: t is not None and t.error is None and bool(t.partitions)
                   and all(p.leader >= 0 for p in t.partitions.values()), "to get leaders")
        return True

    def delete(self, names: Iterable[str]) -> None:
        """Delete topics and wait until the cluster no longer lists them."""
        names = list(names)
        futures = self.client.delete_topics(names, operation_timeout=self.timeout, request_timeout=self.timeout)
        for name, future in futures.items():
            try:
                future.result(self.timeout + 5)
            except Exception as exc:  # noqa: BLE001
                text = _text(exc)
                if "UNKNOWN_TOPIC" in text or "does not host this topic" in text or "Unknown topic" in text:
                    raise KafkaError(f"topic {name!r} does not exist on {self.bootstrap}") from None
                raise KafkaError(f"cannot delete topic {name!r}: {text}") from None
        for name in names:
            self._wait(name, lambda t: t is None or t.error is not None, "to go away")

    def _wait(self, name: str, done: Any, what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            if done(self._metadata().topics.get(name)):
                return
            if time.monotonic() > deadline:
                raise KafkaError(f"topic {name!r} did not {what.removeprefix('to ')} within {self.timeout:g} s")
            time.sleep(0.1)


def _info(topic: Any) -> TopicInfo:
    return TopicInfo(topic.topic, tuple(
        PartitionInfo(p.id, p.leader, tuple(p.replicas), tuple(p.isrs))
        for p in sorted(topic.partitions.values(), key=lambda p: p.id)))


def _text(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    text = getattr(arg, "str", None)
    return text() if callable(text) else str(arg)
