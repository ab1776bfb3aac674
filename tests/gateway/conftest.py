"""Gateway-only fixtures: a second broker with SASL/SCRAM and TLS listeners."""
from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def secure_broker(tmp_path_factory):
    """One extra broker for the whole session (started on first use): SASL_PLAINTEXT with
    SCRAM-SHA-256 (user alice) and SSL with a CA generated here."""
    if not (shutil.which("openssl") and shutil.which("java")):
        pytest.skip("openssl and java are needed for the SASL/TLS broker")
    from .secure import start_secure_broker

    secure = start_secure_broker(tmp_path_factory.mktemp("tls"))
    try:
        yield secure
    finally:
        secure.broker.stop()
