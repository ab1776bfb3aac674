"""``serde produce`` / ``serde consume`` round trips for every format, reading what
confluent-kafka's serializer wrote, and the gateway's exit codes at start."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import serde
from cli.main import cli
from serde.registry import EmbeddedRegistry

from .helpers import ROOT, SERDE, kafka_toml, write_config

AVSC = json.dumps({"type": "record", "name": "Order", "namespace": "shop", "fields": [
    {"name": "id", "type": "string"}, {"name": "qty", "type": "int"},
    {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
    {"name": "placed", "type": {"type": "long", "logicalType": "timestamp-millis"}}]})
JSON_SCHEMA = json.dumps({"type": "object", "title": "Order", "properties": {
    "id": {"type": "string"}, "qty": {"type": "integer"}, "price": {"type": "string"},
    "placed": {"type": "string"}}, "required": ["id", "qty"]})
PROTO = 'syntax = "proto3";\npackage shop;\nmessage Order {\n  string id = 1;\n  int32 qty = 2;\n  string price = 3;\n  string placed = 4;\n}\n'
RECORDS = [
    {"id": "o1", "qty": 1, "price": "1.50", "placed": "2024-01-02T03:04:05Z"},
    {"id": "o2", "qty": 2, "price": "20.00", "placed": "2024-02-03T04:05:06Z"},
]


def _run(args: list[str], input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def registry_path(tmp_path: Path) -> str:
    return str(tmp_path / "registry.db")


@pytest.mark.kafka
@pytest.mark.parametrize("fmt, schema", [("avro", AVSC), ("json", JSON_SCHEMA), ("protobuf", PROTO), ("csv", AVSC)])
def test_produce_consume_round_trip(fmt, schema, tmp_path, kafka_bootstrap, make_topic, registry_path):
    try:
        serde.get_format(fmt)
    except serde.FormatUnavailable:
        pytest.skip(f"{fmt} format not available")
    topic = make_topic(prefix=f"cli-{fmt}")
    schema_file = tmp_path / "schema.txt"
    schema_file.write_text(schema)
    common = ["--bootstrap", kafka_bootstrap, "--registry", registry_path]
    ndjson = "".join(json.dumps(r) + "\n" for r in RECORDS)
    extra = ["--schema-type", "AVRO"] if fmt == "csv" else []
    code, _, err = _run(["produce", topic, "--format", fmt, "--schema", str(schema_file), "--key-field", "id",
                         "--header", "source=cli", *extra, *common], input=ndjson)
    assert code == 0, err
    assert "produced 2 records" in err
    consume = ["consume", topic, "--from-beginning", "-n", "2", "--show", "key,headers,partition,offset", *common]
    if fmt == "csv":
        consume += ["--format", "csv", "--schema", str(schema_file), *extra]
    code, out, err = _run(consume)
    assert code == 0, err
    lines = _lines(out)
    assert [line["key"] for line in lines] == ["o1", "o2"]
    assert [line["offset"] for line in lines] == [0, 1]
    assert lines[0]["partition"] == 0 and lines[0]["headers"] == {"source": "cli"}
    # typed formats (avro, csv) print their decimals and timestamps back as the same text
    assert [line["value"] for line in lines] == RECORDS


@pytest.mark.kafka
def test_produce_consume_binary_and_tombstones(tmp_path, kafka_bootstrap, make_topic, registry_path):
    topic = make_topic(prefix="cli-binary")
    common = ["--bootstrap", kafka_bootstrap, "--registry", registry_path]
    lines = '{"key": 1, "value": 42}\n{"key": 2, "value": null}\n'
    code, _, err = _run(["produce", topic, "--format", "binary", "--type", "long", "--envelope",
                         "--key-format", "binary", "--key-type", "int", *common], input=lines)
    assert code == 0, err
    code, out, err = _run(["consume", topic, "--from-beginning", "--format", "binary", "--type", "long",
                           "--key-format", "binary", "--key-type", "int", "--show", "key", *common])
    assert code == 0, err
    assert _lines(out) == [{"key": 1, "value": 42}, {"key": 2, "value": None}]


@pytest.mark.kafka
def test_produce_csv_input_to_avro(tmp_path, kafka_bootstrap, make_topic, registry_path):
    topic = make_topic(prefix="cli-csvin")
    (tmp_path / "order.avsc").write_text(AVSC)
    rows = "id,qty,price,placed\no1,1,1.50,2024-01-02T03:04:05Z\n"
    common = ["--bootstrap", kafka_bootstrap, "--registry", registry_path]
    code, _, err = _run(["produce", topic, "--input-format", "csv", "--format", "avro",
                         "--schema", str(tmp_path / "order.avsc"), *common], input=rows)
    assert code == 0, err
    code, out, err = _run(["consume", topic, "--from-beginning", *common])
    assert code == 0, err
    assert _lines(out) == [RECORDS[0]]


@pytest.mark.kafka
def test_produce_reports_the_bad_line(tmp_path, kafka_bootstrap, make_topic, registry_path):
    topic = make_topic(prefix="cli-bad")
    (tmp_path / "order.avsc").write_text(AVSC)
    bad = json.dumps(RECORDS[0]) + "\n" + json.dumps(dict(RECORDS[1], qty="many")) + "\n"
    code, _, err = _run(["produce", topic, "--format", "avro", "--schema", str(tmp_path / "order.avsc"),
                         "--bootstrap", kafka_bootstrap, "--registry", registry_path], input=bad)
    assert code == 1
    assert "line 2" in err and "qty" in err


@pytest.mark.kafka
def test_consume_reads_what_confluent_avro_serializer_wrote(kafka_bootstrap, make_topic, registry_path):
    from confluent_kafka import Producer
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext, StringSerializer

    topic = make_topic(prefix="cli-ck")
    with EmbeddedRegistry(registry_path) as registry:
        value_ser = AvroSerializer(registry.client, AVSC, conf={"subject.name.strategy.type": "TOPIC"})
        producer = Producer({"bootstrap.servers": kafka_bootstrap})
        import datetime as dt
        import decimal

        record = {"id": "c1", "qty": 7, "price": decimal.Decimal("3.25"),
                  "placed": dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)}
        producer.produce(topic, key=StringSerializer()("c1"),
                         value=value_ser(record, SerializationContext(topic, MessageField.VALUE)))
        assert producer.flush(10) == 0
    code, out, err = _run(["consume", topic, "--from-beginning", "--show", "key,schema",
                           "--bootstrap", kafka_bootstrap, "--registry", registry_path])
    assert code == 0, err
    line = _lines(out)[0]
    assert line["key"] == "c1"
    assert line["value"] == {"id": "c1", "qty": 7, "price": "3.25", "placed": "2024-06-01T00:00:00Z"}
    assert line["schema"] is not None


# -- exit codes at start (no broker needed) ------------------------------------------
def _gateway(config: Path, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([SERDE, "gateway", "run", str(config)], cwd=str(ROOT), capture_output=True, text=True,
                          timeout=timeout)


ROUTE = """
[[routes]]
name = "r"
dead_letter_topic = "dlq"
[routes.source]
topic = "in"
value = { format = "avro" }
[routes.target]
topic = "out"
value = { format = "json", derive = true }
"""


def test_unreachable_kafka_is_a_clear_error(tmp_path):
    text = kafka_toml("127.0.0.1:1", str(tmp_path / "r.db")).replace("startup_timeout = 10", "startup_timeout = 2")
    result = _gateway(write_config(tmp_path, text + ROUTE))
    assert result.returncode == 1
    assert "cannot reach Kafka at 127.0.0.1:1" in result.stderr


@pytest.mark.kafka
def test_unreachable_registry_is_a_clear_error(tmp_path, kafka_bootstrap):
    text = kafka_toml(kafka_bootstrap, "unused").replace('path = "unused"', 'url = "http://127.0.0.1:1"')
    result = _gateway(write_config(tmp_path, text + ROUTE))
    assert result.returncode == 1
    assert "registry" in result.stderr and "127.0.0.1:1" in result.stderr


def test_invalid_config_names_the_key(tmp_path):
    text = kafka_toml("127.0.0.1:1", str(tmp_path / "r.db")) + ROUTE.replace('format = "json"', 'fromat = "json"')
    result = _gateway(write_config(tmp_path, text))
    assert result.returncode == 2
    assert "routes[r].target.value.fromat: unknown key (did you mean 'format'?)" in result.stderr


def test_secrets_are_not_logged(tmp_path):
    text = kafka_toml("127.0.0.1:1", str(tmp_path / "r.db")).replace("startup_timeout = 10", "startup_timeout = 1")
    text = text.replace('"session.timeout.ms" = 6000', '"session.timeout.ms" = 6000\n"sasl.password" = "hunter2"\n'
                        '"sasl.username" = "u"\n"security.protocol" = "SASL_PLAINTEXT"\n"sasl.mechanism" = "PLAIN"')
    result = subprocess.run([SERDE, "gateway", "run", str(write_config(tmp_path, text + ROUTE)), "--log-level", "debug"],
                            cwd=str(ROOT), capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "hunter2" not in result.stderr and "'sasl.password': '***'" in result.stderr


def test_an_unreachable_broker_is_one_clear_line_not_a_flood():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    serde_cli = Path(sys.executable).with_name("serde")
    result = subprocess.run([str(serde_cli), "produce", "t", "--format", "json", "--bootstrap", "127.0.0.1:9"],
                            input=b'{"a": 1}\n', capture_output=True, timeout=60, cwd=root)
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert lines[-1].startswith("error: cannot reach Kafka at 127.0.0.1:9")
    assert len(lines) <= 5, lines
