"""``serde registry``: the embedded schema registry, a thin adapter over serde.registry."""
from __future__ import annotations

import datetime
import json
import os
from typing import Any

import click

from serde import ConfigError

from .options import registry_option


__all__ = ["registry"]

DEFAULT_DB = os.path.join(".serde", "registry.db")


@click.group()
def registry() -> None:
    """The embedded schema registry (a SQLite file with Confluent's semantics)."""


@registry.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8081, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port).")
@click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"SQLite file holding the registry (created if missing). Default: $SERDE_REGISTRY when it is a path "
    f"(the variable every serde command reads; clients set it to the URL), else {DEFAULT_DB}.",
)
@click.option(
    "--users-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Require HTTP basic auth; one 'user:password' or 'user:sha256:<hex of sha256(password)>' per line.",
)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), help="Serve HTTPS with this PEM certificate (chain).")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="PEM private key of --tls-cert (if not inside it).")
@click.option(
    "--allow-insecure-public",
    is_flag=True,
    help="Allow a non-loopback --host without --users-file (anyone who can reach it may change schemas).",
)
@click.option(
    "--incompatible-error-code",
    type=click.Choice(["409", "40901"]),
    default="409",
    show_default=True,
    help="error_code of an incompatible registration (HTTP 409 either way): 409 like Confluent <= 8.0.3 "
    "and Karapace, 40901 like newer Confluent.",
)
@click.option("--max-body", type=click.IntRange(1024), default=16 * 1024 * 1024, show_default=True, help="Largest request body in bytes.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes accepting on the one port (each with its own connections to the SQLite file).",
)
@click.option(
    "--local-kms-secret-file",
    type=click.Path(exists=True, dir_okay=False),
    help="File holding the local KMS secret the DEK registry wraps shared KEKs' DEKs with "
    "(default: $LOCAL_SECRET). A file, not an option value, so the secret stays out of process listings.",
)
@click.option("--quiet", is_flag=True, help="Do not log requests.")
def serve(
    host: str,
    port: int,
    db: str | None,
    users_file: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    allow_insecure_public: bool,
    incompatible_error_code: str,
    max_body: int,
    workers: int,
    local_kms_secret_file: str | None,
    quiet: bool,
) -> None:
    """Serve the embedded registry over the Confluent Schema Registry REST API.

    Any Confluent client (Java, Go, Python, kcat, AKHQ, Conduktor) can use it:

    \b
        serde registry serve --port 8081 --db .serde/registry.db
        curl http://127.0.0.1:8081/subjects

    Served by uvicorn (Starlette app, httptools, uvloop); --workers 2 on a two-core
    machine roughly doubles reads per second. Data persists in the SQLite file;
    several servers or processes may share it. It serves Confluent's DEK registry
    (/dek-registry/v1) too, for fields encrypted by ENCRYPT rules.
    Stops cleanly on Ctrl-C or SIGTERM. A non-loopback --host needs --users-file
    (or --allow-insecure-public).
    """
    from serde.registry.server import serve as run

    notes: list[str] = []
    db_path = db or _db_from_environment(notes) or DEFAULT_DB
    if tls_key and not tls_cert:
        raise click.UsageError("--tls-key needs --tls-cert")
    if local_kms_secret_file:
        with open(local_kms_secret_file, encoding="utf-8") as fh:
            secret = fh.read().strip()
        if not secret:
            raise click.UsageError("--local-kms-secret-file is empty")
        os.environ["LOCAL_SECRET"] = secret  # read by the local KMS driver, in every worker

    def ready(server: object) -> None:
        auth = " (basic auth)" if users_file else ""
        click.echo(f"serde registry serving {db_path} at {server.url}{auth}; Ctrl-C to stop", err=True)  # type: ignore[attr-defined]
        for note in notes:
            click.echo(f"note: {note}", err=True)

    try:
        run(
            db_path,
            host,
            port,
            users_file=users_file,
            certfile=tls_cert,
            keyfile=tls_key,
            allow_insecure_public=allow_insecure_public,
            max_body=max_body,
            incompatible_error_code=int(incompatible_error_code),
            quiet=quiet,
            workers=workers,
            ready=ready,
        )
    except ConfigError as exc:  # options named as flags (allow_insecure_public -> --allow-insecure-public)
        from .main import as_flags

        raise click.UsageError(as_flags(str(exc), serve)) from exc


@registry.command()
@registry_option
@click.option("--deleted", is_flag=True, help="Include soft-deleted KEKs (marked 'deleted').")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per KEK instead of a table.")
def keks(registry: str | None, deleted: bool, as_json: bool) -> None:
    """List the key encryption keys (KEKs) of a registry's DEK registry.

    A KEK names a key in a KMS (local-kms, aws-kms, azure-kms, gcp-kms, hcvault) that wraps
    the data encryption keys of ENCRYPT rules. Works with serde's registry (a SQLite path or
    `serde registry serve`) and with Confluent Schema Registry's /dek-registry/v1.
    No key material is printed.

    \b
        serde registry keks --registry http://127.0.0.1:8081
        serde registry keks --registry .serde/registry.db --deleted
    """
    client = _dek_client(registry)
    rows = [client.get_kek(name, deleted=True) for name in client.list_keks(deleted=deleted)]
    if as_json:
        for kek in rows:
            click.echo(json.dumps(kek.to_json(), sort_keys=True))
        return
    _table(
        ["KEK", "KMS TYPE", "KMS KEY ID", "SHARED", "STATE"],
        [[k.name, k.kms_type, k.kms_key_id, "yes" if k.shared else "no", "deleted" if k.deleted else "live"] for k in rows],
    )


@registry.command()
@registry_option
@click.option("--kek", "kek_names", multiple=True, metavar="NAME", help="Only the DEKs of this KEK (repeatable).")
@click.option("--deleted", is_flag=True, help="Include soft-deleted KEKs and DEKs.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per DEK version instead of a table.")
def deks(registry: str | None, kek_names: tuple[str, ...], deleted: bool, as_json: bool) -> None:
    """List the data encryption keys (DEKs): one line per KEK, subject, algorithm and version.

    A DEK encrypts the tagged fields (or whole payloads) of one subject; a new version
    appears when `encrypt.dek.expiry.days` rotates it. Only metadata is printed, never the
    key material (wrapped or not).

    \b
        serde registry deks --registry http://127.0.0.1:8081 --kek pii-kek
    """
    from serde.contracts.encryption import ALGORITHMS

    client = _dek_client(registry)
    names = list(kek_names) or client.list_keks(deleted=deleted)
    rows = []
    for name in names:
        for subject in client.list_deks(name, deleted=deleted):
            for algorithm in ALGORITHMS:
                for version in client.dek_versions(name, subject, algorithm, deleted=deleted):
                    rows.append(client.get_dek(name, subject, algorithm, version, deleted=True))
    if as_json:
        for dek in rows:
            listed = dek.to_json()
            listed.pop("encryptedKeyMaterial", None)  # metadata only, as the table
            click.echo(json.dumps(listed, sort_keys=True))
        return
    _table(
        ["KEK", "SUBJECT", "ALGORITHM", "VERSION", "CREATED", "STATE"],
        [[d.kek_name, d.subject, d.algorithm, str(d.version), _when(d.ts), "deleted" if d.deleted else "live"] for d in rows],
    )


def _dek_client(location: str | None) -> Any:
    from serde.registry.client import open_registry

    return open_registry(location).dek_client()


def _when(ts: int | None) -> str:
    if ts is None:
        return "-"
    return datetime.datetime.fromtimestamp(ts / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _table(header: list[str], rows: list[list[str]]) -> None:
    if not rows:
        click.echo("(none)", err=True)
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def _db_from_environment(notes: list[str]) -> str | None:
    """The SQLite file from the environment: $SERDE_REGISTRY, the one variable every serde
    command reads, when it names a file rather than a URL; $SERDE_REGISTRY_DB, its former
    name here, still works, with a deprecation note."""
    value = os.environ.get("SERDE_REGISTRY", "").strip()
    if value and "://" not in value:
        return value.removeprefix("embedded:")
    old = os.environ.get("SERDE_REGISTRY_DB")
    if old:
        notes.append("SERDE_REGISTRY_DB is deprecated; set SERDE_REGISTRY to the registry file instead")
        return old
    return None
