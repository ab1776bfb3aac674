"""The asyncio twins: serde.AsyncSerializer / AsyncDeserializer.

Registry I/O must not block the event loop (a registry that answers slowly, and a ticker
task that must keep ticking), the bytes must be the sync serializer's, and the twins must
work with aiokafka and with confluent-kafka's asyncio producer and consumer against the
real broker the test session starts.
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import http.server
import json
import threading
import time
import uuid
from decimal import Decimal
from typing import Annotated, Optional

import httpx
import pytest
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

import serde
from serde.models import Precision

AVSC = json.dumps({
    "type": "record", "name": "Order", "namespace": "com.acme",
    "fields": [{"name": "id", "type": "long"}, {"name": "customer", "type": "string"},
               {"name": "total", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}}],
})
JSON_SCHEMA = json.dumps({
    "title": "Order", "type": "object", "additionalProperties": False, "required": ["id", "customer"],
    "properties": {"id": {"type": "integer"}, "customer": {"type": "string"}, "total": {"type": "string"}},
})
PROTO = 'syntax = "proto3";\npackage com.acme;\nmessage Order { int64 id = 1; string customer = 2; string total = 3; }\n'
RECORDS = {
    "avro": {"id": 1, "customer": "Ada", "total": Decimal("12.50")},
    "json": {"id": 1, "customer": "Ada", "total": "12.50"},
    "protobuf": {"id": 1, "customer": "Ada", "total": "12.50"},
}
SCHEMAS = {"avro": AVSC, "json": JSON_SCHEMA, "protobuf": PROTO}


@dataclasses.dataclass
class Payment:
    __serde_name__ = "com.acme.Payment"
    id: int
    at: dt.datetime
    amount: Annotated[Decimal, Precision(10, 2)]
    ref: uuid.UUID
    note: Optional[str] = None


PAYMENT = Payment(7, dt.datetime(2024, 5, 1, 8, 0, 11, 332000, tzinfo=dt.timezone.utc), Decimal("251.03"),
                  uuid.UUID("ffa9b9f1-5c14-4c4a-829e-07b0829a48d4"), "gift")


def ctx(topic: str, key: bool = False, headers=None) -> SerializationContext:
    return SerializationContext(topic, MessageField.KEY if key else MessageField.VALUE, headers)


def fresh(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- a registry that answers slowly ------------------------------------------------------


class SlowRegistry:
    """An HTTP proxy in front of a real registry that holds every request ``delay``
    seconds before forwarding it, and counts them."""

    def __init__(self, upstream: str, delay: float) -> None:
        self.upstream, self.delay, self.requests = upstream.rstrip("/"), delay, 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self) -> None:
                proxy.requests += 1
                time.sleep(proxy.delay)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")}
                answer = httpx.request(self.command, proxy.upstream + self.path, content=body, headers=headers)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "SlowRegistry":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class Ticker:
    """A task ticking every ``period`` seconds; ``max_gap`` is the longest the loop kept it waiting."""

    def __init__(self, period: float = 0.01) -> None:
        self.period, self.ticks, self.max_gap = period, 0, 0.0

    async def __aenter__(self) -> "Ticker":
        self._last = time.perf_counter()
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc) -> None:
        self.max_gap = max(self.max_gap, time.perf_counter() - self._last)  # a block just before the end
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass

    async def _run(self) -> None:
        self._last = time.perf_counter()
        while True:
            await asyncio.sleep(self.period)
            now = time.perf_counter()
            self.max_gap, self._last = max(self.max_gap, now - self._last), now
            self.ticks += 1


DELAY = 0.4


def test_registry_io_does_not_block_the_loop(serde_registry_url):
    topic = fresh()

    async def main(url: str) -> None:
        ser = serde.async_serializer("avro", AVSC, registry=url)
        de = serde.async_deserializer("avro", registry=url)
        async with Ticker() as ticker:
            started = time.perf_counter()
            data = await ser(RECORDS["avro"], ctx(topic))   # registers: slow requests
            assert time.perf_counter() - started >= DELAY
            value = await de(data, ctx(topic))              # fetches the writer schema: slow
        assert value == RECORDS["avro"]
        assert ticker.ticks >= 2 * DELAY / ticker.period * 0.5
        assert ticker.max_gap < DELAY / 2, ticker.max_gap

    with SlowRegistry(serde_registry_url, DELAY) as slow:
        asyncio.run(main(slow.url))
        assert slow.requests >= 2
        # cached afterwards: the next records do no registry I/O, on the loop
        before = slow.requests

        async def again() -> None:
            ser = serde.async_serializer("avro", AVSC, registry=slow.url)
            de = serde.async_deserializer("avro", registry=slow.url)
            for _ in range(3):
                await de(await ser(RECORDS["avro"], ctx(topic)), ctx(topic))
            assert await ser(RECORDS["avro"], ctx(topic)) == await ser(RECORDS["avro"], ctx(topic))

        asyncio.run(again())


def test_cache_hits_run_inline_without_the_registry(serde_registry_url):
    topic = fresh()

    async def main() -> None:
        ser = serde.async_serializer("avro", AVSC, registry=slow.url)
        de = serde.async_deserializer("avro", registry=slow.url)
        data = await ser(RECORDS["avro"], ctx(topic))
        await de(data, ctx(topic))
        requests = slow.requests
        async with Ticker() as ticker:
            started = time.perf_counter()
            for _ in range(200):
                assert await de(await ser(RECORDS["avro"], ctx(topic)), ctx(topic)) == RECORDS["avro"]
            assert time.perf_counter() - started < DELAY  # no thread hop, no registry round trip
        assert slow.requests == requests
        assert ticker.max_gap < DELAY

    with SlowRegistry(serde_registry_url, DELAY) as slow:
        asyncio.run(main())


def test_concurrent_first_records_of_two_topics_keep_the_loop_free(serde_registry_url):
    # one topic's registration holds the serializer's lock in a worker thread; the other
    # topic's first record must not wait for it on the loop
    async def main(url: str) -> None:
        ser = serde.async_serializer("json", JSON_SCHEMA, registry=url)
        async with Ticker() as ticker:
            out = await asyncio.gather(*(ser(RECORDS["json"], ctx(t)) for t in (fresh(), fresh(), fresh())))
        assert len(set(out)) == 1
        assert ticker.max_gap < DELAY / 2, ticker.max_gap

    with SlowRegistry(serde_registry_url, DELAY) as slow:
        asyncio.run(main(slow.url))


# -- the same bytes and values as the sync twins ----------------------------------------


@pytest.mark.parametrize("fmt", ["avro", "json", "protobuf"])
def test_bytes_equal_the_sync_serializer(serde_registry_url, fmt):
    topic = fresh(fmt)
    sync = serde.serializer(fmt, SCHEMAS[fmt], registry=serde_registry_url)
    expected = sync(RECORDS[fmt], ctx(topic))
    key_expected = sync(RECORDS[fmt], ctx(topic, key=True))

    async def main() -> None:
        ser = serde.async_serializer(fmt, SCHEMAS[fmt], registry=serde_registry_url)
        assert await ser(RECORDS[fmt], ctx(topic)) == expected
        assert await ser(RECORDS[fmt], ctx(topic, key=True)) == key_expected
        assert await ser.serialize_many([RECORDS[fmt], None], ctx(topic)) == [expected, None]
        assert await ser(None, ctx(topic)) is None
        assert await ser.prepare(topic) == int.from_bytes(expected[1:5], "big")
        assert await ser.subject(topic) == f"{topic}-value"
        de = serde.async_deserializer(fmt, serde_registry_url)
        assert await de(expected, ctx(topic)) == serde.deserializer(fmt, serde_registry_url)(expected, ctx(topic))
        assert await de.deserialize_many([expected, None], ctx(topic)) == [await de(expected, ctx(topic)), None]
        decoded = await de.decode_with_schema(expected, ctx(topic))
        assert decoded.schema.id == int.from_bytes(expected[1:5], "big")
        assert await de(None, ctx(topic)) is None

    asyncio.run(main())


@pytest.mark.parametrize("fmt", ["avro", "json", "protobuf"])
def test_models(serde_registry_url, fmt):
    topic = fresh(fmt)
    expected = serde.serializer(fmt, model=Payment, registry=serde_registry_url)(PAYMENT, ctx(topic))

    async def main() -> None:
        ser = serde.async_serializer(fmt, model=Payment, registry=serde_registry_url)
        assert await ser(PAYMENT, ctx(topic)) == expected
        back = await serde.async_deserializer(fmt, serde_registry_url, model=Payment)(expected, ctx(topic))
        assert back == PAYMENT and type(back) is Payment

    asyncio.run(main())


def test_header_schema_id_is_added_once(serde_registry_url):
    topic = fresh()

    async def main() -> None:
        ser = serde.async_serializer("avro", AVSC, registry=serde_registry_url, schema_id_serializer="header")
        headers: list = []
        payload = await ser(RECORDS["avro"], ctx(topic, headers=headers))  # first: in a thread
        assert [name for name, _ in headers] == ["__value_schema_id"]
        assert await serde.async_deserializer("avro", serde_registry_url)(payload, ctx(topic, headers=headers)) == RECORDS["avro"]

    asyncio.run(main())


def test_references_are_fetched_off_the_loop(serde_registry_url):
    # a schema with references: the sync constructor fetches them; under a running loop the
    # twin leaves that to its first call, in a worker thread
    address = json.dumps({"type": "record", "name": "Address", "namespace": "com.acme",
                          "fields": [{"name": "city", "type": "string"}]})
    person = json.dumps({"type": "record", "name": "Person", "namespace": "com.acme",
                         "fields": [{"name": "home", "type": "com.acme.Address"}]})
    serde.serializer("avro", address, registry=serde_registry_url).prepare("addresses")
    refs = [serde.SchemaReference("com.acme.Address", "addresses-value", 1)]
    topic = fresh()
    expected = serde.serializer("avro", person, registry=serde_registry_url, references=refs)({"home": {"city": "Oslo"}}, ctx(topic))

    async def main(url: str) -> None:
        async with Ticker() as ticker:
            ser = serde.async_serializer("avro", person, registry=url, references=refs)
            assert ser.schema is None  # not parsed yet: its references are not fetched
            assert await ser({"home": {"city": "Oslo"}}, ctx(topic)) == expected
            assert ser.schema is not None
        assert ticker.max_gap < DELAY / 2, ticker.max_gap

    with SlowRegistry(serde_registry_url, DELAY) as slow:
        asyncio.run(main(slow.url))
    # without a running loop, construction does it at once, as the sync one
    assert serde.async_serializer("avro", person, registry=serde_registry_url, references=refs).schema is not None


def test_errors_are_serde_and_confluent_errors(serde_registry_url):
    topic = fresh()

    async def main() -> None:
        ser = serde.async_serializer("avro", AVSC, registry=serde_registry_url)
        with pytest.raises(serde.RecordInvalid, match=r"\$\.customer") as first:  # first record: in a thread
            await ser({"id": 1, "customer": 5, "total": Decimal(1)}, ctx(topic))
        assert isinstance(first.value, SerializationError)
        await ser(RECORDS["avro"], ctx(topic))
        with pytest.raises(SerializationError):  # cached: inline
            await ser({"id": "x"}, ctx(topic))
        de = serde.async_deserializer("avro", serde_registry_url)
        with pytest.raises(serde.SchemaNotFound) as missing:
            await de(b"\x00\x00\x00\x03\xe7\x02", ctx(topic))
        assert isinstance(missing.value, SerializationError)
        with pytest.raises(serde.FramingError):
            await de(b"\x07garbage", ctx(topic))

    asyncio.run(main())
    with pytest.raises(serde.ConfigError):  # at construction, as the sync one
        serde.async_serializer("avro", registry=serde_registry_url)
    with pytest.raises(serde.ConfigError):
        serde.async_deserializer("avro", serde_registry_url, bogus=1)


def test_factories_show_the_sync_options():
    import inspect

    assert "model" in inspect.signature(serde.async_serializer).parameters
    assert "reader_schema" in inspect.signature(serde.async_deserializer).parameters
    assert isinstance(serde.async_serializer("avro", AVSC, registry="mock://async-sig"), serde.AsyncSerializer)
    assert isinstance(serde.async_deserializer("avro", "mock://async-sig"), serde.AsyncDeserializer)


# -- with Kafka clients -----------------------------------------------------------------


@pytest.mark.kafka
def test_aiokafka_round_trip(kafka_bootstrap, make_topic, serde_registry_url):
    aiokafka = pytest.importorskip("aiokafka")
    topic = make_topic(prefix="async-aiokafka")
    payments = [dataclasses.replace(PAYMENT, id=i, note=None if i % 2 else "n") for i in range(5)]

    async def main(url: str) -> list:
        ser = serde.async_serializer("avro", model=Payment, registry=url)
        key_ser = serde.async_serializer("json", {"type": "integer"}, registry=url)
        de = serde.async_deserializer("avro", url, model=Payment)
        key_de = serde.async_deserializer("json", url)
        producer = aiokafka.AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            async with Ticker() as ticker:
                for p in payments:
                    await producer.send_and_wait(topic, key=await key_ser(p.id, ctx(topic, key=True)),
                                                 value=await ser(p, ctx(topic)))
        finally:
            await producer.stop()
        assert ticker.max_gap < DELAY / 2, ticker.max_gap
        consumer = aiokafka.AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                                             group_id=f"g-{uuid.uuid4().hex[:8]}")
        await consumer.start()
        got: list = []
        try:
            deadline = time.monotonic() + 30
            while len(got) < len(payments) and time.monotonic() < deadline:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    for msg in batch:
                        got.append((await key_de(msg.key, ctx(topic, key=True)), await de(msg.value, ctx(topic))))
        finally:
            await consumer.stop()
        return got

    with SlowRegistry(serde_registry_url, 0.1) as slow:
        got = asyncio.run(main(slow.url))
    assert got == [(p.id, p) for p in payments]
    # the bytes on the wire are the sync serializer's
    assert serde.serializer("avro", model=Payment, registry=serde_registry_url)(payments[0], ctx(topic))[5:] \
        == serde.serializer("avro", model=Payment, registry="mock://async-aiokafka")(payments[0], ctx(topic))[5:]


@pytest.mark.kafka
def test_confluent_kafka_asyncio_producer_and_consumer(kafka_bootstrap, make_topic, serde_registry_url):
    aio = pytest.importorskip("confluent_kafka.aio")
    topic = make_topic(prefix="async-ckp")

    async def main(url: str) -> list:
        producer = await aio.AsyncSerializingProducer({
            "bootstrap.servers": kafka_bootstrap,
            "value.serializer": serde.async_serializer("avro", model=Payment, registry=url),
        })
        try:
            async with Ticker() as ticker:
                delivered = [await producer.produce(topic, value=dataclasses.replace(PAYMENT, id=i)) for i in range(3)]
                await producer.flush()
                for future in delivered:
                    assert (await future).error() is None
        finally:
            await producer.close()
        assert ticker.max_gap < DELAY / 2, ticker.max_gap
        consumer = await aio.AsyncDeserializingConsumer({
            "bootstrap.servers": kafka_bootstrap, "group.id": f"g-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "value.deserializer": serde.async_deserializer("avro", url, model=Payment),
        })
        got: list = []
        try:
            await consumer.subscribe([topic])
            deadline = time.monotonic() + 30
            while len(got) < 3 and time.monotonic() < deadline:
                msg = await consumer.poll(0.5)
                if msg is not None and msg.error() is None:
                    got.append(msg.value())
        finally:
            await consumer.close()
        return got

    with SlowRegistry(serde_registry_url, 0.1) as slow:
        got = asyncio.run(main(slow.url))
    assert got == [dataclasses.replace(PAYMENT, id=i) for i in range(3)]
