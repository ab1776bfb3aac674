"""Kafka Connect views in a real browser against a real Connect worker (connect-runtime from
Maven Central, standalone, on the test broker): create a connector from JSON, see its
status, tasks and config with secrets masked, pause, resume, restart and delete it; a
failed task's trace. Faults a real worker does not make on demand (a 500, an answer that
is not JSON, no worker at all) come from a small stand-in."""
from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from serde.console import Cluster, ConsoleConfig, ConsoleServer
from serde.console.connect import mask_connector_config
from tests.gateway.helpers import read_topic

from .conftest import csrf, follow, screenshot
from .connect_worker import CONNECTOR, ConnectWorker

pytestmark = [pytest.mark.kafka]


@pytest.fixture(scope="module")
def worker(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectWorker]:
    started = ConnectWorker(kafka_bootstrap, tmp_path_factory.mktemp("connect")).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def connect_console(worker: ConnectWorker, kafka_bootstrap: str) -> Iterator[ConsoleServer]:
    with ConsoleServer(ConsoleConfig([Cluster("with-connect", kafka_bootstrap, connect=worker.url)]), port=0) as server:
        yield server


def _state(worker: ConnectWorker, name: str) -> tuple[str, list[str]]:
    status = httpx.get(f"{worker.url}/connectors/{name}/status", timeout=10)
    if status.status_code != 200:
        return "", []
    body = status.json()
    return body["connector"]["state"], [t["state"] for t in body["tasks"]]


def _until(worker: ConnectWorker, name: str, state: str) -> None:
    WebDriverWait(None, 60, poll_frequency=0.2).until(lambda _: _state(worker, name)[0] == state)  # type: ignore[arg-type]


def _wait(driver: Any, what: str) -> Any:
    return WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, what)))


def test_connector_lifecycle(connect_console: ConsoleServer, worker: ConnectWorker, browser: Any, make_topic: Any,
                             kafka_bootstrap: str) -> None:
    topic = make_topic(1)
    name = f"counter-{uuid.uuid4().hex[:6]}"
    browser.get(f"{connect_console.url}/connect")
    _wait(browser, "connectors")
    assert "worker 4." in browser.find_element(By.TAG_NAME, "h1").text
    definition = {"name": name, "config": {"connector.class": CONNECTOR, "tasks.max": "1", "topic": topic,
                                           "db.password": "hunter2-pw", "api.key": "k-123", "key.converter":
                                           "org.apache.kafka.connect.storage.StringConverter"}}
    area = browser.find_element(By.ID, "connector-definition")
    browser.execute_script("arguments[0].value = arguments[1]", area, json.dumps(definition))
    follow(browser, browser.find_element(By.ID, "connector-button"))
    assert "created" in _wait(browser, "done").text
    _until(worker, name, "RUNNING")
    browser.get(f"{connect_console.url}/connect/{name}")
    config = _wait(browser, "connector-config").text
    assert "hunter2-pw" not in browser.page_source and "k-123" not in browser.page_source
    assert "db.password ********" in config and "api.key ********" in config
    assert f"topic {topic}" in config and "StringConverter" in config  # key.converter is no secret
    assert "RUNNING" in browser.find_element(By.ID, "tasks").text
    assert len(read_topic(kafka_bootstrap, topic, 2, exact=False)) >= 2  # the worker really runs it
    screenshot(browser, "connector")

    follow(browser, browser.find_element(By.ID, "pause-button"))
    assert "paused" in _wait(browser, "done").text
    _until(worker, name, "PAUSED")
    follow(browser, browser.find_element(By.ID, "resume-button"))
    assert "resumed" in _wait(browser, "done").text
    _until(worker, name, "RUNNING")
    follow(browser, browser.find_element(By.ID, "restart-button"))
    assert "restarted" in _wait(browser, "done").text

    browser.get(f"{connect_console.url}/connect")
    row = _wait(browser, "connectors").text
    assert name in row and "source" in row and "CountingSource" in row
    screenshot(browser, "connect")

    browser.get(f"{connect_console.url}/connect/{name}")
    follow(browser, _wait(browser, "delete-connector-button"))
    _wait(browser, "confirm").send_keys(name)
    follow(browser, browser.find_element(By.ID, "confirm-button"))
    assert f"deleted {name}" in _wait(browser, "done").text
    assert httpx.get(f"{worker.url}/connectors/{name}", timeout=10).status_code == 404


def test_failed_task_and_refusals(connect_console: ConsoleServer, worker: ConnectWorker, make_topic: Any) -> None:
    topic = make_topic(1)
    name = f"failing-{uuid.uuid4().hex[:6]}"
    with httpx.Client(base_url=connect_console.url, timeout=30) as client:
        token = csrf(client, "/connect")
        create = lambda text: client.post("/connect/create", data={"csrf_token": token, "definition": text})  # noqa: E731
        assert create("{not json").status_code == 400
        assert create(json.dumps({"name": name})).status_code == 400
        assert create(json.dumps([1])).status_code == 400
        unknown = create(json.dumps({"name": name, "config": {"connector.class": "no.such.Connector<x>"}}))
        assert unknown.status_code == 400 and "no.such.Connector&lt;x&gt;" in unknown.text
        body = {"name": name, "config": {"connector.class": CONNECTOR, "topic": topic, "fail": "<disk full>"}}
        assert create(json.dumps(body)).status_code == 303
        conflict = create(json.dumps(body))
        assert conflict.status_code == 409 and "already exists" in conflict.text
        WebDriverWait(None, 60, poll_frequency=0.2).until(lambda _: _state(worker, name)[1] == ["FAILED"])  # type: ignore[arg-type]
        page = client.get(f"/connect/{name}").text
        assert "told to fail: &lt;disk full&gt;" in page and "<disk full>" not in page
        assert client.get("/connect/no-such-connector").status_code == 404
        assert client.post("/connect/no-such-connector/pause", data={"csrf_token": token}).status_code == 404
        assert client.post(f"/connect/{name}/delete", data={"csrf_token": token, "confirmed": "1", "confirm": "x"}).status_code == 400
        assert client.post(f"/connect/{name}/pause", data={}).status_code == 403  # no CSRF token
        assert client.post(f"/connect/{name}/delete", data={"csrf_token": token, "confirmed": "1",
                                                            "confirm": name}).status_code == 303


class _StandIn(BaseHTTPRequestHandler):
    """A Connect REST stand-in for the faults: a 500, a body that is not JSON."""

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/connectors?"):
            self._send(500, b'{"error_code": 500, "message": "worker <b>exploded</b>"}')
        elif self.path == "/connectors/plain":
            self._send(200, b"<html>not json</html>")
        else:
            self._send(200, b"{}")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def stand_in() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://user:pa55word@127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_connect_faults(stand_in: str, kafka_bootstrap: str) -> None:
    config = ConsoleConfig([Cluster("faulty", kafka_bootstrap, connect=stand_in),
                            Cluster("gone", kafka_bootstrap, connect="http://127.0.0.1:1"),
                            Cluster("none", kafka_bootstrap)])
    with ConsoleServer(config, port=0) as console, httpx.Client(base_url=console.url, timeout=30) as client:
        failing = client.get("/connect")
        assert failing.status_code == 502 and "answered 500" in failing.text and "worker &lt;b&gt;exploded" in failing.text
        assert "pa55word" not in failing.text and "user:" not in failing.text  # credentials in the URL are not shown
        plain = client.get("/connect/plain")
        assert plain.status_code == 502 and "not JSON" in plain.text
        gone = client.get("/clusters/gone/connect")
        assert gone.status_code == 502 and "cannot reach Kafka Connect" in gone.text
        none = client.get("/clusters/none/connect")
        assert none.status_code == 404 and "no Kafka Connect URL" in none.text
        assert 'href="/clusters/none/connect"' not in client.get("/clusters/none/topics").text
        clusters = client.get("/clusters").text
        assert "pa55word" not in clusters


def test_mask_connector_config() -> None:
    masked = mask_connector_config({"connection.password": "p", "aws.secret.access.key": "s", "sasl.jaas.config": "j",
                                    "api.key": "a", "ssl.key": "k", "key.converter": "c", "token": "t",
                                    "connection.url": "jdbc:postgresql://u:pw@db/x", "topics": "a,b"})
    assert masked["key.converter"] == "c" and masked["topics"] == "a,b"
    assert all(masked[k] == "********" for k in ("connection.password", "aws.secret.access.key", "sasl.jaas.config",
                                                 "api.key", "ssl.key", "token"))
    assert "pw" not in masked["connection.url"]


def test_config_keys_for_connect_and_the_gateway(tmp_path: Path) -> None:
    from serde import ConfigError
    from serde.console import load_config

    path = tmp_path / "console.toml"
    path.write_text('[[clusters]]\nname = "a"\nbootstrap = "h:1"\nconnect = "http://u:p@w:8083/"\n'
                    'gateway = "gw/gateway.toml"\ngateway_metrics = "http://127.0.0.1:9100"\n')
    cluster = load_config(path).clusters[0]
    assert cluster.connect == "http://u:p@w:8083" and cluster.gateway == str(tmp_path / "gw" / "gateway.toml")
    assert cluster.public()["connect"] == "http://w:8083"
    for bad in ('connect = "ftp://w"', "connect = 3", 'gateway_metrics = "127.0.0.1:9100"', 'gateway = ""'):
        path.write_text(f'[[clusters]]\nname = "a"\nbootstrap = "h:1"\n{bad}\n')
        with pytest.raises(ConfigError):
            load_config(path)
