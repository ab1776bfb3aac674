"""Subject name strategies, named as in Confluent's configs.

``topic``, ``record`` and ``topic_record`` are pure functions of ``(topic, is_key,
record_name)``. ``associated`` (confluent-kafka's default from 2.16 on) asks the registry which
subject is associated with the topic (``GET /associations/resources/{namespace}/{topic}``), so
it is an object bound to a registry: :class:`AssociatedStrategy`.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable

from .._errors import ConfigError, EncodeError

if TYPE_CHECKING:
    import serde.registry.client

# (topic, is_key, record_name) -> subject
SubjectNameStrategy = Callable[[str, bool, "str | None"], str]


def topic_name(topic: str, is_key: bool, record_name: str | None) -> str:
    return f"{topic}-{'key' if is_key else 'value'}"


def _need_record_name(record_name: str | None, strategy: str) -> str:
    if not record_name:
        raise ConfigError(
            f"the {strategy} subject name strategy needs a named schema "
            "(an Avro record, a JSON Schema with a title, a Protobuf message)"
        )
    return record_name


def record_name(topic: str, is_key: bool, record_name: str | None) -> str:
    return _need_record_name(record_name, "record")


def topic_record_name(topic: str, is_key: bool, record_name: str | None) -> str:
    return f"{topic}-{_need_record_name(record_name, 'topic_record')}"


STRATEGIES: dict[str, SubjectNameStrategy] = {
    "record": record_name,
    "topic": topic_name,
    "topic_record": topic_record_name,
}

NAMESPACE_WILDCARD = "-"
# subject.name.strategy.fallback.type: what the associated strategy does when no subject is
# associated with the topic (NONE: fail)
FALLBACKS: dict[str, SubjectNameStrategy | None] = {
    "NONE": None,
    "RECORD": record_name,
    "TOPIC": topic_name,
    "TOPIC_RECORD": topic_record_name,
}


class AssociatedStrategy:
    """Confluent's ASSOCIATED subject name strategy (``AssociatedNameStrategy``).

    The subject is the one the registry associates with the topic's key or value
    (``Registry.associated_subjects``) in resource namespace ``kafka_cluster_id``
    (``subject.name.strategy.kafka.cluster.id``; ``None`` means ``-``, any cluster). With no
    association (or a registry without the associations API, which answers 404) ``fallback``
    decides (``subject.name.strategy.fallback.type``): ``TOPIC`` (default), ``RECORD``,
    ``TOPIC_RECORD``, or ``NONE`` (an ``EncodeError``). More than one associated subject is an
    ``EncodeError``. Answers are cached per ``(topic, is_key, record_name)`` in an LRU of
    ``cache_size`` entries (0: no cache), fallbacks included, as confluent-kafka does;
    ``clear_cache()`` forgets them. Safe to share between threads.
    """

    def __init__(
        self,
        registry: "serde.registry.client.Registry",
        *,
        kafka_cluster_id: str | None = None,
        fallback: str = "TOPIC",
        cache_size: int = 1000,
    ) -> None:
        from ..registry.client import open_registry

        self.registry = open_registry(registry)
        if kafka_cluster_id is not None and not isinstance(kafka_cluster_id, str):
            raise ConfigError(f"kafka_cluster_id must be a string, not {type(kafka_cluster_id).__name__}")
        self.namespace = kafka_cluster_id or NAMESPACE_WILDCARD
        key = fallback.strip().upper() if isinstance(fallback, str) else fallback
        if key == "ASSOCIATED":
            raise ConfigError("the associated subject name strategy cannot be its own fallback; use one of: NONE, RECORD, TOPIC, TOPIC_RECORD")
        if key not in FALLBACKS:
            raise ConfigError(
                f"invalid fallback {fallback!r} for the associated subject name strategy; use one of: {', '.join(FALLBACKS)}"
            )
        self.fallback: str = key
        if not isinstance(cache_size, int) or isinstance(cache_size, bool) or cache_size < 0:
            raise ConfigError(f"cache_size must be an integer >= 0, not {cache_size!r}")
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, bool, str | None], str] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, topic: str, is_key: bool, record_name: str | None) -> str:
        key = (topic, bool(is_key), record_name)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        subject = self._load(topic, bool(is_key), record_name)
        if self.cache_size:
            with self._lock:
                self._cache[key] = subject
                self._cache.move_to_end(key)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return subject

    def _load(self, topic: str, is_key: bool, record_name: str | None) -> str:
        subjects = self.registry.associated_subjects(topic, self.namespace, is_key)
        field = "key" if is_key else "value"
        if len(subjects) > 1:
            raise EncodeError(
                f"{len(subjects)} subjects are associated with the {field} of topic {topic!r} "
                f"(namespace {self.namespace!r}) in {self.registry.url}: {', '.join(subjects)}; "
                "the associated subject name strategy needs exactly one"
            )
        if subjects:
            return subjects[0]
        strategy = FALLBACKS[self.fallback]
        if strategy is None:
            raise EncodeError(
                f"no subject is associated with the {field} of topic {topic!r} (namespace {self.namespace!r}) "
                f"in {self.registry.url}, and the associated subject name strategy's fallback is NONE"
            )
        return strategy(topic, is_key, record_name)

    def clear_cache(self) -> None:
        """Forget every cached subject (e.g. after associations changed)."""
        with self._lock:
            self._cache.clear()

    def __repr__(self) -> str:
        return f"AssociatedStrategy({self.registry.url!r}, kafka_cluster_id={self.namespace!r}, fallback={self.fallback!r})"


_ALIASES = {
    "topicnamestrategy": "topic",
    "recordnamestrategy": "record",
    "topicrecordnamestrategy": "topic_record",
    "associatednamestrategy": "associated",
}


def resolve_strategy(
    strategy: Any,
    *,
    registry: Any = None,
    kafka_cluster_id: str | None = None,
    fallback: str | None = None,
) -> SubjectNameStrategy:
    """A strategy by name (``topic``, ``record``, ``topic_record``, ``associated``, also
    Confluent's ``TopicNameStrategy``-style names) or a callable ``(topic, is_key, record_name)``.

    ``associated`` needs ``registry`` and takes ``kafka_cluster_id`` and ``fallback`` (see
    :class:`AssociatedStrategy`); the other names ignore those three.
    """
    if callable(strategy):
        return strategy  # type: ignore[no-any-return]
    if isinstance(strategy, str):
        key = strategy.strip().lower().replace("-", "_")
        key = _ALIASES.get(key, key)
        if key in STRATEGIES:
            return STRATEGIES[key]
        if key == "associated":
            if registry is None:
                raise ConfigError("the associated subject name strategy asks the schema registry: it needs a registry")
            return AssociatedStrategy(
                registry, kafka_cluster_id=kafka_cluster_id, fallback="TOPIC" if fallback is None else fallback
            )
    raise ConfigError(
        f"unknown subject name strategy {strategy!r}; use one of: associated, {', '.join(sorted(STRATEGIES))}, or a callable"
    )
