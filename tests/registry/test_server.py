"""``RegistryServer`` / ``serde registry serve``: persistence, auth, TLS, limits, refusal, CLI."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys

import httpx
import pytest
from click.testing import CliRunner
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from serde._errors import ConfigError
from serde.registry import EmbeddedRegistry, RegistryServer
from serde.registry._app import load_users
from serde.registry.server import is_loopback

AVSC = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]})
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


_OPEN: list[SchemaRegistryClient] = []


def client(url: str, **conf: str) -> SchemaRegistryClient:
    c = SchemaRegistryClient({"url": url, **conf})
    _OPEN.append(c)
    return c


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while _OPEN:
        _OPEN.pop()._rest_client.session.close()


def test_restart_keeps_everything(tmp_path):
    db = tmp_path / "reg.db"
    with RegistryServer(db) as srv:
        c = client(srv.url)
        assert c.register_schema("s", Schema(AVSC, "AVRO")) == 1
        c.set_compatibility("s", "NONE")
        c.update_mode("s", "READONLY")
        c.register_schema("t", Schema(AVSC, "AVRO"))
        c.delete_subject("t")
    with RegistryServer(db) as srv:
        c = client(srv.url)
        assert c.get_subjects() == ["s"]
        assert c.get_subjects(deleted=True) == ["s", "t"]
        assert json.loads(c.get_schema(1).schema_str) == json.loads(AVSC)
        assert c.get_compatibility("s") == "NONE"
        assert c.get_mode("s") == "READONLY"
    # the embedded registry reads the same file
    with EmbeddedRegistry(db) as reg:
        assert reg.client.get_latest_version("s").schema_id == 1


def test_server_and_embedded_share_a_file(tmp_path):
    db = tmp_path / "reg.db"
    with RegistryServer(db) as srv, EmbeddedRegistry(db) as reg:
        assert reg.client.register_schema("s", Schema(AVSC, "AVRO")) == 1
        assert client(srv.url).get_latest_version("s").schema_id == 1


def test_embedded_creates_parent_directories(tmp_path):
    path = tmp_path / "a" / "b" / "registry.db"
    with EmbeddedRegistry(path) as reg:
        assert reg.client.get_subjects() == []
        assert reg.path == str(path)
    assert path.exists()


def test_stop_is_idempotent_and_frees_the_port(tmp_path):
    srv = RegistryServer(tmp_path / "r.db").start()
    url = srv.url
    srv.stop()
    srv.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/subjects", timeout=2)


# ------------------------------------------------------------------ limits


def test_request_size_limit(tmp_path):
    with RegistryServer(tmp_path / "r.db", max_body=2048) as srv:
        big = json.dumps({"type": "record", "name": "R", "doc": "x" * 4000, "fields": []})
        resp = httpx.post(srv.url + "/subjects/s/versions", json={"schema": big})
        assert resp.status_code == 422 and resp.json()["error_code"] == 42209
        resp = httpx.put(srv.url + "/config", json={"compatibility": "NONE", "pad": "x" * 4000})
        assert resp.status_code == 413 and resp.json()["error_code"] == 413
        ok = httpx.post(srv.url + "/subjects/s/versions", json={"schema": AVSC})
        assert ok.status_code == 200


# ------------------------------------------------------------------ auth


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "users"
    digest = hashlib.sha256(b"s3cret").hexdigest()
    path.write_text(f"# registry users\nalice:wonderland\n\nbob:sha256:{digest}\n")
    return path


def test_basic_auth(tmp_path, users_file):
    with RegistryServer(tmp_path / "r.db", users_file=users_file) as srv:
        anon = httpx.get(srv.url + "/subjects")
        assert anon.status_code == 401
        assert anon.json()["error_code"] == 401
        assert anon.headers["www-authenticate"].startswith("Basic ")
        assert httpx.get(srv.url + "/subjects", auth=("alice", "nope")).status_code == 401
        assert httpx.get(srv.url + "/subjects", auth=("carol", "wonderland")).status_code == 401
        assert httpx.get(srv.url + "/subjects", headers={"Authorization": "Basic !!!"}).status_code == 401
        assert httpx.get(srv.url + "/subjects", headers={"Authorization": "Bearer x"}).status_code == 401
        assert httpx.get(srv.url + "/subjects", auth=("alice", "wonderland")).json() == []
        c = client(srv.url, **{"basic.auth.user.info": "bob:s3cret"})
        assert c.register_schema("s", Schema(AVSC, "AVRO")) == 1
        with pytest.raises(SchemaRegistryError) as info:
            client(srv.url, **{"basic.auth.user.info": "bob:wrong"}).get_subjects()
        assert info.value.http_status_code == 401


def test_users_file_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("# nobody\n")
    bad = tmp_path / "bad"
    bad.write_text("no-colon-here\n")
    for path in (empty, bad):
        with pytest.raises(ValueError):
            load_users(path)
        with pytest.raises(ConfigError):
            RegistryServer(tmp_path / "r.db", users_file=path)
    with pytest.raises(ConfigError):
        RegistryServer(tmp_path / "r.db", users_file=tmp_path / "missing")


# ------------------------------------------------------------------ binding


def test_refuses_public_address_without_auth(tmp_path, users_file):
    with pytest.raises(ConfigError, match="non-loopback"):
        RegistryServer(tmp_path / "r.db", host="0.0.0.0")
    RegistryServer(tmp_path / "r.db", host="0.0.0.0", allow_insecure_public=True).stop()
    RegistryServer(tmp_path / "r.db", host="0.0.0.0", users_file=users_file).stop()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("localhost", True), ("::1", True), ("[::1]", True),
     ("0.0.0.0", False), ("::", False), ("", False), ("10.0.0.1", False), ("example.com", False)],
)
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_port_in_use_is_a_config_error(tmp_path):
    with RegistryServer(tmp_path / "a.db") as srv:
        with pytest.raises(ConfigError, match="cannot listen"):
            RegistryServer(tmp_path / "b.db", port=srv.port)


def test_bad_options(tmp_path):
    with pytest.raises(ConfigError):
        RegistryServer(tmp_path / "r.db", keyfile=tmp_path / "k.pem")
    with pytest.raises(ConfigError):
        RegistryServer(tmp_path / "r.db", incompatible_error_code=500)
    with pytest.raises(ConfigError, match="TLS"):
        RegistryServer(tmp_path / "r.db", certfile=tmp_path / "missing.pem")


# ------------------------------------------------------------------ TLS


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl CLI is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_tls(tmp_path, tls_pair, users_file):
    cert, key = tls_pair
    with RegistryServer(tmp_path / "r.db", certfile=cert, keyfile=key, users_file=users_file) as srv:
        assert srv.url.startswith("https://")
        c = client(srv.url, **{"ssl.ca.location": str(cert), "basic.auth.user.info": "alice:wonderland"})
        assert c.register_schema("s", Schema(AVSC, "AVRO")) == 1
        with pytest.raises(httpx.ConnectError):  # an untrusted certificate is refused by the client
            httpx.get(srv.url + "/subjects")
        # plain HTTP to the TLS port fails without killing the server
        with pytest.raises(httpx.TransportError):
            httpx.get(srv.url.replace("https://", "http://") + "/subjects", timeout=3)
        ctx = ssl.create_default_context(cafile=str(cert))
        assert httpx.get(srv.url + "/subjects", verify=ctx, auth=("alice", "wonderland")).json() == ["s"]


# ------------------------------------------------------------------ CLI


def test_cli_refuses_public_host(tmp_path):
    from cli.registry import registry

    result = CliRunner().invoke(registry, ["serve", "--host", "0.0.0.0", "--db", str(tmp_path / "r.db")])
    assert result.exit_code == 2
    assert "non-loopback" in result.output


def test_cli_help():
    from cli.registry import registry

    result = CliRunner().invoke(registry, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--db", "--users-file", "--tls-cert", "--tls-key",
                   "--allow-insecure-public", "--incompatible-error-code"):
        assert option in result.output


def test_cli_serves_until_sigterm(tmp_path):
    db = tmp_path / "cli.db"
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), "SERDE_REGISTRY_DB": str(db)}
    code = "from cli.registry import registry; registry()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", "0", "--quiet", "--incompatible-error-code", "40901"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        line = proc.stderr.readline()
        assert "serving" in line and str(db) in line, line
        url = line.split(" at ")[1].split(";")[0]
        c = client(url)
        assert c.register_schema("s", Schema(AVSC, "AVRO")) == 1
        breaking = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}]})
        resp = httpx.post(url + "/subjects/s/versions", json={"schema": breaking})
        assert resp.status_code == 409 and resp.json()["error_code"] == 40901
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert db.exists()


# ------------------------------------------------------------------ pytest plugin


def test_plugin_session_server(serde_registry_server):
    assert serde_registry_server.url.startswith("http://127.0.0.1:")
    serde_registry_server.reset()
    c = client(serde_registry_server.url)
    first = c.register_schema("plugin-s", Schema(AVSC, "AVRO"))
    serde_registry_server.reset()
    assert c.get_subjects() == []
    # ids are never reused after a reset: a client's id cache stays valid
    assert client(serde_registry_server.url).register_schema("plugin-s", Schema(AVSC, "AVRO")) == first + 1


def test_plugin_url_is_fresh(serde_registry_url):
    c = client(serde_registry_url)
    assert c.get_subjects() == []
    assert c.register_schema("s", Schema(AVSC, "AVRO")) == 1


# ------------------------------------------------------------------ keep-alive


def test_keep_alive_survives_unread_bodies(tmp_path, users_file):
    big = json.dumps({"schema": json.dumps({"type": "record", "name": "R", "doc": "x" * 3_000_000, "fields": []})})
    with RegistryServer(tmp_path / "r.db", users_file=users_file, max_body=1_000_000) as srv:
        with httpx.Client(base_url=srv.url) as http:
            # refused before its body is read: the server discards the body, the connection is reused
            assert http.post("/subjects/s/versions", json={"schema": AVSC}).status_code == 401
            auth = ("alice", "wonderland")
            assert http.post("/nope", json={"schema": AVSC}, auth=auth).status_code == 404
            assert http.post("/subjects/s/versions", json={"schema": AVSC}, auth=auth).json()["id"] == 1
            # over the limit: answered (never a reset), the rest of the body discarded
            resp = http.post("/subjects/s/versions", content=big, auth=auth, headers={"Content-Type": "application/json"})
            assert resp.json()["error_code"] == 42209
            assert http.get("/subjects", auth=auth).json() == ["s"]
        # a bad Content-Length is refused and the connection closed
        with socket.create_connection((srv.host, srv.port), timeout=5) as sock:
            sock.sendall(b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\nContent-Length: bogus\r\n\r\n")
            assert sock.recv(100).split(b" ")[1] == b"400"
        # a chunked body is read like any other, up to the same limit
        creds = b"Authorization: Basic " + base64.b64encode(b"alice:wonderland") + b"\r\n"
        for payload, status in ((json.dumps({"schema": AVSC}).encode(), b"200"), (big.encode(), b"422")):
            chunks = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 65536]), payload[i:i + 65536])
                             for i in range(0, len(payload), 65536))
            with socket.create_connection((srv.host, srv.port), timeout=10) as sock:
                sock.sendall(b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + creds
                             + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
                assert sock.recv(100).split(b" ")[1] == status


def test_reset_forgets_keks_and_deks(serde_registry_server):
    serde_registry_server.reset()  # before the DEK tables exist: nothing to clear, no error
    with httpx.Client(base_url=serde_registry_server.url) as http:
        made = http.post("/dek-registry/v1/keks", json={"name": "k1", "kmsType": "local-kms", "kmsKeyId": "x",
                                                        "shared": False})
        assert made.status_code == 200, made.text
        dek = http.post("/dek-registry/v1/keks/k1/deks/s-value", json={"subject": "s-value",
                                                                       "encryptedKeyMaterial": "AAAA"})
        assert dek.status_code == 200, dek.text
        serde_registry_server.reset()
        assert http.get("/dek-registry/v1/keks").json() == []
        assert http.get("/dek-registry/v1/keks/k1").json()["error_code"] == 40470
