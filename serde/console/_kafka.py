"""Kafka for the console: topic listing, paged reading newest first, and producing.

Pages are read with ``assign()`` at explicit offsets (no consumer group, so no join
delay): for each partition the watermarks bound the range, ``offsets_for_times`` turns a
timestamp into an offset, and at most one page of records is read per partition. The
cursor of the next (older) page is the offset each partition stopped at, so browsing a
topic of any size costs one page per request. This module is the console's one place
where confluent_kafka errors become :class:`serde.KafkaError`.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .._errors import ConfigError, KafkaError

__all__ = ["Browser", "Page", "Position", "Raw"]

TIMEOUT = 10.0  # seconds for metadata, watermarks and one page
MAX_SCAN = 5000  # records examined per page when a filter drops some
MAX_PAGE_BYTES = 64 * 1024 * 1024  # keys and values read at once (a page, or one step of a filtered scan)


@dataclass
class Raw:
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]


@dataclass
class Position:
    """Where the next older page of one partition ends (exclusive) and how low it may go."""

    partition: int
    low: int
    end: int


@dataclass
class Page:
    records: list[Any]
    cursor: dict[int, int]  # partition -> end of the next older page; empty: no older records
    scanned: int = 0
    partitions: dict[int, tuple[int, int]] = field(default_factory=dict)  # partition -> (low, high)


def _text(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    text = getattr(arg, "str", None)
    return text() if callable(text) else str(arg)


class Browser:
    """One cluster's consumers (a small pool, each used by one request at a time) and producer."""

    def __init__(self, settings: dict[str, Any], pool: int = 2) -> None:
        self.settings = dict(settings)
        self._pool: queue.Queue[Any] = queue.Queue()
        self._size = pool
        self._made = 0
        self._lock = threading.Lock()
        self._producer: Any = None
        self._admin: Any = None

    # -- clients ------------------------------------------------------------------------
    def _consumer(self) -> Any:
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._made < self._size:
                self._made += 1
                from confluent_kafka import Consumer

                try:
                    return Consumer({
                        **self.settings,
                        "group.id": "serde-console",  # never joined: assign() only
                        "enable.auto.commit": False,
                        "enable.partition.eof": True,
                        "auto.offset.reset": "earliest",
                        "fetch.wait.max.ms": 10,  # a re-assign waits for the fetch in flight
                    })
                except Exception as exc:  # noqa: BLE001 - bad settings
                    self._made -= 1
                    raise KafkaError(f"cannot create a Kafka consumer: {_text(exc)}") from exc
        try:
            return self._pool.get(timeout=TIMEOUT * 3)
        except queue.Empty:
            raise KafkaError(f"all {self._size} Kafka consumers of the console are busy; try again") from None

    def _release(self, consumer: Any) -> None:
        try:
            consumer.unassign()
        except Exception:  # noqa: BLE001 - a broken consumer is replaced
            consumer.close()
            with self._lock:
                self._made -= 1
            return
        self._pool.put(consumer)

    def admin(self) -> Any:
        if self._admin is None:
            from confluent_kafka.admin import AdminClient

            try:
                self._admin = AdminClient(dict(self.settings))
            except Exception as exc:  # noqa: BLE001
                raise KafkaError(f"cannot create a Kafka admin client: {_text(exc)}") from exc
        return self._admin

    def close(self) -> None:
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                break
        if self._producer is not None:
            self._producer.flush(5)

    # -- metadata -----------------------------------------------------------------------
    def topics(self) -> dict[str, int]:
        """Topic name -> partition count (internal topics left out)."""
        try:
            meta = self.admin().list_topics(timeout=TIMEOUT)
        except Exception as exc:  # noqa: BLE001
            raise KafkaError(f"cannot list topics at {self.settings.get('bootstrap.servers')}: {_text(exc)}") from exc
        return {name: len(t.partitions) for name, t in sorted(meta.topics.items()) if not name.startswith("__")}

    def counts(self, topics: dict[str, int]) -> dict[str, int]:
        """Topic -> records it holds (the sum over partitions of high - low watermark), from
        two ListOffsets requests for all their partitions."""
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import OffsetSpec

        parts = [TopicPartition(t, p) for t, n in topics.items() for p in range(n)]
        if not parts:
            return {}
        try:
            sent = [self.admin().list_offsets({tp: spec for tp in parts}, request_timeout=TIMEOUT)
                    for spec in (OffsetSpec.earliest(), OffsetSpec.latest())]
            low, high = ({(tp.topic, tp.partition): f.result().offset for tp, f in futures.items()} for futures in sent)
        except Exception as exc:  # noqa: BLE001
            raise KafkaError(f"cannot read the offsets of the topics: {_text(exc)}") from exc
        out = dict.fromkeys(topics, 0)
        for key, end in high.items():
            out[key[0]] += max(0, end - low.get(key, end))
        return out

    def partitions(self, topic: str) -> list[int]:
        """The topic's partitions. DescribeTopics, not a Metadata request naming the topic:
        a broker with auto.create.topics.enable would create a topic someone only looked at."""
        from confluent_kafka import KafkaError as CKError, KafkaException, TopicCollection

        try:
            futures = self.admin().describe_topics(TopicCollection([topic]), request_timeout=TIMEOUT)
            description = futures[topic].result()
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if getattr(error, "code", lambda: None)() == CKError.UNKNOWN_TOPIC_OR_PART:
                raise KafkaError(f"topic {topic!r} does not exist") from exc
            raise KafkaError(f"cannot describe topic {topic!r}: {_text(exc)}") from exc
        except Exception as exc:  # noqa: BLE001
            raise KafkaError(f"cannot describe topic {topic!r}: {_text(exc)}") from exc
        return sorted(p.id for p in description.partitions)

    # -- reading ------------------------------------------------------------------------
    def _offsets(self, topic: str, requests: list[dict[int, Any]], what: str) -> list[dict[int, int]]:
        """ListOffsets for all partitions, the requests sent together and then awaited: each
        maps a partition to "earliest", "latest" or a timestamp in epoch milliseconds."""
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import OffsetSpec

        def spec(value: Any) -> Any:
            if value == "earliest":
                return OffsetSpec.earliest()
            if value == "latest":
                return OffsetSpec.latest()
            return OffsetSpec.for_timestamp(int(value))

        try:
            sent = [self.admin().list_offsets({TopicPartition(topic, p): spec(v) for p, v in specs.items()},
                                              request_timeout=TIMEOUT) for specs in requests]
            return [{tp.partition: future.result().offset for tp, future in futures.items()} for futures in sent]
        except Exception as exc:  # noqa: BLE001 - KafkaException from the futures
            raise KafkaError(f"cannot read the offsets {what} of {topic!r}: {_text(exc)}") from exc

    def watermarks(self, topic: str, partitions: list[int]) -> dict[int, tuple[int, int]]:
        """Partition -> (low, high) watermarks."""
        lows, highs = self._offsets(topic, [{p: "earliest" for p in partitions}, {p: "latest" for p in partitions}],
                                    "(watermarks)")
        return {p: (lows[p], highs[p]) for p in partitions}

    def page(
        self,
        topic: str,
        partitions: list[int],
        page_size: int,
        *,
        cursor: dict[int, int] | None = None,
        from_offset: int | None = None,
        to_offset: int | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        keep: Callable[[Raw], Any] = lambda raw: raw,
        max_scan: int = MAX_SCAN,
    ) -> Page:
        """The newest ``page_size`` records of ``partitions`` below ``cursor`` (or the
        high watermarks), within the offset and time bounds, newest first (by timestamp).
        ``keep`` turns a record into what the page holds, or None to drop it (a filter);
        then older records are read, in pages, until the page is full or ``max_scan``
        records were examined."""
        from confluent_kafka import TopicPartition

        consumer = self._consumer()
        try:
            positions: list[Position] = []
            bounds = self.watermarks(topic, partitions)
            for p in partitions:
                low, high = bounds[p]
                end = high
                if cursor is not None:  # a partition missing from the cursor has no older records
                    end = min(high, cursor[p]) if p in cursor else low
                if to_offset is not None:
                    end = min(end, to_offset + 1)
                start = low if from_offset is None else max(low, from_offset)
                positions.append(Position(p, start, end))
            for when, is_end in ((since_ms, False), (until_ms, True)):
                if when is None:
                    continue
                found = self._offsets(topic, [{pos.partition: when for pos in positions}], "by time")[0]
                for pos in positions:
                    offset = found[pos.partition]
                    offset = offset if offset >= 0 else bounds[pos.partition][1]  # -1: none that late
                    if is_end:
                        pos.end = min(pos.end, offset)
                    else:
                        pos.low = max(pos.low, offset)
            kept: list[tuple[Raw, Any]] = []
            scanned = 0
            while len(kept) < page_size and scanned < max_scan:
                batch_starts = {pos.partition: max(pos.low, pos.end - page_size) for pos in positions if pos.end > pos.low}
                if not batch_starts:
                    break
                batch = self._read(consumer, topic, {p: (s, next(x.end for x in positions if x.partition == p))
                                                     for p, s in batch_starts.items()})
                scanned += len(batch)
                batch.sort(key=lambda r: (r.timestamp, r.offset), reverse=True)
                room = page_size - len(kept)
                taken: list[tuple[Raw, Any]] = []
                left: dict[int, list[int]] = {}  # partition -> offsets not examined (the page filled up)
                for index, raw in enumerate(batch):
                    if len(taken) == room:
                        for rest in batch[index:]:
                            left.setdefault(rest.partition, []).append(rest.offset)
                        break
                    item = keep(raw)
                    if item is not None:
                        taken.append((raw, item))
                for pos in positions:
                    if pos.partition in batch_starts:  # resume above the records left for the next page
                        rest = left.get(pos.partition)
                        pos.end = max(rest) + 1 if rest else batch_starts[pos.partition]
                kept.extend(taken)
                if left:
                    break
            kept.sort(key=lambda pair: (pair[0].timestamp, pair[0].offset), reverse=True)
            next_cursor = {pos.partition: pos.end for pos in positions if pos.end > pos.low}
            return Page([item for _, item in kept], next_cursor, scanned, bounds)
        finally:
            self._release(consumer)

    def _read(self, consumer: Any, topic: str, ranges: dict[int, tuple[int, int]]) -> list[Raw]:
        """Records [start, end) of each partition."""
        from confluent_kafka import KafkaError as CKError, TopicPartition

        consumer.assign([TopicPartition(topic, p, start) for p, (start, _) in ranges.items()])
        pending = {p for p, (start, end) in ranges.items() if end > start}
        following = {p: start for p, (start, _) in ranges.items()}  # the next offset expected
        out: list[Raw] = []
        size = 0
        deadline = time.monotonic() + TIMEOUT
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise KafkaError(f"timed out reading {topic!r} (partitions {sorted(pending)})")
            # consume() waits until it has this many or the timeout passes: ask for what is
            # still missing, no more (gaps, e.g. compacted offsets, cost one timeout)
            missing = sum(ranges[p][1] - following[p] for p in pending)
            for msg in consumer.consume(num_messages=max(1, min(missing, 1000)), timeout=min(left, 0.5)):
                p = msg.partition()
                err = msg.error()
                if err is not None:
                    if err.code() == CKError._PARTITION_EOF:
                        pending.discard(p)
                        continue
                    raise KafkaError(f"cannot read {topic!r}: {err.str()}")
                if p not in pending:
                    continue
                offset = msg.offset()
                start, end = ranges[p]
                if offset >= end:
                    pending.discard(p)
                    continue
                if offset < start:
                    continue
                following[p] = offset + 1
                key, value = msg.key(), msg.value()
                size += len(key or b"") + len(value or b"")
                if size > MAX_PAGE_BYTES:
                    raise ConfigError(f"the records of this page are over {MAX_PAGE_BYTES // (1024 * 1024)} MiB: "
                                      "ask for a smaller page_size, or one partition")
                out.append(Raw(p, offset, msg.timestamp()[1], key, value, list(msg.headers() or [])))
                if offset + 1 >= end:
                    pending.discard(p)
        return out

    def fetch(self, topic: str, wanted: list[tuple[int, int]]) -> list[Raw]:
        """The records at these (partition, offset) pairs, in the order asked; an offset
        that is gone (or never was) is left out. Close offsets are read in one run, far
        ones separately, so a few picks never read what lies between them."""
        runs: list[tuple[int, int, int]] = []  # partition, start, end
        for p, o in sorted(set(wanted)):
            if runs and runs[-1][0] == p and o - runs[-1][2] <= 500:
                runs[-1] = (p, runs[-1][1], o + 1)
            else:
                runs.append((p, o, o + 1))
        bounds = self.watermarks(topic, sorted({p for p, _ in wanted})) if wanted else {}
        consumer = self._consumer()
        found: dict[tuple[int, int], Raw] = {}
        try:
            for p, start, end in runs:
                low, high = bounds[p]
                start, end = max(start, low), min(end, high)
                if end > start:
                    for raw in self._read(consumer, topic, {p: (start, end)}):
                        found[(raw.partition, raw.offset)] = raw
        finally:
            self._release(consumer)
        return [found[key] for key in wanted if key in found]

    # -- producing ------------------------------------------------------------------------
    def produce(self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]],
                partition: int | None = None) -> tuple[int, int]:
        """Produce one record and wait for it: (partition, offset)."""
        if self._producer is None:
            from confluent_kafka import Producer

            with self._lock:
                if self._producer is None:
                    try:
                        self._producer = Producer({"enable.idempotence": True, **self.settings})  # the config may say otherwise
                    except Exception as exc:  # noqa: BLE001
                        raise KafkaError(f"cannot create a Kafka producer: {_text(exc)}") from exc
        result: dict[str, Any] = {}

        def delivered(err: Any, msg: Any) -> None:
            result["err"], result["msg"] = err, msg

        kwargs: dict[str, Any] = {"key": key, "value": value, "headers": headers, "on_delivery": delivered}
        if partition is not None:
            kwargs["partition"] = partition
        try:
            self._producer.produce(topic, **kwargs)
        except Exception as exc:  # noqa: BLE001 - BufferError, KafkaException
            raise KafkaError(f"cannot produce to {topic!r}: {_text(exc)}") from exc
        deadline = time.monotonic() + TIMEOUT
        while "msg" not in result and time.monotonic() < deadline:
            self._producer.poll(0.1)
        if "msg" not in result:
            raise KafkaError(f"no delivery report from {topic!r} within {TIMEOUT:.0f} s")
        if result["err"] is not None:
            raise KafkaError(f"the broker refused the record: {result['err'].str()}")
        return result["msg"].partition(), result["msg"].offset()


def iter_cursor(text: str | None) -> dict[int, int] | None:
    """``"0:120,1:98"`` -> {0: 120, 1: 98}; None when absent. Raises ValueError."""
    if not text:
        return None
    out: dict[int, int] = {}
    for part in text.split(",")[:10_000]:
        p, _, o = part.partition(":")
        out[int(p)] = int(o)
    return out


def cursor_text(cursor: dict[int, int]) -> str:
    return ",".join(f"{p}:{o}" for p, o in sorted(cursor.items()))

