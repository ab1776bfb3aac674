"""The gateway's Kafka loop: the only module that talks to confluent_kafka's Consumer and
Producer, and the one place where their errors become serde errors (:class:`KafkaError`).

**At-least-once** (the default, ``delivery = "at-least-once"``):

* the consumer never auto-commits; for each partition a :class:`PartitionTracker` keeps
  the offsets in flight, and offset N+1 is committed only once every record ≤ N of that
  partition has been acknowledged by the broker, on the target or the dead-letter topic.
  The producer sends delivery reports only for records the broker refused
  (``delivery.report.only.error``): records are acknowledged per *window*
  (:class:`_Window`), everything produced since the last time the producer was empty.
  When the producer's queue is empty (``len(producer) == 0``: every record acknowledged
  or refused, and every report served) the window's last offset in each partition becomes
  committable, and never if the broker refused one of its records. Under load the queue
  rarely empties by itself, so before each commit the producer is flushed;
* records are processed one after another in consumption order and produced by one
  idempotent producer (``enable.idempotence``, ``acks=all``), so order within a source
  partition is kept on each target partition;
* at most ``max_in_flight`` records are unacknowledged; commits happen every
  ``commit_interval`` seconds, when partitions are revoked and at shutdown;
* a record that cannot be delivered (the broker refused it after librdkafka's retries)
  stops the gateway without committing past it, so it is read again on restart;
* a transient registry failure is retried with backoff on the same record (never
  dead-lettered: it says nothing about the record).

**Exactly-once** (``delivery = "exactly-once"``), the consume-transform-produce loop of
KIP-98/KIP-447 with one transactional producer per process:

* ``transactional.id`` is ``<group>-<instance_id>`` (``instance_id`` defaults to the host
  name and must be stable across restarts of one process and distinct between
  processes), so a restarted process fences its predecessor and aborts its open
  transaction at once; ``init_transactions`` runs at start;
* the consumer reads with ``isolation.level=read_committed``;
* each transaction: ``begin_transaction``; the converted records *and* the dead-letter
  records are produced in it; every ``commit_interval`` seconds
  ``send_offsets_to_transaction(next offsets, consumer_group_metadata())`` and
  ``commit_transaction``. The offsets sent are the next offset after the last record
  processed in each partition, i.e. ``consumer.position()`` for fully processed batches
  (the gateway tracks them itself, since it may stop in the middle of a batch);
* on an abortable error: ``abort_transaction`` and a seek of every partition back to the
  first offset of the aborted transaction (its committed offset), then go on;
* on revocation (a rebalance) the open transaction is committed before the partitions
  go; on a lost assignment it is aborted; a fenced producer (another process took over
  the transactional id) stops the gateway with a :class:`KafkaError` saying so.

Scale-out: processes with the same ``group`` share the partitions; the consumer uses the
``cooperative-sticky`` assignor unless told otherwise, so a rebalance moves only the
partitions that change owner.

Shutdown (:meth:`Gateway.stop`, SIGTERM/SIGINT through :func:`run`): stop fetching,
finish the record at hand, flush the producer (or commit the transaction), commit,
close the consumer.
"""
from __future__ import annotations

import collections
import logging
import re
import signal
import socket
import threading
import time
from typing import Any

from .._errors import ConfigError, KafkaError, SerdeError
from .config import GatewayConfig, redact, redact_url, scrub, secret_values
from .metrics import Metrics, MetricsServer
from .pipeline import OutputRecord, Pipeline, SourceRecord, is_transient

__all__ = ["ClientLog", "Gateway", "PartitionTracker", "metadata", "run"]

log = logging.getLogger("serde.gateway")
_rdkafka_log = logging.getLogger("serde.gateway.librdkafka")

_FORCED_CONSUMER = {"enable.auto.commit": False, "enable.auto.offset.store": False}
_FORCED_PRODUCER = {"enable.idempotence": True, "acks": "all"}
_FORCED_EOS_CONSUMER = {"isolation.level": "read_committed"}
_ACKS_ALL = {"all", "-1", -1}
_CALLBACKS = ("logger", "error_cb", "stats_cb", "oauth_cb", "throttle_cb")


_ADDRESS_PREFIX = re.compile(r"^[^\s/]+/[\w-]+: ")  # "localhost:9092/bootstrap: ", "127.0.0.1:9092/1: "
_CONNECT_PREFIX = re.compile(r"^Connect to \S+ failed: ")
_AFTER = re.compile(r" \(after \d+ms in state \w+(?:, \d+ identical error\(s\) suppressed)?\)| \(\d+ identical error\(s\) suppressed\)")
_NOISE = re.compile(r"\[thrd:[^\]]*\]|rdkafka#\w+-\d+|\d+/\d+ brokers")
_REPEAT_EVERY = 60.0  # seconds before a repeated line is shown again (with its count)


def _reason(text: str) -> str:
    """librdkafka's error text without the broker prefix and the retry details:
    "localhost:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms
    in state CONNECT)" -> "Connection refused"."""
    text = _AFTER.sub("", text.strip())
    text = _ADDRESS_PREFIX.sub("", text)
    return _CONNECT_PREFIX.sub("", text)


class ClientLog:
    """librdkafka's log lines (the client's ``logger``) and errors (its ``error_cb``), for
    people: the same line is shown once (again after a minute, with how often it came), and
    until :meth:`connected` is called connection failures are not shown at all but kept,
    so that :meth:`unreachable` can say in one line why the cluster could not be reached
    (instead of the hundreds of retries librdkafka reports while it tries)."""

    def __init__(self, logger: logging.Logger, *, ignore: str | None = None) -> None:
        self.logger = logger
        self._ignore = re.compile(ignore) if ignore else None  # lines never shown
        self.is_connected = False
        self.reason: str | None = None
        self._seen: dict[str, list[float]] = {}  # key -> [last shown (monotonic), repeats since]

    # librdkafka calls logger.log(level, fmt, *args)
    def log(self, level: int, msg: Any, *args: Any) -> None:
        text = (msg % args) if args else str(msg)
        facility = str(args[0]) if args else text.split(" ", 1)[0]
        if facility in ("FAIL", "ERROR"):  # "FAIL [rdkafka#producer-1] [thrd:...]: <broker>: <reason>"
            self._remember(text.split("]: ", 1)[-1])
            if not self.is_connected:
                return
        self._show(level, text)

    def error_cb(self, err: Any) -> None:
        """For ``error_cb`` (a client that has no other use for it)."""
        self.error(err.str(), getattr(err, "code", lambda: None)())

    def error(self, text: str, code: Any = None) -> None:
        self._remember(text)
        if not self.is_connected:
            return
        self._show(logging.WARNING, f"kafka: {text}")

    def connected(self) -> None:
        """The cluster answered: from now on failures are shown (collapsed)."""
        self.is_connected = True

    def unreachable(self, bootstrap: str, seconds: float, exc: BaseException | None = None) -> KafkaError:
        """The one-line error for a cluster that did not answer within ``seconds``."""
        reason = self.reason or (_reason(_kafka_text(exc)) if exc is not None else "no answer")
        return KafkaError(f"cannot reach Kafka at {bootstrap} (tried for {seconds:g} s): {reason}")

    def _remember(self, text: str) -> None:
        reason = _reason(text)
        if not reason or re.fullmatch(r"\d+/\d+ brokers are down", reason):
            return  # says nothing the address does not
        self.reason = reason

    def _show(self, level: int, text: str) -> None:
        if self._ignore is not None and self._ignore.search(text):
            return
        key = _NOISE.sub("", _AFTER.sub("", text))
        now = time.monotonic()
        seen = self._seen.get(key)
        if seen is not None:
            if now - seen[0] < _REPEAT_EVERY:
                seen[1] += 1
                return
            text = f"{text} (repeated {int(seen[1])} times in {now - seen[0]:.0f}s)"
            seen[0], seen[1] = now, 0
        else:
            self._seen[key] = [now, 0]
        self.logger.log(level, "%s", text)


def metadata(client: Any, bootstrap: str, timeout: float, client_log: ClientLog, topic: str | None = None) -> Any:
    """The cluster's metadata (of ``topic`` only, if given), or a :class:`KafkaError` saying
    in one line that ``bootstrap`` could not be reached within ``timeout`` seconds and why."""
    from confluent_kafka import KafkaException

    try:
        found = client.list_topics(topic, timeout=timeout) if topic is not None else client.list_topics(timeout=timeout)
    except KafkaException as exc:
        poll = getattr(client, "poll", None)
        if poll is not None:
            poll(0)  # serve the log and error callbacks: they hold the reason
        raise client_log.unreachable(bootstrap, timeout, exc) from None
    client_log.connected()
    return found


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


class _Transaction:
    """The open transaction (exactly-once): where each partition started and how far it got."""

    __slots__ = ("open", "started", "starts", "offsets", "out", "latencies", "failed", "count")

    def __init__(self) -> None:
        self.open = False
        self.started = 0.0
        self.starts: dict[tuple[str, int], int] = {}  # first offset read in this transaction
        self.offsets: dict[tuple[str, int], int] = {}  # next offset to read (last processed + 1)
        self.out: dict[tuple[str, bool], int] = {}  # (topic, dead letter) -> records produced
        self.latencies: list[int] = []  # source timestamps (ms) of the records produced
        self.failed: str | None = None  # a delivery report with an error
        self.count = 0

    def reset(self) -> None:
        self.open = False
        self.starts.clear()
        self.offsets.clear()
        self.out.clear()
        self.latencies.clear()
        self.failed = None
        self.count = 0


def _check_forced(settings: dict[str, Any], forced: dict[str, Any], where: str, why: str) -> None:
    for key, value in forced.items():
        if key in settings and str(settings[key]).lower() != str(value).lower():
            if key == "acks" and settings[key] in _ACKS_ALL:
                continue
            raise ConfigError(f"{where}.{key}: the gateway needs {key}={str(value).lower()} for {why}")


def _kafka_text(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    text = getattr(arg, "str", None)
    return text() if callable(text) else str(arg)


def _kafka_error(exc: BaseException) -> Any:
    """The confluent_kafka.KafkaError inside a KafkaException (or None)."""
    arg = exc.args[0] if exc.args else None
    return arg if hasattr(arg, "code") and hasattr(arg, "fatal") else None


class _Scrub(logging.Filter):
    """Replaces secret values in log records (librdkafka's lines, exception texts)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class _Window:
    """The records produced at-least-once since the producer was last empty, acknowledged
    together without a delivery callback per record: the producer reports only refused
    records (:meth:`refused`), so once its queue is empty (:meth:`settle`, called when
    ``len(producer) == 0`` after its reports were served) every record of the window that
    was not refused has been acknowledged. Then each source partition's tracker gets the
    window's last offset in that partition (so a commit never passes a record that is not
    acknowledged), and the window's records are counted as delivered and their end-to-end
    latencies recorded. A refused record stops the gateway; nothing of its window, nor of
    any later one, becomes committable."""

    __slots__ = ("gateway", "ends", "out", "stamps", "failed", "count")

    def __init__(self, gateway: "Gateway") -> None:
        self.gateway = gateway
        self.ends: dict[tuple[str, int], int] = {}  # source partition -> last offset produced
        self.out: dict[tuple[str, bool], int] = {}  # (topic, dead letter) -> records produced
        self.stamps: list[int] = []  # source timestamps (ms) of the records produced
        self.failed: list[str] | None = None  # topics of records the broker refused
        self.count = 0  # records produced into the window

    def refused(self, err: Any, msg: Any) -> None:
        """A delivery report with an error: the broker refused a record of this window."""
        topic = msg.topic()
        if self.failed is None:
            self.failed = []
        self.failed.append(topic)
        gateway = self.gateway
        if gateway._fatal is None:
            where = ", ".join(f"{t}[{p}]@{o}" for (t, p), o in self.ends.items()) or "the source"
            gateway._fatal = KafkaError(
                f"could not deliver a record of the batch ending at {where} to {topic}: {err.str()}"
                " (its offsets are not committed; they are read again on restart)"
            )

    def settle(self) -> None:
        """Every record of the window was acknowledged or refused (the producer is empty)."""
        gateway = self.gateway
        metrics = gateway.metrics
        out = self.out
        if self.failed is None:
            trackers = gateway._trackers
            for key, offset in self.ends.items():
                tracker = trackers.get(key)
                if tracker is None:
                    tracker = trackers[key] = PartitionTracker()
                tracker.add(offset)
                tracker.ack(offset)
        else:  # nothing of this window becomes committable (nor of later ones); count what did arrive
            for topic in self.failed:
                k = (topic, False) if out.get((topic, False)) else (topic, True)
                out[k] = out.get(k, 0) - 1
            self.failed = []  # counted; the window stays failed
        for (topic, dead_letter), n in out.items():
            if n > 0:
                metrics.delivered(topic, dead_letter, n)
        if self.stamps:
            metrics.latencies(time.time(), self.stamps)
        self.ends = {}
        self.out = {}
        self.stamps = []
        self.count = 0


class Gateway:
    """Runs a pipeline between Kafka topics until :meth:`stop` (or a fatal error).

    ``consumer_conf``/``producer_conf`` are built from the config; tests may pass a
    ready :class:`Pipeline` and a ``stop_event``. ``metrics`` counts what was done.
    """

    def __init__(self, config: GatewayConfig, *, pipeline: Pipeline | None = None,
                 stop_event: threading.Event | None = None, metrics_port: int | None = None,
                 metrics_host: str | None = None) -> None:
        self.config = config
        self.settings = config.settings
        self.exactly_once = self.settings.exactly_once
        self._pipeline = pipeline
        self._stop = stop_event or threading.Event()
        self._trackers: dict[tuple[str, int], PartitionTracker] = {}
        self._assigned: set[tuple[str, int]] = set()
        self._txn = _Transaction()
        self._window = _Window(self)  # at-least-once: produced, not yet known to be acknowledged
        self._fatal: BaseException | None = None
        self._consumer: Any = None
        self._producer: Any = None
        self._server: MetricsServer | None = None
        self.metrics = Metrics()
        self.ready = threading.Event()  # connected (the loop is about to start)
        self.metrics_port = metrics_port if metrics_port is not None else self.settings.metrics_port
        self.metrics_host = metrics_host if metrics_host is not None else self.settings.metrics_host
        self._waiting_for: set[str] = set()  # source topics reported missing

        common = dict(config.kafka)
        consumer = {**common, **config.consumer}
        producer = {**common, **config.producer}
        why = "exactly-once delivery" if self.exactly_once else "at-least-once delivery"
        _check_forced(consumer, _FORCED_CONSUMER, "kafka.consumer", why)
        _check_forced(producer, _FORCED_PRODUCER, "kafka.producer", why)
        consumer.setdefault("group.id", self.settings.group)
        consumer.setdefault("auto.offset.reset", "earliest")
        # a source topic created after the start is read within seconds (librdkafka's
        # default refresh, 5 minutes, is how long it would otherwise take to notice it)
        consumer.setdefault("topic.metadata.refresh.interval.ms", 2000)
        if str(consumer.get("group.protocol", "classic")).lower() == "classic":
            # only the partitions that change owner move in a rebalance
            consumer.setdefault("partition.assignment.strategy", "cooperative-sticky")
        consumer.update(_FORCED_CONSUMER)
        producer.setdefault("linger.ms", 5)
        producer.update(_FORCED_PRODUCER)
        # no delivery report (a Message object and a Python call) per acknowledged record:
        # only refused records are reported; see _Window
        producer.setdefault("delivery.report.only.error", True)
        producer["on_delivery"] = self._on_delivery_report
        if self.exactly_once:
            _check_forced(consumer, _FORCED_EOS_CONSUMER, "kafka.consumer", why)
            consumer.update(_FORCED_EOS_CONSUMER)
            instance = self.settings.instance_id or socket.gethostname()
            producer.setdefault("transactional.id", f"{consumer['group.id']}-{instance}")
        elif "transactional.id" in producer:
            raise ConfigError('kafka.producer."transactional.id": set gateway.delivery = "exactly-once" '
                              "to use transactions (the id is then derived from the group and instance_id)")
        # repeats collapsed; quiet until connected; [kafka] settings go to both clients by design,
        # so librdkafka's "a consumer property ... ignored by this producer" says nothing
        self._client_log = ClientLog(_rdkafka_log, ignore=r"is a (?:consumer|producer) property and will be ignored")
        for conf in (consumer, producer):
            conf.setdefault("logger", self._client_log)
            conf["error_cb"] = self._on_kafka_error
        self.consumer_conf = consumer
        self.producer_conf = producer
        self._secrets = secret_values(config)

    # -- control ----------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the loop to finish: safe from signal handlers and other threads."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def stats(self) -> dict[str, int]:
        m = self.metrics
        return {"consumed": m.total_in, "produced": m.total_out, "dead_lettered": m.total_dead_lettered,
                "commits": m.commits, "retries": m.retries, "aborts": m.aborts, "errors": m.total_errors}

    @property
    def http_port(self) -> int | None:
        """The port /metrics and /ready are served on (None without ``metrics_port``)."""
        return self._server.port if self._server is not None else None

    def is_ready(self) -> bool:
        """Connected and a member of the group (with or without partitions), not stopping."""
        return self.metrics.ready and not self._stop.is_set() and self._fatal is None

    # -- callbacks (run inside poll/flush/consume, on the loop's thread) -------------------
    def _on_kafka_error(self, err: Any) -> None:
        if err.fatal():
            self._fatal = self._fatal_error(err)
        else:
            self._client_log.error(err.str())

    def _fatal_error(self, err: Any) -> KafkaError:
        from confluent_kafka import KafkaError as CK

        if err.code() in (CK._FENCED, CK.PRODUCER_FENCED, CK.INVALID_PRODUCER_EPOCH, CK.TRANSACTION_COORDINATOR_FENCED):
            tid = self.producer_conf.get("transactional.id")
            return KafkaError(
                f"producer fenced: another gateway process started with transactional.id {tid!r} "
                "(the same group and instance_id), so this one stops without committing; "
                "give each process its own gateway.instance_id (or --instance-id)")
        return KafkaError(f"fatal Kafka error: {err.str()}")

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        for p in partitions:
            self._assigned.add((p.topic, p.partition))
        self.metrics.ready = True
        log.info("assigned %s", ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing")

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        gone = [(p.topic, p.partition) for p in partitions]
        if self.exactly_once:
            # commit what was processed, offsets included, before another member takes over
            if self._txn.open and self._fatal is None:
                self._commit_transaction()
        else:
            # deliver what is in flight and commit, so the next owner starts right after it
            self._drain(self.settings.shutdown_timeout)
            self._commit(gone)
        self._forget(gone)
        log.info("revoked %s", ", ".join(f"{t}[{p}]" for t, p in gone) or "nothing")

    def _on_lost(self, consumer: Any, partitions: list[Any]) -> None:
        gone = [(p.topic, p.partition) for p in partitions]
        if self.exactly_once and self._txn.open:
            self._abort_transaction("the assignment was lost")  # its offsets belong to someone else now
        self._forget(gone)  # committing them would be wrong
        log.warning("lost %s", ", ".join(f"{t}[{p}]" for t, p in gone))

    def _forget(self, gone: list[tuple[str, int]]) -> None:
        ends = self._window.ends
        for key in gone:
            ends.pop(key, None)
            self._trackers.pop(key, None)
            self._assigned.discard(key)
            self.metrics.lag.pop(key, None)

    def _on_delivery_report(self, err: Any, msg: Any) -> None:
        if err is None:  # only with delivery.report.only.error = false in the config
            return
        if self.exactly_once:
            if self._txn.failed is None:
                self._txn.failed = f"could not deliver a record to {msg.topic()}: {err.str()}"
        else:
            self._window.refused(err, msg)

    def _drain(self, timeout: float) -> bool:
        """At-least-once: wait up to ``timeout`` s for every record produced to be
        acknowledged (or refused), then settle the window. True if the producer is empty."""
        producer = self._producer
        if len(producer):
            producer.flush(timeout)
        else:
            producer.poll(0)  # serve any report still queued
        if len(producer):
            return False
        if self._window.count or self._window.failed is not None:
            self._window.settle()
        return True

    # -- at-least-once commits ---------------------------------------------------------
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
            log.warning("commit failed, will retry: %s", _kafka_text(exc))
            return
        for tracker, tp in offsets:
            tracker.committed = tp.offset
        self.metrics.commits += 1
        log.debug("committed %s", ", ".join(f"{tp.topic}[{tp.partition}]={tp.offset}" for _, tp in offsets))

    # -- exactly-once transactions -----------------------------------------------------
    def _begin_transaction(self) -> None:
        from confluent_kafka import KafkaException

        try:
            self._producer.begin_transaction()
        except KafkaException as exc:
            err = _kafka_error(exc)
            if err is not None and err.fatal():
                raise self._fatal_error(err) from None
            raise KafkaError(f"cannot begin a transaction: {_kafka_text(exc)}") from None
        txn = self._txn
        txn.open = True
        txn.started = time.monotonic()

    def _commit_transaction(self) -> bool:
        """Send the offsets and commit; on an abortable error abort and rewind. True if committed."""
        from confluent_kafka import KafkaException, TopicPartition

        txn, producer = self._txn, self._producer
        if not txn.open:
            return True
        if txn.failed is not None:
            failure = txn.failed
            self._abort_transaction(failure)
            raise KafkaError(f"{failure} (the transaction was aborted; its records are read again on restart)")
        timeout = self.settings.shutdown_timeout
        offsets = [TopicPartition(t, p, o) for (t, p), o in txn.offsets.items()]
        sent = not offsets
        for attempt in range(6):
            try:
                if not sent:
                    producer.send_offsets_to_transaction(offsets, self._consumer.consumer_group_metadata(), timeout)
                    sent = True
                producer.commit_transaction(timeout)
                break
            except KafkaException as exc:
                err = _kafka_error(exc)
                if err is None:
                    raise KafkaError(f"committing the transaction: {_kafka_text(exc)}") from None
                if err.fatal():
                    self._fatal = self._fatal or self._fatal_error(err)
                    raise self._fatal from None
                if err.txn_requires_abort():
                    self._abort_transaction(err.str())
                    return False
                if err.retriable() and attempt < 5:
                    log.warning("committing the transaction: %s; retrying", err.str())
                    continue
                raise KafkaError(f"committing the transaction: {err.str()}") from None
        metrics = self.metrics
        for (topic, dead_letter), n in txn.out.items():
            metrics.delivered(topic, dead_letter, n)
        if txn.latencies:
            now = time.time()
            for ts in txn.latencies:
                metrics.latency(now - ts / 1000.0)
        metrics.commits += 1
        log.debug("committed a transaction of %d records; offsets %s", txn.count,
                  ", ".join(f"{tp.topic}[{tp.partition}]={tp.offset}" for tp in offsets))
        txn.reset()
        return True

    def _abort_transaction(self, why: str) -> None:
        """Abort, then rewind each partition to where the transaction started."""
        from confluent_kafka import KafkaException, TopicPartition

        txn = self._txn
        log.warning("aborting the transaction (%d records): %s", txn.count, why)
        try:
            self._producer.abort_transaction(self.settings.shutdown_timeout)
        except KafkaException as exc:
            err = _kafka_error(exc)
            if err is not None and err.fatal():
                self._fatal = self._fatal or self._fatal_error(err)
                txn.reset()
                raise self._fatal from None
            raise KafkaError(f"aborting the transaction: {_kafka_text(exc)}") from None
        for (topic, partition), start in txn.starts.items():
            if (topic, partition) in self._assigned:
                try:
                    self._consumer.seek(TopicPartition(topic, partition, start))
                except KafkaException as exc:  # e.g. being revoked: its next owner starts at the committed offset
                    log.debug("rewinding %s[%d] to %d: %s", topic, partition, start, _kafka_text(exc))
        self.metrics.aborts += 1
        txn.reset()

    # -- the loop ----------------------------------------------------------------------
    def _connect(self) -> None:
        from confluent_kafka import Consumer, KafkaException, Producer

        bootstrap = self.producer_conf.get("bootstrap.servers", "?")
        try:
            self._producer = Producer(self.producer_conf)
        except (KafkaException, ValueError, TypeError) as exc:
            raise ConfigError(f"kafka: invalid producer settings: {_kafka_text(exc)}") from None
        found = metadata(self._producer, bootstrap, self.settings.startup_timeout, self._client_log)
        if self._fatal is not None:  # e.g. authentication failed
            raise self._fatal
        topics = {name for name, t in found.topics.items() if t.error is None}
        for route in self.config.routes:
            for topic in route.source_topics:
                if topic not in topics:
                    log.warning("route %s: source topic %r does not exist yet; it is read once it does", route.name, topic)
            create = route.create_topics if route.create_topics is not None else self.settings.create_topics
            for topic in (route.target_topic, route.dead_letter_topic):
                if topic is None or topic in topics:
                    continue
                if create:
                    partitions = -1 if topic != route.target_topic else next(
                        (len(found.topics[t].partitions) for t in route.source_topics if t in topics), -1)
                    self._create_topic(bootstrap, route.name, topic, partitions)
                    topics.add(topic)
                else:
                    log.warning("route %s: topic %r does not exist; producing to it relies on the broker's "
                                "auto-creation (or set create_topics = true)", route.name, topic)
        if self.exactly_once:
            try:
                self._producer.init_transactions(self.settings.startup_timeout)
            except KafkaException as exc:
                raise KafkaError(f"cannot initialise transactions (transactional.id "
                                 f"{self.producer_conf['transactional.id']!r}): {_kafka_text(exc)}") from None
        if self._pipeline is None:
            self._pipeline = Pipeline(self.config)
        self._pipeline.prepare()  # registry reachable, target schemas registered once
        try:
            self._consumer = Consumer(self.consumer_conf)
        except (KafkaException, ValueError, TypeError) as exc:
            raise ConfigError(f"kafka: invalid consumer settings: {_kafka_text(exc)}") from None
        self._consumer.subscribe(self._pipeline.topics, on_assign=self._on_assign, on_revoke=self._on_revoke,
                                 on_lost=self._on_lost)

    def _create_topic(self, bootstrap: str, route: str, topic: str, partitions: int) -> None:
        """create_topics: a missing target (as many partitions as the source) or dead-letter
        topic (the broker's default), with the broker's default replication factor."""
        from .topics import Admin

        admin = Admin(bootstrap, self.config.kafka, timeout=self.settings.startup_timeout, logger=_rdkafka_log)
        if admin.create(topic, partitions=partitions, exist_ok=True):
            log.info("route %s: created topic %r%s", route, topic,
                     f" ({partitions} partitions, as its source)" if partitions > 0 else "")

    def run(self) -> None:
        """Connect, then convert until stopped. Raises SerdeError on fatal errors (after
        committing what was delivered). Secrets of the config never appear in its log
        lines or in the error raised."""
        scrubber = _Scrub(self._secrets)
        loggers = (log, _rdkafka_log)
        for logger in loggers:
            logger.addFilter(scrubber)
        try:
            self._run()
        except SerdeError as exc:
            if self._secrets and scrub(str(exc), self._secrets) != str(exc):
                exc.reason = scrub(exc.reason, self._secrets)
                exc.location = scrub(exc.location, self._secrets) if exc.location else exc.location
            raise
        finally:
            for logger in loggers:
                logger.removeFilter(scrubber)

    def _run(self) -> None:
        log.info("gateway starting: routes %s; %s; kafka %s; registry %s",
                 ", ".join(r.name for r in self.config.routes), self.settings.delivery,
                 redact({k: v for k, v in self.consumer_conf.items() if k not in _CALLBACKS}),
                 redact_url(self.config.registry or "default"))
        if self.metrics_port is not None:
            self._server = MetricsServer(self.metrics, self.metrics_port, self.metrics_host, ready=self.is_ready).start()
        try:
            self._connect()
        except BaseException:
            self._close(commit=False)
            raise
        self.ready.set()
        log.info("gateway running: group %s, topics %s%s", self.consumer_conf["group.id"],
                 ", ".join(self._pipeline.topics),
                 f", transactional.id {self.producer_conf['transactional.id']}" if self.exactly_once else "")
        failure: BaseException | None = None
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - still deliver and commit what we can
            failure = self._translate(exc)
        try:
            # at-least-once commits only what was acknowledged, whatever the failure; a
            # transaction is committed unless Kafka itself failed (then it is aborted)
            self._close(commit=not (self.exactly_once and isinstance(failure, KafkaError)))
        except BaseException as exc:  # noqa: BLE001
            failure = failure or exc
        log.info("gateway stopped: %s", ", ".join(f"{k} {v}" for k, v in self.stats.items()))
        if failure is not None:
            raise failure

    def _loop(self) -> None:
        consumer, producer, metrics = self._consumer, self._producer, self.metrics
        settings = self.settings
        eos = self.exactly_once
        max_in_flight = settings.max_in_flight
        next_commit = time.monotonic() + settings.commit_interval
        next_status = time.monotonic() + settings.status_interval if settings.status_interval else float("inf")
        next_lag = time.monotonic() + 1.0
        status_snapshot = None
        stop = self._stop
        window = self._window
        # before a commit, wait this long for the records in flight to be acknowledged
        drain_timeout = min(settings.shutdown_timeout, max(1.0, settings.commit_interval))
        while not stop.is_set():
            if self._fatal is not None:
                raise self._fatal
            if eos:
                room = 500
            else:
                room = max_in_flight - len(producer)  # records not yet acknowledged
                if room <= 0:
                    producer.poll(0.05)
                    continue
            messages = consumer.consume(num_messages=min(room, 500), timeout=settings.poll_timeout)
            if messages:
                self._handle(messages)
            producer.poll(0)
            if not eos and window.count and not len(producer):
                window.settle()  # all acknowledged (a refused record was reported by the poll)
            now = time.monotonic()
            if now >= next_commit:
                if eos:
                    self._commit_transaction()
                else:
                    self._drain(drain_timeout)
                    self._commit()
                next_commit = time.monotonic() + settings.commit_interval
            if now >= next_lag:
                self._update_lag()
                next_lag = now + 1.0
            if now >= next_status:
                line, status_snapshot = metrics.status_line(status_snapshot)
                log.info("%s", line)
                next_status = now + settings.status_interval

    def _handle(self, messages: list[Any]) -> None:
        """Convert and produce one consumed batch, in order.

        Records without headers take the route's fast converters (bytes in, bytes out:
        no SourceRecord/OutputRecord, no per-record context objects); any record they
        cannot convert, and every record with headers, goes through :meth:`_process`,
        which applies the error policy, the transient-error retries and the dead letters.
        Offsets, counts and latencies are kept per batch and applied when it ends (also
        when it ends early: stopping, or a record that stops the gateway)."""
        from confluent_kafka import KafkaException

        pipeline, producer, stop = self._pipeline, self._producer, self._stop
        assert pipeline is not None
        eos = self.exactly_once
        txn = self._txn
        produce = producer.produce
        window = self._window
        if eos:
            out = txn.out
            stamps = txn.latencies
        else:
            out = window.out
            stamps = window.stamps
        consumed: dict[str, int] = {}
        ends: dict[tuple[str, int], int] = {}  # next offset to read, per partition produced from
        firsts: dict[tuple[str, int], int] = {}  # first offset produced, per partition
        produced = 0
        # consume() returns runs of records of one partition: the bookkeeping per partition
        # (offsets) and per topic (route, counts) happens when a run starts, not per record
        last_topic: str | None = None
        run_key: tuple[str, int] | None = None  # (topic, partition) of the current run
        run_partition = -1
        run_end = -1  # next offset to read after the run's records produced so far (-1: none yet)
        n_in = 0  # records of last_topic consumed, not yet in `consumed`
        n_fast = 0  # records produced by the fast converters to fast_out, not yet in `out`
        fast: Any = None
        kconv = vconv = None
        target = ""
        fast_out = ("", False)
        preserve = False
        is_stopping = stop.is_set
        try:
            for msg in messages:
                if msg.error() is not None:
                    self._message_error(msg.error())
                    continue
                topic = msg.topic()
                partition = msg.partition()
                offset = msg.offset()
                if partition != run_partition or topic != last_topic:
                    if run_end >= 0:
                        ends[run_key] = run_end  # type: ignore[index]
                        run_end = -1
                    if topic != last_topic:
                        if n_in:
                            consumed[last_topic] = consumed.get(last_topic, 0) + n_in  # type: ignore[index]
                            n_in = 0
                        if n_fast:
                            out[fast_out] = out.get(fast_out, 0) + n_fast
                            n_fast = 0
                        last_topic = topic
                        fast = pipeline.fast(topic)
                        if fast is not None:
                            route, kconv, vconv = fast
                            target = route.target_topic
                            fast_out = (target, False)
                            preserve = route.config.preserve_partition
                    run_partition = partition
                    run_key = (topic, partition)
                    if run_key not in firsts:
                        firsts[run_key] = offset
                n_in += 1
                ts_type, ts = msg.timestamp()
                if eos and not txn.open:
                    self._begin_transaction()
                headers = msg.headers()
                converted = False
                if fast is not None and headers is None:
                    try:
                        k = msg.key()
                        v = msg.value()
                        if kconv is not None:
                            k = kconv(k)
                        if vconv is not None:
                            v = vconv(v)
                        converted = True
                    except Exception:  # noqa: BLE001 - the full path says what it is
                        pass
                if converted:
                    # positional (topic, value, key, partition, callback, on_delivery, timestamp):
                    # produce() parses keywords by building a dict per call, ~0.5 us a record
                    try:
                        produce(target, v, k, partition if preserve else -1, None, None, ts if ts_type else 0)
                    except (BufferError, KafkaException) as exc:
                        self._produce_retry(exc, target, v, k, partition if preserve else -1, ts if ts_type else 0, None)
                    n_fast += 1
                else:
                    record = SourceRecord(topic, partition, offset, msg.key(), msg.value(), headers,
                                          ts if ts_type else None)
                    result = self._process(pipeline, record)
                    if result is None:  # stopping while the registry is away: not delivered, not committed
                        break
                    self._produce(result, offset)
                    kind = (result.topic, result.dead_letter)
                    out[kind] = out.get(kind, 0) + 1
                produced += 1
                run_end = offset + 1
                if ts_type:
                    stamps.append(ts)
                if is_stopping():
                    break  # the rest of the batch is read again by whoever comes next
        finally:
            if run_end >= 0:
                ends[run_key] = run_end  # type: ignore[index]
            if n_in:
                consumed[last_topic] = consumed.get(last_topic, 0) + n_in  # type: ignore[index]
            if n_fast:
                out[fast_out] = out.get(fast_out, 0) + n_fast
            metrics = self.metrics
            for topic, n in consumed.items():
                metrics.consumed(topic, n)
            if eos:
                starts = txn.starts
                for key, first in firsts.items():
                    if key in ends and key not in starts:
                        starts[key] = first
                txn.offsets.update(ends)
                txn.count += produced
            else:
                window_ends = window.ends
                for key, end in ends.items():
                    window_ends[key] = end - 1
                window.count += produced

    def _translate(self, exc: BaseException) -> BaseException:
        """confluent_kafka's KafkaException (raised by poll/consume on a fatal error) as a KafkaError."""
        from confluent_kafka import KafkaException

        if not isinstance(exc, KafkaException):
            return exc
        err = _kafka_error(exc)
        if err is not None and err.fatal():
            self._fatal = self._fatal or self._fatal_error(err)
            return self._fatal
        return KafkaError(f"Kafka: {_kafka_text(exc)}")

    def _update_lag(self) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        if not self._assigned:
            return
        consumer = self._consumer
        try:
            positions = consumer.position([TopicPartition(t, p) for t, p in self._assigned])
        except KafkaException:
            return
        for tp in positions:
            try:
                low, high = consumer.get_watermark_offsets(tp, cached=True)
            except KafkaException:
                continue
            if high < 0:
                continue
            position = tp.offset if tp.offset >= 0 else low
            if position < 0:
                continue
            self.metrics.lag[(tp.topic, tp.partition)] = max(0, high - position)

    def _message_error(self, err: Any) -> None:
        from confluent_kafka import KafkaError as CK

        if err.code() == CK._PARTITION_EOF:
            return
        if err.fatal():
            raise KafkaError(f"fatal Kafka consumer error: {err.str()}")
        if err.code() in (CK.UNKNOWN_TOPIC_OR_PART, CK._UNKNOWN_TOPIC):
            # a subscribed topic that does not exist yet: said once at start (and here once
            # per topic); it is picked up at the next metadata refresh after its creation
            text = err.str()
            missing = [t for t in self._pipeline.topics if f" {t}:" in text or text.endswith(f" {t}")] \
                if self._pipeline is not None else []
            for topic in missing or [text]:
                if topic in self._waiting_for:
                    continue
                self._waiting_for.add(topic)
                if missing:
                    log.info("waiting for source topic %s to be created", topic)
                else:
                    log.warning("kafka consumer: %s", text)
            return
        self._client_log.error(f"consumer: {err.str()}")

    def _process(self, pipeline: Pipeline, record: SourceRecord) -> OutputRecord | None:
        delay = 0.5
        while True:
            try:
                out = pipeline.process(record)
            except SerdeError as exc:
                if not is_transient(exc):
                    route = pipeline.route(record.topic).name
                    self.metrics.conversion_error(route, "FAIL", type(exc).__name__)
                    raise
                self.metrics.retries += 1
                log.warning("%s[%d]@%d: %s; retrying in %.1fs", record.topic, record.partition, record.offset, exc, delay)
            else:
                if out.error is not None:
                    self.metrics.conversion_error(out.route or "?", out.stage or "?", type(out.error).__name__)
                return out
            self._producer.poll(0)
            if self._stop.wait(delay):
                return None
            delay = min(delay * 2, 30.0)

    def _produce(self, out: OutputRecord, offset: int) -> None:
        from confluent_kafka import KafkaException

        if out.dead_letter:
            log.info("dead-lettered offset %d to %s: %s", offset, out.topic, out.error)
        partition = out.partition if out.partition is not None else -1
        timestamp = out.timestamp if out.timestamp is not None else 0
        try:
            self._producer.produce(out.topic, out.value, out.key, partition=partition, timestamp=timestamp,
                                   headers=out.headers or None)
        except (BufferError, KafkaException) as exc:
            self._produce_retry(exc, out.topic, out.value, out.key, partition, timestamp, out.headers or None)

    def _produce_retry(self, exc: BaseException, topic: str, value: Any, key: Any, partition: int,
                       timestamp: int, headers: Any) -> None:
        """After produce() raised: wait out a full local queue (serving delivery reports) and
        retry; a Kafka error becomes a KafkaError (fatal ones stop the gateway)."""
        from confluent_kafka import KafkaException

        producer = self._producer
        while True:
            if isinstance(exc, KafkaException):
                err = _kafka_error(exc)
                if err is not None and err.fatal():
                    self._fatal = self._fatal or self._fatal_error(err)
                    raise self._fatal from None
                raise KafkaError(f"cannot produce to {topic}: {_kafka_text(exc)}") from None
            producer.poll(0.1)  # the local queue is full: serve delivery reports, then retry
            try:
                producer.produce(topic, value, key, partition=partition, timestamp=timestamp, headers=headers)
                return
            except (BufferError, KafkaException) as again:
                exc = again

    def _close(self, *, commit: bool) -> None:
        try:
            if self._producer is not None and commit:
                if self.exactly_once:
                    if self._txn.open:
                        self._commit_transaction()
                elif not self._drain(self.settings.shutdown_timeout):
                    log.warning("%d records were not acknowledged within %.0fs; their offsets are not committed",
                                len(self._producer), self.settings.shutdown_timeout)
            elif self._producer is not None and self.exactly_once and self._txn.open and self._fatal is None:
                try:
                    self._abort_transaction("stopping after an error")
                except SerdeError as exc:
                    log.warning("%s", exc)
        finally:
            if self._consumer is not None:
                if commit and not self.exactly_once:
                    self._commit()
                try:
                    self._consumer.close()
                except Exception as exc:  # noqa: BLE001 - closing is best effort
                    log.warning("closing the consumer: %s", exc)
                self._consumer = None
            self._producer = None
            self.metrics.ready = False
            if self._server is not None:
                self._server.close()
                self._server = None


def run(config: GatewayConfig, *, install_signals: bool = True, metrics_port: int | None = None,
        metrics_host: str | None = None) -> dict[str, int]:
    """Run a gateway in this thread until SIGTERM/SIGINT; returns its counters.

    The first signal stops it gracefully (in-flight records delivered, offsets
    committed); a second SIGINT interrupts at once.
    """
    gateway = Gateway(config, metrics_port=metrics_port, metrics_host=metrics_host)
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
