"""The gateway view in a real browser: a real gateway dead-letters a record its route cannot
convert; after the route is fixed (the gateway restarted with the new config), the dead
letter is selected and replayed from the console, and the gateway delivers it to the
target. Also its routes and live figures, the export, and the failure answers."""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from serde.console import Cluster, ConsoleConfig, ConsoleServer
from serde.console.gateway import parse_metrics
from tests.gateway.helpers import gateway_thread, kafka_toml, numbers_route, produce, read_topic, write_config

from .conftest import csrf, follow, screenshot

pytestmark = [pytest.mark.kafka]


def _wait(driver: Any, what: str) -> Any:
    return WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, what)))


@pytest.fixture
def topics(make_topic: Any) -> tuple[str, str, str]:
    return make_topic(1, prefix="gw-src"), make_topic(1, prefix="gw-dst"), make_topic(1, prefix="gw-dlq")


def test_replay_a_dead_letter_through_a_fixed_route(tmp_path: Path, kafka_bootstrap: str, browser: Any,
                                                    topics: tuple[str, str, str]) -> None:
    src, dst, dlq = topics
    group = f"gw-{uuid.uuid4().hex[:8]}"
    base = kafka_toml(kafka_bootstrap, str(tmp_path / "r.db"), group=group, extra="metrics_port = 0")
    route = numbers_route(src, dst, dlq, name="readings")  # text in, 8-byte longs out
    broken = write_config(tmp_path, base + route, "broken.toml")
    fixed = write_config(tmp_path, base + route.replace('type = "long"', 'type = "string"'), "fixed.toml")
    produce(kafka_bootstrap, src, [(b"k1", b"17"), (b"k2", b"<b>seventeen</b>", [("trace", b"t-1")]), (b"k3", b"18")])
    with gateway_thread(broken):
        assert len(read_topic(kafka_bootstrap, dlq, 1)) == 1  # "<b>seventeen</b>" is no long
        assert len(read_topic(kafka_bootstrap, dst, 2)) == 2
    with gateway_thread(fixed) as gateway:  # the route fixed: the target takes text
        config = ConsoleConfig([Cluster("gw", kafka_bootstrap, str(tmp_path / "r.db"), gateway=str(fixed),
                                        gateway_metrics=f"http://127.0.0.1:{gateway.http_port}")])
        with ConsoleServer(config, port=0) as console:
            browser.get(f"{console.url}/gateway")
            routes = _wait(browser, "routes").text
            assert "readings" in routes and src in routes and dst in routes and "binary string → binary string" in routes
            assert "ready" in browser.find_element(By.ID, "figures-summary").text
            follow(browser, browser.find_element(By.CSS_SELECTOR, "a.dlq"))
            rows = _wait(browser, "dead-letters").find_elements(By.CSS_SELECTOR, "tbody tr")
            assert len(rows) == 1
            text = rows[0].text
            assert "<b>seventeen</b>" in text  # the original value, as text (escaped, not markup)
            assert "exception.message" in text and "stage" in text and "TRANSFORMATION" in text
            assert "trace" in text and "t-1" in text  # the record's own header kept
            assert f"{src}[0]@1" in text
            screenshot(browser, "dead-letters")
            rows[0].find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
            follow(browser, browser.find_element(By.ID, "replay-button"))
            assert "Replay 1 dead letter(s)?" in _wait(browser, "confirm-title").text
            assert src in browser.find_element(By.ID, "confirm-table").text
            follow(browser, browser.find_element(By.ID, "confirm-button"))
            assert f"replayed 1 to {src}" in _wait(browser, "done").text
            arrived = read_topic(kafka_bootstrap, dst, 3)
            assert arrived[-1].value() == b"<b>seventeen</b>" and arrived[-1].key() == b"k2"
            headers = dict(arrived[-1].headers() or [])
            assert headers.get("trace") == b"t-1" and not any(h.startswith("__connect.errors.") for h in headers)
            # the replayed record was read and converted: it is not dead-lettered again
            assert len(read_topic(kafka_bootstrap, dlq, 1)) == 1
            browser.get(f"{console.url}/gateway")
            WebDriverWait(browser, 30).until(lambda d: src in d.find_element(By.ID, "figures").text)
            screenshot(browser, "gateway")

            with httpx.Client(base_url=console.url, timeout=30) as client:
                token = csrf(client, "/gateway")
                export = client.post(f"/gateway/dead-letters/{dlq}/export", data={"csrf_token": token, "selected": "0:0"})
                assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
                record = json.loads(export.text.splitlines()[0])
                assert record["value"] == "<b>seventeen</b>" and record["source_topic"] == src
                assert record["errors"]["__connect.errors.stage"] == "TRANSFORMATION"
                assert record["headers"] == {"trace": "t-1"}
                figures = client.get("/gateway").text
                assert re.search(rf"<td>{re.escape(src)}</td><td>[1-9]", figures)  # records in, from its metrics


@pytest.fixture(scope="module")
def unconfigured(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    bad = tmp_path_factory.mktemp("gw-bad") / "gateway.toml"
    bad.write_text("[kafka]\n\"bootstrap.servers\" = \"${NO_SUCH_VARIABLE_HERE}\"\n")
    config = ConsoleConfig([Cluster("plain", kafka_bootstrap),
                            Cluster("broken", kafka_bootstrap, gateway=str(bad), gateway_metrics="http://127.0.0.1:1")])
    with ConsoleServer(config, port=0) as server:
        yield server


def test_gateway_failures(unconfigured: ConsoleServer, make_topic: Any, kafka_bootstrap: str) -> None:
    plain = make_topic(1)
    produce(kafka_bootstrap, plain, [(None, b"not a dead letter")])
    with httpx.Client(base_url=unconfigured.url, timeout=30) as client:
        assert client.get("/gateway").status_code == 404
        assert 'href="/gateway"' not in client.get("/topics").text  # no gateway: no link
        page = client.get("/clusters/broken/gateway")
        assert page.status_code == 200
        assert "cannot read the gateway config" in page.text and "cannot reach the gateway&#39;s metrics" in page.text
        token = csrf(client, "/topics")
        replay = lambda **data: client.post(f"/gateway/dead-letters/{plain}/replay", data={"csrf_token": token, **data})  # noqa: E731
        assert replay().status_code == 400  # nothing selected
        assert replay(selected="zero").status_code == 400
        from urllib.parse import urlencode

        many = urlencode([("csrf_token", token)] + [("selected", f"0:{n}") for n in range(501)])
        assert client.post(f"/gateway/dead-letters/{plain}/replay", content=many,
                           headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 400
        assert replay(selected="0:99").status_code == 404
        assert replay(selected="7:0").status_code == 502  # no partition 7
        no_origin = replay(selected="0:0", confirmed="1")
        assert no_origin.status_code == 400 and "__connect.errors.topic" in no_origin.text
        assert client.post(f"/gateway/dead-letters/{plain}/replay", data={"selected": "0:0"}).status_code == 403
        assert client.post(f"/gateway/dead-letters/{plain}/export", data={"csrf_token": token}).status_code == 400
        listed = client.get(f"/gateway/dead-letters/{plain}")
        assert listed.status_code == 200 and "not a dead letter" in listed.text
        assert client.get(f"/gateway/dead-letters/{plain}", params={"cursor": "x"}).status_code == 400


def test_parse_metrics() -> None:
    text = ('# HELP x\nserde_gateway_records_in_total{topic="a\\"b"} 3\nserde_gateway_ready 1\n'
            'serde_gateway_end_to_end_latency_seconds_bucket{le="0.5"} 2\nbroken line\nm{l="v"} NaN-ish\n')
    found = parse_metrics(text)
    assert found["serde_gateway_records_in_total"] == [({"topic": 'a"b'}, 3.0)]
    assert found["serde_gateway_ready"] == [({}, 1.0)]
    assert "serde_gateway_end_to_end_latency_seconds_bucket" not in found and "m" not in found
