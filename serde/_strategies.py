"""Subject name strategies, named as in Confluent's configs."""
from __future__ import annotations

from typing import Any, Callable

from ._errors import ConfigError

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


def resolve_strategy(strategy: Any) -> SubjectNameStrategy:
    """A strategy by name (``topic``, ``record``, ``topic_record``, also Confluent's
    ``TopicNameStrategy``-style names) or a callable ``(topic, is_key, record_name)``."""
    if callable(strategy):
        return strategy  # type: ignore[no-any-return]
    if isinstance(strategy, str):
        key = strategy.strip().lower().replace("-", "_")
        key = {"topicnamestrategy": "topic", "recordnamestrategy": "record", "topicrecordnamestrategy": "topic_record"}.get(key, key)
        if key in STRATEGIES:
            return STRATEGIES[key]
    raise ConfigError(f"unknown subject name strategy {strategy!r}; use one of: {', '.join(sorted(STRATEGIES))}, or a callable")
