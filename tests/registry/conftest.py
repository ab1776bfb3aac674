"""Registry test fixtures: one API suite over two transports.

``registry`` is parametrized: ``http`` drives a ``RegistryServer`` of the test's own over
real HTTP, ``embedded`` an ``EmbeddedRegistry`` in process
(``httpx.WSGITransport``). Both give ``.client`` (a confluent-kafka
``SchemaRegistryClient``) and ``.http`` (an ``httpx.Client`` for raw REST calls).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from serde.pytest_plugin import serde_registry_server, serde_registry_url  # noqa: F401
from serde.registry import EmbeddedRegistry, RegistryServer


@dataclass
class Target:
    kind: str
    client: SchemaRegistryClient
    http: httpx.Client
    app: Any  # the RegistryApp, to flip options such as incompatible_error_code


@pytest.fixture(params=["http", "embedded"])
def registry(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Target]:
    if request.param == "http":
        server = RegistryServer(tmp_path / "registry.db").start()
        client = SchemaRegistryClient({"url": server.url})
        http = httpx.Client(base_url=server.url)
        try:
            yield Target("http", client, http, server.app)
        finally:
            http.close()
            client._rest_client.session.close()
            server.stop()
    else:
        reg = EmbeddedRegistry(tmp_path / "registry.db")
        http = reg.http_client()
        try:
            yield Target("embedded", reg.client, http, reg.app)
        finally:
            http.close()
            reg.close()
