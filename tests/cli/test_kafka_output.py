"""What `serde produce` and `serde consume` print, against an in-memory stand-in for the
broker (the real-broker tests are in tests/gateway/test_cli.py)."""
import json
import struct
from pathlib import Path

import confluent_kafka
import pytest
from click.testing import CliRunner

from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
ORDERS = ROOT / "schemas" / "examples" / "orders.ndjson"
ORDER_AVSC = ROOT / "schemas" / "avro" / "order.avsc"


class _Partition:
    error = None

    def __init__(self):
        self.partitions = {0: object()}


class _Metadata:
    def __init__(self, topic):
        self.topics = {topic: _Partition()}


class _Eof:
    def code(self):
        return confluent_kafka.KafkaError._PARTITION_EOF

    def fatal(self):
        return False


class _Message:
    def __init__(self, topic, offset, key, value, headers=None, timestamp=1714550411332, error=None):
        self._topic, self._offset, self._key, self._value = topic, offset, key, value
        self._headers, self._timestamp, self._error = headers, timestamp, error

    def error(self):
        return self._error

    def topic(self):
        return self._topic

    def partition(self):
        return 0

    def offset(self):
        return self._offset

    def key(self):
        return self._key

    def value(self):
        return self._value

    def headers(self):
        return self._headers

    def timestamp(self):
        return (confluent_kafka.TIMESTAMP_CREATE_TIME, self._timestamp)


class FakeBroker:
    """One topic, one partition: what producers write, consumers read."""

    def __init__(self):
        self.messages: list[_Message] = []

    def producer(self, settings):
        broker = self

        class Producer:
            def __init__(self):
                self.pending = []

            def list_topics(self, topic, timeout=None):
                return _Metadata(topic)

            def produce(self, topic, value=None, key=None, headers=None, on_delivery=None):
                broker.messages.append(_Message(topic, len(broker.messages), key, value, headers))
                self.pending.append(on_delivery)

            def poll(self, timeout=0):
                for callback in self.pending:
                    callback(None, None)
                self.pending.clear()
                return 0

            def flush(self, timeout=None):
                self.poll()
                return 0

        return Producer()

    def consumer(self, settings):
        broker = self

        class Consumer:
            def __init__(self):
                self.queue = []

            def list_topics(self, topic, timeout=None):
                return _Metadata(topic)

            def assign(self, partitions):
                self.queue = list(broker.messages) + [_Message(partitions[0].topic, -1, None, None, error=_Eof())]

            def poll(self, timeout=None):
                return self.queue.pop(0) if self.queue else None

            def close(self):
                pass

        return Consumer()


@pytest.fixture
def broker(monkeypatch):
    fake = FakeBroker()
    monkeypatch.setattr(confluent_kafka, "Producer", fake.producer)
    monkeypatch.setattr(confluent_kafka, "Consumer", fake.consumer)
    return fake


def run(*args, input=None):
    return CliRunner().invoke(cli, list(map(str, args)), input=input, catch_exceptions=False)


def test_consume_prints_keys_with_their_format_timestamps_as_convert_and_schema_ids_as_numbers(broker, tmp_path):
    registry = tmp_path / "r.db"
    produced = run("produce", "orders", "-i", ORDERS, "--format", "avro", "--schema", ORDER_AVSC,
                   "--key-field", "order_id", "--key-format", "binary", "--key-type", "long", "--registry", registry)
    assert produced.exit_code == 0, produced.stderr
    count = len(ORDERS.read_text().splitlines())
    assert f"produced {count} records to orders" in produced.stderr
    assert broker.messages[0].key() == struct.pack(">q", 100001)

    result = run("consume", "orders", "--from-beginning", "--show", "key,timestamp,schema", "--key-type", "long",
                 "--registry", registry)
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == count
    first = lines[0]
    assert first["key"] == 100001
    assert first["schema"] == 1 and isinstance(first["schema"], int)
    assert first["timestamp"] == "2024-05-01T08:00:11.332000Z"
    # values print as `serde convert` prints the same records
    converted = tmp_path / "orders.avro"
    assert run("convert", ORDERS, converted, "--to-schema", ORDER_AVSC, "-q").exit_code == 0
    expected = run("convert", converted, "-", "--to", "json", "-q").stdout.splitlines()[0]
    assert first["value"] == json.loads(expected)
    assert first["value"]["created_at"].endswith("Z")


def test_consume_says_one_record_not_one_records(broker, tmp_path):
    broker.messages.append(_Message("t", 0, None, b"\x00\x00\x00\x00\x07garbage"))
    result = run("consume", "t", "--from-beginning", "--format", "avro", "--registry", tmp_path / "r.db")
    assert result.exit_code == 1
    assert "1 record could not be decoded (printed 0)" in result.stderr


def test_produce_stopping_at_a_bad_line_says_what_was_already_sent(broker, tmp_path):
    lines = ORDERS.read_text().splitlines()[:3]
    bad = json.loads(lines[2])
    bad["items"][0]["qty"] = "lots"
    source = tmp_path / "in.ndjson"
    source.write_text("\n".join([lines[0], lines[1], json.dumps(bad), lines[0]]) + "\n")
    result = run("produce", "orders", "-i", source, "--format", "avro", "--schema", ORDER_AVSC,
                 "--registry", tmp_path / "r.db")
    assert result.exit_code == 1
    assert "line 3: $.items[0].qty: cannot use 'lots' as a 32-bit integer" in result.stderr
    assert "the 2 records before it (up to line 2) were sent to orders; nothing after it was" in result.stderr
    assert len(broker.messages) == 2


@pytest.mark.parametrize("content,reason", [
    (b'{"order_id": 1}\n{"order_id": "caf\xe9"}\n', "line 2: not UTF-8 text (byte 0xe9"),
    (b'{"order_id": 1}\nnot json\n', "line 2: not JSON"),
])
def test_produce_input_errors_say_what_was_sent(broker, tmp_path, content, reason):
    schema = tmp_path / "s.avsc"
    schema.write_text(json.dumps({"type": "record", "name": "S", "fields": [{"name": "order_id", "type": "long"}]}))
    source = tmp_path / "in.ndjson"
    source.write_bytes(content)
    result = run("produce", "t", "-i", source, "--format", "avro", "--schema", schema, "--registry", tmp_path / "r.db")
    assert result.exit_code == 1
    assert reason in result.stderr
    assert "the 1 record before it (up to line 1) was sent to t" in result.stderr


def test_produce_first_line_bad_says_nothing_was_sent(broker, tmp_path):
    result = run("produce", "t", "--format", "binary", "--type", "long", input="1x\n")
    assert result.exit_code == 1
    assert "no records were sent to t" in result.stderr


def test_produce_reads_the_csv_that_convert_writes(broker, tmp_path):
    csv_file = tmp_path / "orders.csv"
    assert run("convert", ORDERS, csv_file, "--to-schema", ORDER_AVSC, "-q").exit_code == 0
    registry = tmp_path / "r.db"
    result = run("produce", "orders", "-i", csv_file, "--format", "avro", "--schema", ORDER_AVSC, "--registry", registry)
    assert result.exit_code == 0, result.stderr
    consumed = run("consume", "orders", "--from-beginning", "--registry", registry)
    values = [json.loads(line) for line in consumed.stdout.splitlines()]
    original = [json.loads(line) for line in ORDERS.read_text().splitlines()]
    assert [v["shipping_address"] for v in values] == [o["shipping_address"] for o in original]
    assert [v["order_id"] for v in values] == [o["order_id"] for o in original]


def test_produce_one_record_grammar_and_empty_csv(broker, tmp_path):
    result = run("produce", "t", "--format", "binary", "--type", "long", input="1\n")
    assert result.exit_code == 0 and "produced 1 record to t" in result.stderr
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = run("produce", "t", "-i", empty, "--format", "binary", "--type", "string")
    assert result.exit_code == 1 and "no header row" in result.stderr
