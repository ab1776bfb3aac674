"""Fixtures of the console's tests: a registry server, the console on a free port against
the session's real Kafka broker, and a headless Chromium driven by Selenium.

Chromium is Debian's (``apt-get install chromium chromium-driver``; ``.ci/run`` installs
it). When it is missing the browser tests FAIL, they are not skipped: CI must run them.
``SERDE_SCREENSHOTS=1`` writes each view's screenshot to ``docs/console/``.
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from serde.console import Cluster, ConsoleConfig, ConsoleServer
from serde.registry import RegistryServer

DOCS = Path(__file__).resolve().parents[2] / "docs" / "console"
CHROMIUM = os.environ.get("SERDE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SERDE_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = RegistryServer(tmp_path_factory.mktemp("console-registry") / "registry.db").start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def console(kafka_bootstrap: str, registry_url: str) -> Iterator[ConsoleServer]:
    config = ConsoleConfig([Cluster("test", kafka_bootstrap, registry_url)])
    with ConsoleServer(config, port=0) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)) or not os.path.exists(CHROMEDRIVER):
        pytest.fail(f"the console's browser tests need Chromium and chromedriver ({CHROMIUM}, {CHROMEDRIVER}): "
                    "apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900",
                "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, name: str) -> None:
    """docs/console/<name>.png of the whole page, when SERDE_SCREENSHOTS=1."""
    if os.environ.get("SERDE_SCREENSHOTS") != "1":
        return
    DOCS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return Math.min(document.body.scrollHeight, 2400)")
    driver.set_window_size(1360, max(700, int(height) + 40))
    driver.save_screenshot(str(DOCS / f"{name}.png"))
    driver.set_window_size(1360, 900)


def csrf(client: httpx.Client, url: str) -> str:
    """The CSRF token of ``client``'s session, from the page at ``url``."""
    page = client.get(url)
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def follow(driver: Any, element: Any, *, submit: bool = False) -> None:
    """Click (or submit) ``element`` and wait until the page it leads to has replaced this
    one: pages share element ids (#messages, #level), so waiting for an id could find the
    old page's."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.submit() if submit else element.click()

    def replaced(_: Any) -> bool:
        # Chromium reports an element of a page it is tearing down either as stale or,
        # mid-navigation, as "Node with given id does not belong to the document": both
        # mean the old page is gone (EC.staleness_of knows only the first)
        try:
            old.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc) or "No node with given id" in str(exc):
                return True
            raise
        return False

    WebDriverWait(driver, 30).until(replaced)
