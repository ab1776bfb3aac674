"""``serde local up | down | status``: Kafka and the registry on this machine, for trying
serde and developing against it; a thin adapter over serde.local.

Exit codes: 0 success; 1 Java or Maven missing, a port taken, or a process that did not
come up (the message names its log).
"""
from __future__ import annotations

import click

__all__ = ["local"]

_dir_option = click.option("--dir", "root", default=".serde/local", show_default=True,
                           type=click.Path(file_okay=False), help="Where data, logs and pid files live.")


@click.group()
def local() -> None:
    """A single-node Kafka (KRaft, from Maven Central jars) and serde's registry.

    Needs Java 17+ and Maven. Data and logs stay in .serde/local/ between runs.
    """


@local.command()
@click.option("--kafka-port", type=click.IntRange(1, 65535), default=9092, show_default=True,
              help="Kafka's port on localhost.")
@click.option("--registry-port", type=click.IntRange(1, 65535), default=8081, show_default=True,
              help="The registry's port on localhost.")
@click.option("--timeout", type=click.FloatRange(min=1), default=120, show_default=True,
              help="Seconds to wait for each to answer.")
@_dir_option
def up(kafka_port: int, registry_port: int, timeout: float, root: str) -> None:
    """Start Kafka and the registry in the background and wait until both answer.

    Prints the environment that points serde at them (stdout, so that
    `eval "$(serde local up)"` sets it); `serde local down` stops them.
    """
    from serde.local import LocalStack

    stack = LocalStack(root, kafka_port=kafka_port, registry_port=registry_port)
    services = stack.up(timeout=timeout, progress=lambda text: click.echo(text, err=True))
    for service in services:
        click.echo(service.describe(), err=True)
    click.echo("Point serde at them (stop them with: serde local down):", err=True)
    for name, value in stack.exports().items():
        click.echo(f"export {name}={value}")


@local.command()
@click.option("--timeout", type=click.FloatRange(min=0), default=30, show_default=True,
              help="Seconds to wait after SIGTERM before SIGKILL.")
@_dir_option
def down(timeout: float, root: str) -> None:
    """Stop Kafka and the registry (SIGTERM, then SIGKILL after --timeout). Data stays."""
    from serde.local import LocalStack

    stopped = LocalStack(root).down(timeout=timeout)
    click.echo(f"stopped {', '.join(stopped)}" if stopped else "nothing was running", err=True)


@local.command()
@_dir_option
def status(root: str) -> None:
    """Say what runs where: pid files, and whether each address answers."""
    from serde.local import LocalStack

    for service in LocalStack(root).status():
        click.echo(service.describe())
