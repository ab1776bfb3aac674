"""The cloud KMS drivers against fake SDK modules: which SDK calls they make with which
arguments (the key id, no encryption context / AAD, RSA-OAEP-256, Vault's base64), how
credentials from rule_conf reach the SDK, and what their failures look like. No network."""
from __future__ import annotations

import base64
import sys
import types
from typing import Any

import pytest

from serde import RuleError
from serde.contracts.encryption import AwsKmsDriver, AzureKmsDriver, GcpKmsDriver, HcVaultKmsDriver, KmsDriver
from serde.contracts.encryption import register_kms_driver
from serde.contracts.encryption._crypto import Cipher, parse_key, serialize_key, ALGORITHMS
from serde.contracts.encryption._kms import get_kms_driver, reset_kms_drivers

ARN = "arn:aws:kms:eu-west-3:111122223333:key/1234abcd"


def module(monkeypatch: pytest.MonkeyPatch, name: str, **attrs: Any) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    monkeypatch.setitem(sys.modules, name, mod)
    return mod


# -- AWS ---------------------------------------------------------------------------------


class FakeKms:
    def __init__(self, calls: list[Any]) -> None:
        self.calls = calls

    def encrypt(self, **kw: Any) -> Any:
        self.calls.append(("encrypt", kw))
        return {"CiphertextBlob": b"wrapped:" + kw["Plaintext"]}

    def decrypt(self, **kw: Any) -> Any:
        self.calls.append(("decrypt", kw))
        if not kw["CiphertextBlob"].startswith(b"wrapped:"):
            raise PermissionError("AccessDeniedException")
        return {"Plaintext": kw["CiphertextBlob"][8:]}


@pytest.fixture
def boto3(monkeypatch: pytest.MonkeyPatch) -> Any:
    calls: list[Any] = []

    class Session:
        def __init__(self, **kw: Any) -> None:
            calls.append(("session", kw))
            self._session = types.SimpleNamespace(_credentials=None)

        def client(self, name: str) -> Any:
            calls.append(("client", name))
            return FakeKms(calls) if name == "kms" else object()

    module(monkeypatch, "boto3", Session=Session)
    module(monkeypatch, "botocore")
    module(monkeypatch, "botocore.credentials",
           DeferredRefreshableCredentials=lambda **kw: ("deferred", kw["method"]),
           create_assume_role_refresher=lambda client, params: calls.append(("assume", params)))
    monkeypatch.delenv("AWS_ROLE_ARN", raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)
    return calls


def test_aws_wraps_with_the_key_arn_and_no_context(boto3: list[Any]) -> None:
    aead = AwsKmsDriver().new_aead(ARN, {"access.key.id": "AKIA", "secret.access.key": "s3"})
    assert aead.decrypt(aead.encrypt(b"dek")) == b"dek"
    assert boto3[0] == ("session", {"region_name": "eu-west-3", "aws_access_key_id": "AKIA", "aws_secret_access_key": "s3"})
    assert ("encrypt", {"KeyId": ARN, "Plaintext": b"dek"}) in boto3  # no EncryptionContext: empty AAD


def test_aws_profile_and_role(boto3: list[Any]) -> None:
    AwsKmsDriver().new_aead(ARN, {"profile": "dev", "role.arn": "arn:aws:iam::1:role/r", "role.external.id": "x"})
    assert boto3[0] == ("session", {"region_name": "eu-west-3", "profile_name": "dev"})
    assert ("assume", {"RoleArn": "arn:aws:iam::1:role/r", "RoleSessionName": "confluent-encrypt", "ExternalId": "x"}) in boto3


def test_aws_failure_names_the_key_not_the_data(boto3: list[Any]) -> None:
    aead = AwsKmsDriver().new_aead(ARN, {})
    with pytest.raises(RuleError, match=f"aws-kms key {ARN}: unwrapping the DEK failed: PermissionError") as info:
        aead.decrypt(b"secret-dek-bytes")
    assert "secret-dek-bytes" not in str(info.value)


# -- Azure -------------------------------------------------------------------------------


@pytest.fixture
def azure(monkeypatch: pytest.MonkeyPatch) -> Any:
    calls: list[Any] = []

    class CryptographyClient:
        def __init__(self, key_id: str, credential: Any) -> None:
            self.key_id = key_id
            calls.append(("client", key_id, credential))

        def encrypt(self, algorithm: str, data: bytes) -> Any:
            calls.append(("encrypt", self.key_id, algorithm))
            return types.SimpleNamespace(ciphertext=b"az:" + data)

        def decrypt(self, algorithm: str, data: bytes) -> Any:
            calls.append(("decrypt", self.key_id, algorithm))
            return types.SimpleNamespace(plaintext=data[3:])

    module(monkeypatch, "azure")
    module(monkeypatch, "azure.identity", ClientSecretCredential=lambda *a: ("secret-cred", a),
           DefaultAzureCredential=lambda: "default-cred")
    module(monkeypatch, "azure.keyvault")
    module(monkeypatch, "azure.keyvault.keys")
    module(monkeypatch, "azure.keyvault.keys.crypto", CryptographyClient=CryptographyClient,
           EncryptionAlgorithm=types.SimpleNamespace(rsa_oaep_256="RSA-OAEP-256"))
    return calls


KEY = "https://vault.vault.azure.net/keys/kek/0123456789abcdef0123456789abcdef"


def test_azure_rsa_oaep_256(azure: list[Any]) -> None:
    aead = AzureKmsDriver().new_aead(KEY, {"tenant.id": "t", "client.id": "c", "client.secret": "s"})
    assert aead.decrypt(aead.encrypt(b"dek")) == b"dek"
    assert azure[0] == ("client", KEY, ("secret-cred", ("t", "c", "s")))
    assert ("encrypt", KEY, "RSA-OAEP-256") in azure
    AzureKmsDriver().new_aead(KEY, {})
    assert azure[-1] == ("client", KEY, "default-cred")


def test_azure_reads_confluent_kafkas_versioned_prefix(azure: list[Any]) -> None:
    aead = AzureKmsDriver().new_aead("https://vault.vault.azure.net/keys/kek", {})
    version = "fedcba9876543210fedcba9876543210"
    assert aead.decrypt(b"azure:v1:" + version.encode() + b":az:dek") == b"dek"
    assert ("decrypt", f"https://vault.vault.azure.net/keys/kek/{version}", "RSA-OAEP-256") in azure
    with pytest.raises(RuleError, match="invalid key version"):
        aead.decrypt(b"azure:v1:" + b"z" * 32 + b":az:dek")


# -- GCP ---------------------------------------------------------------------------------


@pytest.fixture
def gcp(monkeypatch: pytest.MonkeyPatch) -> Any:
    calls: list[Any] = []

    class KeyManagementServiceClient:
        def __init__(self, credentials: Any = None) -> None:
            calls.append(("client", credentials))

        def encrypt(self, request: Any) -> Any:
            calls.append(("encrypt", request))
            return types.SimpleNamespace(ciphertext=b"g:" + request["plaintext"])

        def decrypt(self, request: Any) -> Any:
            calls.append(("decrypt", request))
            return types.SimpleNamespace(plaintext=request["ciphertext"][2:])

    module(monkeypatch, "google.cloud.kms_v1", KeyManagementServiceClient=KeyManagementServiceClient)
    import google.cloud

    monkeypatch.setattr(google.cloud, "kms_v1", sys.modules["google.cloud.kms_v1"], raising=False)
    module(monkeypatch, "google.oauth2.service_account", Credentials=types.SimpleNamespace(
        from_service_account_info=lambda info: ("sa", info["client_email"], info["token_uri"])))
    import google.oauth2

    monkeypatch.setattr(google.oauth2, "service_account", sys.modules["google.oauth2.service_account"], raising=False)
    return calls


def test_gcp_calls_with_empty_aad_and_service_account(gcp: list[Any]) -> None:
    name = "projects/p/locations/l/keyRings/r/cryptoKeys/k"
    conf = {"client.id": "1", "client.email": "sa@p.iam", "private.key.id": "k", "private.key": "-----BEGIN"}
    aead = GcpKmsDriver().new_aead(name, conf)
    assert aead.decrypt(aead.encrypt(b"dek")) == b"dek"
    assert gcp[0] == ("client", ("sa", "sa@p.iam", "https://oauth2.googleapis.com/token"))
    assert gcp[1] == ("encrypt", {"name": name, "plaintext": b"dek", "additional_authenticated_data": b""})
    GcpKmsDriver().new_aead(name, {})
    assert gcp[-1] == ("client", None)  # default credentials


# -- Vault -------------------------------------------------------------------------------


@pytest.fixture
def hvac(monkeypatch: pytest.MonkeyPatch) -> Any:
    calls: list[Any] = []

    class Transit:
        def encrypt_data(self, **kw: Any) -> Any:
            calls.append(("encrypt", kw))
            return {"data": {"ciphertext": "vault:v1:" + kw["plaintext"]}}

        def decrypt_data(self, **kw: Any) -> Any:
            calls.append(("decrypt", kw))
            return {"data": {"plaintext": kw["ciphertext"][len("vault:v1:"):]}}

    class Client:
        def __init__(self, **kw: Any) -> None:
            calls.append(("client", kw))
            self.secrets = types.SimpleNamespace(transit=Transit())
            self.auth = types.SimpleNamespace(approle=types.SimpleNamespace(
                login=lambda **kw: calls.append(("login", kw))))

    module(monkeypatch, "hvac", Client=Client)
    for var in ("VAULT_TOKEN", "VAULT_NAMESPACE", "VAULT_CACERT", "VAULT_CLIENT_CERT", "VAULT_CLIENT_KEY",
                "VAULT_APPROLE_ROLE_ID", "VAULT_APPROLE_SECRET_ID"):
        monkeypatch.delenv(var, raising=False)
    return calls


def test_vault_transit_with_base64_and_tls_verified(hvac: list[Any]) -> None:
    aead = HcVaultKmsDriver().new_aead("https://vault:8200/teams/x/transit/keys/kek1", {"token.id": "tok"})
    assert aead.decrypt(aead.encrypt(b"dek")) == b"dek"
    assert hvac[0] == ("client", {"url": "https://vault:8200", "token": "tok", "namespace": None, "verify": True,
                                  "cert": None})
    assert hvac[1] == ("encrypt", {"name": "kek1", "plaintext": base64.b64encode(b"dek").decode(), "context": "",
                                   "mount_point": "teams/x/transit"})


def test_vault_approle_and_client_certificates(hvac: list[Any]) -> None:
    conf = {"approle.role.id": "r", "approle.secret.id": "s", "ssl.ca.location": "/ca.pem",
            "ssl.certificate.location": "/c.pem", "ssl.key.location": "/k.pem"}
    HcVaultKmsDriver().new_aead("https://vault:8200/transit/keys/k", conf)
    assert hvac[0][1]["verify"] == "/ca.pem" and hvac[0][1]["cert"] == ("/c.pem", "/k.pem")
    assert hvac[1] == ("login", {"role_id": "r", "secret_id": "s"})
    with pytest.raises(RuleError, match="ssl.certificate.location is required with ssl.key.location"):
        HcVaultKmsDriver().new_aead("https://vault:8200/transit/keys/k", {"ssl.key.location": "/k.pem"})


# -- the driver registry and the Tink key format -------------------------------------------


def test_register_needs_a_kms_type() -> None:
    class Nameless(KmsDriver):
        def new_aead(self, key_id: str, conf: Any) -> Any:
            raise AssertionError

    with pytest.raises(ValueError, match="needs a kms_type"):
        register_kms_driver(Nameless())
    register_kms_driver(Nameless(), "named-kms")
    try:
        assert isinstance(get_kms_driver("named-kms"), Nameless)
    finally:
        reset_kms_drivers()


def test_broken_entry_point_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata as md

    class EP:
        name, value = "broken-kms", "nowhere:Driver"

        def load(self) -> Any:
            raise ImportError("No module named 'nowhere'")

    monkeypatch.setattr(md, "entry_points", lambda group: [EP()])
    with pytest.raises(RuleError, match="plug-in 'nowhere:Driver' for 'broken-kms' cannot be loaded"):
        get_kms_driver("broken-kms")


@pytest.mark.parametrize("dek, reason", [
    (b"\x1a\x10" + b"k" * 16, "wrong key size"),  # an AES128 key given as AES256_GCM
    (b"\x08\x01\x1a\x20" + b"k" * 32, "key version 1"),
    (b"\x1d" + b"k" * 4, "wire type 5"),
    (b"\x1a\x20" + b"k" * 5, "truncated field"),
    (b"\x1a\xff", "truncated varint"),
])
def test_bad_tink_keys(dek: bytes, reason: str) -> None:
    with pytest.raises(RuleError, match=f"not a serialized AES256_GCM Tink key \\({reason}\\)"):
        Cipher("AES256_GCM").encrypt(dek, b"x")


def test_tink_key_round_trip() -> None:
    for spec in ALGORITHMS.values():
        key = bytes(range(spec.key_size))
        assert parse_key(spec, serialize_key(spec, key)) == key
        assert parse_key(spec, b"\x08\x00" + serialize_key(spec, key)) == key  # an explicit version 0
