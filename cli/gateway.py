"""``serde gateway``: convert records between Kafka topics as a config file says.

Exit codes: 0 after a graceful stop (SIGTERM/SIGINT); 1 when Kafka or the registry cannot
be reached, a record cannot be delivered, or a route with ``errors = "fail"`` meets a bad
record; 2 for an invalid config (the message names the key).
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

__all__ = ["gateway"]


@click.group("gateway")
def gateway() -> None:
    """Format-conversion pipelines between Kafka topics (CSV → Avro, Protobuf → JSON, ...).

    Delivery is at-least-once: an offset is committed only once every earlier record of
    its partition is on the target or the dead-letter topic. See docs/gateway.md.
    """


def _logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("serde")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # librdkafka's own log lines are chatty; only its warnings and errors by default
    logging.getLogger("serde.gateway.librdkafka").setLevel(max(logging.WARNING, root.level))


@gateway.command("run")
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
              default="info", show_default=True, help="Log level (logs go to stderr).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve /metrics (Prometheus text), /ready and /ping on this port (0: any free port).")
@click.option("--metrics-host", default=None, metavar="ADDRESS",
              help="Address for --metrics-port (default: gateway.metrics_host, else 127.0.0.1, loopback only; "
                   "0.0.0.0 or :: for every interface).")
@click.option("--create-topics", is_flag=True, default=False,
              help="Create missing target and dead-letter topics at start (same as gateway.create_topics = true).")
@click.option("--instance-id", default=None, metavar="ID",
              help="This process's stable id within its group (exactly-once: transactional.id = GROUP-ID; "
                   "default: gateway.instance_id, else the host name).")
@click.option("--exactly-once", "exactly_once", is_flag=True, default=False,
              help="Use Kafka transactions (same as gateway.delivery = \"exactly-once\").")
def run(config: Path, log_level: str, metrics_port: int | None, metrics_host: str | None, create_topics: bool,
        instance_id: str | None, exactly_once: bool) -> None:
    """Run the routes of CONFIG (TOML) until SIGTERM or SIGINT.

    On a signal the gateway stops fetching, delivers what is in flight (or commits the
    open transaction), commits and exits 0. A second Ctrl-C exits at once (uncommitted
    records are read again later). Exit 1 also when another process took over this
    one's transactional id (exactly-once).
    """
    import dataclasses

    from serde.gateway import load_config
    from serde.gateway import run as run_gateway

    _logging(log_level)
    settings = load_config(config)
    changes: dict[str, object] = {}
    if instance_id is not None:
        changes["instance_id"] = instance_id
    if exactly_once:
        changes["delivery"] = "exactly-once"
    if create_topics:
        changes["create_topics"] = True
    if metrics_host is not None and metrics_port is None and settings.settings.metrics_port is None:
        raise click.UsageError("--metrics-host needs --metrics-port (or gateway.metrics_port)")
    if changes:
        settings = dataclasses.replace(settings, settings=dataclasses.replace(settings.settings, **changes))
    stats = run_gateway(settings, metrics_port=metrics_port, metrics_host=metrics_host)
    click.echo(
        f"gateway stopped: {stats['consumed']} consumed, {stats['produced']} converted, "
        f"{stats['dead_lettered']} dead-lettered",
        err=True,
    )


@gateway.command("check")
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check(config: Path) -> None:
    """Validate CONFIG without connecting to Kafka or the registry."""
    from serde.gateway import load_config

    settings = load_config(config)
    for route in settings.routes:
        sides = []
        for part in ("key", "value"):
            src = getattr(route, f"source_{part}")
            dst = getattr(route, f"target_{part}")
            if dst is None:
                sides.append(f"{part} as is")
            else:
                how = "derived" if dst.derive else (f"subject {dst.subject}" if dst.schema is None and dst.subject else "given")
                sides.append(f"{part} {src.format if src else '?'} → {dst.format} ({how})" if dst.format != "binary"
                             else f"{part} {src.format if src else '?'} → binary {dst.type}")
        errors = f"dead-letter to {route.dead_letter_topic}" if route.errors == "dead-letter" else "fail"
        click.echo(f"{route.name}: {', '.join(route.source_topics)} → {route.target_topic}; {'; '.join(sides)}; {errors}")
