"""Registry test fixtures: one API suite over two transports.

``registry`` is parametrized: ``http`` drives the session ``RegistryServer`` over real HTTP
(emptied before each test), ``embedded`` an ``EmbeddedRegistry`` in process
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
from serde.registry import EmbeddedRegistry


@dataclass
class Target:
    kind: str
    client: SchemaRegistryClient
    http: httpx.Client
    app: Any  # the RegistryApp, to flip options such as incompatible_error_code


@pytest.fixture(params=["http", "embedded"])
def registry(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Target]:
    if request.param == "http":
        server = request.getfixturevalue("serde_registry_server")
        url = request.getfixturevalue("serde_registry_url")
        client = SchemaRegistryClient({"url": url})
        http = httpx.Client(base_url=url)
        try:
            yield Target("http", client, http, server.app)
        finally:
            server.app.incompatible_error_code = 409
            http.close()
            client._rest_client.session.close()
    else:
        reg = EmbeddedRegistry(tmp_path / "registry.db")
        http = reg.http_client()
        try:
            yield Target("embedded", reg.client, http, reg.app)
        finally:
            http.close()
            reg.close()
