"""The DEK registry (``/dek-registry/v1``) of ``serde registry serve``, driven by
confluent-kafka's own DEK registry client (and raw HTTP where that client has no call),
then serde's client over the embedded registry, ``mock://`` and the CLI listings."""
from __future__ import annotations

import base64
import json
import os
from typing import Any, Iterator

import httpx
import pytest
from click.testing import CliRunner
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.rules.encryption.dek_registry.dek_registry_client import (
    DekAlgorithm,
    DekRegistryClient,
)

from serde import RegistryError
from serde.contracts.encryption import DekRegistryClient as SerdeDekClient
from serde.contracts.encryption import LocalKmsDriver, MockDekRegistryClient
from serde.registry import RegistryServer
from serde.registry.client import open_registry

WRAPPED = "07V2ndh02DA73p+dTybwZFm7DKQSZN1tEwQh+FoX1DZLk4Yj2LLu4omYjp/84tAg3BYlkfGSz+zZacJHIE4="
SECRET = {"secret": "mysecret"}


@pytest.fixture
def server(tmp_path: Any) -> Iterator[RegistryServer]:
    srv = RegistryServer(tmp_path / "registry.db").start()
    srv.app.kms_conf = dict(SECRET)  # the server's local KMS, for shared KEKs
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def ckp(server: RegistryServer) -> Iterator[Any]:
    clients: list[DekRegistryClient] = []

    def new() -> DekRegistryClient:  # CKP's client caches forever: a fresh one per question
        client = DekRegistryClient({"url": server.url})
        clients.append(client)
        return client

    yield new
    for client in clients:
        client.__exit__()


@pytest.fixture
def http(server: RegistryServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url + "/dek-registry/v1") as client:
        yield client


def code(exc: pytest.ExceptionInfo[SchemaRegistryError]) -> tuple[int, int]:
    return exc.value.http_status_code, exc.value.error_code


def test_kek_register_and_get(ckp: Any, http: httpx.Client) -> None:
    kek = ckp().register_kek("kek1", "local-kms", "mykey", doc="for PII")
    assert (kek.name, kek.kms_type, kek.kms_key_id, kek.shared, kek.doc) == ("kek1", "local-kms", "mykey", False, "for PII")
    got = ckp().get_kek("kek1")
    assert got.kms_props.properties == {} and got.ts == kek.ts and got.deleted is None
    body = http.get("/keks/kek1").json()
    assert body == {"name": "kek1", "kmsType": "local-kms", "kmsKeyId": "mykey", "kmsProps": {}, "doc": "for PII",
                    "shared": False, "ts": kek.ts}
    assert http.get("/keks").json() == ["kek1"]


def test_kek_errors(ckp: Any, http: httpx.Client) -> None:
    with pytest.raises(SchemaRegistryError) as info:
        ckp().get_kek("missing")
    assert code(info) == (404, 40470) and info.value.error_message == "Key 'missing' not found"
    ckp().register_kek("kek1", "local-kms", "mykey")
    with pytest.raises(SchemaRegistryError) as info:
        ckp().register_kek("kek1", "local-kms", "other")
    assert code(info) == (409, 40971)
    with pytest.raises(SchemaRegistryError) as info:  # an identical re-POST is a conflict too
        ckp().register_kek("kek1", "local-kms", "mykey")
    assert code(info) == (409, 40971)
    for bad in ("1abc", "a b", "", "x" * 257, "a/b"):
        with pytest.raises(SchemaRegistryError) as info:
            ckp().register_kek(bad, "local-kms", "mykey")
        assert code(info) == (422, 42271), bad
    for body in ({"name": "k", "kmsType": "local-kms"}, {"name": "k", "kmsKeyId": "x"}, [], {"name": "k", "kmsType": "t",
                 "kmsKeyId": "x", "kmsProps": {"a": 1}}):
        assert http.post("/keks", json=body).json()["error_code"] == 42271
    assert http.get("/keks/bad%20name").json()["error_code"] == 42271


def test_kms_type_is_normalised_as_confluent_does(ckp: Any) -> None:
    assert ckp().register_kek("k", "AWS", "arn:aws:kms:us-east-1:1:key/x").kms_type == "aws-kms"
    assert ckp().register_kek("k2", "azure", "https://v.vault.azure.net/keys/k/1").kms_type == "azure-kms"
    assert ckp().register_kek("k3", "hcvault", "https://vault/transit/keys/k").kms_type == "hcvault"


def test_dek_register_get_and_versions(ckp: Any, http: httpx.Client) -> None:
    client = ckp()
    client.register_kek("kek1", "local-kms", "mykey")
    dek = client.register_dek("kek1", "topic1-value", WRAPPED)
    assert (dek.kek_name, dek.subject, dek.version, dek.algorithm) == ("kek1", "topic1-value", 1, DekAlgorithm.AES256_GCM)
    assert dek.encrypted_key_material == WRAPPED and dek.key_material is None and dek.ts
    client.register_dek("kek1", "topic1-value", WRAPPED, version=2)
    client.register_dek("kek1", "topic1-value", WRAPPED, DekAlgorithm.AES256_SIV)
    assert ckp().get_dek("kek1", "topic1-value", version=-1).version == 2
    assert ckp().get_dek("kek1", "topic1-value", DekAlgorithm.AES256_SIV).algorithm == DekAlgorithm.AES256_SIV
    assert http.get("/keks/kek1/deks").json() == ["topic1-value"]
    assert http.get("/keks/kek1/deks/topic1-value/versions").json() == [1, 2]
    assert http.get("/keks/kek1/deks/topic1-value/versions", params={"algorithm": "AES256_SIV"}).json() == [1]
    assert http.get("/keks/kek1/deks/topic1-value/versions/latest").json()["version"] == 2
    assert http.get("/keks/kek1/deks/topic1-value").json()["version"] == 1
    body = http.get("/keks/kek1/deks/topic1-value/versions/2").json()
    assert set(body) == {"kekName", "subject", "version", "algorithm", "encryptedKeyMaterial", "ts"}
    assert http.get("/keks", params={"subjectPrefix": "topic1"}).json() == ["kek1"]
    assert http.get("/keks", params={"subjectPrefix": "other"}).json() == []
    assert http.get("/keks/kek1/deks/topic1-value/versions", params={"offset": 1, "limit": 1}).json() == [2]


def test_dek_errors(ckp: Any, http: httpx.Client) -> None:
    with pytest.raises(SchemaRegistryError) as info:
        ckp().register_dek("nokek", "s", WRAPPED)
    assert code(info) == (404, 40470)
    ckp().register_kek("kek1", "local-kms", "mykey")
    with pytest.raises(SchemaRegistryError) as info:  # a non-shared KEK needs the wrapped key
        ckp().register_dek("kek1", "s", None)
    assert code(info) == (422, 42271)
    ckp().register_dek("kek1", "s", WRAPPED)
    with pytest.raises(SchemaRegistryError) as info:
        ckp().register_dek("kek1", "s", WRAPPED)
    assert code(info) == (409, 40971)
    with pytest.raises(SchemaRegistryError) as info:
        ckp().get_dek("kek1", "s", version=5)
    assert code(info) == (404, 40470)
    assert http.get("/keks/kek1/deks/s/versions/0").json()["error_code"] == 42202
    assert http.get("/keks/kek1/deks/s/versions/x").json()["error_code"] == 42202
    assert http.get("/keks/kek1/deks/s", params={"algorithm": "ROT13"}).status_code == 404
    bad = [{"subject": "s", "version": 0, "encryptedKeyMaterial": WRAPPED},
           {"subject": "s", "algorithm": "DES", "encryptedKeyMaterial": WRAPPED},
           {"subject": "s", "encryptedKeyMaterial": "not base64!"}]
    for body in bad:
        assert http.post("/keks/kek1/deks/s", json=body).json()["error_code"] == 42271
    assert http.post("/keks/kek1/deks", json={"subject": "a\x01b", "encryptedKeyMaterial": WRAPPED}).json()["error_code"] == 42271
    assert http.get("/keks/kek1/deks/s/nothing").status_code == 404
    assert http.put("/keks/kek1/deks/s/versions/1").status_code == 405


def test_deprecated_create_endpoint(http: httpx.Client, ckp: Any) -> None:
    ckp().register_kek("kek1", "local-kms", "mykey")
    out = http.post("/keks/kek1/deks", json={"subject": "old-style", "encryptedKeyMaterial": WRAPPED})
    assert out.status_code == 200 and out.json()["subject"] == "old-style"
    assert ckp().get_dek("kek1", "old-style").encrypted_key_material == WRAPPED


def test_shared_kek_returns_key_material(ckp: Any, http: httpx.Client) -> None:
    ckp().register_kek("shared", "local-kms", "mykey", shared=True)
    dek = ckp().register_dek("shared", "topic1-value", None, DekAlgorithm.AES256_SIV)
    raw = base64.b64decode(dek.key_material)
    assert len(raw) == 66 and raw[:2] == b"\x12\x40"
    assert LocalKmsDriver().new_aead("mykey", SECRET).decrypt(base64.b64decode(dek.encrypted_key_material)) == raw
    again = ckp().get_dek("shared", "topic1-value", DekAlgorithm.AES256_SIV)
    assert again.key_material == dek.key_material
    with pytest.raises(SchemaRegistryError) as info:  # a shared DEK exists: no material of our own over it
        ckp().register_dek("shared", "topic1-value", WRAPPED, DekAlgorithm.AES256_SIV)
    assert code(info) == (409, 40971)
    rewrapped = http.post("/keks/shared/deks/topic1-value", params={"rewrap": "true"},
                          json={"subject": "topic1-value", "algorithm": "AES256_SIV"}).json()
    assert rewrapped["keyMaterial"] == dek.key_material
    assert rewrapped["encryptedKeyMaterial"] != dek.encrypted_key_material
    assert http.post("/keks/shared/test").json()["name"] == "shared"


def test_shared_kek_without_a_server_secret(server: RegistryServer, ckp: Any, http: httpx.Client,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCAL_SECRET", raising=False)
    server.app.kms_conf = {}
    ckp().register_kek("shared", "local-kms", "mykey", shared=True)
    with pytest.raises(SchemaRegistryError) as info:
        ckp().register_dek("shared", "s", None)
    assert code(info) == (500, 50070) and "cannot load secret" in info.value.error_message
    assert http.post("/keks", params={"testSharing": "true"},
                     json={"name": "t", "kmsType": "local-kms", "kmsKeyId": "k", "shared": True}).json()["error_code"] == 50070


def test_kek_test_endpoint_needs_a_shared_kek(ckp: Any, http: httpx.Client) -> None:
    ckp().register_kek("plain", "local-kms", "mykey")
    assert http.post("/keks/plain/test").json()["error_code"] == 42271


def test_update_kek(ckp: Any, http: httpx.Client) -> None:
    ckp().register_kek("kek1", "local-kms", "mykey")
    out = http.put("/keks/kek1", json={"kmsProps": {"encrypt.alternate.kms.key.ids": "k2"}, "doc": "d", "shared": True})
    assert out.json()["kmsProps"] == {"encrypt.alternate.kms.key.ids": "k2"} and out.json()["shared"] is True
    assert http.put("/keks/nokek", json={}).json()["error_code"] == 40470
    assert http.put("/keks/kek1", json={"doc": 5}).json()["error_code"] == 42271


def test_soft_and_hard_delete(ckp: Any, http: httpx.Client) -> None:
    ckp().register_kek("kek1", "local-kms", "mykey")
    ckp().register_dek("kek1", "s", WRAPPED)
    ckp().register_dek("kek1", "s", WRAPPED, version=2)
    assert http.delete("/keks/kek1").json()["error_code"] == 42272  # DEKs still refer to it
    assert http.delete("/keks/kek1/deks/s/versions/1", params={"permanent": "true"}).json()["error_code"] == 40471
    assert http.delete("/keks/kek1/deks/s/versions/1").status_code == 204
    assert http.get("/keks/kek1/deks/s/versions").json() == [2]
    assert http.get("/keks/kek1/deks/s/versions", params={"deleted": "true"}).json() == [1, 2]
    assert ckp().get_dek("kek1", "s", deleted=True).deleted is True
    with pytest.raises(SchemaRegistryError) as info:
        ckp().get_dek("kek1", "s")
    assert code(info) == (404, 40470)
    assert http.post("/keks/kek1/deks/s/versions/1/undelete").status_code == 204
    assert http.get("/keks/kek1/deks/s/versions").json() == [1, 2]
    assert http.delete("/keks/kek1/deks/s").status_code == 204  # every version
    assert http.get("/keks/kek1/deks").json() == []
    assert http.delete("/keks/kek1").status_code == 204  # only soft-deleted DEKs left
    assert http.get("/keks").json() == [] and http.get("/keks", params={"deleted": "true"}).json() == ["kek1"]
    assert http.get("/keks/kek1", params={"deleted": "true"}).json()["deleted"] is True
    assert http.post("/keks/kek1/deks/s/undelete").json()["error_code"] == 40472  # the KEK first
    assert http.delete("/keks/kek1", params={"permanent": "true"}).json()["error_code"] == 42272
    assert http.delete("/keks/kek1/deks/s", params={"permanent": "true"}).status_code == 204
    assert http.delete("/keks/kek1", params={"permanent": "true"}).status_code == 204
    assert http.get("/keks", params={"deleted": "true"}).json() == []
    assert http.delete("/keks/kek1").json()["error_code"] == 40470
    assert http.delete("/keks/kek1/deks/s").json()["error_code"] == 40470
    assert http.post("/keks/kek1/undelete").json()["error_code"] == 40470


def test_permanent_kek_delete_needs_a_soft_delete(ckp: Any, http: httpx.Client) -> None:
    ckp().register_kek("kek1", "local-kms", "mykey")
    assert http.delete("/keks/kek1", params={"permanent": "true"}).json()["error_code"] == 40471
    assert http.delete("/keks/kek1").status_code == 204
    assert http.post("/keks/kek1/undelete").status_code == 204
    assert ckp().get_kek("kek1").deleted is None


def test_creating_a_soft_deleted_kek_again_undeletes_it(ckp: Any, http: httpx.Client) -> None:
    ckp().register_kek("kek1", "local-kms", "mykey")
    http.delete("/keks/kek1")
    assert ckp().register_kek("kek1", "local-kms", "mykey").deleted is None
    assert http.get("/keks").json() == ["kek1"]
    http.delete("/keks/kek1")
    assert http.post("/keks", json={"name": "kek1", "kmsType": "local-kms", "kmsKeyId": "other"}).json()["error_code"] == 40971


def test_undelete_dek_that_does_not_exist(ckp: Any, http: httpx.Client) -> None:
    ckp().register_kek("kek1", "local-kms", "mykey")
    assert http.post("/keks/kek1/deks/s/undelete").json()["error_code"] == 40470
    assert http.post("/keks/nokek/deks/s/undelete").json()["error_code"] == 40470


def test_too_many_keys(server: RegistryServer, ckp: Any, http: httpx.Client) -> None:
    http.get("/keks")  # makes the DEK registry
    server.app.dek_registry.max_keys = 2
    ckp().register_kek("a", "local-kms", "k")
    ckp().register_kek("b", "local-kms", "k")
    with pytest.raises(SchemaRegistryError) as info:
        ckp().register_kek("c", "local-kms", "k")
    assert code(info) == (409, 40972)
    ckp().register_dek("a", "s1", WRAPPED)
    ckp().register_dek("a", "s2", WRAPPED)
    with pytest.raises(SchemaRegistryError) as info:
        ckp().register_dek("a", "s3", WRAPPED)
    assert code(info) == (409, 40972)


def test_unknown_paths(http: httpx.Client, server: RegistryServer) -> None:
    assert http.get("/nothing").status_code == 404
    assert http.get("/keks/k/other").status_code == 404
    assert httpx.get(server.url + "/dek-registry/v2/keks").status_code == 404
    assert http.delete("/keks").status_code == 405


# -- serde's client ------------------------------------------------------------------------


def test_serde_client_over_the_embedded_registry(tmp_path: Any) -> None:
    keys = open_registry(str(tmp_path / "r.db")).dek_client()
    assert isinstance(keys, SerdeDekClient)
    keys.register_kek("kek1", "local-kms", "mykey", kms_props={"a": "b"}, doc="d")
    assert keys.get_kek("kek1").kms_props == {"a": "b"}
    assert keys.update_kek("kek1", doc="new").doc == "new"
    keys.register_dek("kek1", "s", WRAPPED, "AES128_GCM", 3)
    assert keys.get_dek("kek1", "s", "AES128_GCM", 3).encrypted_key_material == WRAPPED
    assert keys.dek_versions("kek1", "s", "AES128_GCM") == [3] and keys.list_deks("kek1") == ["s"]
    keys.delete_dek("kek1", "s", "AES128_GCM", 3)
    keys.undelete_dek("kek1", "s", "AES128_GCM", 3)
    keys.delete_dek("kek1", "s", "AES128_GCM")
    keys.delete_dek("kek1", "s", "AES128_GCM", permanent=True)
    keys.delete_kek("kek1")
    assert keys.list_keks() == [] and keys.list_keks(deleted=True) == ["kek1"]
    keys.undelete_kek("kek1")
    with pytest.raises(RegistryError) as info:
        keys.get_kek("nope")
    assert (info.value.status, info.value.code) == (404, 40470)


def test_serde_client_reads_keys_made_by_confluent_kafka(server: RegistryServer, ckp: Any) -> None:
    ckp().register_kek("kek1", "local-kms", "mykey")
    ckp().register_dek("kek1", "s", WRAPPED, DekAlgorithm.AES256_SIV, 2)
    keys = open_registry(server.url).dek_client()
    dek = keys.get_dek("kek1", "s", "AES256_SIV", -1, deleted=True)
    assert (dek.version, dek.encrypted_key_material) == (2, WRAPPED)


class _Rest:
    """A registry before Confluent 7.7: no POST …/deks/{subject} (405)."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def send_request(self, path: str, method: str, body: Any = None, query: Any = None) -> Any:
        self.paths.append(path)
        if path.endswith("/deks/s"):
            raise SchemaRegistryError(405, 405, "HTTP 405 Method Not Allowed")
        return {**body, "kekName": "kek1", "ts": 1}

    def get(self, path: str, query: Any = None) -> Any:
        raise SchemaRegistryError(503, 50301, "down")


def test_serde_client_falls_back_on_405() -> None:
    rest = _Rest()
    dek = SerdeDekClient(rest).register_dek("kek1", "s", WRAPPED)
    assert dek.subject == "s" and rest.paths == ["/dek-registry/v1/keks/kek1/deks/s", "/dek-registry/v1/keks/kek1/deks"]
    with pytest.raises(RegistryError, match="fetching KEK 'kek1': down") as info:
        SerdeDekClient(rest).get_kek("kek1")
    assert info.value.code == 50301


def test_mock_client_is_shared_per_url() -> None:
    MockDekRegistryClient.clear("mock://dek-a")
    a = open_registry("mock://dek-a").dek_client()
    a.register_kek("kek1", "local-kms", "k")
    a.register_dek("kek1", "s", WRAPPED)
    assert MockDekRegistryClient("mock://dek-a").get_dek("kek1", "s", version=-1).version == 1
    assert MockDekRegistryClient("mock://dek-b").list_keks() == []
    with pytest.raises(RegistryError) as info:
        a.register_kek("kek1", "local-kms", "k")
    assert info.value.code == 40971
    with pytest.raises(RegistryError) as info:
        a.register_kek("shared", "local-kms", "k", shared=True)
    assert info.value.code == 42271
    with pytest.raises(RegistryError) as info:
        a.register_dek("kek1", "s", None)
    assert info.value.code == 42271
    a.delete_dek("kek1", "s")
    assert a.list_deks("kek1") == [] and a.list_deks("kek1", deleted=True) == ["s"]
    a.delete_dek("kek1", "s", permanent=True)
    assert a.list_deks("kek1", deleted=True) == []


# -- the CLI -------------------------------------------------------------------------------


def test_cli_lists_keks_and_deks(server: RegistryServer, ckp: Any) -> None:
    from serde_cli.main import cli

    ckp().register_kek("kek1", "local-kms", "mykey")
    ckp().register_dek("kek1", "topic1-value", WRAPPED)
    ckp().register_dek("kek1", "topic1-value", WRAPPED, DekAlgorithm.AES256_SIV, 2)
    runner = CliRunner()
    out = runner.invoke(cli, ["registry", "keks", "--registry", server.url])
    assert out.exit_code == 0, out.output
    assert out.output.split("\n")[1].split() == ["kek1", "local-kms", "mykey", "no", "live"]
    out = runner.invoke(cli, ["registry", "deks", "--registry", server.url, "--json"])
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert [(r["subject"], r["algorithm"], r["version"]) for r in rows] == [
        ("topic1-value", "AES256_GCM", 1), ("topic1-value", "AES256_SIV", 2)]
    assert WRAPPED not in out.output and rows[0]["kekName"] == "kek1"
    out = runner.invoke(cli, ["registry", "deks", "--registry", server.url, "--kek", "kek1"])
    assert out.exit_code == 0 and WRAPPED not in out.output and "AES256_SIV" in out.output
    out = runner.invoke(cli, ["registry", "keks", "--registry", server.url, "--json"])
    assert json.loads(out.output)["kmsKeyId"] == "mykey"


def test_cli_on_an_empty_registry_and_a_missing_kek(tmp_path: Any) -> None:
    from serde_cli.main import cli

    runner = CliRunner()
    out = runner.invoke(cli, ["registry", "keks", "--registry", str(tmp_path / "r.db")])
    assert out.exit_code == 0 and "(none)" in out.output
    out = runner.invoke(cli, ["registry", "deks", "--registry", str(tmp_path / "r.db"), "--kek", "nope"])
    assert out.exit_code == 1 and "Key 'nope' not found" in out.output


def test_serve_reads_the_local_kms_secret_from_a_file(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import serde.registry.server as server_module
    from serde_cli.main import cli

    seen: list[str | None] = []
    monkeypatch.setattr(server_module, "serve", lambda *a, **kw: seen.append(os.environ.get("LOCAL_SECRET")))
    monkeypatch.delenv("LOCAL_SECRET", raising=False)
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    out = CliRunner().invoke(cli, ["registry", "serve", "--db", str(tmp_path / "r.db"),
                                   "--local-kms-secret-file", str(secret)])
    assert out.exit_code == 0, out.output
    assert seen == ["from-a-file"]
    monkeypatch.delenv("LOCAL_SECRET", raising=False)  # serve set it in this process
    secret.write_text("  \n")
    out = CliRunner().invoke(cli, ["registry", "serve", "--db", str(tmp_path / "r.db"),
                                   "--local-kms-secret-file", str(secret)])
    assert out.exit_code == 2 and "--local-kms-secret-file is empty" in out.output


def test_serde_client_uses_the_registry_credentials(tmp_path: Any) -> None:
    with RegistryServer(tmp_path / "auth.db", users={"alice": "plain:s3cret"}) as srv:
        host = srv.url.split("://", 1)[1]
        keys = open_registry(f"http://alice:s3cret@{host}").dek_client()
        keys.register_kek("kek1", "local-kms", "mykey")
        assert keys.list_keks() == ["kek1"]
        with pytest.raises(RegistryError) as info:
            open_registry(srv.url).dek_client().list_keks()
        assert info.value.status == 401 and "s3cret" not in str(info.value)


def test_registry_contexts_keep_their_own_keks(ckp: Any, http: httpx.Client) -> None:
    ckp().register_kek("kek1", "local-kms", "in-ctx", context=".team")
    ckp().register_kek("kek1", "local-kms", "default")
    assert ckp().get_kek("kek1", context=".team").kms_key_id == "in-ctx"
    assert ckp().get_kek("kek1").kms_key_id == "default"
    assert http.get("/keks", params={"context": ".team"}).json() == ["kek1"]
    # DEK calls carry no context: a qualified subject names it
    ckp().register_dek("kek1", ":.team:topic1-value", WRAPPED)
    assert http.get("/keks/kek1/deks", params={"context": ".team"}).json() == [":.team:topic1-value"]
    assert http.get("/keks/kek1/deks").json() == []
    assert ckp().get_dek("kek1", ":.team:topic1-value").kek_name == "kek1"
    with pytest.raises(SchemaRegistryError) as info:
        ckp().register_dek("kek2", ":.team:topic1-value", WRAPPED)
    assert code(info) == (404, 40470)


def test_kms_access_denied_is_40370(ckp: Any, http: httpx.Client) -> None:
    from serde.contracts.encryption import Aead, KmsDriver, register_kms_driver
    from serde.contracts.encryption._kms import reset_kms_drivers

    class Denied(Aead):
        def encrypt(self, plaintext: bytes) -> bytes:
            raise PermissionError("access to the key was denied")

        decrypt = encrypt

    class DeniedKms(KmsDriver):
        kms_type = "denied-kms"

        def new_aead(self, key_id: str, conf: Any) -> Aead:
            return Denied()

    register_kms_driver(DeniedKms())
    try:
        ckp().register_kek("locked", "denied-kms", "k", shared=True)
        with pytest.raises(SchemaRegistryError) as info:
            ckp().register_dek("locked", "s", None)
        assert code(info) == (403, 40370)
    finally:
        reset_kms_drivers()


def test_serde_client_sends_what_confluent_kafka_sends(server: RegistryServer, ckp: Any) -> None:
    """The same paths and JSON bodies as CKP's client, so what Confluent accepts from one it
    accepts from the other."""
    sent: list[tuple[str, str, Any]] = []

    def recording(rest: Any) -> Any:
        original = rest.send_request

        def send_request(url: str, method: str, body: Any = None, query: Any = None) -> Any:
            sent.append((method, url, body))
            return original(url, method=method, body=body, query=query)

        rest.send_request = send_request
        return rest

    theirs = ckp()
    recording(theirs._rest_client)
    theirs.register_kek("kekA", "local-kms", "mykey", kms_props={"p": "v"}, doc="d")
    theirs.register_dek("kekA", "a/b-value", WRAPPED, DekAlgorithm.AES256_SIV, 2)
    ckp_sent, sent[:] = list(sent), []
    keys = open_registry(server.url).dek_client()
    recording(keys._rest)
    keys.register_kek("kekB", "local-kms", "mykey", kms_props={"p": "v"}, doc="d")
    keys.register_dek("kekB", "a/b-value", WRAPPED, "AES256_SIV", 2)
    ours = [(m, u.replace("kekB", "kekA"), {**b, "name": "kekA"} if "name" in b else b) for m, u, b in sent]
    assert ours == ckp_sent
    assert ckp_sent[1][1] == "/dek-registry/v1/keks/kekA/deks/a%2Fb-value"  # a subject's slash is escaped
    assert ckp().get_dek("kekB", "a/b-value", DekAlgorithm.AES256_SIV, 2).subject == "a/b-value"
