"""The gateway against a real broker: route kinds, dead letters, schema evolution,
shutdown and at-least-once under SIGKILL."""
from __future__ import annotations

import datetime as dt
import decimal
import json
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest

import serde
from serde.registry import EmbeddedRegistry

from .helpers import (
    ORDER_AVSC,
    committed,
    gateway_thread,
    headers_of,
    kafka_toml,
    kill,
    numbers_route,
    produce,
    read_all,
    read_topic,
    start_process,
    wait_for_log,
    write_config,
)

pytestmark = pytest.mark.kafka

UTC = dt.timezone.utc


@pytest.fixture
def registry_path(tmp_path: Path) -> str:
    return str(tmp_path / "registry.db")


@pytest.fixture
def registry(registry_path: str):
    with EmbeddedRegistry(registry_path) as reg:
        yield reg


def _ctx(topic: str, field: str = "value"):
    from confluent_kafka.serialization import MessageField, SerializationContext

    return SerializationContext(topic, MessageField.VALUE if field == "value" else MessageField.KEY)


def _has_format(name: str) -> bool:
    try:
        serde.get_format(name)
        return True
    except serde.FormatUnavailable:
        return False


def test_avro_to_json_keys_headers_timestamps_tombstones(tmp_path, kafka_bootstrap, make_topic, registry, registry_path):
    src, dst, dlq = make_topic(prefix="a2j-src"), make_topic(prefix="a2j-dst"), make_topic(prefix="a2j-dlq")
    config = write_config(tmp_path, kafka_toml(kafka_bootstrap, registry_path) + f"""
[[routes]]
name = "avro-to-json"
dead_letter_topic = "{dlq}"
[routes.source]
topic = "{src}"
key = {{ format = "binary", type = "string" }}
value = {{ format = "avro" }}
[routes.target]
topic = "{dst}"
key = {{ format = "avro", schema = '"string"' }}
value = {{ format = "json", derive = true }}
""")
    ser = serde.serializer("avro", ORDER_AVSC, registry)
    order = {"id": "o1", "qty": 2, "price": decimal.Decimal("12.50"), "placed": dt.datetime(2024, 5, 1, 12, tzinfo=UTC)}
    framed = ser(order, _ctx(src))
    produce(kafka_bootstrap, src, [
        # header framing: the schema id travels in __value_schema_id, the value is the bare payload
        (b"k1", framed[5:], [("trace", b"t-1"), ("__value_schema_id", framed[:5])]),
        (b"k2", None),  # a tombstone
    ], timestamp=1_700_000_000_000)
    with gateway_thread(config):
        out = read_topic(kafka_bootstrap, dst, 2)
    assert len(out) == 2
    first, tomb = out
    decode_json = serde.deserializer("json", registry)
    as_json = decode_json(first.value(), _ctx(dst))
    placed = dt.datetime.fromisoformat(as_json.pop("placed").replace("Z", "+00:00"))  # "Z" or "+00:00"
    assert as_json == {"id": "o1", "qty": 2, "price": "12.50"}
    assert placed == dt.datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert serde.deserializer("avro", registry)(first.key(), _ctx(dst, "key")) == "k1"
    assert headers_of(first) == {"trace": b"t-1"}  # the source's schema-id header is dropped
    assert first.value()[0] == 0  # the target is framed in the value
    assert first.timestamp()[1] == 1_700_000_000_000
    assert tomb.value() is None and tomb.timestamp()[1] == 1_700_000_000_000
    assert sorted(registry.client.get_subjects()) == sorted([f"{src}-value", f"{dst}-key", f"{dst}-value"])
    assert read_topic(kafka_bootstrap, dlq, 0, timeout=0.5) == []


def test_json_to_avro_dead_letters_with_connect_headers(tmp_path, kafka_bootstrap, make_topic, registry, registry_path):
    src, dst, dlq = make_topic(prefix="j2a-src"), make_topic(prefix="j2a-dst"), make_topic(prefix="j2a-dlq")
    json_schema = json.dumps({"type": "object", "title": "Order", "properties": {
        "id": {"type": "string"}, "qty": {"type": "integer"}, "price": {"type": "string"},
        "placed": {"type": "string"}}, "required": ["id", "qty", "price", "placed"]})
    (tmp_path / "order.avsc").write_text(ORDER_AVSC)
    group = f"g-{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path, kafka_toml(kafka_bootstrap, registry_path, group=group) + f"""
[[routes]]
name = "json-to-avro"
dead_letter_topic = "{dlq}"
[routes.source]
topics = ["{src}"]
value = {{ format = "json" }}
[routes.target]
topic = "{dst}"
value = {{ format = "avro", schema_file = "order.avsc" }}
""")
    ser = serde.serializer("json", json_schema, registry)
    good = {"id": "o1", "qty": 3, "price": "9.99", "placed": "2024-01-02T03:04:05Z"}
    bad_price = {"id": "o2", "qty": 1, "price": "abc", "placed": "2024-01-02T03:04:05Z"}
    produce(kafka_bootstrap, src, [
        (b"k1", ser(good, _ctx(src))),
        (b"k2", ser(bad_price, _ctx(src)), [("trace", b"t-2")]),
        (b"k3", b"not a frame", [("trace", b"t-3")]),
        (b"k4", ser(dict(good, id="o4"), _ctx(src))),
    ], timestamp=1_600_000_000_000)
    with gateway_thread(config) as gw:
        out = read_topic(kafka_bootstrap, dst, 2)
        dead = read_topic(kafka_bootstrap, dlq, 2)
        deadline = time.monotonic() + 10
        while committed(kafka_bootstrap, group, src) != [4] and time.monotonic() < deadline:
            time.sleep(0.2)
    assert gw.stats["produced"] == 2 and gw.stats["dead_lettered"] == 2
    decode = serde.deserializer("avro", registry)
    values = [decode(m.value(), _ctx(dst)) for m in out]
    assert [v["id"] for v in values] == ["o1", "o4"]
    assert values[0]["price"] == decimal.Decimal("9.99")
    assert values[0]["placed"] == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)

    by_key = {m.key(): m for m in dead}
    assert set(by_key) == {b"k2", b"k3"}
    coerce_fail, frame_fail = by_key[b"k2"], by_key[b"k3"]
    assert frame_fail.value() == b"not a frame"  # the original bytes
    assert frame_fail.timestamp()[1] == 1_600_000_000_000
    h = headers_of(frame_fail)
    assert h["trace"] == b"t-3"
    assert h["__connect.errors.topic"] == src.encode()
    assert h["__connect.errors.partition"] == b"0"
    assert h["__connect.errors.offset"] == b"2"
    assert h["__connect.errors.stage"] == b"VALUE_CONVERTER"
    assert h["__connect.errors.class.name"] == b"serde.formats.jsonschema.JsonFormat"
    assert h["__connect.errors.exception.class.name"] == b"serde.FramingError"
    assert b"magic byte" in h["__connect.errors.exception.message"]
    h2 = headers_of(coerce_fail)
    assert h2["__connect.errors.offset"] == b"1"
    assert h2["__connect.errors.stage"] == b"TRANSFORMATION"
    assert h2["__connect.errors.exception.class.name"] == b"serde.RecordInvalid"
    assert b"price" in h2["__connect.errors.exception.message"]
    assert committed(kafka_bootstrap, group, src) == [4]


def test_fail_policy_stops_before_the_bad_record(tmp_path, kafka_bootstrap, make_topic, registry, registry_path):
    src, dst = make_topic(prefix="fail-src"), make_topic(prefix="fail-dst")
    group = f"g-{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path, kafka_toml(kafka_bootstrap, registry_path, group=group) + f"""
[[routes]]
name = "strict"
errors = "fail"
[routes.source]
topic = "{src}"
value = {{ format = "binary", type = "string" }}
[routes.target]
topic = "{dst}"
value = {{ format = "binary", type = "int" }}
""")
    produce(kafka_bootstrap, src, [(None, b"1"), (None, b"2"), (None, b"x"), (None, b"4")])
    from serde.gateway import Gateway, load_config

    with pytest.raises(serde.SerdeError) as info:
        Gateway(load_config(config)).run()  # returns only by failing on the bad record
    assert f"{src}[0]@2" in str(info.value)
    assert [int.from_bytes(m.value(), "big") for m in read_topic(kafka_bootstrap, dst, 2)] == [1, 2]
    assert committed(kafka_bootstrap, group, src) == [2]


def test_csv_to_avro_with_binary_keys(tmp_path, kafka_bootstrap, make_topic, registry, registry_path):
    if not _has_format("csv"):
        pytest.skip("csv format not available")
    src, dst, dlq = make_topic(prefix="c2a-src"), make_topic(prefix="c2a-dst"), make_topic(prefix="c2a-dlq")
    (tmp_path / "order.avsc").write_text(ORDER_AVSC)
    config = write_config(tmp_path, kafka_toml(kafka_bootstrap, registry_path) + f"""
[[routes]]
name = "csv-to-avro"
dead_letter_topic = "{dlq}"
[routes.source]
topic = "{src}"
key = {{ format = "binary", type = "int" }}
value = {{ format = "csv", schema_file = "order.avsc", schema_type = "AVRO" }}
[routes.target]
topic = "{dst}"
key = {{ format = "binary", type = "long" }}
value = {{ format = "avro", derive = true }}
""")
    produce(kafka_bootstrap, src, [
        ((7).to_bytes(4, "big"), b"o7,2,3.50,2024-03-04T05:06:07Z"),
        ((8).to_bytes(4, "big"), b"o8,not-a-number,1.00,2024-03-04T05:06:07Z"),
        ((9).to_bytes(4, "big"), b"o9,1,1.00,2024-03-04T05:06:07.250Z"),
    ])
    with gateway_thread(config):
        out = read_topic(kafka_bootstrap, dst, 2)
        dead = read_topic(kafka_bootstrap, dlq, 1)
    decode = serde.deserializer("avro", registry)
    assert [m.key() for m in out] == [(7).to_bytes(8, "big"), (9).to_bytes(8, "big")]
    first = decode(out[0].value(), _ctx(dst))
    assert first == {"id": "o7", "qty": 2, "price": decimal.Decimal("3.50"), "placed": dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)}
    assert [m.key() for m in dead] == [(8).to_bytes(4, "big")]
    assert headers_of(dead[0])["__connect.errors.stage"] == b"VALUE_CONVERTER"
    assert b"qty" in headers_of(dead[0])["__connect.errors.exception.message"]


ORDER_PROTO = """syntax = "proto3";
package shop;
message Order {
  string id = 1;
  int32 qty = 2;
  string note = 3;
}
"""


def test_protobuf_to_json_and_json_to_protobuf(tmp_path, kafka_bootstrap, make_topic, registry, registry_path):
    if not _has_format("protobuf"):
        pytest.skip("protobuf format not available")
    pb_src, js_dst = make_topic(prefix="p2j-src"), make_topic(prefix="p2j-dst")
    js_src, pb_dst = make_topic(prefix="j2p-src"), make_topic(prefix="j2p-dst")
    dlq = make_topic(prefix="pb-dlq")
    (tmp_path / "order.proto").write_text(ORDER_PROTO)
    config = write_config(tmp_path, kafka_toml(kafka_bootstrap, registry_path) + f"""
[[routes]]
name = "protobuf-to-json"
dead_letter_topic = "{dlq}"
[routes.source]
topic = "{pb_src}"
value = {{ format = "protobuf" }}
[routes.target]
topic = "{js_dst}"
value = {{ format = "json", derive = true }}

[[routes]]
name = "json-to-protobuf"
dead_letter_topic = "{dlq}"
[routes.source]
topic = "{js_src}"
value = {{ format = "json" }}
[routes.target]
topic = "{pb_dst}"
value = {{ format = "protobuf", schema_file = "order.proto" }}
""")
    pb = serde.serializer("protobuf", ORDER_PROTO, registry)
    js = serde.serializer("json", json.dumps({"type": "object", "properties": {
        "id": {"type": "string"}, "qty": {"type": "integer"}, "note": {"type": "string"}}}), registry)
    produce(kafka_bootstrap, pb_src, [(b"p1", pb({"id": "p1", "qty": 4, "note": "n"}, _ctx(pb_src)))])
    produce(kafka_bootstrap, js_src, [(b"j1", js({"id": "j1", "qty": 5, "note": "m"}, _ctx(js_src)))])
    with gateway_thread(config):
        as_json = read_topic(kafka_bootstrap, js_dst, 1)
        as_pb = read_topic(kafka_bootstrap, pb_dst, 1)
    assert serde.deserializer("json", registry)(as_json[0].value(), _ctx(js_dst)) == {"id": "p1", "qty": 4, "note": "n"}
    assert serde.deserializer("protobuf", registry)(as_pb[0].value(), _ctx(pb_dst)) == {"id": "j1", "qty": 5, "note": "m"}


def test_schema_evolution_mid_stream(tmp_path, kafka_bootstrap, make_topic, registry, registry_path):
    src, dst, dlq = make_topic(prefix="evo-src"), make_topic(prefix="evo-dst"), make_topic(prefix="evo-dlq")
    v1 = json.dumps({"type": "record", "name": "Item", "fields": [
        {"name": "id", "type": "string"}, {"name": "qty", "type": "int"}]})
    v2 = json.dumps({"type": "record", "name": "Item", "fields": [
        {"name": "id", "type": "string"}, {"name": "qty", "type": "long"},
        {"name": "note", "type": ["null", "string"], "default": None}]})
    config = write_config(tmp_path, kafka_toml(kafka_bootstrap, registry_path) + f"""
[[routes]]
name = "evolving"
dead_letter_topic = "{dlq}"
[routes.source]
topic = "{src}"
value = {{ format = "avro" }}
[routes.target]
topic = "{dst}"
value = {{ format = "avro", schema = '{v1}' }}
""")
    ser1 = serde.serializer("avro", v1, registry)
    produce(kafka_bootstrap, src, [(b"a", ser1({"id": "a", "qty": 1}, _ctx(src)))])
    with gateway_thread(config) as gw:
        assert len(read_topic(kafka_bootstrap, dst, 1, exact=False)) == 1
        ser2 = serde.serializer("avro", v2, registry)  # a new writer schema id, gateway running
        produce(kafka_bootstrap, src, [
            (b"b", ser2({"id": "b", "qty": 2, "note": "new"}, _ctx(src))),
            (b"c", ser2({"id": "c", "qty": 2**40, "note": None}, _ctx(src))),  # too big for the target's int
            (b"d", ser1({"id": "d", "qty": 4}, _ctx(src))),
        ])
        out = read_topic(kafka_bootstrap, dst, 3)
        dead = read_topic(kafka_bootstrap, dlq, 1)
    assert gw.stats["produced"] == 3
    decode = serde.deserializer("avro", registry)
    assert [decode(m.value(), _ctx(dst)) for m in out] == [{"id": "a", "qty": 1}, {"id": "b", "qty": 2}, {"id": "d", "qty": 4}]
    assert len({m.value()[:5] for m in out}) == 1  # one target schema id throughout
    assert registry.client.get_versions(f"{dst}-value") == [1]  # registered once
    assert [m.key() for m in dead] == [b"c"]
    assert b"qty" in headers_of(dead[0])["__connect.errors.exception.message"]
    assert len(registry.client.get_versions(f"{src}-value")) == 2


def _binary_route(tmp_path, bootstrap, registry_path, src, dst, dlq, group):
    return write_config(tmp_path, kafka_toml(bootstrap, registry_path, group=group, extra="max_in_flight = 50")
                        + numbers_route(src, dst, dlq))


def test_graceful_shutdown_on_sigterm(tmp_path, kafka_bootstrap, make_topic, registry_path):
    src, dst, dlq = make_topic(prefix="term-src"), make_topic(prefix="term-dst"), make_topic(prefix="term-dlq")
    group = f"g-{uuid.uuid4().hex[:8]}"
    config = _binary_route(tmp_path, kafka_bootstrap, registry_path, src, dst, dlq, group)
    produce(kafka_bootstrap, src, [(f"k{i}".encode(), str(i).encode()) for i in range(20)])
    log = tmp_path / "gateway.log"
    proc = start_process(config, log)
    try:
        wait_for_log(log, "gateway running", proc)
        assert len(read_topic(kafka_bootstrap, dst, 20, exact=False)) == 20
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, log.read_text()
    finally:
        kill(proc)
    text = log.read_text()
    assert "received SIGTERM" in text and "gateway stopped" in text
    assert committed(kafka_bootstrap, group, src) == [20]


def test_sigkill_mid_stream_then_restart_loses_nothing(tmp_path, kafka_bootstrap, make_topic, registry_path):
    src, dst, dlq = make_topic(2, prefix="kill-src"), make_topic(2, prefix="kill-dst"), make_topic(prefix="kill-dlq")
    group = f"g-{uuid.uuid4().hex[:8]}"
    config = _binary_route(tmp_path, kafka_bootstrap, registry_path, src, dst, dlq, group)
    total = 600
    keys = [f"k{i}".encode() for i in range(total)]
    # every 50th record is not a number: it must end up in the dead-letter topic
    records = [(k, (b"bad" if i % 50 == 7 else str(i).encode())) for i, k in enumerate(keys)]
    log = tmp_path / "gateway.log"
    proc = start_process(config, log)
    stop_feeding = threading.Event()

    def feed() -> None:  # records keep arriving while the gateway runs and dies
        for start in range(0, total, 30):
            produce(kafka_bootstrap, src, records[start:start + 30])
            if stop_feeding.wait(0.05):
                return

    feeder = threading.Thread(target=feed)
    try:
        wait_for_log(log, "assigned", proc)
        feeder.start()
        deadline = time.monotonic() + 20
        while len(read_topic(kafka_bootstrap, dst, 100, timeout=0.5, exact=False)) < 100 and time.monotonic() < deadline:
            pass
        kill(proc)
        proc.wait(10)
        feeder.join(30)
        restarted = start_process(config, tmp_path / "gateway2.log")
        try:
            deadline = time.monotonic() + 40
            seen: set[bytes] = set()
            while time.monotonic() < deadline:
                seen = {m.key() for m in read_all(kafka_bootstrap, dst)} | {m.key() for m in read_all(kafka_bootstrap, dlq)}
                if seen >= set(keys):
                    break
                time.sleep(0.5)
            assert set(keys) - seen == set(), f"{len(set(keys) - seen)} records lost"
            restarted.send_signal(signal.SIGTERM)
            assert restarted.wait(20) == 0
        finally:
            kill(restarted)
    finally:
        stop_feeding.set()
        kill(proc)
    dead = read_all(kafka_bootstrap, dlq)
    assert {m.key() for m in dead} == {k for i, k in enumerate(keys) if i % 50 == 7}
    assert committed(kafka_bootstrap, group, src, 2) != [-1001, -1001]
