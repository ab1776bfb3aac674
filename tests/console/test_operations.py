"""Brokers, topic operations and consumer groups in a real browser against the real broker:
create a topic, change a config, add partitions, delete it (each behind its confirmation);
a consumer group with lag that a reset (dry run first) brings to zero; and the failure
answers of each operation over HTTP."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from serde.console import Cluster, ConsoleConfig, ConsoleServer

from .conftest import csrf, follow, screenshot

pytestmark = [pytest.mark.kafka]


def _wait(driver: Any, what: str, timeout: float = 30) -> Any:
    try:
        return WebDriverWait(driver, timeout).until(EC.presence_of_element_located((By.ID, what)))
    except Exception as exc:
        raise AssertionError(f"no #{what} on {driver.current_url}: {driver.find_element(By.TAG_NAME, 'main').text[:2000]}") from exc


def _topics(bootstrap: str) -> set[str]:
    return set(AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics)


def test_brokers_failures(console: ConsoleServer) -> None:
    assert httpx.get(f"{console.url}/brokers", params={"broker": "99"}, timeout=30).status_code == 404
    assert httpx.get(f"{console.url}/brokers", params={"broker": "one"}, timeout=30).status_code == 400


def test_brokers_page(console: ConsoleServer, browser: Any) -> None:
    browser.get(f"{console.url}/brokers")
    rows = _wait(browser, "brokers").find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == 1 and "controller" in rows[0].text
    configs = browser.find_element(By.ID, "broker-configs").text
    assert "log.dirs" in configs and "default" in configs
    screenshot(browser, "brokers")
    browser.get(f"{console.url}/brokers?q=group.initial")
    assert "group.initial.rebalance.delay.ms" in _wait(browser, "broker-configs").text
    assert "log.dirs" not in browser.find_element(By.ID, "broker-configs").text


def test_create_alter_grow_and_delete_a_topic(console: ConsoleServer, browser: Any, kafka_bootstrap: str) -> None:
    name = f"ops-{uuid.uuid4().hex[:8]}"
    browser.get(f"{console.url}/topics")
    _wait(browser, "new-topic").send_keys(name)
    partitions = browser.find_element(By.ID, "new-partitions")
    partitions.clear()
    partitions.send_keys("2")
    browser.find_element(By.ID, "new-configs").send_keys("cleanup.policy=compact")
    follow(browser, browser.find_element(By.ID, "create-topic-button"))
    assert f"Create topic {name}?" in _wait(browser, "confirm-title").text
    assert name not in _topics(kafka_bootstrap)  # nothing happens before the confirmation
    follow(browser, browser.find_element(By.ID, "confirm-button"))
    assert f"created {name}" in _wait(browser, "done").text, browser.page_source[-3000:]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#partitions tbody tr")) == 2
    assert "compact" in browser.find_element(By.ID, "config-cleanup.policy").text
    assert "default" not in browser.find_element(By.ID, "config-cleanup.policy").text
    assert "default" in browser.find_element(By.ID, "config-retention.ms").text

    # alter a config: retention.ms, confirmed
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "config-name")).select_by_visible_text("retention.ms")
    browser.find_element(By.ID, "config-value").send_keys("3600000")
    follow(browser, browser.find_element(By.ID, "config-button"))
    assert "set retention.ms to 3600000" in browser.find_element(By.TAG_NAME, "main").text
    follow(browser, _wait(browser, "confirm-button"))
    row = _wait(browser, "config-retention.ms").text
    assert "3600000" in row and "default" not in row
    screenshot(browser, "topic")

    # add partitions
    total = browser.find_element(By.ID, "partitions-total")
    total.clear()
    total.send_keys("3")
    follow(browser, browser.find_element(By.ID, "partitions-button"))
    follow(browser, _wait(browser, "confirm-button"))
    assert f"{name} has 3 partitions" in _wait(browser, "done").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#partitions tbody tr")) == 3

    # delete: the name typed again
    follow(browser, browser.find_element(By.ID, "delete-topic-button"), submit=True)
    screenshot(browser, "topic-delete")
    _wait(browser, "confirm").send_keys(name)
    follow(browser, browser.find_element(By.ID, "confirm-button"))
    assert f"deleted {name}" in _wait(browser, "done").text
    WebDriverWait(browser, 30).until(lambda _: name not in _topics(kafka_bootstrap))


def test_topic_operation_failures(console: ConsoleServer, make_topic: Any) -> None:
    topic = make_topic(2)
    with httpx.Client(base_url=console.url, timeout=30) as client:
        token = csrf(client, "/topics")
        post = lambda path, **data: client.post(path, data={"csrf_token": token, **data})  # noqa: E731
        assert post("/topics/create", name="bad name!").status_code == 400
        assert post("/topics/create", name="x", partitions="0").status_code == 400
        assert post("/topics/create", name="x", configs="no equals sign").status_code == 400
        exists = post("/topics/create", name=topic, confirmed="1")
        assert exists.status_code == 502 and "already exists" in exists.text
        bad_config = post("/topics/create", name=f"{topic}-b", configs="cleanup.policy=<sideways>", confirmed="1")
        assert bad_config.status_code == 502 and "&lt;sideways&gt;" in bad_config.text and "<sideways>" not in bad_config.text
        assert post(f"/topics/{topic}/partitions", total="2").status_code == 400  # only more
        assert post(f"/topics/{topic}/partitions", total="").status_code == 400
        assert post(f"/topics/{topic}/config", name="no.such.config", value="1").status_code == 400
        assert post(f"/topics/{topic}/config", name="Not A Name", value="1").status_code == 400
        assert post(f"/topics/{topic}/config", name="retention.ms", value="1" * 10_001).status_code == 400
        assert post("/topics/create", name="x", replication="0").status_code == 400
        too_many = "&".join(f"f{n}=1" for n in range(2001))
        assert client.post("/topics/create", content=too_many, headers={
            "x-csrf-token": token, "content-type": "application/x-www-form-urlencoded"}).status_code == 400
        assert post(f"/topics/{topic}/config", name="retention.ms", value="").status_code == 400
        refused = post(f"/topics/{topic}/config", name="retention.ms", value="soon", confirmed="1")
        assert refused.status_code == 502 and "retention.ms" in refused.text
        assert post(f"/topics/{topic}/delete", confirmed="1", confirm="not-the-name").status_code == 400
        assert client.get("/topics/no-such-topic-here").status_code == 502
        assert client.post(f"/topics/{topic}/delete", data={"confirmed": "1", "confirm": topic}).status_code == 403  # no CSRF
        # reset a config to its default
        assert post(f"/topics/{topic}/config", name="retention.ms", value="1000", confirmed="1").status_code == 303
        assert post(f"/topics/{topic}/config", name="retention.ms", reset="1", confirmed="1").status_code == 303
        row = re.search(r'id="config-retention.ms">(.*?)</tr>', client.get(f"/topics/{topic}").text, re.S)
        assert row and "default" in row.group(1)
    assert topic in _topics(console.app.console.config.clusters[0].bootstrap)


@pytest.fixture(scope="module")
def read_only(kafka_bootstrap: str, registry_url: str) -> Iterator[ConsoleServer]:
    with ConsoleServer(ConsoleConfig([Cluster("ro", kafka_bootstrap, registry_url)], read_only=True), port=0) as server:
        yield server


def test_read_only_refuses_every_operation(read_only: ConsoleServer, make_topic: Any) -> None:
    topic = make_topic(1)
    with httpx.Client(base_url=read_only.url, timeout=30) as client:
        page = client.get(f"/topics/{topic}").text
        assert "config-form" not in page and "delete-topic-form" not in page
        assert "create-topic-form" not in client.get("/topics").text
        token = csrf(client, "/topics")
        for path, data in (("/topics/create", {"name": "ro-x"}), (f"/topics/{topic}/delete", {}),
                           (f"/topics/{topic}/partitions", {"total": "3"}),
                           (f"/topics/{topic}/config", {"name": "retention.ms", "value": "1"}),
                           ("/groups/g/reset", {"to": "earliest", "topic": topic}),
                           ("/acls/create", {}), ("/acls/delete", {}),
                           ("/gateway/dead-letters/x/replay", {"selected": "0:0"})):
            answer = client.post(path, data={"csrf_token": token, "confirmed": "1", **data})
            assert answer.status_code == 403 and "read-only" in answer.text, path


def _produce(bootstrap: str, topic: str, n: int, partitions: int = 1) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(n):
        producer.produce(topic, value=str(i).encode(), partition=i % partitions)
    assert producer.flush(30) == 0


def _consumer(bootstrap: str, group: str) -> Any:
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                     "client.id": "lagging-app"})


def test_group_lag_and_a_reset_to_zero(console: ConsoleServer, browser: Any, make_topic: Any, kafka_bootstrap: str) -> None:
    topic = make_topic(2)
    group = f"app-{uuid.uuid4().hex[:8]}"
    _produce(kafka_bootstrap, topic, 20, partitions=2)
    consumer = _consumer(kafka_bootstrap, group)
    try:
        consumer.subscribe([topic])
        seen = 0
        while seen < 6:  # joins, then reads a few records
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None:
                seen += 1
        from confluent_kafka import TopicPartition

        consumer.commit(offsets=[TopicPartition(topic, p, 3) for p in (0, 1)], asynchronous=False)
        browser.get(f"{console.url}/groups")
        assert group in _wait(browser, "groups").text
        browser.get(f"{console.url}/groups/{group}")
        assert "lagging-app" in _wait(browser, "members").text
        assert "STABLE" in browser.find_element(By.ID, "group-state").text
        assert "only while the group is empty" in browser.find_element(By.ID, "reset-refused").text
        assert not browser.find_elements(By.ID, "reset-form")
        # the lag chart samples while the page is open
        WebDriverWait(browser, 30).until(lambda d: int(d.find_element(By.ID, "lag-chart").get_attribute("data-samples") or 0) >= 2)
        assert browser.find_element(By.ID, "lag-max").text.startswith("max ")
        screenshot(browser, "group")
        with httpx.Client(base_url=console.url, timeout=30) as client:  # a reset of a group with members is refused
            token = csrf(client, f"/groups/{group}")
            refused = client.post(f"/groups/{group}/reset", data={"csrf_token": token, "to": "latest", "topic": topic})
            assert refused.status_code == 409 and "empty" in refused.text
    finally:
        consumer.close()  # leaves the group at once: it is empty now

    browser.get(f"{console.url}/groups/{group}")
    assert "EMPTY" in _wait(browser, "group-state").text
    lag_before = int(browser.find_element(By.ID, "total-lag").text)
    assert lag_before == 14
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "reset-to")).select_by_visible_text("latest")
    follow(browser, browser.find_element(By.ID, "reset-button"))
    assert "dry run" in _wait(browser, "confirm-title").text.lower()
    table = browser.find_element(By.ID, "confirm-table").text
    assert topic in table and "20" not in table.split("Lag after")[0]  # header first
    rows = browser.find_elements(By.CSS_SELECTOR, "#confirm-table tbody tr")
    assert len(rows) == 2 and all(r.find_elements(By.TAG_NAME, "td")[-1].text == "0" for r in rows)
    screenshot(browser, "group-reset")
    with httpx.Client(timeout=30) as client:  # the dry run changed nothing
        lag = client.get(f"{console.url}/groups/{group}/lag").json()
        assert lag["lag"] == 14 and lag["state"] == "EMPTY"
    follow(browser, browser.find_element(By.ID, "confirm-button"))
    assert "offsets reset to latest on 2 partition(s)" in _wait(browser, "done").text
    assert browser.find_element(By.ID, "total-lag").text == "0"
    assert [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#offsets td.lag")] == ["0", "0"]


def test_group_reset_modes_and_failures(console: ConsoleServer, make_topic: Any, kafka_bootstrap: str) -> None:
    from confluent_kafka import TopicPartition

    topic = make_topic(1)
    group = f"simple-{uuid.uuid4().hex[:8]}"
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for i in range(10):
        producer.produce(topic, value=b"x", timestamp=1_000_000 + i * 1000)
    producer.flush(30)
    committer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": group, "enable.auto.commit": False})
    committer.commit(offsets=[TopicPartition(topic, 0, 3)], asynchronous=False)  # no join: an empty group
    committer.close()
    with httpx.Client(base_url=console.url, timeout=30) as client:
        token = csrf(client, f"/groups/{group}")
        post = lambda **data: client.post(f"/groups/{group}/reset", data={"csrf_token": token, "topic": topic, **data})  # noqa: E731

        def planned(**data: str) -> list[str]:
            page = post(**data)
            assert page.status_code == 200, page.text
            return re.findall(r"<tr><td>[^<]*</td><td>0</td><td>3</td><td>(\d+)</td>", page.text)

        assert planned(to="earliest") == ["0"]
        assert planned(to="offset", value="7") == ["7"]
        assert planned(to="offset", value="999") == ["10"]  # kept within the partition
        assert planned(to="timestamp", value="1005000") == ["5"]
        assert planned(to="timestamp", value="1970-01-01T00:16:45Z") == ["5"]  # 1,005,000 ms
        assert planned(to="timestamp", value="99999999999999") == ["10"]  # none that late: the end
        assert post(to="sideways").status_code == 400
        assert post(to="offset", value="-1").status_code == 400
        assert post(to="timestamp", value="yesterday").status_code == 400
        assert post(to="timestamp", value="").status_code == 400
        assert client.post(f"/groups/{group}/reset", data={"csrf_token": token, "to": "earliest"}).status_code == 400
        assert post(to="earliest", topic="not-in-group").status_code == 502
        assert client.get(f"/groups/{group}/lag").json()["lag"] == 7
        assert post(to="offset", value="7", confirmed="1").status_code == 303
        assert client.get(f"/groups/{group}/lag").json()["lag"] == 3
        assert client.get("/groups/no-such-group-at-all").status_code == 502
        missing = client.get("/groups/no-such-group-at-all/lag", headers={"accept": "application/json"})
        assert missing.status_code == 502 and "does not exist" in missing.json()["error"]
    hostile = f"<img src=x onerror=alert(1)>-{uuid.uuid4().hex[:6]}"
    committer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": hostile, "enable.auto.commit": False})
    committer.commit(offsets=[TopicPartition(topic, 0, 1)], asynchronous=False)
    committer.close()
    listed = httpx.get(f"{console.url}/groups", timeout=30).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in listed and "<img src=x" not in listed
