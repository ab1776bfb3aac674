"""HTTP details as Confluent answers them, against the served stack (uvicorn) over real sockets.

Confluent (confluentinc/schema-registry on Jersey + rest-utils) is the reference: an
``Integer`` path parameter that does not convert is JAX-RS's plain 404, a body Jackson
cannot parse is rest-utils' 400, an empty schema is ``InvalidSchemaException("Empty
schema")`` unless the subject has a version to take it from.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from serde.registry import RegistryServer

AVSC = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]})
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def server(tmp_path):
    with RegistryServer(tmp_path / "r.db") as srv:
        yield srv


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@pytest.fixture
def client(server):
    c = SchemaRegistryClient({"url": server.url})
    yield c
    c._rest_client.session.close()


def error(resp: httpx.Response, code: int, message: str | None = None) -> None:
    assert resp.status_code == int(str(code)[:3]), resp.text
    assert resp.headers["content-type"] == "application/vnd.schemaregistry.v1+json"
    body = resp.json()
    assert body["error_code"] == code, body
    if message is not None:
        assert body["message"] == message, body


def raw_exchange(server: RegistryServer, data: bytes, timeout: float = 5.0) -> tuple[bytes, float]:
    """Send ``data`` on a new connection; read until the server closes. (answer, seconds)."""
    start = time.monotonic()
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(data)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    return out, time.monotonic() - start


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def json_body(answer: bytes) -> dict:
    return json.loads(answer.partition(b"\r\n\r\n")[2])


# ------------------------------------------------------------------ Accept


@pytest.mark.parametrize("accept", ["*/*", "*", "application/*", "text/html, */*;q=0.1", "*; q=0.5"])
def test_accept_wildcards_are_served(http, accept):
    resp = http.get("/subjects", headers={"Accept": accept})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/vnd.schemaregistry.v1+json"
    assert resp.json() == []


def test_accept_negotiation(http):
    assert http.get("/subjects", headers={"Accept": "application/json"}).headers["content-type"] == "application/json"
    error(http.get("/subjects", headers={"Accept": "text/html"}), 406)


# ------------------------------------------------------------------ ids


@pytest.mark.parametrize("bad", ["abc", "1.5", "0x10", "2147483648", "99999999999999999999999", "-99999999999"])
def test_an_id_that_is_not_a_java_int_is_a_plain_404(http, bad):
    for path in (f"/schemas/ids/{bad}", f"/schemas/ids/{bad}/schema", f"/schemas/ids/{bad}/versions"):
        error(http.get(path), 404, "HTTP 404 Not Found")


def test_an_id_within_32_bits_that_does_not_exist_is_40403(http, client):
    error(http.get("/schemas/ids/2147483647"), 40403)
    error(http.get("/schemas/ids/-1"), 40403)
    with pytest.raises(SchemaRegistryError) as info:
        client.get_schema(2**70)
    assert info.value.http_status_code == 404 and info.value.error_code == 404


def test_a_query_int_that_does_not_convert_is_a_plain_404(http):
    error(http.get("/schemas", params={"offset": "99999999999999999999"}), 404, "HTTP 404 Not Found")
    error(http.get("/schemas", params={"limit": "x"}), 404, "HTTP 404 Not Found")


# ------------------------------------------------------------------ empty schema, references


def test_empty_schema_without_versions_is_42201(http, client):
    for body in ({"schema": ""}, {"schema": "   "}, {}, {"schema": None}):
        error(http.post("/subjects/s/versions", json=body), 42201, "Empty schema")
    with pytest.raises(SchemaRegistryError) as info:
        client.register_schema("s", Schema("", "AVRO"))
    assert info.value.error_code == 42201 and info.value.error_message == "Empty schema"
    error(http.post("/compatibility/subjects/s/versions/latest", json={"schema": ""}), 42201, "Empty schema")
    error(http.post("/subjects/s", json={"schema": ""}), 40401)


def test_empty_schema_takes_the_latest_version(http, client):
    sid = client.register_schema("s", Schema(AVSC, "AVRO"))
    # Confluent fills schema, type and references from the latest live version: same id, same version
    resp = http.post("/subjects/s/versions", json={"schema": ""})
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == sid and resp.json()["version"] == 1
    assert client.get_versions("s") == [1]
    error(http.post("/compatibility/subjects/s/versions/latest", json={"schema": ""}), 42201, "Empty schema")
    error(http.post("/subjects/s", json={"schema": ""}), 40403)
    # after a soft delete of every version there is nothing to take
    client.delete_subject("s")
    error(http.post("/subjects/s/versions", json={"schema": ""}), 42201, "Empty schema")


@pytest.mark.parametrize("refs", [0, {}, "x", {"name": "a"}, True, 1.5])
def test_references_that_are_not_a_list_are_42201(http, refs):
    for path in ("/subjects/s/versions", "/subjects/s", "/compatibility/subjects/s/versions"):
        resp = http.post(path, json={"schema": AVSC, "references": refs})
        error(resp, 42201)
        assert "references" in resp.json()["message"]
    assert http.post("/subjects/s/versions", json={"schema": AVSC, "references": None}).status_code == 200


# ------------------------------------------------------------------ malformed requests


def test_a_request_line_over_64_kib_is_answered(server):
    for target in (b"/subjects/" + b"a" * 70_000, b"/subjects?subjectPrefix=" + b"a" * 70_000):
        answer, seconds = raw_exchange(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status_of(answer) in (400, 414), answer[:200]
        assert json_body(answer)["error_code"] in (400, 414)
        assert seconds < 3


def test_the_core_refuses_a_target_over_64_kib_with_414(server):
    # uvicorn's parser stops at about 64 KiB (the 400 above); in process the core's own limit answers
    status, _, body = server.app.handle("GET", "/subjects/" + "a" * 70_000, "", {})
    assert status == 414 and json.loads(body)["error_code"] == 414


def test_http_0_9_is_refused_promptly(server):
    answer, seconds = raw_exchange(server, b"GET /subjects\r\n")
    assert seconds < 3
    assert answer == b"" or status_of(answer) == 400, answer


def test_garbage_and_bad_content_length_get_a_json_400(server):
    for data in (b"\x16\x03\x01\x00\xa5hello\r\n\r\n",
                 b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"):
        answer, seconds = raw_exchange(server, data)
        assert status_of(answer) == 400 and json_body(answer)["error_code"] == 400 and seconds < 3


def test_a_schema_id_beyond_64_bits_is_not_a_500(http):
    error(http.get(f"/schemas/ids/{2**80}"), 404)
    error(http.get(f"/schemas/ids/{2**80}/subjects"), 404)
    # in a body: Jackson cannot map it to an Integer, rest-utils answers 400
    resp = http.post("/subjects/s/versions", json={"schema": AVSC, "id": 2**80})
    assert resp.status_code in (400, 422) and resp.json()["error_code"] in (400, 42201)


def test_a_body_nested_100000_deep_is_a_400(server, http):
    deep = b"[" * 100_000 + b"]" * 100_000
    for path in ("/subjects/s/versions", "/subjects/s", "/config"):
        method = "PUT" if path == "/config" else "POST"
        resp = http.request(method, path, content=deep, headers={"Content-Type": "application/json"})
        error(resp, 400)
    deep_object = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    error(http.post("/subjects/s/versions", content=deep_object, headers={"Content-Type": "application/json"}), 400)
    # nested deep inside the schema string: an invalid schema, not a store error
    resp = http.post("/subjects/s/versions", json={"schema": "[" * 100_000 + "]" * 100_000})
    error(resp, 42201)
    assert http.get("/subjects").json() == []  # and the server is still there


def test_a_body_over_the_limit_is_answered_without_a_reset(tmp_path):
    with RegistryServer(tmp_path / "r.db", max_body=4096) as srv:
        body = json.dumps({"schema": json.dumps({"type": "record", "name": "R", "doc": "x" * 2_000_000, "fields": []})})
        head = f"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        with socket.create_connection((srv.host, srv.port), timeout=10) as sock:
            sock.sendall(head.encode() + body.encode())  # all of it, then read: nothing is reset
            answer = sock.recv(65536)
            assert status_of(answer) == 422 and json_body(answer)["error_code"] == 42209
            # the connection is still usable
            sock.sendall(b"PUT /config HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
                         + b" " * 5000)
            answer = sock.recv(65536)
            assert status_of(answer) == 413 and json_body(answer)["error_code"] == 413


# ------------------------------------------------------------------ paths, methods


def test_escaped_slash_in_a_subject(http, client):
    assert client.register_schema("a/b", Schema(AVSC, "AVRO")) == 1
    assert client.get_subjects() == ["a/b"]
    assert http.get("/subjects/a%2Fb/versions").json() == [1]
    error(http.get("/subjects/a/b/versions"), 404)


def test_unknown_method_is_405_with_allow(http):
    resp = http.request("PATCH", "/subjects")
    error(resp, 405)
    assert resp.headers["allow"] == "GET"


# ------------------------------------------------------------------ worker processes


def test_cli_workers_share_the_port_and_stop_on_sigterm(tmp_path):
    db = tmp_path / "w.db"
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), "SERDE_REGISTRY_DB": str(db)}
    code = "from cli.registry import registry; registry()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", "0", "--quiet", "--workers", "2", "--db", str(db)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        line = proc.stderr.readline()
        assert "serving" in line, line
        url = line.split(" at ")[1].split(";")[0]
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/subjects", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        c = SchemaRegistryClient({"url": url})
        try:
            assert c.register_schema("s", Schema(AVSC, "AVRO")) == 1
            # many connections, spread over both workers: every one sees the write
            for _ in range(20):
                with httpx.Client(base_url=url) as h:
                    assert h.get("/subjects").json() == ["s"]
        finally:
            c._rest_client.session.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def test_a_request_head_never_finished_is_dropped(server, monkeypatch, http):
    """Slowloris: connections that never finish their head used to stay open forever and,
    a thousand of them, lock everyone out. A head must arrive within HEAD_SECONDS."""
    import serde.registry.server as srv

    assert srv.HEAD_SECONDS <= 10
    monkeypatch.setattr(srv, "HEAD_SECONDS", 0.5)
    # a timer starts when the connection is made and again when a head begins; the
    # patched value applies to connections made from now on
    slow = []
    for _ in range(20):
        sock = socket.create_connection((server.host, server.port), timeout=5)
        sock.sendall(b"GET /subjects HTTP/1.1\r\nX-Never: ")  # never finished
        slow.append(sock)
    idle = socket.create_connection((server.host, server.port), timeout=5)  # sends nothing at all
    try:
        start = time.monotonic()
        for sock in [*slow, idle]:
            assert sock.recv(1024) == b""  # closed by the server
        assert time.monotonic() - start < 5
        assert http.get("/subjects").status_code == 200  # everyone else is served meanwhile
    finally:
        for sock in [*slow, idle]:
            sock.close()


def test_a_request_head_over_64_kib_is_refused(server, http):
    """httptools sets no limit on headers: 300 MiB of them grew the server by 300 MB. A head
    over 64 KiB is answered 400 and the connection closed (the client, still sending, may
    see the reset before the answer)."""
    answer = b""
    sent = 0
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        try:
            sock.sendall(b"GET /subjects HTTP/1.1\r\nHost: x\r\n")
            for i in range(200):  # up to 1.6 MB of headers, never ending the head
                sock.sendall(b"X-Pad-%d: %s\r\n" % (i, b"a" * 8000))
                sent += 8000
            while chunk := sock.recv(65536):
                answer += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    assert sent < 1_600_000 or answer  # refused before the client was done
    if answer:
        assert status_of(answer) == 400
        assert json_body(answer) == {"error_code": 400, "message": "HTTP 400 Bad Request: Request head over 64 KiB"}
    assert http.get("/subjects").status_code == 200
