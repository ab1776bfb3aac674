"""``serde console``: a thin adapter over :mod:`serde.console`."""
from __future__ import annotations

import click

from serde import ConfigError

__all__ = ["console"]


@click.command()
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="TOML file listing clusters (bootstrap, librdkafka settings, registry URL and its settings).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port).")
@click.option("--read-only", is_flag=True,
              help="Refuse every change: no deletes, no producing, no topic, group, ACL, Connect or replay changes.")
@click.option("--users", "users_file", type=click.Path(exists=True, dir_okay=False),
              help="Require HTTP basic auth; the registry's users file: 'user:password' or 'user:sha256:<hex>' per line.")
@click.option("--allow-insecure-public", is_flag=True,
              help="Allow a non-loopback --host without --users (anyone who can reach it may change schemas and produce).")
@click.option("--quiet", is_flag=True, help="Do not log requests.")
def console(config_path: str | None, host: str, port: int, read_only: bool, users_file: str | None,
            allow_insecure_public: bool, quiet: bool) -> None:
    """A web UI for schemas, messages and cluster operations: subjects, versions, diffs,
    compatibility checks, decoded messages, producing with a schema; brokers, topics,
    consumer groups and offset resets, ACLs, Kafka Connect, the gateway's dead letters.

    \b
        serde console                      # the `serde local up` stack, or $SERDE_REGISTRY and localhost:9092
        serde console --config console.toml --port 8080 --read-only

    A non-loopback --host needs --users (or --allow-insecure-public).
    """
    from serde.console import ConsoleServer, load_config

    try:
        config = load_config(config_path, read_only=read_only)
        server = ConsoleServer(config, host, port, users_file=users_file, allow_insecure_public=allow_insecure_public,
                               quiet=quiet)
    except ConfigError as exc:
        from .main import as_flags

        raise click.UsageError(as_flags(str(exc), console).replace("--users-file", "--users")) from exc
    clusters = ", ".join(c.name for c in config.clusters)
    click.echo(f"serde console at {server.url} (clusters: {clusters}{'; read-only' if config.read_only else ''}"
               f"{'; basic auth' if users_file else ''}); Ctrl-C to stop", err=True)
    server.serve_forever()
