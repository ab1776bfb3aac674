"""KMS drivers: who wraps and unwraps DEKs with a KEK.

A driver serves one ``kmsType`` (``local-kms``, ``aws-kms``, ``azure-kms``, ``gcp-kms``,
``hcvault``) and turns a KMS key id plus configuration (the serializer's ``rule_conf``
merged with the KEK's ``kmsProps``) into an :class:`Aead` whose associated data is always
empty, as confluent-kafka's are. The cloud drivers import their SDK only when first used,
and say which pip extra installs it when it is missing. Other drivers plug in with
:func:`register_kms_driver` or the ``serde.kms`` entry point group (an entry point named
after the kms type whose object is a driver class or instance).

Neither the configuration (secrets, credentials) nor key material ever appears in an error
message or a log line.
"""
from __future__ import annotations

import base64
import hashlib
import os
import threading
from abc import ABC, abstractmethod
from typing import Any, Callable, Mapping

from ..._errors import RuleError

__all__ = [
    "Aead",
    "AwsKmsDriver",
    "AzureKmsDriver",
    "GcpKmsDriver",
    "HcVaultKmsDriver",
    "KmsDriver",
    "LocalKmsDriver",
    "get_kms_driver",
    "local_kms_key",
    "register_kms_driver",
]

ENTRY_POINT_GROUP = "serde.kms"


class Aead(ABC):
    """Wraps and unwraps DEKs (associated data: always empty)."""

    @abstractmethod
    def encrypt(self, plaintext: bytes) -> bytes: ...

    @abstractmethod
    def decrypt(self, ciphertext: bytes) -> bytes: ...


class KmsDriver(ABC):
    """Makes :class:`Aead` s for the keys of one KMS type."""

    kms_type: str = ""
    extra: str | None = None  # the serde-kafka pip extra that installs the SDK

    @abstractmethod
    def new_aead(self, key_id: str, conf: Mapping[str, str]) -> Aead:
        """An Aead for KMS key ``key_id`` (the KEK's kmsKeyId, without ``type://``)."""

    def _sdk(self, importer: Callable[[], Any], package: str) -> Any:
        try:
            return importer()
        except ImportError as exc:
            hint = f"pip install 'serde-kafka[{self.extra}]'" if self.extra else f"pip install {package}"
            raise RuleError(
                f"the {self.kms_type} KMS driver needs {package}, which is not installed: {hint}"
            ) from exc


# -- local KMS ---------------------------------------------------------------------------


def local_kms_key(secret: str) -> bytes:
    """The local KMS's AES-128 key: HKDF-SHA256(secret, no salt, no info), 16 bytes."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=b"").derive(secret.encode("utf-8"))


class _GcmAead(Aead):
    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes) -> bytes:
        iv = os.urandom(12)
        return iv + self._aead.encrypt(iv, plaintext, b"")

    def decrypt(self, ciphertext: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(ciphertext[:12], ciphertext[12:], b"")
        except (InvalidTag, ValueError):
            raise RuleError("the local KMS cannot unwrap this DEK: wrong secret, or damaged key material") from None


class LocalKmsDriver(KmsDriver):
    """``local-kms``: a key derived from a secret (``rule_conf["secret"]``, else the
    ``LOCAL_SECRET`` environment variable); the key id is ignored. For tests and
    development: anyone with the secret can unwrap every DEK."""

    kms_type = "local-kms"

    def __init__(self) -> None:
        self._by_secret: dict[bytes, _GcmAead] = {}
        self._lock = threading.Lock()

    def new_aead(self, key_id: str, conf: Mapping[str, str]) -> Aead:
        secret = conf.get("secret")
        if secret is None:
            secret = os.environ.get("LOCAL_SECRET")
        if secret is None:
            raise RuleError("cannot load secret: the local KMS needs rule_conf['secret'] or $LOCAL_SECRET")
        digest = hashlib.sha256(secret.encode("utf-8")).digest()  # never keep the secret as a key
        with self._lock:
            found = self._by_secret.get(digest)
            if found is None:
                found = self._by_secret[digest] = _GcmAead(local_kms_key(secret))
        return found


# -- cloud KMSes -------------------------------------------------------------------------


def _conf(conf: Mapping[str, str], key: str, env: str | None = None) -> str | None:
    value = conf.get(key)
    if value is None and env is not None:
        value = os.environ.get(env)
    return value


class _CallAead(Aead):
    """An Aead over two SDK calls; SDK errors become RuleErrors naming the KMS, not the data."""

    def __init__(self, what: str, encrypt: Callable[[bytes], bytes], decrypt: Callable[[bytes], bytes]) -> None:
        self._what = what
        self._encrypt = encrypt
        self._decrypt = decrypt

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._call(self._encrypt, plaintext, "wrapping")

    def decrypt(self, ciphertext: bytes) -> bytes:
        return self._call(self._decrypt, ciphertext, "unwrapping")

    def _call(self, fn: Callable[[bytes], bytes], data: bytes, doing: str) -> bytes:
        try:
            return fn(data)
        except RuleError:
            raise
        except Exception as exc:  # noqa: BLE001 - any SDK failure
            raise RuleError(f"{self._what}: {doing} the DEK failed: {type(exc).__name__}: {exc}") from exc


class AwsKmsDriver(KmsDriver):
    """``aws-kms``: key id = key ARN (region taken from it). Credentials: ``access.key.id`` +
    ``secret.access.key``, else ``profile``, else boto3's default chain; ``role.arn``
    (``AWS_ROLE_ARN``), ``role.session.name``, ``role.external.id`` assume a role."""

    kms_type = "aws-kms"
    extra = "aws"

    def new_aead(self, key_id: str, conf: Mapping[str, str]) -> Aead:
        boto3 = self._sdk(lambda: __import__("boto3"), "boto3")
        parts = key_id.split(":")
        if len(parts) < 6 or parts[0] != "arn":
            raise RuleError(f"aws-kms key id {key_id!r} is not a key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
        region = parts[3]
        key, secret, profile = conf.get("access.key.id"), conf.get("secret.access.key"), conf.get("profile")
        if key is not None and secret is not None:
            session = boto3.Session(region_name=region, aws_access_key_id=key, aws_secret_access_key=secret)
        elif profile is not None:
            session = boto3.Session(region_name=region, profile_name=profile)
        else:
            session = boto3.Session(region_name=region)
        role_arn = _conf(conf, "role.arn", "AWS_ROLE_ARN")
        if role_arn is not None and os.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE") is None:
            from botocore.credentials import DeferredRefreshableCredentials, create_assume_role_refresher

            params = {
                "RoleArn": role_arn,
                "RoleSessionName": _conf(conf, "role.session.name", "AWS_ROLE_SESSION_NAME") or "confluent-encrypt",
            }
            external = _conf(conf, "role.external.id", "AWS_ROLE_EXTERNAL_ID")
            if external is not None:
                params["ExternalId"] = external
            session._session._credentials = DeferredRefreshableCredentials(
                method="sts-assume-role", refresh_using=create_assume_role_refresher(session.client("sts"), params)
            )
        client = session.client("kms")
        return _CallAead(
            f"aws-kms key {key_id}",
            lambda data: client.encrypt(KeyId=key_id, Plaintext=data)["CiphertextBlob"],
            lambda data: client.decrypt(KeyId=key_id, CiphertextBlob=data)["Plaintext"],
        )


class AzureKmsDriver(KmsDriver):
    """``azure-kms``: key id = ``https://<vault>.vault.azure.net/keys/<name>/<version>``;
    wraps with RSA-OAEP-256. Credentials: ``tenant.id`` + ``client.id`` + ``client.secret``,
    else ``DefaultAzureCredential``. Reads DEKs wrapped with confluent-kafka's
    ``azure:v1:<version>:`` prefix too."""

    kms_type = "azure-kms"
    extra = "azure"
    _PREFIX = b"azure:v1:"

    def new_aead(self, key_id: str, conf: Mapping[str, str]) -> Aead:
        def imports() -> Any:
            from azure.identity import ClientSecretCredential, DefaultAzureCredential
            from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm

            return ClientSecretCredential, DefaultAzureCredential, CryptographyClient, EncryptionAlgorithm

        secret_cred, default_cred, crypto_client, algorithms = self._sdk(imports, "azure-keyvault-keys and azure-identity")
        tenant, client_id, client_secret = conf.get("tenant.id"), conf.get("client.id"), conf.get("client.secret")
        if tenant is not None and client_id is not None and client_secret is not None:
            credential = secret_cred(tenant, client_id, client_secret)
        else:
            credential = default_cred()
        client = crypto_client(key_id, credential)
        algorithm = algorithms.rsa_oaep_256
        prefix = self._PREFIX

        def decrypt(data: bytes) -> bytes:
            target = client
            if data.startswith(prefix) and len(data) > len(prefix) + 33 and data[len(prefix) + 32] == ord(":"):
                version = data[len(prefix) : len(prefix) + 32].decode("ascii", "replace")
                if not all(c in "0123456789abcdefABCDEF" for c in version):
                    raise RuleError("azure-kms: the wrapped DEK carries an invalid key version")
                base = key_id.rstrip("/").split("/keys/", 1)
                name = base[1].split("/", 1)[0] if len(base) == 2 else ""
                target = crypto_client(f"{base[0]}/keys/{name}/{version}", credential)
                data = data[len(prefix) + 33 :]
            return target.decrypt(algorithm, data).plaintext

        return _CallAead(f"azure-kms key {key_id}", lambda data: client.encrypt(algorithm, data).ciphertext, decrypt)


class GcpKmsDriver(KmsDriver):
    """``gcp-kms``: key id = ``projects/…/locations/…/keyRings/…/cryptoKeys/…``. Credentials:
    a service account from ``client.id``, ``client.email``, ``private.key.id``,
    ``private.key`` (``account.type`` must be ``service_account``), else the default ones."""

    kms_type = "gcp-kms"
    extra = "gcp"

    def new_aead(self, key_id: str, conf: Mapping[str, str]) -> Aead:
        def imports() -> Any:
            from google.cloud import kms_v1
            from google.oauth2 import service_account

            return kms_v1, service_account

        kms_v1, service_account = self._sdk(imports, "google-cloud-kms")
        account_type = conf.get("account.type") or "service_account"
        if account_type != "service_account":
            raise RuleError("gcp-kms: account.type must be 'service_account'")
        fields = {k: conf.get(k) for k in ("client.id", "client.email", "private.key.id", "private.key")}
        credentials = None
        if all(v is not None for v in fields.values()):
            credentials = service_account.Credentials.from_service_account_info(
                {
                    "type": account_type,
                    "client_id": fields["client.id"],
                    "client_email": fields["client.email"],
                    "private_key_id": fields["private.key.id"],
                    "private_key": fields["private.key"],
                    "token_uri": conf.get("token.uri") or "https://oauth2.googleapis.com/token",
                }
            )
        client = kms_v1.KeyManagementServiceClient(credentials=credentials)
        request = lambda field, data: {"name": key_id, field: data, "additional_authenticated_data": b""}  # noqa: E731
        return _CallAead(
            f"gcp-kms key {key_id}",
            lambda data: client.encrypt(request=request("plaintext", data)).ciphertext,
            lambda data: client.decrypt(request=request("ciphertext", data)).plaintext,
        )


class HcVaultKmsDriver(KmsDriver):
    """``hcvault``: key id = ``https://host:port/<mount>/keys/<name>`` (transit engine).
    ``token.id`` (``VAULT_TOKEN``), ``namespace`` (``VAULT_NAMESPACE``), or AppRole
    ``approle.role.id`` + ``approle.secret.id``; TLS: ``ssl.ca.location`` (``VAULT_CACERT``),
    ``ssl.certificate.location`` + ``ssl.key.location``. TLS is always verified."""

    kms_type = "hcvault"
    extra = "vault"

    def new_aead(self, key_id: str, conf: Mapping[str, str]) -> Aead:
        from urllib.parse import urlsplit

        hvac = self._sdk(lambda: __import__("hvac"), "hvac")
        parts = urlsplit(key_id)
        mount, sep, name = parts.path.strip("/").rpartition("/keys/")
        if not parts.scheme or not parts.netloc or not sep or not mount or not name or "/" in name:
            raise RuleError(f"hcvault key id {key_id!r} is not https://<host>:<port>/<mount>/keys/<name>")
        verify: Any = _conf(conf, "ssl.ca.location", "VAULT_CACERT") or True
        cert_file = _conf(conf, "ssl.certificate.location", "VAULT_CLIENT_CERT")
        key_file = _conf(conf, "ssl.key.location", "VAULT_CLIENT_KEY")
        if key_file is not None and cert_file is None:
            raise RuleError("hcvault: ssl.certificate.location is required with ssl.key.location")
        cert: Any = (cert_file, key_file) if cert_file and key_file else cert_file
        client = hvac.Client(
            url=f"{parts.scheme}://{parts.netloc}",
            token=_conf(conf, "token.id", "VAULT_TOKEN"),
            namespace=_conf(conf, "namespace", "VAULT_NAMESPACE"),
            verify=verify,
            cert=cert,
        )
        role_id = _conf(conf, "approle.role.id", "VAULT_APPROLE_ROLE_ID")
        secret_id = _conf(conf, "approle.secret.id", "VAULT_APPROLE_SECRET_ID")
        if role_id and secret_id:
            client.auth.approle.login(role_id=role_id, secret_id=secret_id)
        transit = client.secrets.transit

        def encrypt(data: bytes) -> bytes:
            out = transit.encrypt_data(name=name, plaintext=base64.b64encode(data).decode(), context="", mount_point=mount)
            return out["data"]["ciphertext"].encode()

        def decrypt(data: bytes) -> bytes:
            out = transit.decrypt_data(name=name, ciphertext=data.decode(), context="", mount_point=mount)
            return base64.b64decode(out["data"]["plaintext"])

        return _CallAead(f"hcvault key {key_id}", encrypt, decrypt)


# -- the registry of drivers ---------------------------------------------------------------

_BUILTIN: dict[str, Callable[[], KmsDriver]] = {
    "local-kms": LocalKmsDriver,
    "aws-kms": AwsKmsDriver,
    "azure-kms": AzureKmsDriver,
    "gcp-kms": GcpKmsDriver,
    "hcvault": HcVaultKmsDriver,
}
_drivers: dict[str, KmsDriver] = {}
_drivers_lock = threading.Lock()


def register_kms_driver(driver: KmsDriver, kms_type: str | None = None) -> None:
    """Use ``driver`` for KEKs of ``kms_type`` (default: ``driver.kms_type``), replacing any."""
    name = kms_type or driver.kms_type
    if not name:
        raise ValueError("a KMS driver needs a kms_type")
    with _drivers_lock:
        _drivers[name] = driver


def get_kms_driver(kms_type: str) -> KmsDriver:
    """The driver for ``kms_type``: registered, built in, or from the ``serde.kms`` entry points."""
    with _drivers_lock:
        found = _drivers.get(kms_type)
        if found is not None:
            return found
        factory = _BUILTIN.get(kms_type)
        if factory is None:
            factory = _entry_point(kms_type)
        if factory is None:
            known = ", ".join(sorted({*_BUILTIN, *_drivers}))
            raise RuleError(f"no KMS driver for kms type {kms_type!r} (known: {known}; others plug in "
                            f"with register_kms_driver or the {ENTRY_POINT_GROUP!r} entry point group)")
        found = _drivers[kms_type] = factory() if callable(factory) else factory
        return found


def _entry_point(kms_type: str) -> Any:
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == kms_type:
            try:
                return ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken plug-in is named, not hidden
                raise RuleError(f"the KMS driver plug-in {ep.value!r} for {kms_type!r} cannot be loaded: {exc}") from exc
    return None


def reset_kms_drivers() -> None:
    """Forget registered and instantiated drivers (tests)."""
    with _drivers_lock:
        _drivers.clear()
