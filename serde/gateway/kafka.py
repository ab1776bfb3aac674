"""The gateway's Kafka loop: the only module that talks to confluent_kafka's Consumer and
Producer, and the one place where their errors become serde errors.

Delivery is at-least-once:

* the consumer never auto-commits; for each partition a :class:`PartitionTracker` keeps
  the offsets in flight, and offset N+1 is committed only once every record ≤ N of that
  partition has been acknowledged by the broker, on the target or the dead-letter topic;
* records are processed one after another in consumption order and produced by one
  idempotent producer (``enable.idempotence``, ``acks=all``), so order within a source
  partition is kept on each target partition;
* at most ``max_in_flight`` records are unacknowledged; commits happen every
  ``commit_interval`` seconds, when partitions are revoked and at shutdown;
* a record that cannot be delivered (the broker refused it after librdkafka's retries)
  stops the gateway without committing past it, so it is read again on restart;
* a transient registry failure is retried with backoff on the same record (never
  dead-lettered: it says nothing about the record).

Shutdown (:meth:`Gateway.stop`, SIGTERM/SIGINT through :func:`run`): stop fetching,
finish the record at hand, flush the producer, commit, close the consumer.

Exactly-once and several workers per process (issue 8) fit here: the tracker's
watermarks are what ``send_offsets_to_transaction`` needs, and the revoke handler already
works per partition, as cooperative rebalancing wants.
"""
from __future__ import annotations

import collections
import logging
import signal
import threading
import time
from typing import Any, Callable

from .._errors import ConfigError, SerdeError
from .config import GatewayConfig, redact
from .pipeline import OutputRecord, Pipeline, SourceRecord, is_transient

__all__ = ["Gateway", "PartitionTracker", "run"]

log = logging.getLogger("serde.gateway")
_rdkafka_log = logging.getLogger("serde.gateway.librdkafka")

_FORCED_CONSUMER = {"enable.auto.commit": False, "enable.auto.offset.store": False}
_FORCED_PRODUCER = {"enable.idempotence": True, "acks": "all"}
_ACKS_ALL = {"all", "-1", -1}


class PartitionTracker:
    """Offsets of one source partition that are in flight, in consumption order.

    ``committable`` is the offset to commit (the next one to read): one past the last
    record of the longest acknowledged prefix. Acks may come in any order.
    """

    __slots__ = ("pending", "done", "committable", "committed")

    def __init__(self) -> None:
        self.pending: collections.deque[int] = collections.deque()
        self.done: set[int] = set()
        self.committable: int | None = None
        self.committed: int | None = None

    def add(self, offset: int) -> None:
        self.pending.append(offset)

    def ack(self, offset: int) -> None:
        pending = self.pending
        if pending and pending[0] == offset:  # the usual case: acks in order
            pending.popleft()
            self.committable = offset + 1
        else:
            self.done.add(offset)
        done = self.done
        while pending and pending[0] in done:
            first = pending.popleft()
            done.discard(first)
            self.committable = first + 1

    def __len__(self) -> int:
        return len(self.pending)


def _check_forced(settings: dict[str, Any], forced: dict[str, Any], where: str) -> None:
    for key, value in forced.items():
        if key in settings and str(settings[key]).lower() != str(value).lower():
            if key == "acks" and settings[key] in _ACKS_ALL:
                continue
            raise ConfigError(f"{where}.{key}: the gateway needs {key}={str(value).lower()} for at-least-once delivery")


class Gateway:
    """Runs a pipeline between Kafka topics until :meth:`stop` (or a fatal error).

    ``consumer_conf``/``producer_conf`` are built from the config; tests may pass a
    ready :class:`Pipeline` and a ``stop_event``.
    """

    def __init__(self, config: GatewayConfig, *, pipeline: Pipeline | None = None,
                 stop_event: threading.Event | None = None) -> None:
        self.config = config
        self.settings = config.settings
        self._pipeline = pipeline
        self._stop = stop_event or threading.Event()
        self._trackers: dict[tuple[str, int], PartitionTracker] = {}
        self._in_flight = 0
        self._fatal: BaseException | None = None
        self._consumer: Any = None
        self._producer: Any = None
        self.stats = {"consumed": 0, "produced": 0, "dead_lettered": 0, "commits": 0, "retries": 0}
        self.ready = threading.Event()

        common = dict(config.kafka)
        consumer = {**common, **config.consumer}
        producer = {**common, **config.producer}
        _check_forced(consumer, _FORCED_CONSUMER, "kafka.consumer")
        _check_forced(producer, _FORCED_PRODUCER, "kafka.producer")
        consumer.setdefault("group.id", self.settings.group)
        consumer.setdefault("auto.offset.reset", "earliest")
        consumer.update(_FORCED_CONSUMER)
        producer.setdefault("linger.ms", 5)
        producer.update(_FORCED_PRODUCER)
        for conf in (consumer, producer):
            conf["logger"] = _rdkafka_log
            conf["error_cb"] = self._on_kafka_error
        self.consumer_conf = consumer
        self.producer_conf = producer

    # -- control ----------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the loop to finish: safe from signal handlers and other threads."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- callbacks (run inside poll/flush/consume, on the loop's thread) -------------------
    def _on_kafka_error(self, err: Any) -> None:
        if err.fatal():
            self._fatal = SerdeError(f"fatal Kafka error: {err.str()}")
        else:
            log.warning("kafka: %s", err.str())

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        log.info("assigned %s", ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing")

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        # Deliver what is in flight for these partitions and commit before another member
        # takes them over, so it starts right after the last delivered record.
        if self._in_flight:
            self._producer.flush(self.settings.shutdown_timeout)
        self._commit([(p.topic, p.partition) for p in partitions])
        for p in partitions:
            self._trackers.pop((p.topic, p.partition), None)
        log.info("revoked %s", ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing")

    def _on_lost(self, consumer: Any, partitions: list[Any]) -> None:
        for p in partitions:  # someone else owns them now: committing would be wrong
            self._trackers.pop((p.topic, p.partition), None)
        log.warning("lost %s", ", ".join(f"{p.topic}[{p.partition}]" for p in partitions))

    def _delivered(self, tracker: PartitionTracker, offset: int, dead_letter: bool) -> Callable[[Any, Any], None]:
        def on_delivery(err: Any, msg: Any) -> None:
            self._in_flight -= 1
            if err is not None:
                if self._fatal is None:
                    self._fatal = SerdeError(
                        f"could not deliver the record from offset {offset} to {msg.topic()}: {err.str()}"
                        " (the offset is not committed; it is read again on restart)"
                    )
                return
            tracker.ack(offset)
            self.stats["dead_lettered" if dead_letter else "produced"] += 1

        return on_delivery

    # -- commits -----------------------------------------------------------------------
    def _commit(self, only: list[tuple[str, int]] | None = None) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        items = self._trackers.items() if only is None else [(k, self._trackers[k]) for k in only if k in self._trackers]
        offsets = []
        for (topic, partition), tracker in items:
            if tracker.committable is not None and tracker.committable != tracker.committed:
                offsets.append((tracker, TopicPartition(topic, partition, tracker.committable)))
        if not offsets:
            return
        try:
            self._consumer.commit(offsets=[tp for _, tp in offsets], asynchronous=False)
        except KafkaException as exc:
            log.warning("commit failed, will retry: %s", exc.args[0].str() if exc.args else exc)
            return
        for tracker, tp in offsets:
            tracker.committed = tp.offset
        self.stats["commits"] += 1
        log.debug("committed %s", ", ".join(f"{tp.topic}[{tp.partition}]={tp.offset}" for _, tp in offsets))

    # -- the loop ----------------------------------------------------------------------
    def _connect(self) -> None:
        from confluent_kafka import Consumer, KafkaException, Producer

        bootstrap = self.producer_conf.get("bootstrap.servers", "?")
        try:
            self._producer = Producer(self.producer_conf)
        except (KafkaException, ValueError, TypeError) as exc:
            raise ConfigError(f"kafka: invalid producer settings: {_kafka_text(exc)}") from None
        try:
            metadata = self._producer.list_topics(timeout=self.settings.startup_timeout)
        except KafkaException as exc:
            raise SerdeError(
                f"cannot reach Kafka at {bootstrap} within {self.settings.startup_timeout:g}s: {_kafka_text(exc)}"
            ) from None
        topics = set(metadata.topics)
        for route in self.config.routes:
            for topic in route.source_topics:
                if topic not in topics:
                    log.warning("route %s: source topic %r does not exist (yet)", route.name, topic)
            for topic in (route.target_topic, route.dead_letter_topic):
                if topic is not None and topic not in topics:
                    log.warning("route %s: topic %r does not exist; producing to it relies on auto-creation", route.name, topic)
        if self._pipeline is None:
            self._pipeline = Pipeline(self.config)
        self._pipeline.prepare()  # registry reachable, target schemas registered once
        try:
            self._consumer = Consumer(self.consumer_conf)
        except (KafkaException, ValueError, TypeError) as exc:
            raise ConfigError(f"kafka: invalid consumer settings: {_kafka_text(exc)}") from None
        self._consumer.subscribe(self._pipeline.topics, on_assign=self._on_assign, on_revoke=self._on_revoke,
                                 on_lost=self._on_lost)

    def run(self) -> None:
        """Connect, then convert until stopped. Raises SerdeError on fatal errors (after
        committing what was delivered)."""
        log.info("gateway starting: routes %s; kafka %s; registry %s",
                 ", ".join(r.name for r in self.config.routes),
                 redact({k: v for k, v in self.consumer_conf.items() if k not in ("logger", "error_cb")}),
                 self.config.registry or "default")
        try:
            self._connect()
        except BaseException:
            self._close(commit=False)
            raise
        self.ready.set()
        log.info("gateway running: group %s, topics %s", self.consumer_conf["group.id"], ", ".join(self._pipeline.topics))
        failure: BaseException | None = None
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - still deliver and commit what we can
            failure = exc
        try:
            self._close(commit=True)
        except BaseException as exc:  # noqa: BLE001
            failure = failure or exc
        log.info("gateway stopped: %s", ", ".join(f"{k} {v}" for k, v in self.stats.items()))
        if failure is not None:
            raise failure

    def _loop(self) -> None:
        consumer, producer, pipeline = self._consumer, self._producer, self._pipeline
        settings = self.settings
        max_in_flight = settings.max_in_flight
        next_commit = time.monotonic() + settings.commit_interval
        trackers = self._trackers
        while not self._stop.is_set():
            if self._fatal is not None:
                raise self._fatal
            room = max_in_flight - self._in_flight
            if room <= 0:
                producer.poll(0.05)
                continue
            messages = consumer.consume(num_messages=min(room, 500), timeout=settings.poll_timeout)
            for msg in messages:
                err = msg.error()
                if err is not None:
                    self._message_error(err)
                    continue
                topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
                ts_type, ts = msg.timestamp()
                record = SourceRecord(topic, partition, offset, msg.key(), msg.value(), msg.headers(),
                                      ts if ts_type != 0 else None)
                tracker = trackers.get((topic, partition))
                if tracker is None:
                    tracker = trackers[(topic, partition)] = PartitionTracker()
                tracker.add(offset)
                self.stats["consumed"] += 1
                out = self._process(pipeline, record)
                if out is None:  # stopping while the registry is away: not delivered, not committed
                    break
                self._produce(out, tracker, offset)
                if self._stop.is_set():
                    break  # the rest of the batch is read again by whoever comes next
            producer.poll(0)
            if time.monotonic() >= next_commit:
                self._commit()
                next_commit = time.monotonic() + settings.commit_interval

    def _message_error(self, err: Any) -> None:
        from confluent_kafka import KafkaError

        if err.code() == KafkaError._PARTITION_EOF:
            return
        if err.fatal():
            raise SerdeError(f"fatal Kafka consumer error: {err.str()}")
        log.warning("kafka consumer: %s", err.str())

    def _process(self, pipeline: Pipeline, record: SourceRecord) -> OutputRecord | None:
        delay = 0.5
        while True:
            try:
                return pipeline.process(record)
            except SerdeError as exc:
                if not is_transient(exc):
                    raise
                self.stats["retries"] += 1
                log.warning("%s[%d]@%d: %s; retrying in %.1fs", record.topic, record.partition, record.offset, exc, delay)
            self._producer.poll(0)
            if self._stop.wait(delay):
                return None
            delay = min(delay * 2, 30.0)

    def _produce(self, out: OutputRecord, tracker: PartitionTracker, offset: int) -> None:
        producer = self._producer
        kwargs: dict[str, Any] = {"key": out.key, "value": out.value,
                                  "on_delivery": self._delivered(tracker, offset, out.dead_letter)}
        if out.headers:
            kwargs["headers"] = out.headers
        if out.timestamp is not None:
            kwargs["timestamp"] = out.timestamp
        if out.partition is not None:
            kwargs["partition"] = out.partition
        if out.dead_letter:
            log.info("dead-lettered offset %d to %s: %s", offset, out.topic, out.error)
        while True:
            try:
                producer.produce(out.topic, **kwargs)
                break
            except BufferError:  # the local queue is full: serve delivery reports, then retry
                producer.poll(0.1)
        self._in_flight += 1

    def _close(self, *, commit: bool) -> None:
        if self._producer is not None and commit:
            remaining = self._producer.flush(self.settings.shutdown_timeout)
            if remaining:
                log.warning("%d records were not acknowledged within %.0fs; their offsets are not committed",
                            remaining, self.settings.shutdown_timeout)
        if self._consumer is not None:
            if commit:
                self._commit()
            try:
                self._consumer.close()
            except Exception as exc:  # noqa: BLE001 - closing is best effort
                log.warning("closing the consumer: %s", exc)
            self._consumer = None
        self._producer = None


def _kafka_text(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    text = getattr(arg, "str", None)
    return text() if callable(text) else str(arg)


def run(config: GatewayConfig, *, install_signals: bool = True) -> dict[str, int]:
    """Run a gateway in this thread until SIGTERM/SIGINT; returns its counters.

    The first signal stops it gracefully (in-flight records delivered, offsets
    committed); a second SIGINT interrupts at once.
    """
    gateway = Gateway(config)
    previous: dict[int, Any] = {}
    if install_signals and threading.current_thread() is threading.main_thread():
        def handler(signum: int, frame: Any) -> None:
            if gateway.stopping and signum == signal.SIGINT:
                raise KeyboardInterrupt
            log.info("received %s: finishing in-flight records", signal.Signals(signum).name)
            gateway.stop()

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, handler)
    try:
        gateway.run()
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    return dict(gateway.stats)
