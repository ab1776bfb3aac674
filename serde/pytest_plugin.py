"""pytest fixtures for a real Confluent-compatible schema registry over HTTP, no JVM needed.

Registered under the ``pytest11`` entry point, so installing serde makes them available:

* ``serde_registry_server`` (session): a ``serde.registry.RegistryServer`` on a free
  loopback port with a temporary SQLite file; ``.url`` is its base URL.
* ``serde_registry_url`` (function): the URL of a registry of this test's own (a server
  on a fresh SQLite file in ``tmp_path``, stopped after the test), so every test starts
  empty: ids from 1, no subjects, default config and mode. Starting and stopping one costs
  a few tens of milliseconds. A fresh server, rather than emptying the session one, keeps
  ids unique per URL, which clients that cache schemas by URL and id rely on.

    def test_roundtrip(serde_registry_url):
        client = SchemaRegistryClient({"url": serde_registry_url})
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from serde.registry import RegistryServer

__all__ = ["serde_registry_server", "serde_registry_url"]


@pytest.fixture(scope="session")
def serde_registry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A schema registry served over HTTP on a free port for the whole session."""
    db = tmp_path_factory.mktemp("serde-registry") / "registry.db"
    server = RegistryServer(db).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def serde_registry_url(tmp_path: Path) -> Iterator[str]:
    """The URL of an empty schema registry served over HTTP for this test only."""
    server = RegistryServer(tmp_path / "serde-registry.db").start()
    try:
        yield server.url
    finally:
        server.stop()  # also forgets serde's cached Registry for its URL
