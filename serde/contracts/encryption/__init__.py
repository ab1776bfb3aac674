"""Client-side field-level and payload encryption (Confluent's CSFLE), interoperable with
confluent-kafka: the ``ENCRYPT`` and ``ENCRYPT_PAYLOAD`` rule executors, the KMS drivers
(local, AWS, Azure, GCP, HashiCorp Vault, and plug-ins) and the DEK registry clients.

Needs the ``cryptography`` package; each cloud KMS its SDK (extras ``aws``, ``azure``,
``gcp``, ``vault``).
"""
from ._client import Dek, DekRegistryClient, Kek, MockDekRegistryClient, dek_client_for
from ._crypto import ALGORITHMS
from ._executors import FieldEncryptionExecutor, PayloadEncryptionExecutor
from ._kms import (
    Aead,
    AwsKmsDriver,
    AzureKmsDriver,
    GcpKmsDriver,
    HcVaultKmsDriver,
    KmsDriver,
    LocalKmsDriver,
    get_kms_driver,
    register_kms_driver,
)

__all__ = [
    "ALGORITHMS",
    "Aead",
    "AwsKmsDriver",
    "AzureKmsDriver",
    "Dek",
    "DekRegistryClient",
    "FieldEncryptionExecutor",
    "GcpKmsDriver",
    "HcVaultKmsDriver",
    "Kek",
    "KmsDriver",
    "LocalKmsDriver",
    "MockDekRegistryClient",
    "PayloadEncryptionExecutor",
    "dek_client_for",
    "get_kms_driver",
    "register_kms_driver",
]
