"""Security by default: CSRF on every change, basic auth, no public bind without it,
read-only, bounded bodies, masked secrets, escaped pages. Over real HTTP to the console
(no broker needed: these views only touch the registry)."""
from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import serde
from serde.console import Cluster, ConsoleConfig, ConsoleServer, load_config
from serde.console._app import MAX_BODY
from serde.registry.client import open_registry

from .conftest import csrf

SCHEMA = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}]})


@pytest.fixture(scope="module")
def plain(registry_url: str) -> Iterator[ConsoleServer]:
    open_registry(registry_url).register("sec-value", "AVRO", SCHEMA)
    # a bootstrap no test here reaches: these views never touch Kafka
    with ConsoleServer(ConsoleConfig([Cluster("c", "127.0.0.1:1", registry_url)]), port=0) as server:
        yield server


def test_state_change_refused_without_csrf_token(plain: ConsoleServer) -> None:
    with httpx.Client(base_url=plain.url) as client:
        for path, data in (("/subjects/sec-value/register", {"draft": SCHEMA}), ("/subjects/sec-value/config", {"level": "NONE"})):
            assert client.post(path, data=data).status_code == 403
        client.get("/subjects")  # a session cookie, but no token sent
        answer = client.post("/subjects/sec-value/delete", data={"confirm": "sec-value", "version": "all"})
        assert answer.status_code == 403
        assert "CSRF" in answer.text
        wrong = client.post("/subjects/sec-value/delete",
                            data={"confirm": "sec-value", "version": "all", "csrf_token": "0" * 64})
        assert wrong.status_code == 403
        # the subject is still there
        assert client.get("/subjects/sec-value").status_code == 200


def test_token_of_another_session_is_refused(plain: ConsoleServer) -> None:
    with httpx.Client(base_url=plain.url) as mine, httpx.Client(base_url=plain.url) as theirs:
        token = csrf(theirs, "/subjects")
        mine.get("/subjects")
        answer = mine.post("/subjects/sec-value/check", data={"csrf_token": token, "draft": SCHEMA})
        assert answer.status_code == 403


def test_post_without_session_cookie_is_refused(plain: ConsoleServer) -> None:
    with httpx.Client(base_url=plain.url) as client:
        token = csrf(client, "/subjects")
    with httpx.Client(base_url=plain.url) as fresh:  # no cookie: a forged request from elsewhere
        assert fresh.post("/subjects/sec-value/check", data={"csrf_token": token, "draft": SCHEMA}).status_code == 403


def test_token_in_header_or_form_is_accepted(plain: ConsoleServer) -> None:
    with httpx.Client(base_url=plain.url) as client:
        token = csrf(client, "/subjects")
        assert client.post("/subjects/sec-value/check", data={"csrf_token": token, "draft": SCHEMA}).status_code == 200
        assert client.post("/subjects/sec-value/check", data={"draft": SCHEMA},
                           headers={"X-CSRF-Token": token}).status_code == 200


def test_cross_origin_post_is_refused(plain: ConsoleServer) -> None:
    with httpx.Client(base_url=plain.url) as client:
        token = csrf(client, "/subjects")
        answer = client.post("/subjects/sec-value/check", data={"csrf_token": token, "draft": SCHEMA},
                             headers={"Origin": "http://evil.example"})
        assert answer.status_code == 403
        assert "cross-origin" in answer.text


def test_dns_rebinding_is_refused(plain: ConsoleServer) -> None:
    answer = httpx.get(f"{plain.url}/subjects", headers={"Host": f"evil.example:{plain.port}"})
    assert answer.status_code == 421
    assert httpx.get(f"{plain.url}/subjects", headers={"Host": f"localhost:{plain.port}"}).status_code == 200


def test_body_is_bounded(plain: ConsoleServer) -> None:
    with httpx.Client(base_url=plain.url) as client:
        token = csrf(client, "/subjects")
        answer = client.post("/subjects/sec-value/check", headers={"X-CSRF-Token": token},
                             data={"draft": "x" * (MAX_BODY + 10)})
        assert answer.status_code == 413


def test_security_headers(plain: ConsoleServer) -> None:
    answer = httpx.get(f"{plain.url}/subjects")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_pages_escape_names(plain: ConsoleServer, registry_url: str) -> None:
    hostile = "<img src=x onerror=alert(1)>-value"
    open_registry(registry_url).register(hostile, "AVRO", SCHEMA)
    page = httpx.get(f"{plain.url}/subjects").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;-value" in page
    # the search box echoes its query escaped too
    page = httpx.get(f"{plain.url}/subjects", params={"q": '"><script>alert(1)</script>'}).text
    assert "<script>alert(1)" not in page


def test_unknown_things_are_404_pages(plain: ConsoleServer) -> None:
    assert httpx.get(f"{plain.url}/subjects/no-such-subject").status_code == 404
    assert httpx.get(f"{plain.url}/subjects/sec-value/versions/99").status_code == 404
    assert httpx.get(f"{plain.url}/clusters/nope/subjects").status_code == 404
    bad = httpx.get(f"{plain.url}/subjects/sec-value/versions/abc")
    assert bad.status_code == 400 and "whole number" in bad.text


def test_non_loopback_refused_without_auth() -> None:
    config = ConsoleConfig([Cluster("c", "127.0.0.1:1", None)])
    with pytest.raises(serde.ConfigError, match="non-loopback"):
        ConsoleServer(config, host="0.0.0.0", port=0)


def test_cli_refuses_non_loopback_without_users() -> None:
    from cli.main import cli

    result = CliRunner().invoke(cli, ["console", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 2
    assert "non-loopback" in result.output and "--allow-insecure-public" in result.output


def _users(tmp_path: Path) -> Path:
    users = tmp_path / "users"
    users.write_text("alice:sha256:" + hashlib.sha256(b"s3cret").hexdigest() + "\n")
    return users


def test_basic_auth(tmp_path: Path, registry_url: str) -> None:
    config = ConsoleConfig([Cluster("c", "127.0.0.1:1", registry_url)])
    # with users, a public address is allowed (bound here to loopback to stay off the network)
    with ConsoleServer(config, host="127.0.0.1", port=0, users_file=_users(tmp_path)) as server:
        assert httpx.get(f"{server.url}/subjects").status_code == 401
        assert httpx.get(f"{server.url}/subjects", auth=("alice", "wrong")).status_code == 401
        assert httpx.get(f"{server.url}/subjects", auth=("bob", "s3cret")).status_code == 401
        garbage = {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}
        assert httpx.get(f"{server.url}/subjects", headers=garbage).status_code == 401
        assert httpx.get(f"{server.url}/static/console.css").status_code == 401
        answer = httpx.get(f"{server.url}/subjects", auth=("alice", "s3cret"))
        assert answer.status_code == 200 and "sec-value" in answer.text


def test_users_file_allows_public_address(tmp_path: Path) -> None:
    config = ConsoleConfig([Cluster("c", "127.0.0.1:1", None)])
    server = ConsoleServer(config, host="0.0.0.0", port=0, users_file=_users(tmp_path))
    server.close()


def test_bad_users_file(tmp_path: Path) -> None:
    bad = tmp_path / "users"
    bad.write_text("no separator here\n")
    with pytest.raises(serde.ConfigError, match="users file"):
        ConsoleServer(ConsoleConfig([Cluster("c", "127.0.0.1:1", None)]), port=0, users_file=bad)


def test_read_only_refuses_changes(registry_url: str) -> None:
    config = ConsoleConfig([Cluster("c", "127.0.0.1:1", registry_url)], read_only=True)
    with ConsoleServer(config, port=0) as server, httpx.Client(base_url=server.url) as client:
        page = client.get("/subjects/sec-value").text
        assert "Delete subject" not in page and "read-only" in page
        token = csrf(client, "/subjects")
        answer = client.post("/subjects/sec-value/delete", data={"csrf_token": token, "confirm": "sec-value"})
        assert answer.status_code == 403 and "read-only" in answer.text
        answer = client.post("/topics/t/produce", data={"csrf_token": token, "subject": "sec-value", "record": "{}"})
        assert answer.status_code == 403
        for path, data in (("/subjects/sec-value/register", {"draft": SCHEMA}), ("/subjects/sec-value/config", {"level": "NONE"})):
            assert client.post(path, data={"csrf_token": token, **data}).status_code == 403
        assert "Register as the next version" not in client.get("/subjects/sec-value/check").text
        # checking a draft changes nothing: allowed
        assert client.post("/subjects/sec-value/check", data={"csrf_token": token, "draft": SCHEMA}).status_code == 200
        assert client.get("/subjects/sec-value").status_code == 200


def test_secrets_never_reach_the_browser(tmp_path: Path, registry_url: str) -> None:
    conf = tmp_path / "console.toml"
    conf.write_text(f'''
[[clusters]]
name = "prod"
bootstrap = "127.0.0.1:1"
registry = "{registry_url}"
[clusters.kafka]
"security.protocol" = "SASL_SSL"
"sasl.mechanism" = "PLAIN"
"sasl.username" = "console"
"sasl.password" = "hunter2-kafka"
"ssl.key.password" = "hunter2-key"
"sasl.oauthbearer.client.secret" = "hunter2-oauth"
[clusters.registry_config]
"basic.auth.user.info" = "reg:hunter2-registry"

[[clusters]]
name = "other"
bootstrap = "SASL_SSL://user:hunter2-url@127.0.0.1:1"
''')
    config = load_config(conf)
    with ConsoleServer(config, port=0) as server, httpx.Client(base_url=server.url) as client:
        pages = [client.get(path).text for path in ("/clusters", "/subjects", "/subjects/sec-value",
                                                    "/clusters/other/clusters", "/subjects/nope")]
        clusters = pages[0]
        assert "sasl.password" in clusters and "********" in clusters and "console" in clusters
        for page in pages:
            assert "hunter2" not in page
        # the registry settings (basic auth) are used: pages of the first cluster work
        assert "sec-value" in pages[1]


@pytest.mark.parametrize("text, says", [
    ("", "at least one [[clusters]]"),
    ("[[clusters]]\nname='a'\n", "needs bootstrap"),
    ("[[clusters]]\nbootstrap='x:1'\nbogus=1\n", "unknown keys bogus"),
    ("[[clusters]]\nname='a b'\nbootstrap='x:1'\n", "letters, digits"),
    ("[[clusters]]\nname='a'\nbootstrap='x:1'\n[[clusters]]\nname='a'\nbootstrap='y:1'\n", "two clusters"),
    ("[[clusters]\n", "not valid TOML"),
    ("[[clusters]]\nbootstrap='x:1'\nkafka={a=[1]}\n", "string, number or boolean"),
    ("[console]\npage_size=0\n[[clusters]]\nbootstrap='x:1'\n", "page_size must be 1..500"),
])
def test_bad_config(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "console.toml"
    path.write_text(text)
    with pytest.raises(serde.ConfigError, match=None) as info:
        load_config(path)
    assert says in str(info.value)


def test_console_table_of_the_config(tmp_path: Path) -> None:
    path = tmp_path / "console.toml"
    path.write_text("[console]\nread_only = true\npage_size = 20\n[[clusters]]\nbootstrap = 'x:1'\n"
                    "[clusters.kafka.sasl]\nusername = 'u'\npassword = 'p'\n")
    config = load_config(path)
    assert config.read_only and config.page_size == 20
    cluster = config.clusters[0]
    assert cluster.name == "cluster1"
    assert cluster.kafka_settings() == {"bootstrap.servers": "x:1", "sasl.username": "u", "sasl.password": "p"}
    assert cluster.public()["kafka"] == {"sasl.username": "u", "sasl.password": "********"}


def test_default_cluster_is_the_local_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`serde local up` ran here (its pid files): the console uses that stack's addresses."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SERDE_BOOTSTRAP", raising=False)
    monkeypatch.delenv("SERDE_REGISTRY", raising=False)
    local = tmp_path / ".serde" / "local"
    local.mkdir(parents=True)
    (local / "kafka.pid").write_text('{"pid": 1, "port": 9092}')
    cluster = load_config(None).clusters[0]
    assert (cluster.name, cluster.bootstrap, cluster.registry) == ("local", "localhost:9092", None)
    (local / "registry.pid").write_text('{"pid": 1, "port": 8081}')
    assert load_config(None).clusters[0].registry == "http://localhost:8081"
    monkeypatch.setenv("SERDE_REGISTRY", "http://elsewhere:8081")  # the environment wins for the registry
    assert load_config(None).clusters[0].registry == "http://elsewhere:8081"


def test_default_cluster_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SERDE_BOOTSTRAP", "kafka.example:9092")
    monkeypatch.setenv("SERDE_REGISTRY", "http://registry.example:8081")
    cluster = load_config(None).clusters[0]
    assert (cluster.bootstrap, cluster.registry) == ("kafka.example:9092", "http://registry.example:8081")
    monkeypatch.delenv("SERDE_BOOTSTRAP")
    monkeypatch.delenv("SERDE_REGISTRY")
    cluster = load_config(None).clusters[0]
    assert (cluster.bootstrap, cluster.registry) == ("localhost:9092", None)


# -- found by an adversarial review ---------------------------------------------------------------
def test_credentials_are_cut_from_urls_even_with_at_signs_and_query_passwords() -> None:
    from serde.console._config import redact_url

    assert redact_url("https://svc:Tr0ub@dor&Secret@registry.example:8081/x") == "https://registry.example:8081/x"
    assert redact_url("jdbc:postgresql://db/orders?user=app&password=PgPw1&ssl=1") == \
        "jdbc:postgresql://db/orders?user=app&password=***&ssl=1"
    assert "TraceSecret" not in redact_url("failed: jdbc:mysql://admin:TraceSecret8@db:3306/x refused")


def test_connector_secrets_are_masked() -> None:
    from serde.console.connect import mask_connector_config

    shown = mask_connector_config({
        "value.converter.basic.auth.user.info": "sr:S1", "connection.pwd": "S2", "ssl.key.passphrase": "S3",
        "aws.access.key.id": "S4", "http.headers": "Authorization: Bearer S5",
        "connection.url": "jdbc:postgresql://db/o?password=S6", "topics": "orders"})
    assert not any(f"S{i}" in value for value in shown.values() for i in range(1, 7)), shown
    assert shown["topics"] == "orders"


def test_record_times_out_of_range_do_not_break_pages() -> None:
    from serde.console.messages import record_time

    assert record_time(253402300800000) is None and record_time(2**63 - 1) is None  # year 10000, the max
    assert record_time(0) is None and record_time(1_700_000_000_000).year == 2023


def test_hostile_input_is_a_400_not_a_500(plain: ConsoleServer) -> None:
    with httpx.Client(base_url=plain.url) as client:
        assert client.get("/topics/t/messages", params={"since": "²"}).status_code == 400  # isdigit(), not int()
        token = csrf(client, "/subjects")
        deep = '{"draft": ' + "[" * 100_000 + "]" * 100_000 + "}"
        answer = client.post("/subjects/sec-value/check", content=deep,
                             headers={"Content-Type": "application/json", "X-CSRF-Token": token})
        assert answer.status_code == 400, answer.text[:200]  # json.loads' RecursionError was a 500


def test_a_subject_named_dot_cannot_reach_the_global_config(plain: ConsoleServer, registry_url: str) -> None:
    before = httpx.get(f"{registry_url}/config").json()
    with httpx.Client(base_url=plain.url) as client:
        token = csrf(client, "/subjects")
        answer = client.post("/subjects/%2E/config", data={"csrf_token": token, "level": "NONE"})
        assert answer.status_code == 400
    assert httpx.get(f"{registry_url}/config").json() == before


def test_users_handed_over_in_code_must_be_stored_entries() -> None:
    from serde.registry._app import password_ok

    with pytest.raises(serde.ConfigError, match="plain:<password>"):
        ConsoleServer(ConsoleConfig([Cluster("c", "127.0.0.1:1", None)]), port=0, users={"alice": "s3cret"})
    assert not password_ok("s3cret", "") and not password_ok("pass:word", "word")
    assert password_ok("plain:s3cret", "s3cret") and password_ok("sha256:" + hashlib.sha256(b"pw").hexdigest(), "pw")
