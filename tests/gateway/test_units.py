"""Kafka-free parts of the gateway: config validation, the offset tracker, the pipeline."""
from __future__ import annotations

import json

import pytest

import serde
from serde.gateway import PartitionTracker, Pipeline, SourceRecord, parse_config
from serde.gateway.config import redact
from serde.registry import EmbeddedRegistry


def _config(route_overrides: dict | None = None, **top):
    route = {"name": "r", "dead_letter_topic": "dlq",
             "source": {"topic": "in", "value": {"format": "binary", "type": "string"}},
             "target": {"topic": "out", "value": {"format": "binary", "type": "long"}}}
    route.update(route_overrides or {})
    data = {"kafka": {"bootstrap.servers": "b:9092"}, "routes": [route]}
    data.update(top)
    return data


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["kafka"].clear(), 'kafka."bootstrap.servers": missing'),
    (lambda d: d["routes"][0].pop("dead_letter_topic"), "routes[r].dead_letter_topic: missing"),
    (lambda d: d["routes"][0].update(errors="skip"), "routes[r].errors: expected one of dead-letter, fail"),
    (lambda d: d["routes"][0]["target"]["value"].update(format="xml"), "routes[r].target.value.format: unknown format 'xml'"),
    (lambda d: d["routes"][0]["target"]["value"].update(type="text"), "routes[r].target.value.type: expected one of"),
    (lambda d: d["routes"][0]["target"].update(value={"format": "avro"}), "routes[r].target.value.schema: missing"),
    (lambda d: d["routes"][0]["source"].update(value={"format": "csv"}), "routes[r].source.value.schema: missing"),
    (lambda d: d["routes"][0]["source"].update(value={"format": "avro", "schema": "{}"}), "routes[r].source.value.schema: a avro source"),
    (lambda d: d["routes"][0]["source"].pop("value"), "routes[r].source.value: missing"),
    (lambda d: d["routes"][0]["target"].update(topic="in"), "source topic 'in' is also its target"),
    (lambda d: d.update(gateway={"max_in_flight": 0}), "gateway.max_in_flight: expected a positive number"),
    (lambda d: d.update(gateway={"grop": "x"}), "gateway.grop: unknown key (did you mean 'group'?)"),
    (lambda d: d.update(registry={"url": "ftp://x"}), "registry.url: expected an http(s)://"),
    (lambda d: d.update(gateway={"delivery": "twice"}), "gateway.delivery: expected one of at-least-once, exactly-once"),
    (lambda d: d["routes"][0].update(delivery="once"), "routes[r].delivery: expected one of"),
    (lambda d: (d.update(gateway={"delivery": "at-least-once"}), d["routes"][0].update(delivery="exactly-once")),
     "routes: delivery = 'exactly-once' contradicts gateway.delivery"),
    (lambda d: d.update(gateway={"metrics_port": 70000}), "gateway.metrics_port: expected a TCP port number"),
    (lambda d: d.update(gateway={"status_interval": -1}), "gateway.status_interval: expected a number of seconds"),
    (lambda d: d["routes"][0]["target"]["value"].update(schema_file="nope.avsc", type=None), "routes[r].target.value.schema_file: cannot read"),
])
def test_config_errors_name_the_key(mutate, message):
    data = _config()
    mutate(data)
    with pytest.raises(serde.ConfigError) as info:
        parse_config(data)
    assert message in str(info.value)


def test_config_env_substitution_and_redaction():
    data = _config()
    data["kafka"]["sasl.password"] = "${GW_SECRET}"
    config = parse_config(data, environ={"GW_SECRET": "s3cret"})
    assert config.kafka["sasl.password"] == "s3cret"
    assert "s3cret" not in repr(config)
    assert redact({"ssl.key.password": "x", "bootstrap.servers": "b"}) == {"ssl.key.password": "***", "bootstrap.servers": "b"}
    with pytest.raises(serde.ConfigError, match=r"kafka.sasl.password: environment variable \$\{GW_SECRET\} is not set"):
        parse_config(data, environ={})


def test_example_config_is_valid():
    from pathlib import Path

    from serde.gateway import load_config

    config = load_config(Path(__file__).resolve().parents[2] / "schemas" / "gateway" / "orders.toml")
    assert [r.name for r in config.routes] == ["orders-csv-to-avro", "orders-avro-to-json"]


def test_tracker_commits_only_the_acknowledged_prefix():
    tracker = PartitionTracker()
    for offset in (10, 11, 13, 14):  # gaps happen (compaction, transaction markers)
        tracker.add(offset)
    tracker.ack(11)
    assert tracker.committable is None
    tracker.ack(13)
    tracker.ack(10)
    assert tracker.committable == 14  # 10, 11, 13 delivered; 14 still in flight
    tracker.ack(14)
    assert tracker.committable == 15 and len(tracker) == 0


def test_pipeline_dead_letter_and_fail_policies(tmp_path):
    data = _config()
    pipeline = Pipeline(parse_config(data))
    pipeline.prepare()
    good = pipeline.process(SourceRecord("in", 0, 1, b"k", b"42", [("h", b"v")], 123))
    assert (good.topic, good.key, good.value, good.headers, good.timestamp) == ("out", b"k", (42).to_bytes(8, "big"), [("h", b"v")], 123)
    bad = pipeline.process(SourceRecord("in", 3, 9, b"k", b"x", [("h", b"v")], 123))
    assert bad.dead_letter and bad.topic == "dlq" and bad.value == b"x" and bad.timestamp == 123
    headers = dict(bad.headers)
    assert headers["h"] == b"v" and headers["__connect.errors.partition"] == b"3" and headers["__connect.errors.offset"] == b"9"
    assert pipeline.process(SourceRecord("in", 0, 2, b"k", None)).value is None  # tombstone

    data["routes"][0]["errors"] = "fail"
    strict = Pipeline(parse_config(data))
    with pytest.raises(serde.RecordInvalid, match=r"in\[3\]@9 \(TRANSFORMATION\)"):
        strict.process(SourceRecord("in", 3, 9, None, b"x"))


def test_transient_registry_errors_are_raised_not_dead_lettered(tmp_path, monkeypatch):
    path = str(tmp_path / "r.db")
    avsc = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]})
    data = _config({"source": {"topic": "in", "value": {"format": "avro"}},
                    "target": {"topic": "out", "value": {"format": "json", "derive": True}}}, registry={"path": path})
    with EmbeddedRegistry(path) as registry:
        framed = serde.serializer("avro", avsc, registry)({"a": 1}, type("C", (), {"topic": "in", "field": "value"})())
    pipeline = Pipeline(parse_config(data))
    pipeline.prepare()
    out = pipeline.process(SourceRecord("in", 0, 0, None, framed))
    assert json.loads(out.value[5:]) == {"a": 1}

    def down(*args, **kwargs):
        raise serde.RegistryError("no answer")

    route = pipeline.route("in")
    deserializer = route._value_source._deserializer
    monkeypatch.setattr(deserializer, "_by_id", {})
    monkeypatch.setattr(deserializer._registry, "_by_id", {})
    monkeypatch.setattr(deserializer._registry, "call", down)
    with pytest.raises(serde.RegistryError):
        pipeline.process(SourceRecord("in", 0, 1, None, framed))


def test_delivery_from_a_route_and_transactional_id():
    from serde.gateway import Gateway

    config = parse_config(_config({"delivery": "exactly-once"}, gateway={"group": "g", "instance_id": "n1"}))
    assert config.settings.exactly_once
    gateway = Gateway(config)
    assert gateway.producer_conf["transactional.id"] == "g-n1"
    assert gateway.consumer_conf["isolation.level"] == "read_committed"
    assert gateway.consumer_conf["partition.assignment.strategy"] == "cooperative-sticky"
    plain = Gateway(parse_config(_config()))
    assert "transactional.id" not in plain.producer_conf
    with pytest.raises(serde.ConfigError, match="isolation.level"):
        Gateway(parse_config(_config({"delivery": "exactly-once"},
                                     kafka={"bootstrap.servers": "b", "isolation.level": "read_uncommitted"})))


def test_secrets_are_scrubbed_from_text():
    from serde.gateway.config import scrub, secret_values

    data = _config(registry={"url": "https://u:url-pw@reg:8081", "basic.auth.user.info": "bob:reg-pw"})
    data["kafka"]["sasl.password"] = "kafka-pw"
    config = parse_config(data)
    secrets = secret_values(config)
    text = scrub("failed: kafka-pw reg-pw bob:reg-pw https://u:url-pw@reg:8081/subjects", secrets)
    assert "kafka-pw" not in text and "reg-pw" not in text and "url-pw" not in text
    assert "https://***@reg:8081/subjects" in text
    assert "url-pw" not in repr(config)


def test_fast_converters_match_process_and_raise_for_the_full_path(tmp_path):
    """The gateway's header-less fast path gives the bytes process() gives; what it cannot
    convert raises, so the loop hands that record to process() (dead letter, policy)."""
    path = str(tmp_path / "r.db")
    avsc = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"},
                                                                 {"name": "b", "type": ["null", "string"]}]})
    data = _config({"source": {"topic": "in", "value": {"format": "avro"}},
                    "target": {"topic": "out", "value": {"format": "json", "derive": True}}}, registry={"path": path})
    with EmbeddedRegistry(path) as registry:
        ser = serde.serializer("avro", avsc, registry)
        from confluent_kafka.serialization import MessageField, SerializationContext

        good = ser({"a": 1, "b": "x"}, SerializationContext("in", MessageField.VALUE))
    pipeline = Pipeline(parse_config(data))
    pipeline.prepare()
    route, kconv, vconv = pipeline.fast("in")
    assert route.target_topic == "out" and kconv is None  # keys pass through
    first = vconv(good)  # the writer schema is fetched (the slow frame path)
    full = pipeline.process(SourceRecord("in", 0, 0, b"k", good))
    assert first == vconv(good) == full.value and vconv(None) is None  # then the inlined frame path
    bad = good[:5] + b"\xff"
    with pytest.raises(Exception):
        vconv(bad)  # truncated: process() dead-letters it
    assert pipeline.process(SourceRecord("in", 0, 1, None, bad)).dead_letter
    assert pipeline.fast("nope") is None

    binary = Pipeline(parse_config(_config()))
    binary.prepare()
    _, _, convert = binary.fast("in")
    assert convert(b"42") == binary.process(SourceRecord("in", 0, 0, None, b"42")).value == (42).to_bytes(8, "big")
    with pytest.raises(Exception):
        convert(b"x")


@pytest.mark.skipif(not __import__("serde.gateway._transcode", fromlist=["x"]).available(), reason="serde.gateway._speedups not built")
class _CountingSpeedups:
    """serde.gateway._speedups with a count of the records each transcoder answered."""

    def __init__(self, real):
        self.answered = {"avro_to_json": 0, "csv_to_avro": 0}
        for name in self.answered:
            setattr(self, name, self._counting(name, getattr(real, name)))

    def _counting(self, name, function):
        def call(*args):
            out = function(*args)
            self.answered[name] += out is not None
            return out

        return call


@pytest.fixture()
def counting_speedups(monkeypatch):
    from serde.gateway import _transcode

    counting = _CountingSpeedups(_transcode._speedups)
    monkeypatch.setattr(_transcode, "_speedups", counting)
    return counting


def test_c_transcoders_give_what_process_gives_on_both_hot_routes(tmp_path, counting_speedups):
    """Avro -> derived JSON and CSV -> Avro go bytes to bytes in C after the first record of
    a writer schema; every record, also those the transcoder leaves to Python, converts to
    exactly what process() gives."""
    import datetime as dt
    import decimal
    import uuid

    from confluent_kafka.serialization import MessageField, SerializationContext

    path = str(tmp_path / "r.db")
    avsc = json.dumps({"type": "record", "name": "R", "fields": [
        {"name": "a", "type": "long"}, {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
        {"name": "w", "type": "double"}, {"name": "b", "type": ["null", "string"]}]})
    with EmbeddedRegistry(path) as registry:
        ser = serde.serializer("avro", avsc, registry)
        ctx = SerializationContext("in", MessageField.VALUE)
        values = [ser({"a": i, "at": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=i * 7),
                       "id": uuid.UUID(int=i), "price": decimal.Decimal(i).scaleb(-2), "w": 1e-5 if i % 3 == 0 else i / 4,
                       "b": None if i % 2 else f"é{i}\n"}, ctx) for i in range(60)]
    pipeline = Pipeline(parse_config(_config({"source": {"topic": "in", "value": {"format": "avro"}},
                                              "target": {"topic": "out", "value": {"format": "json", "derive": True}}},
                                             registry={"path": path})))
    pipeline.prepare()
    route, _, vconv = pipeline.fast("in")
    for offset, value in enumerate(values):  # 1e-05 is written "0.00001" by orjson: the Python path
        assert vconv(value) == pipeline.process(SourceRecord("in", 0, offset, None, value)).value
    target = route._value_target
    assert [e.native is not None for e in target._derived.values()] == [True]
    # the fast converter's records after the first (which fetches the writer schema; its w
    # is 1e-05 anyway) but the 20 whose w is 1e-05 (written "0.00001" by orjson, an exponent
    # form in C, so left to Python); process() is always the Python path
    assert counting_speedups.answered["avro_to_json"] == 40

    csv_schema = tmp_path / "row.avsc"
    csv_schema.write_text(avsc)
    pipeline = Pipeline(parse_config(_config({
        "source": {"topic": "in", "value": {"format": "csv", "schema_file": str(csv_schema), "schema_type": "AVRO"}},
        "target": {"topic": "out2", "value": {"format": "avro", "schema_file": str(csv_schema)}}}, registry={"path": path})))
    pipeline.prepare()
    route, _, vconv = pipeline.fast("in")
    rows = [b"1,2024-01-01T00:00:00.007Z,00000000-0000-0000-0000-000000000001,0.01,0.25,x",
            b'2,2024-01-01T00:00:00Z,00000000-0000-0000-0000-000000000002,12.30,1e-5,""',
            b"3,2024-01-01 00:00:00Z,00000000-0000-0000-0000-000000000003,12.3,+7,",  # Python-path forms
            b"4,1704067200000,00000000000000000000000000000004,5.00,NaN,y\r\n"]
    for offset, row in enumerate(rows):
        assert vconv(row) == pipeline.process(SourceRecord("in", 0, offset, None, row)).value
    assert route._value_target._fixed.native is not None
    assert counting_speedups.answered["csv_to_avro"] == 2  # rows 1 and 2; 3 and 4 are Python-path forms
    with pytest.raises(Exception):
        vconv(b"5,not a time,x,1,2,")  # refused by both paths: process() dead-letters it
    assert pipeline.process(SourceRecord("in", 0, 9, None, b"5,not a time,x,1,2,")).dead_letter


@pytest.mark.skipif(not __import__("serde.gateway._transcode", fromlist=["x"]).available(), reason="serde.gateway._speedups not built")
def test_a_csv_source_with_a_derived_json_target_is_not_read_as_avro(tmp_path, counting_speedups):
    """A CSV source typed by an Avro schema derives its JSON target from "AVRO" text, but
    its records are CSV rows: the Avro -> JSON transcoder must not touch them (it read the
    row b"123452" from its sixth byte as Avro and wrote {"v":25})."""
    schema = tmp_path / "v.avsc"
    schema.write_text(json.dumps({"type": "record", "name": "V", "fields": [{"name": "v", "type": "long"}]}))
    pipeline = Pipeline(parse_config(_config({
        "source": {"topic": "in", "value": {"format": "csv", "schema_file": str(schema), "schema_type": "AVRO"}},
        "target": {"topic": "out", "value": {"format": "json", "derive": True}}}, registry={"path": str(tmp_path / "r.db")})))
    pipeline.prepare()
    _, _, vconv = pipeline.fast("in")
    for offset, row in enumerate([b"123452", b"7", b"-1\r\n"]):
        expected = pipeline.process(SourceRecord("in", 0, offset, None, row)).value
        assert vconv(row) == expected
        assert json.loads(expected[5:]) == {"v": int(row)}
    assert counting_speedups.answered == {"avro_to_json": 0, "csv_to_avro": 0}


def test_metrics_latencies_match_one_by_one():
    from serde.gateway.metrics import Metrics

    one, many = Metrics(), Metrics()
    now = 1_000_000.0
    stamps = [int(now * 1000) - ms for ms in (3, 30, 700, 4000, -50)]
    for stamp in stamps:
        one.latency(now - stamp / 1000.0)
    many.latencies(now, stamps)
    assert many._buckets == one._buckets and many.latency_count == one.latency_count == 5
    assert many.latency_sum == pytest.approx(one.latency_sum) and many.latency_max == one.latency_max


def test_window_acknowledges_its_offsets_only_when_every_record_is_delivered():
    from types import SimpleNamespace

    from serde.gateway.kafka import _Window
    from serde.gateway.metrics import Metrics

    class Err:
        def str(self) -> str:
            return "refused"

    msg = SimpleNamespace(topic=lambda: "out")
    gateway = SimpleNamespace(metrics=Metrics(), _fatal=None, _trackers={})
    window = _Window(gateway)
    window.ends[("in", 0)] = 7
    window.out[("out", False)] = 3
    window.count = 3
    assert gateway._trackers == {}  # nothing is committable until the producer is empty
    window.settle()  # the producer is empty and reported no refusal: all three acknowledged
    tracker = gateway._trackers[("in", 0)]
    assert tracker.committable == 8 and gateway.metrics.records_out == {"out": 3}

    window.ends[("in", 1)] = 9
    window.out[("out", False)] = 2
    window.count = 2
    window.refused(Err(), msg)
    window.settle()
    assert ("in", 1) not in gateway._trackers  # never committed past a record the broker refused
    assert gateway.metrics.records_out == {"out": 4}
    assert isinstance(gateway._fatal, serde.KafkaError) and "in[1]@9 to out: refused" in str(gateway._fatal)
    window.ends[("in", 1)] = 12  # nor past it with a later window
    window.ends[("in", 0)] = 9
    window.count = 2
    window.settle()
    assert ("in", 1) not in gateway._trackers and tracker.committable == 8
