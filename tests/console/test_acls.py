"""ACLs in a real browser against a second real broker started with SASL/SCRAM-SHA-256 and
KRaft's StandardAuthorizer, the console signed in over SASL as a super user; and the
clear answer of a cluster without an authorizer (the session's broker)."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from serde.console import Cluster, ConsoleConfig, ConsoleServer
from tests.kafka.broker import KafkaBroker, _free_ports

from .conftest import csrf, follow, screenshot

pytestmark = [pytest.mark.kafka]

USER, PASSWORD = "alice", "Acl-s3cret-pw"


@pytest.fixture(scope="module")
def acl_broker() -> Iterator[tuple[KafkaBroker, str]]:
    (sasl_port,) = _free_ports(1)
    host = KafkaBroker.host
    broker = KafkaBroker(
        extra_properties={
            "listeners": lambda b: (f"PLAINTEXT://{host}:{b.port},CONTROLLER://{host}:{b.controller_port},"
                                    f"SASL_PLAINTEXT://{host}:{sasl_port}"),
            "advertised.listeners": lambda b: f"PLAINTEXT://{host}:{b.port},SASL_PLAINTEXT://{host}:{sasl_port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
            "sasl.enabled.mechanisms": "SCRAM-SHA-256",
            "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            # the broker's own listeners are unauthenticated (ANONYMOUS); alice administers
            "super.users": f"User:ANONYMOUS;User:{USER}",
        },
        format_args=("--add-scram", f"SCRAM-SHA-256=[name={USER},password={PASSWORD}]"),
        heap_opts="-Xmx384m -Xms64m",
    )
    broker.start()
    try:
        yield broker, f"{host}:{sasl_port}"
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def acl_console(acl_broker: tuple[KafkaBroker, str], kafka_bootstrap: str) -> Iterator[ConsoleServer]:
    _, sasl = acl_broker
    secured = Cluster("secured", sasl, None, {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256",
                                               "sasl.username": USER, "sasl.password": PASSWORD})
    with ConsoleServer(ConsoleConfig([secured, Cluster("open", kafka_bootstrap)]), port=0) as server:
        yield server


def _wait(driver: Any, what: str) -> Any:
    return WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, what)))


def test_create_list_and_delete_an_acl(acl_console: ConsoleServer, browser: Any) -> None:
    topic = f"payments-{uuid.uuid4().hex[:6]}"
    browser.get(f"{acl_console.url}/acls")
    assert "No ACLs." in _wait(browser, "acls").text
    assert "secured" in browser.find_element(By.CSS_SELECTOR, "header .cluster").text
    browser.find_element(By.ID, "acl-principal").send_keys("User:bob")
    Select(browser.find_element(By.ID, "acl-resource_type")).select_by_visible_text("TOPIC")
    browser.find_element(By.ID, "acl-name").send_keys(topic)
    Select(browser.find_element(By.ID, "acl-pattern_type")).select_by_visible_text("PREFIXED")
    Select(browser.find_element(By.ID, "acl-operation")).select_by_visible_text("READ")
    follow(browser, browser.find_element(By.ID, "acl-button"))
    assert f"ALLOW User:bob from * to READ TOPIC {topic} (PREFIXED)" in browser.find_element(By.TAG_NAME, "main").text
    follow(browser, _wait(browser, "confirm-button"))
    assert "created" in _wait(browser, "done").text
    rows = browser.find_elements(By.CSS_SELECTOR, "#acls tbody tr")
    assert len(rows) == 1 and "User:bob" in rows[0].text and topic in rows[0].text and "PREFIXED" in rows[0].text
    screenshot(browser, "acls")
    follow(browser, rows[0].find_element(By.TAG_NAME, "button"))
    assert "Delete this ACL?" in _wait(browser, "confirm-title").text
    follow(browser, browser.find_element(By.ID, "confirm-button"))
    assert "deleted" in _wait(browser, "done").text
    assert "No ACLs." in browser.find_element(By.ID, "acls").text


def test_acl_failures_and_no_authorizer(acl_console: ConsoleServer) -> None:
    with httpx.Client(base_url=acl_console.url, timeout=30) as client:
        token = csrf(client, "/acls")
        good = {"csrf_token": token, "principal": "User:carol", "resource_type": "TOPIC", "name": "t",
                "pattern_type": "LITERAL", "operation": "READ", "permission": "ALLOW", "host": "*"}
        assert client.post("/acls/create", data={**good, "principal": "carol"}).status_code == 400
        assert client.post("/acls/create", data={**good, "operation": "EAT"}).status_code == 400
        assert client.post("/acls/create", data={**good, "name": ""}).status_code == 400
        assert client.post("/acls/create", data={**good, "pattern_type": "ANY"}).status_code == 400
        missing = client.post("/acls/delete", data={**good, "confirmed": "1"})
        assert missing.status_code == 404 and "no such ACL" in missing.text
        assert client.post("/acls/create", data={k: v for k, v in good.items() if k != "csrf_token"}).status_code == 403
        hostile = client.get("/acls", params={"q": "<script>"}).text
        assert "<script>" not in hostile.split("<main>")[1]
        # the second cluster, the session's broker, has no authorizer: said plainly, not an error page
        page = client.get("/clusters/open/acls")
        assert page.status_code == 200 and "has no authorizer" in page.text and 'id="acl-form"' not in page.text
        refused = client.post("/clusters/open/acls/create", data={**good, "confirmed": "1"})
        assert refused.status_code == 502 and "no authorizer" in refused.text
        # both clusters side by side in the navigation, each link to the same view; the page names its cluster
        assert ('<a href="/acls">secured</a><a href="/clusters/open/acls" class="current" aria-current="page">open</a>'
                in page.text)
        assert "cluster <b>open</b>" in page.text
        groups = client.get("/clusters/open/groups").text
        assert '<a href="/groups">secured</a>' in groups and "cluster <b>open</b>" in groups
