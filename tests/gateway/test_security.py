"""Security settings pass through: SASL/SCRAM-SHA-256 and TLS against a second real broker
configured with those listeners (certificates made in the test), registry basic and
bearer auth, and secrets never in logs or errors."""
from __future__ import annotations

import base64
import json
import logging
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import serde
from serde.gateway import Gateway, Pipeline, parse_config

from .helpers import (ROOT, SERDE, gateway_thread, kafka_toml, kill, numbers_route, produce, read_topic, start_process,
                      wait_for_log, write_config)
from .secure import SCRAM_PASSWORD

pytestmark = pytest.mark.kafka



def _topics(secure, prefix: str) -> tuple[str, str, str]:
    import uuid

    names = tuple(f"{prefix}-{part}-{uuid.uuid4().hex[:8]}" for part in ("src", "dst", "dlq"))
    for name in names:
        secure.broker.create_topic(name)
    return names  # type: ignore[return-value]


def _secure_toml(bootstrap: str, tmp_path: Path, settings: dict[str, str], startup: int = 10) -> str:
    text = kafka_toml(bootstrap, str(tmp_path / "r.db")).replace("startup_timeout = 10", f"startup_timeout = {startup}")
    lines = "".join(f'"{k}" = "{v}"\n' for k, v in settings.items())
    return text.replace("[registry]", lines + "\n[registry]", 1)


def test_sasl_scram_sha_256(tmp_path, secure_broker, monkeypatch):
    src, dst, dlq = _topics(secure_broker, "scram")
    monkeypatch.setenv("KAFKA_PASSWORD", SCRAM_PASSWORD)  # the config reads it as ${KAFKA_PASSWORD}
    settings = {k: v for k, v in secure_broker.sasl_conf().items() if k != "bootstrap.servers"}
    settings["sasl.password"] = "${KAFKA_PASSWORD}"
    config = write_config(tmp_path, _secure_toml(secure_broker.sasl, tmp_path, settings)
                          + numbers_route(src, dst, dlq, name="nums", keys=False))
    produce(secure_broker.plaintext, src, [(None, str(i).encode()) for i in range(5)] + [(None, b"x")])
    log = tmp_path / "gateway.log"
    proc = start_process(config, log)
    try:
        wait_for_log(log, "gateway running", proc)
        out = read_topic(secure_broker.plaintext, dst, 5)
        assert [int.from_bytes(m.value(), "big") for m in out] == [0, 1, 2, 3, 4]
        assert len(read_topic(secure_broker.plaintext, dlq, 1)) == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        kill(proc)
    text = log.read_text()
    assert "'security.protocol': 'SASL_PLAINTEXT'" in text and "'sasl.password': '***'" in text
    assert SCRAM_PASSWORD not in text


def test_sasl_wrong_password_is_a_clear_error_without_the_password(tmp_path, secure_broker):
    src, dst, dlq = _topics(secure_broker, "scram-bad")
    settings = {k: v for k, v in secure_broker.sasl_conf("Wrong-Pass-999").items() if k != "bootstrap.servers"}
    config = write_config(tmp_path, _secure_toml(secure_broker.sasl, tmp_path, settings, startup=3)
                          + numbers_route(src, dst, dlq, name="nums", keys=False))
    result = subprocess.run([SERDE, "gateway", "run", str(config), "--log-level", "debug"], cwd=str(ROOT),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"cannot reach Kafka at {secure_broker.sasl}" in result.stderr
    assert "Authentication failed" in result.stderr  # the reason, not a bare timeout
    assert "Wrong-Pass-999" not in result.stderr + result.stdout


def test_tls(tmp_path, secure_broker):
    src, dst, dlq = _topics(secure_broker, "tls")
    settings = {k: v for k, v in secure_broker.ssl_conf().items() if k != "bootstrap.servers"}
    config = write_config(tmp_path, _secure_toml(secure_broker.ssl, tmp_path, settings)
                          + numbers_route(src, dst, dlq, name="nums", keys=False))
    produce(secure_broker.plaintext, src, [(b"k", b"42")])
    with gateway_thread(config) as gw:
        assert gw.consumer_conf["security.protocol"] == "SSL"
        out = read_topic(secure_broker.plaintext, dst, 1)
    assert int.from_bytes(out[0].value(), "big") == 42
    # serde consume over TLS too: -X passes any librdkafka setting through
    result = subprocess.run([SERDE, "consume", dst, "--from-beginning", "--format", "binary", "--type", "long",
                             "--bootstrap", secure_broker.ssl, "-X", "security.protocol=SSL",
                             "-X", f"ssl.ca.location={secure_broker.ca_pem}", "--timeout", "5"],
                            cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0]) == 42


def test_tls_without_the_ca_fails_clearly(tmp_path, secure_broker):
    src, dst, dlq = _topics(secure_broker, "tls-bad")
    config = write_config(tmp_path, _secure_toml(secure_broker.ssl, tmp_path, {"security.protocol": "SSL"}, startup=3)
                          + numbers_route(src, dst, dlq, name="nums", keys=False))
    result = subprocess.run([SERDE, "gateway", "run", str(config)], cwd=str(ROOT), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "cannot reach Kafka" in result.stderr and "certificate verify failed" in result.stderr


# -- the registry ----------------------------------------------------------------------
class _Registry:
    """A stub registry recording the Authorization header of each request."""

    def __init__(self, status: int = 200) -> None:
        seen: list[dict[str, str]] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                seen.append({k.lower(): v for k, v in self.headers.items()})
                body = b"[]" if status == 200 else b'{"error_code": 40101, "message": "Unauthorized"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _registry_config(url: str, bootstrap: str = "127.0.0.1:1", **conf: str):
    return parse_config({
        "kafka": {"bootstrap.servers": bootstrap},
        "registry": {"url": url, **conf},
        "gateway": {"startup_timeout": 5},
        "routes": [{"name": "r", "dead_letter_topic": "d", "source": {"topic": "in", "value": {"format": "avro"}},
                    "target": {"topic": "out", "value": {"format": "json", "derive": True}}}],
    })


@pytest.mark.parametrize("conf, expected", [
    ({"basic.auth.user.info": "reg-user:reg-Pass-1"}, {"authorization": "Basic " + base64.b64encode(b"reg-user:reg-Pass-1").decode()}),
    ({"bearer.auth.credentials.source": "STATIC_TOKEN", "bearer.auth.token": "tok-Secret-2",
      "bearer.auth.logical.cluster": "lsrc-1", "bearer.auth.identity.pool.id": "pool-1"},
     {"authorization": "Bearer tok-Secret-2", "target-sr-cluster": "lsrc-1", "confluent-identity-pool-id": "pool-1"}),
])
def test_registry_auth_passes_through(conf, expected):
    stub = _Registry()
    try:
        config = _registry_config(stub.url, **conf)
        assert "Secret" not in repr(config) and "Pass" not in repr(config)
        Pipeline(config).check_registry()
    finally:
        stub.close()
    assert stub.seen, "the registry was not called"
    for name, value in expected.items():
        assert stub.seen[-1].get(name) == value


@pytest.mark.kafka
def test_registry_secrets_never_in_errors_or_logs(kafka_bootstrap, caplog):
    stub = _Registry(status=401)
    try:
        caplog.set_level(logging.DEBUG, logger="serde")
        config = _registry_config(stub.url, kafka_bootstrap, **{"basic.auth.user.info": "reg-user:reg-Pass-3"})
        with pytest.raises(serde.SerdeError) as info:
            Gateway(config).run()
        url_config = _registry_config("http://u:url-Pass-4@127.0.0.1:1", kafka_bootstrap)
        with pytest.raises(serde.SerdeError) as info2:
            Gateway(url_config).run()
    finally:
        stub.close()
    text = str(info.value) + str(info2.value) + caplog.text
    assert "401" in str(info.value) or "nauthorized" in str(info.value)
    assert "reg-Pass-3" not in text and "url-Pass-4" not in text
