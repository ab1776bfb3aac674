"""Message and produce views in a real browser against the real broker and registry:
a produce → browse round trip in every schema type, paging newest first, filters,
hostile contents shown as text, exports read back by ``serde convert``."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
from urllib.parse import quote
import pytest
from click.testing import CliRunner
from confluent_kafka import Producer
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import serde
from serde.registry.client import open_registry

from .conftest import follow, screenshot

pytestmark = [pytest.mark.kafka]

AVRO = json.dumps({"type": "record", "name": "Trade", "namespace": "market", "fields": [
    {"name": "symbol", "type": "string"},
    {"name": "qty", "type": "int"},
    {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
    {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
]})
JSON_SCHEMA = json.dumps({"type": "object", "title": "Click", "additionalProperties": False,
                          "properties": {"page": {"type": "string"}, "ms": {"type": "integer"}}, "required": ["page", "ms"]})
PROTO = 'syntax = "proto3";\npackage market;\nmessage Quote {\n  string symbol = 1;\n  double bid = 2;\n  repeated string venues = 3;\n}\n'


def _wait(driver: Any, by: str, what: str, timeout: float = 30) -> Any:
    return WebDriverWait(driver, timeout).until(EC.presence_of_element_located((by, what)))


def _validation(driver: Any, expect_ok: bool, says: str = "") -> str:
    out = driver.find_element(By.ID, "validation")
    WebDriverWait(driver, 20).until(lambda d: out.get_attribute("class") == ("ok" if expect_ok else "bad") and says in out.text)
    return out.text


def _produce_in_browser(driver: Any, console: Any, topic: str, record: Any, *, key: str, headers: str) -> tuple[int, int]:
    driver.get(f"{console.url}/topics/{topic}/produce")
    editor = _wait(driver, By.ID, "record")
    sample = json.loads(editor.get_attribute("value"))
    assert isinstance(sample, dict) and sample  # generated from the schema
    _validation(driver, True)  # the sample fits its schema
    driver.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}))",
                          editor, json.dumps(record))
    driver.find_element(By.ID, "key").send_keys(key)
    driver.find_element(By.ID, "headers").send_keys(headers)
    _validation(driver, True)
    follow(driver, driver.find_element(By.ID, "produce-button"))
    _wait(driver, By.ID, "produced")
    return int(driver.find_element(By.ID, "partition").text), int(driver.find_element(By.ID, "offset").text)


@pytest.mark.parametrize("schema_type, schema, record, shown", [
    ("AVRO", AVRO, {"symbol": "ACME", "qty": 7, "price": "12.34", "at": "2026-01-31T12:00:00Z"},
     ['"symbol": "ACME"', '"price": "12.34"', '"at": "2026-01-31T12:00:00Z"']),
    ("JSON", JSON_SCHEMA, {"page": "/home", "ms": 42}, ['"page": "/home"', '"ms": 42']),
    ("PROTOBUF", PROTO, {"symbol": "ACME", "bid": 1.25, "venues": ["X", "Y"]}, ['"bid": 1.25', '"venues": [']),
])
def test_produce_then_browse_round_trip(console: Any, browser: Any, make_topic: Any, registry_url: str,
                                        schema_type: str, schema: str, record: Any, shown: list[str]) -> None:
    topic = make_topic(2)
    schema_id = open_registry(registry_url).register(f"{topic}-value", schema_type, schema)
    partition, offset = _produce_in_browser(browser, console, topic, record, key="k-1", headers="source: console-test")
    if schema_type == "AVRO":
        screenshot(browser, "produced")
    follow(browser, browser.find_element(By.ID, "message-link"))
    row = _wait(browser, By.ID, f"m-{partition}-{offset}")
    value = row.find_element(By.CSS_SELECTOR, "pre.value").text
    for text in shown:
        assert text in value
    assert row.find_element(By.CSS_SELECTOR, "pre.key").text == "k-1"
    assert "source: console-test" in row.text
    schema_cell = row.find_element(By.CSS_SELECTOR, "td.schema-ref")
    assert f"id {schema_id}" in schema_cell.text
    link = schema_cell.find_element(By.LINK_TEXT, f"{topic}-value v1")
    follow(browser, link)
    _wait(browser, By.ID, "schema-id")
    assert browser.find_element(By.ID, "schema-id").text == str(schema_id)


def test_produce_page_validates_as_you_type(console: Any, browser: Any, make_topic: Any, registry_url: str) -> None:
    topic = make_topic(1)
    open_registry(registry_url).register(f"{topic}-value", "AVRO", AVRO)
    browser.get(f"{console.url}/topics/{topic}/produce")
    editor = _wait(browser, By.ID, "record")
    _validation(browser, True)
    screenshot(browser, "produce")
    browser.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}))",
                           editor, json.dumps({"symbol": "ACME", "qty": "many"}))
    assert "cannot use 'many'" in _validation(browser, False, "qty")
    browser.execute_script("arguments[0].value = '{not json'; arguments[0].dispatchEvent(new Event('input', {bubbles: true}))",
                           editor)
    assert _validation(browser, False, "not JSON")
    # the server refuses it too, with the reason
    follow(browser, browser.find_element(By.ID, "produce-button"))
    assert "not JSON" in _wait(browser, By.ID, "error-message").text


def test_produce_with_a_pasted_schema(console: Any, make_topic: Any, registry_url: str) -> None:
    topic = make_topic(1)
    with httpx.Client(base_url=console.url) as client:
        page = client.get(f"/topics/{topic}/produce").text
        assert "(paste a schema)" in page
        token = client.get("/subjects").text.split('name="csrf-token" content="')[1].split('"')[0]
        answer = client.post(f"/topics/{topic}/produce", data={
            "csrf_token": token, "schema_type": "JSON", "schema": JSON_SCHEMA, "record": json.dumps({"page": "/p", "ms": 1})})
        assert answer.status_code == 200, answer.text
        assert 'id="offset">0<' in answer.text
        bad = client.post(f"/topics/{topic}/produce", data={
            "csrf_token": token, "schema_type": "JSON", "schema": JSON_SCHEMA, "record": json.dumps({"page": 5})})
        assert bad.status_code == 422 and "does not fit the schema" in bad.text
        nothing = client.post(f"/topics/{topic}/produce", data={"csrf_token": token, "record": "{}"})
        assert nothing.status_code == 400 and "choose a subject or paste a schema" in nothing.text
    assert open_registry(registry_url).latest(f"{topic}-value").schema_type == "JSON"


def _plain_producer(bootstrap: str) -> Producer:
    return Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})


def test_script_in_a_message_is_shown_as_text(console: Any, browser: Any, make_topic: Any, kafka_bootstrap: str) -> None:
    topic = make_topic(1)
    producer = _plain_producer(kafka_bootstrap)
    hostile = "<script>window.__pwned = 1</script><img src=x onerror='window.__pwned=2'>"
    producer.produce(topic, key=b"<b>key</b>", value=hostile.encode(), headers=[("<i>h</i>", b"<script>1</script>")])
    producer.produce(topic, value=b"\x00\x01\x02\xffbinary")
    producer.produce(topic, value=b'{"json": "<script>2</script>"}')
    producer.produce(topic, value=b"a,b,<c>")
    producer.flush(30)
    browser.get(f"{console.url}/topics/{topic}/messages")
    rows = _wait(browser, By.ID, "messages").find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == 4
    texts = {r.get_attribute("id"): r for r in rows}
    first = texts["m-0-0"]
    assert first.find_element(By.CSS_SELECTOR, "pre.value").text == hostile
    assert first.find_element(By.CSS_SELECTOR, "pre.key").text == "<b>key</b>"
    assert "<i>h</i>: <script>1</script>" in first.text
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.find_elements(By.CSS_SELECTOR, "#messages script, #messages img, #messages b b") == []
    kinds = {r.get_attribute("id"): r.find_elements(By.CSS_SELECTOR, "span.kind")[1].text.lower() for r in rows}
    assert kinds == {"m-0-0": "text", "m-0-1": "hex", "m-0-2": "json", "m-0-3": "csv"}
    assert texts["m-0-1"].find_element(By.CSS_SELECTOR, "pre.value").text.startswith("00 01 02 ff")
    screenshot(browser, "messages-hostile")


@pytest.fixture(scope="module")
def trades(kafka_bootstrap: str, registry_url: str) -> dict[str, Any]:
    """60 Avro trades over 2 partitions, timestamps one second apart, in order."""
    from serde.local import create_topic
    import uuid

    topic = create_topic(kafka_bootstrap, f"console-trades-{uuid.uuid4().hex[:8]}", 2)
    ser = serde.serializer("avro", AVRO, registry_url)
    producer = _plain_producer(kafka_bootstrap)
    start = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    from confluent_kafka.serialization import MessageField, SerializationContext

    ctx = SerializationContext(topic, MessageField.VALUE)
    import decimal

    for n in range(60):
        value = {"symbol": "ACME" if n % 3 else "INIT", "qty": n, "price": decimal.Decimal(f"{n}.50"),
                 "at": dt.datetime.fromtimestamp((start + n * 1000) / 1000, dt.timezone.utc)}
        producer.produce(topic, key=f"k{n}".encode(), value=ser(value, ctx), partition=n % 2, timestamp=start + n * 1000,
                         headers=[("n", str(n).encode())])
    producer.flush(30)
    return {"topic": topic, "start": start}


def _qtys(driver: Any) -> list[int]:
    out = []
    for pre in driver.find_elements(By.CSS_SELECTOR, "#messages pre.value"):
        out.append(json.loads(pre.text)["qty"])
    return out


def test_browse_newest_first_in_pages(console: Any, browser: Any, trades: Any) -> None:
    topic = trades["topic"]
    browser.get(f"{console.url}/topics/{topic}/messages?page_size=25")
    _wait(browser, By.ID, "messages")
    seen = _qtys(browser)
    assert seen == list(range(59, 34, -1))
    # the schema is registered under several subjects (earlier tests); the topic's own is linked
    assert f"{topic}-value v1" in browser.find_element(By.CSS_SELECTOR, "#messages td.schema-ref").text
    screenshot(browser, "messages")
    follow(browser, browser.find_element(By.ID, "older"))
    _wait(browser, By.ID, "messages")
    seen = _qtys(browser)
    assert seen == list(range(34, 9, -1))
    follow(browser, browser.find_element(By.ID, "older"))
    _wait(browser, By.ID, "messages")
    assert _qtys(browser) == list(range(9, -1, -1))
    assert browser.find_elements(By.ID, "older") == []
    assert "No older messages" in browser.find_element(By.CSS_SELECTOR, "p.pager").text


def test_browse_by_partition_offsets_and_time(console: Any, trades: Any, browser: Any) -> None:
    topic = trades["topic"]
    browser.get(f"{console.url}/topics/{topic}/messages?partition=1&from_offset=3&to_offset=6")
    assert _qtys(browser) == [13, 11, 9, 7]  # partition 1 holds the odd ones, offset n//2
    since = dt.datetime.fromtimestamp((trades["start"] + 55_000) / 1000, dt.timezone.utc).isoformat()
    browser.get(f"{console.url}/topics/{topic}/messages?since={quote(since)}")
    assert _qtys(browser) == [59, 58, 57, 56, 55]
    browser.get(f"{console.url}/topics/{topic}/messages?since={trades['start'] + 58_000}&partition=0")
    assert _qtys(browser) == [58]
    bad = httpx.get(f"{console.url}/topics/{topic}/messages", params={"since": "yesterday"})
    assert bad.status_code == 400 and "ISO-8601" in bad.text
    assert httpx.get(f"{console.url}/topics/{topic}/messages", params={"partition": "7"}).status_code == 404
    assert httpx.get(f"{console.url}/topics/{topic}/messages", params={"page_size": "100000"}).status_code == 400
    missing = httpx.get(f"{console.url}/topics/no-such-topic-here/messages")
    assert missing.status_code == 502 and "does not exist" in missing.text
    # looking is not creating, even on a broker that creates topics on first use
    assert "no-such-topic-here" not in httpx.get(f"{console.url}/topics").text


def test_filter_over_decoded_values_keys_and_headers(console: Any, browser: Any, trades: Any) -> None:
    topic = trades["topic"]
    browser.get(f"{console.url}/topics/{topic}/messages")
    box = _wait(browser, By.ID, "filter")
    box.send_keys('value.symbol == "INIT" and value.qty >= 30')
    follow(browser, box, submit=True)
    _wait(browser, By.ID, "messages")
    assert _qtys(browser) == [57, 54, 51, 48, 45, 42, 39, 36, 33, 30]
    screenshot(browser, "messages-filter")
    browser.get(f"{console.url}/topics/{topic}/messages?page_size=3&filter=" + "key endswith '7' or headers.n == '50'")
    assert _qtys(browser) == [57, 50, 47]
    follow(browser, browser.find_element(By.ID, "older"))
    _wait(browser, By.ID, "messages")
    assert _qtys(browser) == [37, 27, 17]
    follow(browser, browser.find_element(By.ID, "older"))
    _wait(browser, By.ID, "messages")
    assert _qtys(browser) == [7]
    bad = httpx.get(f"{console.url}/topics/{topic}/messages", params={"filter": "__import__('os').system('x')"})
    assert bad.status_code == 400 and "unknown name" in bad.text
    long = httpx.get(f"{console.url}/topics/{topic}/messages", params={"filter": "x" * 1001})
    assert long.status_code == 400 and "longer than" in long.text


def test_exports_read_back_by_serde_convert(console: Any, trades: Any, tmp_path: Path, browser: Any) -> None:
    from cli.main import cli

    topic = trades["topic"]
    selection = {"partition": "0", "from_offset": "20", "filter": "value.qty < 50"}
    browser.get(f"{console.url}/topics/{topic}/messages?partition=0&from_offset=20&filter=value.qty%20%3C%2050")
    href = browser.find_element(By.ID, "export-avro").get_attribute("href")
    assert "format=avro" in href and "from_offset=20" in href and "filter=" in href
    expected = [{"symbol": "ACME" if n % 3 else "INIT", "qty": n, "price": f"{n}.50",
                 "at": dt.datetime.fromtimestamp((trades["start"] + n * 1000) / 1000, dt.timezone.utc).isoformat().replace("+00:00", "Z")}
                for n in range(40, 50, 2)]
    for fmt in ("ndjson", "csv", "avro"):
        answer = httpx.get(f"{console.url}/topics/{topic}/messages/export", params={**selection, "format": fmt})
        assert answer.status_code == 200, answer.text
        assert f'filename="{topic}.{fmt}"' in answer.headers["content-disposition"]
        path = tmp_path / f"export.{fmt}"
        path.write_bytes(answer.content)
        back = tmp_path / f"back-{fmt}.ndjson"
        source = ["--from", "json"] if fmt == "ndjson" else []
        result = CliRunner().invoke(cli, ["convert", str(path), str(back), "--to", "json", "-q", *source])
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in back.read_text().splitlines()]
        if fmt == "csv":  # CSV is text: compare as text
            assert b"ACME,40,40.50,2026-01-01T00:00:40" in answer.content.replace(b'"', b"")
            assert [(r["symbol"], r["qty"], float(r["price"]), r["at"]) for r in rows] == [
                (e["symbol"], e["qty"], float(e["price"]), e["at"]) for e in expected]
        else:
            assert rows == expected, fmt
    bad = httpx.get(f"{console.url}/topics/{topic}/messages/export", params={"format": "xml"})
    assert bad.status_code == 400
    empty = httpx.get(f"{console.url}/topics/{topic}/messages/export", params={"format": "avro", "filter": "false"})
    assert empty.status_code == 404 and "nothing to export" in empty.text


def test_topics_view(console: Any, browser: Any, trades: Any) -> None:
    browser.get(f"{console.url}/topics")
    rows = _wait(browser, By.ID, "topics").find_elements(By.CSS_SELECTOR, "tbody tr")
    row = next(r for r in rows if r.find_element(By.TAG_NAME, "a").text == trades["topic"])
    cells = row.find_elements(By.TAG_NAME, "td")
    assert (cells[1].text, cells[2].text) == ("2", "60")
    screenshot(browser, "topics")
    follow(browser, row.find_element(By.LINK_TEXT, "messages"))
    _wait(browser, By.ID, "messages")
    assert "2:" not in browser.find_element(By.CSS_SELECTOR, "p.meta").text  # partitions 0 and 1 only
    assert "0: 0–30" in browser.find_element(By.CSS_SELECTOR, "p.meta").text
