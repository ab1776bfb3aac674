"""``serde registry``: the embedded schema registry, a thin adapter over serde.registry."""
from __future__ import annotations

import os

import click

from serde import ConfigError


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
    quiet: bool,
) -> None:
    """Serve the embedded registry over the Confluent Schema Registry REST API.

    Any Confluent client (Java, Go, Python, kcat, AKHQ, Conduktor) can use it:

    \b
        serde registry serve --port 8081 --db .serde/registry.db
        curl http://127.0.0.1:8081/subjects

    Served by uvicorn (Starlette app, httptools, uvloop); --workers 2 on a two-core
    machine roughly doubles reads per second. Data persists in the SQLite file;
    several servers or processes may share it.
    Stops cleanly on Ctrl-C or SIGTERM. A non-loopback --host needs --users-file
    (or --allow-insecure-public).
    """
    from serde.registry.server import serve as run

    notes: list[str] = []
    db_path = db or _db_from_environment(notes) or DEFAULT_DB
    if tls_key and not tls_cert:
        raise click.UsageError("--tls-key needs --tls-cert")

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
