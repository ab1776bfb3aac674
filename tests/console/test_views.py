"""Views over HTTP (no browser): a second cluster under /clusters/{name}/, the [console]
table of the config, empty and time-bounded selections, header-framed schema ids, and the
failure answers of each view."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext

import serde
from serde.console import ConsoleServer, load_config
from serde.registry.client import open_registry

from .conftest import csrf

pytestmark = [pytest.mark.kafka]

SCHEMA = json.dumps({"type": "record", "name": "V", "fields": [{"name": "n", "type": "int"}]})


@pytest.fixture(scope="module")
def two_clusters(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, registry_url: str) -> Iterator[ConsoleServer]:
    path = tmp_path_factory.mktemp("console-config") / "console.toml"
    path.write_text(f'''
[console]
page_size = 7

[[clusters]]
name = "first"
bootstrap = "127.0.0.1:1"
registry = "{registry_url}"

[[clusters]]
name = "second"
bootstrap = "{kafka_bootstrap}"
registry = "{registry_url}"
[clusters.kafka]
"client.id" = "serde-console-test"
''')
    config = load_config(path)
    assert config.page_size == 7
    with ConsoleServer(config, port=0) as server:
        yield server


def test_second_cluster_pages_and_links(two_clusters: ConsoleServer, make_topic: Any, kafka_bootstrap: str) -> None:
    topic = make_topic(1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for n in range(10):
        producer.produce(topic, value=f"line {n}".encode())
    producer.flush(30)
    page = httpx.get(f"{two_clusters.url}/clusters/second/topics/{topic}/messages", timeout=30)
    assert page.status_code == 200
    assert page.text.count('<tr id="m-') == 7  # [console] page_size
    assert "cluster <b>second</b>" in page.text
    older = re.search(r'href="([^"]+)" id="older"', page.text)
    assert older and older.group(1).startswith(f"/clusters/second/topics/{topic}/messages?")
    rest = httpx.get(two_clusters.url + older.group(1).replace("&amp;", "&"), timeout=30)
    assert rest.text.count('<tr id="m-') == 3
    assert 'href="/clusters/second/subjects"' in rest.text
    topics = httpx.get(f"{two_clusters.url}/clusters/second/topics", timeout=30).text
    assert f'href="/clusters/second/topics/{topic}/messages"' in topics


def test_unreachable_cluster_is_a_502_page(two_clusters: ConsoleServer) -> None:
    answer = httpx.get(f"{two_clusters.url}/topics", timeout=60)
    assert answer.status_code == 502
    assert "cannot list topics" in answer.text


def test_empty_topic_and_empty_time_window(console: ConsoleServer, make_topic: Any, kafka_bootstrap: str) -> None:
    topic = make_topic(3)
    page = httpx.get(f"{console.url}/topics/{topic}/messages", timeout=30).text
    assert "No messages in this selection" in page and 'id="older"' not in page
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for n in range(6):
        producer.produce(topic, value=b"x", partition=n % 3, timestamp=1_000_000 + n)
    producer.flush(30)
    between = httpx.get(f"{console.url}/topics/{topic}/messages", params={"since": 1_000_002, "until": 1_000_004}).text
    assert between.count('<tr id="m-') == 2  # since is inclusive, until exclusive
    later = httpx.get(f"{console.url}/topics/{topic}/messages", params={"since": 2_000_000}).text
    assert "No messages in this selection" in later


def test_header_framed_ids_and_keys_are_decoded(console: ConsoleServer, make_topic: Any, kafka_bootstrap: str,
                                                 registry_url: str) -> None:
    topic = make_topic(1)
    value_ser = serde.serializer("avro", SCHEMA, registry_url, schema_id_serializer="header")
    key_ser = serde.serializer("avro", json.dumps({"type": "record", "name": "K", "fields": [{"name": "id", "type": "string"}]}),
                               registry_url)
    ctx = SerializationContext(topic, MessageField.VALUE, [])
    value = value_ser({"n": 41}, ctx)
    key = key_ser({"id": "<k>"}, SerializationContext(topic, MessageField.KEY))
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(topic, key=key, value=value, headers=ctx.headers)
    producer.flush(30)
    page = httpx.get(f"{console.url}/topics/{topic}/messages", timeout=30).text
    assert "&#34;n&#34;: 41" in page
    assert "&#34;id&#34;: &#34;&lt;k&gt;&#34;" in page
    assert f"{topic}-value v1" in page and f"{topic}-key v1" in page
    filtered = httpx.get(f"{console.url}/topics/{topic}/messages", params={"filter": 'key.id == "<k>" and value.n == 41'}).text
    assert filtered.count('<tr id="m-') == 1


def test_produce_failures(console: ConsoleServer, make_topic: Any, registry_url: str) -> None:
    topic = make_topic(1)
    open_registry(registry_url).register(f"{topic}-value", "AVRO", SCHEMA)
    with httpx.Client(base_url=console.url, timeout=30) as client:
        token = csrf(client, "/subjects")
        post = lambda **data: client.post(f"/topics/{topic}/produce", data={"csrf_token": token, **data})  # noqa: E731
        assert post(subject=f"{topic}-value", record='{"n": 1}', headers="no colon").status_code == 400
        assert post(subject=f"{topic}-value", record='{"n": 1}', partition="9").status_code == 502
        assert post(subject="no-such-subject", record='{"n": 1}').status_code == 404
        assert post(subject=f"{topic}-value", version="7", record='{"n": 1}').status_code == 404
        assert post(schema_type="XML", schema="<x/>", record="{}").status_code == 400
        bad_schema = post(schema_type="AVRO", schema="{not a schema", record="{}")
        assert bad_schema.status_code == 400
        ok = post(subject=f"{topic}-value", record='{"n": 1}', key="k", headers="a: 1\nb: two", partition="0")
        assert ok.status_code == 200 and 'id="partition">0<' in ok.text
        checked = client.post(f"/topics/{topic}/produce/validate", headers={"X-CSRF-Token": token},
                              data={"schema_type": "AVRO", "schema": "{nope", "record": "{}"})
        assert checked.json()["ok"] is False and checked.json()["errors"][0].startswith("schema:")
        page = client.get(f"/topics/{topic}/produce", params={"subject": "no-such-subject"})
        assert page.status_code == 200 and "no-such-subject" in page.text and 'class="error"' in page.text


def test_subjects_view_failures(console: ConsoleServer) -> None:
    assert httpx.get(f"{console.url}/subjects", params={"type": "XML"}).status_code == 400
    assert httpx.get(f"{console.url}/subjects", params={"page": "0"}).status_code == 400
    assert httpx.get(f"{console.url}/subjects/no-such/diff").status_code == 404
    assert httpx.get(f"{console.url}/subjects/no-such/delete", params={"version": "x"}).status_code == 400


def test_check_failures(console: ConsoleServer, registry_url: str) -> None:
    open_registry(registry_url).register("check-fail-value", "AVRO", SCHEMA)
    with httpx.Client(base_url=console.url, timeout=30) as client:
        token = csrf(client, "/subjects")
        post = lambda **data: client.post("/subjects/check-fail-value/check", data={"csrf_token": token, **data})  # noqa: E731
        assert post(draft=SCHEMA, level="SIDEWAYS").status_code == 400
        empty = post(draft="  ")
        assert empty.status_code == 200 and "paste or upload a draft" in empty.text
        assert post(draft="x" * (1024 * 1024 + 1)).status_code == 413
        level = client.post("/subjects/check-fail-value/config", data={"csrf_token": token, "level": "SIDEWAYS"})
        assert level.status_code == 400
        empty = client.post("/subjects/check-fail-value/register", data={"csrf_token": token, "draft": ""})
        assert empty.status_code == 400
        invalid = client.post("/subjects/check-fail-value/register", data={"csrf_token": token, "draft": "{nope"})
        assert invalid.status_code == 422
    assert open_registry(registry_url).client.get_versions("check-fail-value") == [1]


def test_produce_with_a_record_name_subject(console: ConsoleServer, make_topic: Any, registry_url: str) -> None:
    """Any subject naming strategy: the record is written with the chosen subject's schema
    id, and the message links back to that subject."""
    topic = make_topic(1)
    subject = f"demo.RecordNamed{topic[-6:]}"
    schema = json.dumps({"type": "record", "name": subject, "fields": [{"name": "n", "type": "int"}]})
    schema_id = open_registry(registry_url).register(subject, "AVRO", schema)
    with httpx.Client(base_url=console.url, timeout=30) as client:
        form = client.get(f"/topics/{topic}/produce", params={"subject": subject}).text
        assert f'<option value="{subject}" selected>' in form
        token = csrf(client, "/subjects")
        done = client.post(f"/topics/{topic}/produce", data={"csrf_token": token, "subject": subject, "record": '{"n": 5}'})
        assert done.status_code == 200
        link = re.search(r'href="([^"]+)" id="message-link"', done.text)
        assert link
        page = client.get(link.group(1).replace("&amp;", "&")).text
    assert f"id {schema_id}" in page and f"{subject} v1" in page and "&#34;n&#34;: 5" in page


def test_page_memory_is_bounded(console: ConsoleServer, make_topic: Any, kafka_bootstrap: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    from serde.console import _kafka

    topic = make_topic(1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for n in range(6):
        producer.produce(topic, value=bytes([n]) * 50_000)
    producer.flush(30)
    monkeypatch.setattr(_kafka, "MAX_PAGE_BYTES", 120_000)
    too_big = httpx.get(f"{console.url}/topics/{topic}/messages", timeout=30)
    assert too_big.status_code == 400 and "smaller page_size" in too_big.text
    assert httpx.get(f"{console.url}/topics/{topic}/messages/export", params={"format": "ndjson"}).status_code == 400
    fits = httpx.get(f"{console.url}/topics/{topic}/messages", params={"page_size": 2}, timeout=30)
    assert fits.status_code == 200 and fits.text.count('<tr id="m-') == 2


def test_produce_a_chosen_protobuf_message(console: ConsoleServer, make_topic: Any, registry_url: str) -> None:
    """A .proto with several messages: the form offers each; the record is written with the
    chosen one (Confluent's message index) and browsing decodes it with that message."""
    topic = make_topic(1)
    proto = ('syntax = "proto3";\npackage multi;\nmessage First { string a = 1; }\n'
             'message Second { int64 count = 1; string label = 2; }\n')
    open_registry(registry_url).register(f"{topic}-value", "PROTOBUF", proto)
    with httpx.Client(base_url=console.url, timeout=30) as client:
        form = client.get(f"/topics/{topic}/produce").text
        assert '<select name="message" id="message-choice"><option selected>multi.First</option><option>multi.Second</option>' in form
        second = client.get(f"/topics/{topic}/produce", params={"subject": f"{topic}-value", "message": "multi.Second"}).text
        record = json.loads(re.search(r'<textarea name="record" id="record"[^>]*>(.*?)</textarea>', second, re.S).group(1)
                            .replace("&#34;", '"'))
        assert set(record) == {"count", "label"}  # the sample is of the chosen message
        token = csrf(client, "/subjects")
        done = client.post(f"/topics/{topic}/produce", data={
            "csrf_token": token, "subject": f"{topic}-value", "message": "multi.Second",
            "record": json.dumps({"count": 3, "label": "three"})})
        assert done.status_code == 200, done.text
        page = client.get(f"/topics/{topic}/messages").text
    assert "&#34;count&#34;: 3" in page and "&#34;label&#34;: &#34;three&#34;" in page


def test_produce_with_a_key_schema(console: ConsoleServer, make_topic: Any, registry_url: str) -> None:
    """<topic>-key is chosen for the key when it exists: the key is JSON, validated and
    written with that schema, and browsing decodes it."""
    topic = make_topic(1)
    registry = open_registry(registry_url)
    registry.register(f"{topic}-value", "AVRO", SCHEMA)
    registry.register(f"{topic}-key", "JSON", json.dumps({"type": "object", "properties": {"id": {"type": "integer"}},
                                                          "required": ["id"]}))
    with httpx.Client(base_url=console.url, timeout=30) as client:
        form = client.get(f"/topics/{topic}/produce").text
        assert f"Key (JSON, {topic}-key v1)" in form
        token = csrf(client, "/subjects")
        base = {"csrf_token": token, "subject": f"{topic}-value", "key_subject": f"{topic}-key", "record": '{"n": 2}'}
        checked = client.post(f"/topics/{topic}/produce/validate", data={**base, "key": '{"id": "x"}'}).json()
        assert checked["ok"] is False and checked["errors"][0].startswith("key:")
        assert client.post(f"/topics/{topic}/produce", data={**base, "key": '{"id": "x"}'}).status_code == 422
        assert client.post(f"/topics/{topic}/produce", data={**base, "key": "not json"}).status_code == 400
        assert client.post(f"/topics/{topic}/produce/validate", data={**base, "key": '{"id": 9}'}).json() == {"ok": True, "errors": []}
        assert client.post(f"/topics/{topic}/produce", data={**base, "key": '{"id": 9}'}).status_code == 200
        page = client.get(f"/topics/{topic}/messages").text
        text_key = client.get(f"/topics/{topic}/produce", params={"key_subject": ""}).text
    assert "&#34;id&#34;: 9" in page and f"key: id" in page and f"{topic}-key v1" in page
    assert 'placeholder="text (empty: no key)"' in text_key
