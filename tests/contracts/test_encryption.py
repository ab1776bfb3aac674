"""ENCRYPT / ENCRYPT_PAYLOAD executors at the executor level: RuleContext and
FieldContext built by hand, keys in serde's embedded registry (its DEK registry runs the
same code as ``serde registry serve``) or in a ``mock://`` one."""
from __future__ import annotations

import base64
import sys
import time
from typing import Any

import pytest

from serde import RegistryError, RuleError
from serde._types import RegisteredSchema
from serde.contracts._executor import FieldContext, RuleContext
from serde.contracts.encryption import (
    Aead,
    FieldEncryptionExecutor,
    KmsDriver,
    LocalKmsDriver,
    MockDekRegistryClient,
    PayloadEncryptionExecutor,
    register_kms_driver,
)
from serde.contracts.encryption._crypto import cipher_for, prefix_version, split_version
from serde.contracts.encryption._kms import get_kms_driver, local_kms_key, reset_kms_drivers
from serde.registry.client import open_registry

SECRET = {"secret": "mysecret"}
SUBJECT = "topic1-value"
DAY = 86400.0


class Clock:
    """Starts at the real time (the registry stamps DEKs with its own clock), then jumps."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def registry(tmp_path: Any) -> Any:
    return open_registry(str(tmp_path / "registry.db"))


@pytest.fixture(autouse=True)
def _no_env_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCAL_SECRET", raising=False)


def rule(**params: str) -> dict[str, Any]:
    base = {"encrypt.kek.name": "kek1", "encrypt.kms.type": "local-kms", "encrypt.kms.key.id": "mykey"}
    base.update(params)
    return {"name": "encryptPII", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "ENCRYPT", "tags": ["PII"],
            "params": {k: v for k, v in base.items() if v is not None}}


def context(registry: Any, mode: str, the_rule: dict[str, Any], *, conf: dict[str, str] | None = None,
            metadata: dict[str, Any] | None = None) -> RuleContext:
    target = RegisteredSchema(id=1, schema_type="AVRO", text='"string"', metadata=metadata)
    return RuleContext(rule=the_rule, mode=mode, subject=SUBJECT, topic="topic1", is_key=False, target=target,
                       registry=registry, rule_conf=SECRET if conf is None else conf)


STRING = FieldContext("test.f1", "f1", "STRING", frozenset({"PII"}))
BYTES = FieldContext("test.b", "b", "BYTES", frozenset({"PII"}))


def write(executor: FieldEncryptionExecutor, registry: Any, value: Any, field: FieldContext = STRING, **kw: Any) -> Any:
    return executor.new_transform(context(registry, "WRITE", kw.pop("the_rule", rule()), **kw))(field, value)


def read(executor: FieldEncryptionExecutor, registry: Any, value: Any, field: FieldContext = STRING, **kw: Any) -> Any:
    return executor.new_transform(context(registry, "READ", kw.pop("the_rule", rule()), **kw))(field, value)


# -- section 5.8 vectors -------------------------------------------------------------------

VECTORS = [
    ("kek1-f1", "AES256_GCM", "07V2ndh02DA73p+dTybwZFm7DKQSZN1tEwQh+FoX1DZLk4Yj2LLu4omYjp/84tAg3BYlkfGSz+zZacJHIE4=",
     "zgy/jFNMV/eFilaHrMyeBgdaVzrR0udGeotW8cA/Jal7ukr+M/yz", None),
    ("kek1-det-f1", "AES256_SIV",
     "YSx3DTlAHrmpoDChquJMifmPntBzxgRVdMzgYL82rgWBKn7aUSnG+WIu9ozBNS3y2vXd++mBtK07w4/W/G6w0da39X9hfOVZsGnkSvry"
     "/QRht84V8yz3dqKxGMOK5A==", "D6YtxrlBnkTWW9N6Vbk3IInjWH81xmYh3k4d", None),
    ("kek1-rot-f1", "AES256_GCM", "W/v6hOQYq1idVAcs1pPWz9UUONMVZW4IrglTnG88TsWjeCjxmtRQ4VaNe/I5dCfm2zyY9Cu0nqdvqImtUk4=",
     "AAAAAAG4HI6b1nXPXqLyG8cII35NHQseqqUCd+IeLeFVAeNpSS3fxPnJ32A=", "1"),
]


def test_local_kms_key_for_mysecret() -> None:
    assert local_kms_key("mysecret").hex() == "1ae4d97ac1e81594bfd1993c1a75ee36"


@pytest.mark.parametrize("kek, algorithm, wrapped, field, expiry", VECTORS, ids=["gcm", "siv", "rotation"])
def test_vectors_decrypt_with_the_primitives(kek: str, algorithm: str, wrapped: str, field: str, expiry: Any) -> None:
    dek = LocalKmsDriver().new_aead("mykey", SECRET).decrypt(base64.b64decode(wrapped))
    assert len(dek) == {"AES256_GCM": 34, "AES256_SIV": 66}[algorithm]
    assert dek[:2] == {"AES256_GCM": b"\x1a\x20", "AES256_SIV": b"\x12\x40"}[algorithm]
    data = base64.b64decode(field)
    if expiry:
        version, data = split_version(data)
        assert version == 1
    cipher = cipher_for(algorithm)
    assert cipher.decrypt(dek, data) == b"hello world"
    if algorithm == "AES256_SIV":
        assert cipher.encrypt(dek, b"hello world") == data  # byte-identical re-encryption


@pytest.mark.parametrize("kek, algorithm, wrapped, field, expiry", VECTORS, ids=["gcm", "siv", "rotation"])
def test_vectors_decrypt_through_the_executor(kek: str, algorithm: str, wrapped: str, field: str, expiry: Any) -> None:
    url = f"mock://vectors-{kek}"
    MockDekRegistryClient.clear(url)
    registry = open_registry(url)
    keys = registry.dek_client()
    keys.register_kek(kek, "local-kms", "mykey")
    keys.register_dek(kek, SUBJECT, wrapped, algorithm, 1)
    the_rule = rule(**{"encrypt.kek.name": kek, "encrypt.dek.algorithm": algorithm, "encrypt.dek.expiry.days": expiry})
    assert read(FieldEncryptionExecutor(), registry, field, the_rule=the_rule) == "hello world"


# -- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm, dek_size", [("AES256_GCM", 34), ("AES128_GCM", 18), ("AES256_SIV", 66)])
def test_round_trip_creates_kek_and_dek(registry: Any, algorithm: str, dek_size: int) -> None:
    executor = FieldEncryptionExecutor()
    the_rule = rule(**{"encrypt.dek.algorithm": algorithm})
    encrypted = write(executor, registry, "hello world", the_rule=the_rule)
    assert encrypted != "hello world"
    assert read(FieldEncryptionExecutor(), registry, encrypted, the_rule=the_rule) == "hello world"
    keys = registry.dek_client()
    kek = keys.get_kek("kek1")
    assert (kek.kms_type, kek.kms_key_id, kek.shared) == ("local-kms", "mykey", False)
    dek = keys.get_dek("kek1", SUBJECT, algorithm, 1)
    raw = LocalKmsDriver().new_aead("mykey", SECRET).decrypt(dek.encrypted_bytes())
    assert len(raw) == dek_size
    assert dek.key_material is None  # a non-shared KEK: the registry never sees the key


def test_gcm_is_randomized_siv_is_deterministic(registry: Any) -> None:
    executor = FieldEncryptionExecutor()
    gcm = [write(executor, registry, "same") for _ in range(2)]
    assert gcm[0] != gcm[1]
    siv_rule = rule(**{"encrypt.dek.algorithm": "AES256_SIV"})
    siv = [write(executor, registry, "same", the_rule=siv_rule) for _ in range(2)]
    assert siv[0] == siv[1]
    assert len(base64.b64decode(siv[0])) == 16 + 4


def test_bytes_field_is_raw_ciphertext(registry: Any) -> None:
    executor = FieldEncryptionExecutor()
    encrypted = write(executor, registry, b"\x00\x01secret", BYTES)
    assert isinstance(encrypted, bytes) and len(encrypted) == 12 + 8 + 16
    assert read(executor, registry, encrypted, BYTES) == b"\x00\x01secret"
    assert read(executor, registry, bytearray(encrypted), BYTES) == b"\x00\x01secret"


@pytest.mark.parametrize("type_name, value", [("INT", 5), ("LONG", 5), ("DOUBLE", 1.5), ("BOOLEAN", True), ("ENUM", "A")])
def test_other_types_cannot_be_encrypted(registry: Any, type_name: str, value: Any) -> None:
    field = FieldContext("test.x", "x", type_name, frozenset({"PII"}))
    with pytest.raises(RuleError, match=f"type {type_name} not supported for encryption"):
        write(FieldEncryptionExecutor(), registry, value, field)


def test_read_leaves_other_types_and_nulls_alone(registry: Any) -> None:
    executor = FieldEncryptionExecutor()
    write(executor, registry, "create the keys")
    assert read(executor, registry, 5, FieldContext("test.x", "x", "INT", frozenset())) == 5
    assert read(executor, registry, None) is None
    assert write(executor, registry, None) is None


def test_rotation_with_a_fake_clock(registry: Any) -> None:
    clock = Clock()
    executor = FieldEncryptionExecutor(clock=clock)
    the_rule = rule(**{"encrypt.kek.name": "kek-rot", "encrypt.dek.expiry.days": "1"})
    written = []
    for step in range(3):
        if step:
            clock.now += 2 * DAY
        value = write(executor, registry, f"record {step}", the_rule=the_rule)
        version, _ = split_version(base64.b64decode(value))
        assert version == step + 1
        written.append(value)
    assert registry.dek_client().dek_versions("kek-rot", SUBJECT) == [1, 2, 3]
    reader = FieldEncryptionExecutor(clock=clock)
    assert [read(reader, registry, v, the_rule=the_rule) for v in written] == ["record 0", "record 1", "record 2"]


def test_rotation_within_the_expiry_keeps_the_dek(registry: Any) -> None:
    clock = Clock()
    executor = FieldEncryptionExecutor(clock=clock)
    the_rule = rule(**{"encrypt.dek.expiry.days": "1"})
    write(executor, registry, "a", the_rule=the_rule)
    clock.now += DAY / 2
    value = write(executor, registry, "b", the_rule=the_rule)
    assert split_version(base64.b64decode(value))[0] == 1
    assert registry.dek_client().dek_versions("kek1", SUBJECT) == [1]


def test_payload_round_trip(registry: Any) -> None:
    executor = PayloadEncryptionExecutor()
    payload_rule = {**rule(), "type": "ENCRYPT_PAYLOAD", "tags": []}
    encrypted = executor.transform(context(registry, "WRITE", payload_rule), b"\x02avro bytes")
    assert encrypted != b"\x02avro bytes" and len(encrypted) == 12 + 11 + 16
    assert executor.transform(context(registry, "READ", payload_rule), encrypted) == b"\x02avro bytes"
    assert executor.transform(context(registry, "READ", payload_rule), None) is None


def test_payload_must_be_bytes(registry: Any) -> None:
    payload_rule = {**rule(), "type": "ENCRYPT_PAYLOAD"}
    with pytest.raises(RuleError, match="needs the encoded payload as bytes"):
        PayloadEncryptionExecutor().transform(context(registry, "WRITE", payload_rule), {"a": 1})


def test_parameters_from_metadata_properties(registry: Any) -> None:
    props = {"properties": {"encrypt.kek.name": "kek-meta", "encrypt.kms.type": "local-kms", "encrypt.kms.key.id": "k"}}
    the_rule = {"name": "r", "type": "ENCRYPT", "tags": ["PII"]}
    value = FieldEncryptionExecutor().new_transform(context(registry, "WRITE", the_rule, metadata=props))(STRING, "x")
    out = FieldEncryptionExecutor().new_transform(context(registry, "READ", the_rule, metadata=props))(STRING, value)
    assert out == "x"
    assert registry.dek_client().get_kek("kek-meta").kms_key_id == "k"


# -- shared KEKs: the registry generates the DEK, the client needs no KMS -------------------


def test_shared_kek_round_trip_without_a_client_secret(registry: Any) -> None:
    registry._owner.app.kms_conf = {"secret": "server-secret"}
    registry.dek_client().register_kek("shared", "local-kms", "any", shared=True)
    the_rule = rule(**{"encrypt.kek.name": "shared", "encrypt.kms.key.id": "any"})
    encrypted = write(FieldEncryptionExecutor(), registry, "hello", the_rule=the_rule, conf={})
    assert read(FieldEncryptionExecutor(), registry, encrypted, the_rule=the_rule, conf={}) == "hello"
    dek = registry.dek_client().get_dek("shared", SUBJECT)
    assert dek.key_material and dek.encrypted_key_material
    assert dek.key_material not in repr(dek)


# -- failure paths -------------------------------------------------------------------------


def test_no_secret_for_the_local_kms(registry: Any) -> None:
    with pytest.raises(RuleError, match="cannot load secret"):
        write(FieldEncryptionExecutor(), registry, "hello", conf={})


def test_secret_from_the_environment(registry: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_SECRET", "mysecret")
    encrypted = write(FieldEncryptionExecutor(), registry, "hello", conf={})
    assert read(FieldEncryptionExecutor(), registry, encrypted) == "hello"  # rule_conf secret: the same key


@pytest.mark.parametrize("params, message", [
    ({"encrypt.kek.name": None}, "no kek name found"),
    ({"encrypt.kek.name": ""}, "empty kek name"),
    ({"encrypt.dek.expiry.days": "soon"}, "invalid expiry days"),
    ({"encrypt.dek.expiry.days": "-1"}, "negative expiry days"),
    ({"encrypt.dek.algorithm": "AES512_GCM"}, "invalid dek algorithm"),
])
def test_bad_parameters(registry: Any, params: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        write(FieldEncryptionExecutor(), registry, "x", the_rule=rule(**params))


def test_produce_needs_kms_type_and_key_id_to_create_the_kek(registry: Any) -> None:
    with pytest.raises(RuleError, match="no kms type found for kek1 during produce"):
        write(FieldEncryptionExecutor(), registry, "x", the_rule=rule(**{"encrypt.kms.type": None}))
    with pytest.raises(RuleError, match="no kms key id found for kek1 during produce"):
        write(FieldEncryptionExecutor(), registry, "x", the_rule=rule(**{"encrypt.kms.key.id": None}))


def test_rule_kms_type_or_key_id_differs_from_the_kek(registry: Any) -> None:
    write(FieldEncryptionExecutor(), registry, "x")
    with pytest.raises(RuleError, match="found kek1 with kms type local-kms which differs from rule kms type aws-kms"):
        write(FieldEncryptionExecutor(), registry, "x", the_rule=rule(**{"encrypt.kms.type": "aws-kms"}))
    with pytest.raises(RuleError, match="found kek1 with kms key id mykey which differs from rule kms key id other"):
        read(FieldEncryptionExecutor(), registry, "AAAA", the_rule=rule(**{"encrypt.kms.key.id": "other"}))


def test_consume_without_kek_or_dek(registry: Any) -> None:
    with pytest.raises(RuleError, match="no kek found for kek1 during consume"):
        read(FieldEncryptionExecutor(), registry, "AAAA")
    registry.dek_client().register_kek("kek1", "local-kms", "mykey")
    with pytest.raises(RuleError, match="no dek found for kek1 during consume"):
        read(FieldEncryptionExecutor(), registry, "AAAA")
    assert registry.dek_client().list_deks("kek1") == []  # consuming never creates a DEK


def test_consume_with_a_missing_dek_version(registry: Any) -> None:
    the_rule = rule(**{"encrypt.dek.expiry.days": "1"})
    write(FieldEncryptionExecutor(), registry, "x", the_rule=the_rule)
    forged = base64.b64encode(prefix_version(7, b"\x00" * 40)).decode()
    with pytest.raises(RuleError, match="no dek found for kek1 during consume"):
        read(FieldEncryptionExecutor(), registry, forged, the_rule=the_rule)
    with pytest.raises(RuleError, match="no DEK version found"):
        read(FieldEncryptionExecutor(), registry, base64.b64encode(b"\x00\x01").decode(), the_rule=the_rule)


def test_damaged_or_foreign_ciphertext(registry: Any) -> None:
    executor = FieldEncryptionExecutor()
    encrypted = base64.b64decode(write(executor, registry, "my plaintext"))
    damaged = base64.b64encode(encrypted[:-1] + bytes([encrypted[-1] ^ 1])).decode()
    with pytest.raises(RuleError, match="decryption failed") as info:
        read(executor, registry, damaged)
    assert "my plaintext" not in str(info.value)
    with pytest.raises(RuleError, match="is not base64 ciphertext"):
        read(executor, registry, "plain text!")
    with pytest.raises(RuleError, match="decryption failed"):
        read(executor, registry, base64.b64encode(b"short").decode())


def test_wrong_secret_cannot_unwrap(registry: Any) -> None:
    encrypted = write(FieldEncryptionExecutor(), registry, "x")
    with pytest.raises(RuleError, match="wrong secret") as info:
        read(FieldEncryptionExecutor(), registry, encrypted, conf={"secret": "other secret"})
    assert "other secret" not in str(info.value) and "mysecret" not in str(info.value)


def test_changed_rule_conf_is_refused() -> None:
    executor = FieldEncryptionExecutor()
    executor.configure(None, {"secret": "a"})
    executor.configure(None, {"secret": "a", "other": "b"})
    with pytest.raises(RuleError, match="rule config key already set: secret"):
        executor.configure(None, {"secret": "c"})


def test_no_registry() -> None:
    with pytest.raises(RuleError, match="no schema registry"):
        write(FieldEncryptionExecutor(), None, "x")


def test_unsupported_mode(registry: Any) -> None:
    with pytest.raises(RuleError, match="unsupported rule mode UPGRADE"):
        FieldEncryptionExecutor().new_transform(context(registry, "UPGRADE", rule()))


def test_configured_registry_is_used_when_the_context_has_none(registry: Any) -> None:
    executor = FieldEncryptionExecutor()
    executor.configure(registry, SECRET)
    encrypted = write(executor, None, "x")
    assert read(executor, registry, encrypted) == "x"
    executor.close()


# -- KMS drivers ---------------------------------------------------------------------------


@pytest.mark.parametrize("kms_type, module, extra", [
    ("aws-kms", "boto3", "aws"), ("azure-kms", "azure.identity", "azure"),
    ("gcp-kms", "google.cloud.kms_v1", "gcp"), ("hcvault", "hvac", "vault"),
])
def test_missing_kms_sdk_names_the_extra(registry: Any, monkeypatch: pytest.MonkeyPatch, kms_type: str,
                                         module: str, extra: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    the_rule = rule(**{"encrypt.kek.name": f"kek-{extra}", "encrypt.kms.type": kms_type,
                       "encrypt.kms.key.id": "arn:aws:kms:us-east-1:1:key/x"})
    with pytest.raises(RuleError, match=rf"serde-kafka\[{extra}\]"):
        write(FieldEncryptionExecutor(), registry, "x", the_rule=the_rule)


def test_unknown_kms_type(registry: Any) -> None:
    the_rule = rule(**{"encrypt.kms.type": "nokms"})
    with pytest.raises(RuleError, match="no KMS driver for kms type 'nokms'"):
        write(FieldEncryptionExecutor(), registry, "x", the_rule=the_rule)


def test_bad_cloud_key_ids() -> None:
    with pytest.raises(RuleError, match="is not a key ARN"):
        get_kms_driver("aws-kms").new_aead("not-an-arn", {})
    with pytest.raises(RuleError, match="is not https://"):
        get_kms_driver("hcvault").new_aead("https://vault:8200/transit/nokeys", {})
    with pytest.raises(RuleError, match="account.type must be 'service_account'"):
        get_kms_driver("gcp-kms").new_aead("projects/p/locations/l/keyRings/r/cryptoKeys/k", {"account.type": "user"})


class _Xor(Aead):
    """A toy KMS: XOR with a byte; key "broken" fails."""

    def __init__(self, key_id: str, calls: list[str]) -> None:
        self.key_id, self.calls = key_id, calls

    def _apply(self, data: bytes) -> bytes:
        self.calls.append(self.key_id)
        if self.key_id.startswith("broken"):
            raise RuleError(f"toy KMS key {self.key_id} is broken")
        return bytes(b ^ 0x5A for b in data)

    encrypt = decrypt = _apply


class ToyKms(KmsDriver):
    kms_type = "toy-kms"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def new_aead(self, key_id: str, conf: Any) -> Aead:
        return _Xor(key_id, self.calls)


@pytest.fixture
def toy() -> Any:
    driver = ToyKms()
    register_kms_driver(driver)
    yield driver
    reset_kms_drivers()


def test_alternate_kms_key_ids_from_kms_props(registry: Any, toy: ToyKms) -> None:
    registry.dek_client().register_kek("alt", "toy-kms", "broken-1",
                                       kms_props={"encrypt.alternate.kms.key.ids": "broken-2, good"})
    the_rule = rule(**{"encrypt.kek.name": "alt", "encrypt.kms.type": "toy-kms", "encrypt.kms.key.id": "broken-1"})
    encrypted = write(FieldEncryptionExecutor(), registry, "x", the_rule=the_rule)
    assert read(FieldEncryptionExecutor(), registry, encrypted, the_rule=the_rule) == "x"
    assert toy.calls == ["broken-1", "broken-2", "good", "broken-1", "broken-2", "good"]


def test_alternate_kms_key_ids_from_rule_conf_all_failing(registry: Any, toy: ToyKms) -> None:
    the_rule = rule(**{"encrypt.kek.name": "alt2", "encrypt.kms.type": "toy-kms", "encrypt.kms.key.id": "broken-1"})
    with pytest.raises(RuleError, match="failed to encrypt with all KEKs for alt2"):
        write(FieldEncryptionExecutor(), registry, "x", the_rule=the_rule,
              conf={"encrypt.alternate.kms.key.ids": "broken-2"})


def test_the_kms_is_called_once_per_dek(registry: Any, toy: ToyKms) -> None:
    the_rule = rule(**{"encrypt.kek.name": "toy", "encrypt.kms.type": "toy-kms", "encrypt.kms.key.id": "k"})
    writer, reader = FieldEncryptionExecutor(), FieldEncryptionExecutor()
    values = [write(writer, registry, f"v{i}", the_rule=the_rule) for i in range(5)]
    assert [read(reader, registry, v, the_rule=the_rule) for v in values] == [f"v{i}" for i in range(5)]
    assert toy.calls == ["k", "k"]  # one wrap when the DEK was made, one unwrap by the reader


def test_entry_point_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata as md

    class EP:
        name, value = "ep-kms", "tests:ToyKms"

        def load(self) -> Any:
            return ToyKms

    monkeypatch.setattr(md, "entry_points", lambda group: [EP()] if group == "serde.kms" else [])
    try:
        assert isinstance(get_kms_driver("ep-kms"), ToyKms)
    finally:
        reset_kms_drivers()


# -- registry races and caches -------------------------------------------------------------


def test_latest_dek_is_refetched_after_the_cache_ttl(registry: Any) -> None:
    clock = Clock()
    the_rule = rule(**{"encrypt.dek.expiry.days": "30"})
    producer = FieldEncryptionExecutor(clock=clock, cache_ttl=60)
    write(producer, registry, "a", the_rule=the_rule)
    # another producer rotates: version 2 appears in the registry
    wrapped = LocalKmsDriver().new_aead("mykey", SECRET).encrypt(cipher_for("AES256_GCM").generate())
    registry.dek_client().register_dek("kek1", SUBJECT, base64.b64encode(wrapped).decode(), "AES256_GCM", 2)
    clock.now += 30  # within the TTL: the cached latest (v1) is used
    assert split_version(base64.b64decode(write(producer, registry, "b", the_rule=the_rule)))[0] == 1
    clock.now += 31  # past it: the latest is asked again
    assert split_version(base64.b64decode(write(producer, registry, "c", the_rule=the_rule)))[0] == 2


def test_kek_and_dek_creation_races_are_absorbed() -> None:
    from serde import RegistryError

    url = "mock://races"
    MockDekRegistryClient.clear(url)
    registry = open_registry(url)
    keys = registry.dek_client()

    class Racing(MockDekRegistryClient):
        """Another producer creates each key just before we do: our create gets 409."""

        def register_kek(self, name: str, *a: Any, **kw: Any) -> Any:
            keys.register_kek(name, *a, **kw)
            raise RegistryError("exists", status=409, code=40971)

        def register_dek(self, kek_name: str, subject: str, material: Any, algorithm: str = "AES256_GCM",
                         version: int = 1) -> Any:
            theirs = LocalKmsDriver().new_aead("mykey", SECRET).encrypt(cipher_for(algorithm).generate())
            keys.register_dek(kek_name, subject, base64.b64encode(theirs).decode(), algorithm, version)
            raise RegistryError("exists", status=409, code=40971)

    racing = Racing(url)
    registry._dek_client = racing
    executor = FieldEncryptionExecutor()
    encrypted = write(executor, registry, "x")
    registry._dek_client = keys
    assert read(FieldEncryptionExecutor(), registry, encrypted) == "x"  # written with their DEK


def _failing(status: int) -> Any:
    """A DEK registry call that fails with HTTP ``status``."""
    from serde import RegistryError

    def call(*a: Any, **kw: Any) -> Any:
        raise RegistryError("registry failure", status=status, code=status * 100 + 1)

    return call


def test_dek_creation_failure_is_an_error(registry: Any) -> None:
    keys = registry.dek_client()

    keys.register_dek = _failing(500)  # type: ignore[method-assign]
    with pytest.raises(RuleError, match="could not register dek for kek kek1, subject topic1-value"):
        write(FieldEncryptionExecutor(), registry, "x")


def test_expired_dek_is_kept_when_rotation_fails(registry: Any, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    the_rule = rule(**{"encrypt.dek.expiry.days": "1"})
    executor = FieldEncryptionExecutor(clock=clock)
    write(executor, registry, "a", the_rule=the_rule)
    keys = registry.dek_client()

    keys.register_dek = _failing(500)  # type: ignore[method-assign]
    clock.now += 2 * DAY
    value = write(executor, registry, "b", the_rule=the_rule)
    assert split_version(base64.b64decode(value))[0] == 1
    assert "using existing dek" in caplog.text and "mysecret" not in caplog.text


def test_registry_errors_other_than_404_are_rule_errors(registry: Any) -> None:
    keys = registry.dek_client()

    keys.get_kek = _failing(503)  # type: ignore[method-assign]
    with pytest.raises(RuleError, match="could not get kek kek1"):
        write(FieldEncryptionExecutor(), registry, "x")
    del keys.get_kek
    write(FieldEncryptionExecutor(), registry, "x")
    keys.get_dek = _failing(503)  # type: ignore[method-assign]
    with pytest.raises(RuleError, match="could not get dek for kek kek1"):
        read(FieldEncryptionExecutor(), registry, "AAAA")
    keys.register_kek = _failing(503)  # type: ignore[method-assign]
    with pytest.raises(RuleError, match="could not register kek other"):
        write(FieldEncryptionExecutor(), registry, "x", the_rule=rule(**{"encrypt.kek.name": "other"}))


def test_string_field_that_does_not_decrypt_to_text(registry: Any) -> None:
    executor = FieldEncryptionExecutor()
    raw = write(executor, registry, b"\xff\xfe not utf-8", BYTES)
    with pytest.raises(RuleError, match="field test.f1 does not decrypt to UTF-8 text"):
        read(executor, registry, base64.b64encode(raw).decode())


def test_created_dek_without_key_material(registry: Any) -> None:
    from serde.contracts.encryption import Dek

    keys = registry.dek_client()
    keys.register_kek("shared", "local-kms", "mykey", shared=True)  # the registry makes its DEKs...
    keys.register_dek = lambda kek, subject, *a, **kw: Dek(kek, subject, 1, "AES256_GCM")  # type: ignore[method-assign]
    with pytest.raises(RuleError, match="dek of shared has no key material"):  # ...but this one sent none
        write(FieldEncryptionExecutor(), registry, "x", the_rule=rule(**{"encrypt.kek.name": "shared"}))


def test_a_registry_client_without_rest_access() -> None:
    from serde import ConfigError
    from serde.contracts.encryption import dek_client_for

    with pytest.raises(ConfigError, match="has no REST client"):
        dek_client_for(object())


def test_a_qualified_subject_keeps_its_keys_in_its_context(registry: Any) -> None:
    the_rule = rule()
    target = RegisteredSchema(id=1, schema_type="AVRO", text='"string"')

    def run(mode: str, value: Any) -> Any:
        ctx = RuleContext(rule=the_rule, mode=mode, subject=":.team:topic1-value", topic="topic1", is_key=False,
                          target=target, registry=registry, rule_conf=SECRET)
        return FieldEncryptionExecutor().new_transform(ctx)(STRING, value)

    assert run("READ", run("WRITE", "x")) == "x"
    keys = registry.dek_client()
    assert keys.get_kek("kek1", context=".team").name == "kek1"
    with pytest.raises(RegistryError):
        keys.get_kek("kek1")  # not in the default context


def test_cached_keys_never_show_in_a_repr(registry: Any) -> None:
    executor = FieldEncryptionExecutor()
    write(executor, registry, "x")
    cached = list(executor._encryption._deks.values())
    assert cached and all(c.key for c in cached)
    for c in cached:
        assert repr(c.key) not in repr(c)


# -- through serde's serializers, on each kind of registry serde opens -----------------------

import json  # noqa: E402

import serde  # noqa: E402

AVRO = {"type": "record", "name": "test", "fields": [
    {"name": "f1", "type": "string", "confluent:tags": ["PII"]}, {"name": "n", "type": "int"}]}


def _register(registry: Any, topic: str, on_failure: str = "ERROR,ERROR") -> None:
    from confluent_kafka.schema_registry import RuleSet, Schema

    rules = {"domainRules": [{**rule(), "onFailure": on_failure}]}
    registry.client.register_schema(f"{topic}-value", Schema(json.dumps(AVRO), "AVRO", [],
                                                             rule_set=RuleSet.from_dict(rules)))


@pytest.mark.parametrize("where", ["path", "mock"])
def test_serializers_on_embedded_and_mock_registries(tmp_path: Any, where: str) -> None:
    from confluent_kafka.serialization import MessageField, SerializationContext

    location = str(tmp_path / "r.db") if where == "path" else "mock://serializers-enc"
    MockDekRegistryClient.clear("mock://serializers-enc")
    registry = open_registry(location)
    _register(registry, "t")
    ctx = SerializationContext("t", MessageField.VALUE)
    ser = serde.serializer("avro", json.dumps(AVRO), location, auto_register=False, use_latest_version=True,
                           rule_conf=SECRET)
    record = {"f1": "hello world", "n": 1}
    data = ser(dict(record), ctx)
    assert b"hello world" not in data
    assert serde.deserializer("avro", registry=location, rule_conf=SECRET)(data, ctx) == record
    assert registry.dek_client().list_keks() == ["kek1"]


def test_read_failure_with_none_action_returns_the_ciphertext(tmp_path: Any) -> None:
    from confluent_kafka.serialization import MessageField, SerializationContext

    location = str(tmp_path / "r.db")
    _register(open_registry(location), "t", on_failure="ERROR,NONE")
    ctx = SerializationContext("t", MessageField.VALUE)
    data = serde.serializer("avro", json.dumps(AVRO), location, auto_register=False, use_latest_version=True,
                            rule_conf=SECRET)({"f1": "hello world", "n": 1}, ctx)
    out = serde.deserializer("avro", registry=location, rule_conf={"secret": "another"})(data, ctx)
    assert out["n"] == 1 and out["f1"] != "hello world"  # left encrypted, as confluent-kafka does
    assert base64.b64decode(out["f1"])


@pytest.mark.parametrize("algorithm", ["AES256_GCM", "AES256_SIV"])
def test_later_records_take_the_bound_key_path(registry: Any, algorithm: str) -> None:
    """Without rotation, the first record resolves the DEK; later records of the same rule
    use functions bound to it, with the same results and the same errors."""
    the_rule = rule(**{"encrypt.dek.algorithm": algorithm})
    writer, reader = FieldEncryptionExecutor(), FieldEncryptionExecutor()
    wctx, rctx = context(registry, "WRITE", the_rule), context(registry, "READ", the_rule)
    first = writer.new_transform(wctx)
    values = [first(STRING, "record 0")]
    assert writer._encryption._plans and all(p.field is not None for p in writer._encryption._plans.values())
    later = writer.new_transform(wctx)
    assert later is not first  # the bound function, not a per-record transform
    values += [later(STRING, f"record {i}") for i in (1, 2)] + [later(BYTES, b"\x00\x01")]
    with pytest.raises(RuleError, match="type INT not supported for encryption"):
        later(FieldContext("test.n", "n", "INT", frozenset({"PII"})), 5)
    read_first = reader.new_transform(rctx)
    assert read_first(STRING, values[0]) == "record 0"
    read_later = reader.new_transform(rctx)
    assert [read_later(STRING, v) for v in values[1:3]] == ["record 1", "record 2"]
    assert read_later(BYTES, values[3]) == b"\x00\x01"
    with pytest.raises(RuleError, match="is not base64 ciphertext"):
        read_later(STRING, "not base64!")
    with pytest.raises(RuleError, match="decryption failed"):
        read_later(STRING, base64.b64encode(b"\x00" * 40).decode())


def test_payload_later_records_take_the_bound_key_path(registry: Any) -> None:
    executor = PayloadEncryptionExecutor()
    payload_rule = {**rule(), "type": "ENCRYPT_PAYLOAD", "tags": []}
    wctx, rctx = context(registry, "WRITE", payload_rule), context(registry, "READ", payload_rule)
    encrypted = [executor.transform(wctx, f"payload {i}".encode()) for i in range(3)]
    assert [executor.transform(rctx, e) for e in encrypted] == [b"payload 0", b"payload 1", b"payload 2"]
