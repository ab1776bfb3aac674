"""A second test broker with a SASL_PLAINTEXT (SCRAM-SHA-256) and an SSL listener, and the
certificates for it, generated with the openssl CLI (a CA, a server certificate for
127.0.0.1 signed by it, and a PKCS12 keystore for the broker's JVM)."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.kafka.broker import KafkaBroker, _free_ports

SCRAM_USER = "alice"
SCRAM_PASSWORD = "s3cret-Scram-pw"
KEYSTORE_PASSWORD = "keystore-pw-42"


@dataclass
class SecureBroker:
    broker: KafkaBroker
    plaintext: str  # for admin work (topics)
    sasl: str  # SASL_PLAINTEXT, SCRAM-SHA-256
    ssl: str  # SSL (server authentication)
    ca_pem: Path

    def sasl_conf(self, password: str = SCRAM_PASSWORD) -> dict[str, str]:
        return {"bootstrap.servers": self.sasl, "security.protocol": "SASL_PLAINTEXT",
                "sasl.mechanisms": "SCRAM-SHA-256", "sasl.username": SCRAM_USER, "sasl.password": password}

    def ssl_conf(self) -> dict[str, str]:
        return {"bootstrap.servers": self.ssl, "security.protocol": "SSL", "ssl.ca.location": str(self.ca_pem)}


def _run(*cmd: str, cwd: Path) -> None:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr[-2000:]}")


def make_certificates(directory: Path) -> tuple[Path, Path]:
    """(ca.pem, server.p12): a throw-away CA and a server keystore valid for 127.0.0.1."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("openssl not found")
    d = directory
    d.mkdir(parents=True, exist_ok=True)
    _run(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
         "-days", "2", "-subj", "/CN=serde-test-ca", cwd=d)
    _run(openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=localhost", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _run(openssl, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "server.pem", "-days", "2", "-extfile", "san.ext", cwd=d)
    _run(openssl, "pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-certfile", "ca.pem",
         "-name", "broker", "-out", "server.p12", "-passout", f"pass:{KEYSTORE_PASSWORD}", cwd=d)
    return d / "ca.pem", d / "server.p12"


def start_secure_broker(directory: Path) -> SecureBroker:
    ca_pem, keystore = make_certificates(directory)
    sasl_port, ssl_port = _free_ports(2)
    host = KafkaBroker.host

    def listeners(b: KafkaBroker) -> str:
        return (f"PLAINTEXT://{host}:{b.port},CONTROLLER://{host}:{b.controller_port},"
                f"SASL_PLAINTEXT://{host}:{sasl_port},SSL://{host}:{ssl_port}")

    def advertised(b: KafkaBroker) -> str:
        return f"PLAINTEXT://{host}:{b.port},SASL_PLAINTEXT://{host}:{sasl_port},SSL://{host}:{ssl_port}"

    broker = KafkaBroker(
        extra_properties={
            "listeners": listeners,
            "advertised.listeners": advertised,
            "listener.security.protocol.map":
                "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL",
            "sasl.enabled.mechanisms": "SCRAM-SHA-256",
            "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "listener.name.ssl.ssl.keystore.location": str(keystore),
            "listener.name.ssl.ssl.keystore.type": "PKCS12",
            "listener.name.ssl.ssl.keystore.password": KEYSTORE_PASSWORD,
            "listener.name.ssl.ssl.key.password": KEYSTORE_PASSWORD,
            "listener.name.ssl.ssl.client.auth": "none",
        },
        format_args=("--add-scram", f"SCRAM-SHA-256=[name={SCRAM_USER},password={SCRAM_PASSWORD}]"),
        heap_opts="-Xmx384m -Xms64m",
    )
    broker.start()
    return SecureBroker(broker, broker.bootstrap, f"{host}:{sasl_port}", f"{host}:{ssl_port}", ca_pem)
