"""Schema registry views in a real browser (headless Chromium) against a real registry
server: subjects with search, versions, references both ways, derived schemas, a diff, a
compatibility check of an incompatible draft showing the rule ID, deletes behind a
confirmation."""
from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from serde import SchemaReference
from serde.registry.client import open_registry

from .conftest import follow, screenshot

pytestmark = [pytest.mark.kafka]


def _record(*fields: dict[str, Any], name: str = "Order") -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "shop", "fields": list(fields)})


ID = {"name": "id", "type": "long"}
WHEN = {"name": "placed", "type": {"type": "long", "logicalType": "timestamp-millis"}}
NOTE = {"name": "note", "type": "string", "default": ""}
TOTAL = {"name": "total", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}, "default": "\u0000"}
ADDRESS = json.dumps({"type": "record", "name": "Address", "namespace": "shop",
                      "fields": [{"name": "street", "type": "string"}, {"name": "city", "type": "string"}]})
CUSTOMER = json.dumps({"type": "record", "name": "Customer", "namespace": "shop",
                       "fields": [{"name": "name", "type": "string"}, {"name": "home", "type": "shop.Address"}]})
PROTO = 'syntax = "proto3";\npackage shop;\nmessage Payment {\n  string id = 1;\n  int64 cents = 2;\n}\n'
JSON_SCHEMA = json.dumps({"type": "object", "title": "Event", "properties": {"kind": {"type": "string"}},
                          "required": ["kind"]})


@pytest.fixture(scope="module")
def schemas(registry_url: str) -> dict[str, Any]:
    registry = open_registry(registry_url)
    registry.register("orders-value", "AVRO", _record(ID, WHEN))
    registry.register("orders-value", "AVRO", _record(ID, WHEN, NOTE))
    registry.register("orders-value", "AVRO", _record(ID, WHEN, NOTE, TOTAL))
    registry.register("orders-value-archive", "AVRO", _record(ID))
    registry.register("address", "AVRO", ADDRESS)
    registry.register("customers-value", "AVRO", CUSTOMER, [SchemaReference("shop.Address", "address", 1)])
    registry.register("payments-value", "PROTOBUF", PROTO)
    registry.register("events-value", "JSON", JSON_SCHEMA)
    return {"registry": registry}


def _wait(driver: Any, by: str, what: str, timeout: float = 20) -> Any:
    return WebDriverWait(driver, timeout).until(EC.presence_of_element_located((by, what)))


def _wait_text(driver: Any, element_id: str, text: str, timeout: float = 20) -> None:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    def shows(d: Any) -> bool:
        try:
            return bool(d.find_element(By.ID, element_id).text == text)
        except (NoSuchElementException, StaleElementReferenceException):
            return False

    WebDriverWait(driver, timeout).until(shows)


def test_subjects_list_search_and_type(console: Any, browser: Any, schemas: Any) -> None:
    browser.get(f"{console.url}/subjects")
    rows = browser.find_elements(By.CSS_SELECTOR, "#subjects tbody tr")
    names = [r.find_element(By.CSS_SELECTOR, "td a").text for r in rows]
    assert {"orders-value", "customers-value", "address", "payments-value", "events-value"} <= set(names)
    orders = next(r for r in rows if r.find_element(By.CSS_SELECTOR, "td a").text == "orders-value")
    assert "Avro" in orders.text and "v3" in orders.text
    screenshot(browser, "subjects")
    box = browser.find_element(By.NAME, "q")
    box.send_keys("pay")
    follow(browser, box, submit=True)
    _wait(browser, By.CSS_SELECTOR, "#subjects tbody tr")
    names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#subjects tbody tr td:first-child a")]
    assert names == ["payments-value"]
    browser.get(f"{console.url}/subjects?type=JSON")
    names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#subjects tbody tr td:first-child a")]
    assert names == ["events-value"]


def test_subject_versions_config_and_mode(console: Any, browser: Any, schemas: Any) -> None:
    browser.get(f"{console.url}/subjects")
    follow(browser, browser.find_element(By.LINK_TEXT, "orders-value"))
    _wait(browser, By.ID, "versions")
    assert browser.current_url.endswith("/subjects/orders-value")
    versions = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#versions tbody tr td:first-child a")]
    assert versions == ["v3", "v2", "v1"]  # not orders-value-archive's, which shares the prefix
    assert len(browser.find_elements(By.CSS_SELECTOR, "#versions tbody tr")) == 3
    assert browser.find_element(By.ID, "level").text == "BACKWARD"
    assert browser.find_element(By.ID, "mode").text == "READWRITE"
    screenshot(browser, "subject")


def test_version_with_references_both_ways_and_derived_schemas(console: Any, browser: Any, schemas: Any) -> None:
    browser.get(f"{console.url}/subjects/customers-value/versions/1")
    refs = browser.find_element(By.ID, "references")
    assert "shop.Address" in refs.text and "address v1" in refs.text
    derived = browser.find_elements(By.CSS_SELECTOR, "section.derived")
    titles = [d.find_element(By.TAG_NAME, "h3").text for d in derived]
    assert titles == ["JSON Schema", "Protobuf"]
    proto = derived[1].find_element(By.TAG_NAME, "pre").text
    assert "message Customer" in proto and "message Address" in proto  # the reference was resolved
    screenshot(browser, "version")
    follow(browser, refs.find_element(By.LINK_TEXT, "address v1"))
    _wait(browser, By.ID, "referenced-by")
    assert browser.current_url.endswith("/subjects/address/versions/1")
    by = browser.find_element(By.ID, "referenced-by")
    assert "customers-value v1" in by.text
    follow(browser, by.find_element(By.LINK_TEXT, "customers-value v1"))
    _wait(browser, By.ID, "schema-text")
    assert "Customer" in browser.find_element(By.ID, "schema-text").text


def test_version_of_each_schema_type_derives_the_other_two(console: Any, schemas: Any) -> None:
    for subject, expected in (("payments-value", ("Avro", "JSON Schema")), ("events-value", ("Avro", "Protobuf"))):
        page = httpx.get(f"{console.url}/subjects/{subject}/versions/latest").text
        for label in expected:
            assert f"<h3>{label}</h3>" in page
        assert 'class="error"' not in page


def test_diff_side_by_side(console: Any, browser: Any, schemas: Any) -> None:
    browser.get(f"{console.url}/subjects/orders-value/diff?from=1&to=3")
    table = _wait(browser, By.ID, "diff")
    inserted = [r.find_element(By.CSS_SELECTOR, "td.r").text for r in table.find_elements(By.CSS_SELECTOR, "tr.insert, tr.replace")]
    assert any('"note"' in line for line in inserted)
    assert any('"total"' in line for line in inserted)
    assert browser.find_element(By.ID, "verdict").text == "compatible"
    screenshot(browser, "diff")
    # the other way round the same lines are deletions, on the left
    browser.get(f"{console.url}/subjects/orders-value/diff?from=3&to=1")
    deleted = [r.find_element(By.CSS_SELECTOR, "td.l").text for r in browser.find_elements(By.CSS_SELECTOR, "#diff tr.delete, #diff tr.replace")]
    assert any('"total"' in line for line in deleted)


def test_compatibility_check_names_the_rule(console: Any, browser: Any, schemas: Any) -> None:
    browser.get(f"{console.url}/subjects/orders-value/check")
    draft = browser.find_element(By.ID, "draft")
    assert '"total"' in draft.get_attribute("value")  # starts from the latest version
    incompatible = _record({"name": "id", "type": "string"}, WHEN, NOTE, TOTAL, {"name": "extra", "type": "int"})
    browser.execute_script("arguments[0].value = arguments[1]", draft, incompatible)
    follow(browser, browser.find_element(By.ID, "check-button"))
    verdict = _wait(browser, By.ID, "verdict")
    assert verdict.text.startswith("Incompatible at BACKWARD")
    rules = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "code.rule")]
    assert "TYPE_MISMATCH" in rules and "READER_FIELD_MISSING_DEFAULT_VALUE" in rules
    rows = browser.find_elements(By.CSS_SELECTOR, "table.violations tbody tr")
    assert any("/fields/0" in r.text or "id" in r.text for r in rows)
    screenshot(browser, "check")
    # a chosen level: NONE accepts anything
    browser.find_element(By.CSS_SELECTOR, "#level option[value='NONE']").click()
    follow(browser, browser.find_element(By.ID, "check-button"))
    assert _wait(browser, By.ID, "verdict").text.startswith("Compatible")


def test_check_refuses_a_draft_that_does_not_parse(console: Any, browser: Any, schemas: Any) -> None:
    browser.get(f"{console.url}/subjects/orders-value/check")
    draft = browser.find_element(By.ID, "draft")
    browser.execute_script("arguments[0].value = arguments[1]", draft, "{not json")
    follow(browser, browser.find_element(By.ID, "check-button"))
    error = _wait(browser, By.CSS_SELECTOR, "#result .error")
    assert "not a valid Avro schema" in error.text


def test_soft_and_hard_delete_behind_a_confirmation(console: Any, browser: Any, schemas: Any) -> None:
    registry = schemas["registry"]
    registry.register("doomed-value", "AVRO", _record(ID))
    registry.register("doomed-value", "AVRO", _record(ID, NOTE))
    browser.get(f"{console.url}/subjects/doomed-value/versions/2")
    follow(browser, browser.find_element(By.LINK_TEXT, "delete this version"))
    _wait(browser, By.ID, "delete-form")
    browser.find_element(By.ID, "confirm").send_keys("wrong name")
    follow(browser, browser.find_element(By.ID, "delete-button"))
    assert "type the subject's name" in _wait(browser, By.ID, "error-message").text
    assert registry.client.get_versions("doomed-value") == [1, 2]
    browser.get(f"{console.url}/subjects/doomed-value/delete?version=2")
    browser.find_element(By.ID, "confirm").send_keys("doomed-value")
    follow(browser, browser.find_element(By.ID, "delete-button"))
    _wait(browser, By.ID, "versions")
    assert registry.client.get_versions("doomed-value") == [1]
    assert "soft-deleted: 2" in browser.find_element(By.CSS_SELECTOR, "p.meta").text
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#versions tbody tr td:first-child a")] == ["v1"]
    # the deleted version's page is gone, though serde's client had it cached
    assert httpx.get(f"{console.url}/subjects/doomed-value/versions/2").status_code == 404
    # the whole subject, permanently
    follow(browser, browser.find_element(By.LINK_TEXT, "Delete permanently"))
    _wait(browser, By.ID, "delete-form")
    browser.find_element(By.ID, "confirm").send_keys("doomed-value")
    follow(browser, browser.find_element(By.ID, "delete-button"))
    _wait(browser, By.ID, "subjects")
    assert "doomed-value" not in registry.client.get_subjects(deleted=True)


def test_rules_and_metadata_are_shown(console: Any, browser: Any, registry_url: str) -> None:
    body = {"schema": _record(ID, name="Contract"), "schemaType": "AVRO",
            "metadata": {"properties": {"owner": "team-<b>payments</b>"}},
            "ruleSet": {"domainRules": [{"name": "idPositive", "kind": "CONDITION", "mode": "WRITE", "type": "CEL",
                                         "expr": "message.id > 0"}]}}
    answer = httpx.post(f"{registry_url}/subjects/contract-value/versions", json=body,
                        headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
    assert answer.status_code == 200, answer.text
    browser.get(f"{console.url}/subjects/contract-value/versions/1")
    assert "team-<b>payments</b>" in _wait(browser, By.ID, "metadata").text
    assert "message.id > 0" in browser.find_element(By.ID, "rules").text
    assert browser.find_elements(By.CSS_SELECTOR, "#metadata b") == []


def test_uploaded_draft_fills_the_editor(console: Any, browser: Any, schemas: Any, tmp_path: Any) -> None:
    draft = tmp_path / "draft.avsc"
    draft.write_text(_record({"name": "id", "type": "string"}, WHEN, NOTE, TOTAL))
    browser.get(f"{console.url}/subjects/orders-value/check")
    browser.find_element(By.ID, "draft-file").send_keys(str(draft))
    WebDriverWait(browser, 10).until(lambda d: '"string"' in d.find_element(By.ID, "draft").get_attribute("value"))
    follow(browser, browser.find_element(By.ID, "check-button"))
    assert _wait(browser, By.ID, "verdict").text.startswith("Incompatible")
    assert [c.text for c in browser.find_elements(By.CSS_SELECTOR, "code.rule")] == ["TYPE_MISMATCH"]


def test_register_a_checked_draft_and_set_the_level(console: Any, browser: Any, schemas: Any) -> None:
    registry = schemas["registry"]
    registry.register("evolving-value", "AVRO", _record(ID))
    browser.get(f"{console.url}/subjects/evolving-value/check")
    draft = browser.find_element(By.ID, "draft")
    browser.execute_script("arguments[0].value = arguments[1]", draft, _record({"name": "id", "type": "string"}))
    follow(browser, browser.find_element(By.ID, "register-button"))  # incompatible: the registry refuses, and says why
    assert "incompatible" in _wait(browser, By.ID, "error-message").text.lower()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Error 409"
    assert registry.client.get_versions("evolving-value") == [1]
    # the subject's level, from its page
    browser.get(f"{console.url}/subjects/evolving-value")
    browser.find_element(By.CSS_SELECTOR, "#level-choice option[value='NONE']").click()
    follow(browser, browser.find_element(By.ID, "level-button"))
    _wait_text(browser, "level", "NONE")  # the page it lands on has a #level too: wait for the new one
    assert registry.client.get_compatibility("evolving-value") == "NONE"
    browser.get(f"{console.url}/subjects/evolving-value/check")
    draft = browser.find_element(By.ID, "draft")
    browser.execute_script("arguments[0].value = arguments[1]", draft, _record({"name": "id", "type": "string"}))
    follow(browser, browser.find_element(By.ID, "register-button"))
    _wait(browser, By.ID, "schema-text")
    assert browser.current_url.endswith("/subjects/evolving-value/versions/2")
    assert registry.client.get_versions("evolving-value") == [1, 2]
    browser.get(f"{console.url}/subjects/evolving-value")
    browser.find_element(By.CSS_SELECTOR, "#level-choice option[value='DEFAULT']").click()
    follow(browser, browser.find_element(By.ID, "level-button"))
    _wait_text(browser, "level", "BACKWARD")  # the global default again
