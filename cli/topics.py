"""``serde topics list | create | describe | delete``: a thin adapter over serde.gateway.topics.

    serde topics create orders --partitions 3 --config retention.ms=86400000
    serde topics describe orders

Exit codes: 0 success; 1 an unreachable cluster, a topic that exists (create) or does not
(describe, delete), or a delete that was not confirmed; 2 usage errors.
"""
from __future__ import annotations

from typing import Any

import click

from .kafka import _pairs, bootstrap_option, kafka_conf_option

__all__ = ["topics"]


def _admin(bootstrap: str, kafka_conf: tuple[str, ...]) -> Any:
    import logging
    import sys

    from serde.gateway.topics import Admin

    logger = logging.getLogger("serde.kafka.admin.cli")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("kafka: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.WARNING)
    return Admin(bootstrap, dict(_pairs(kafka_conf, "-X")), logger=logger)


@click.group()
def topics() -> None:
    """List, create, describe and delete Kafka topics (--bootstrap or $SERDE_BOOTSTRAP)."""


@topics.command("list")
@click.option("--all", "internal", is_flag=True, help="Include internal topics (__consumer_offsets, ...).")
@bootstrap_option
@kafka_conf_option
def list_(internal: bool, bootstrap: str, kafka_conf: tuple[str, ...]) -> None:
    """Print each topic with its partition count and replication factor."""
    found = _admin(bootstrap, kafka_conf).list(internal=internal)
    if not found:
        click.echo(f"no topics on {bootstrap}", err=True)
        return
    width = max(len(t.name) for t in found)
    for topic in found:
        click.echo(f"{topic.name:<{width}}  partitions {len(topic.partitions)}  replication {topic.replication_factor}")


@topics.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--partitions", "-p", type=click.IntRange(min=1), default=None,
              help="Number of partitions (default: the broker's num.partitions).")
@click.option("--replication-factor", "-r", type=click.IntRange(min=1), default=None,
              help="Copies of each partition (default: the broker's default.replication.factor).")
@click.option("--config", "-c", "configs", multiple=True, metavar="KEY=VALUE",
              help="A topic config, e.g. --config retention.ms=86400000 (repeatable).")
@click.option("--if-not-exists", is_flag=True, help="A topic that exists already is not an error.")
@bootstrap_option
@kafka_conf_option
def create(names: tuple[str, ...], partitions: int | None, replication_factor: int | None, configs: tuple[str, ...],
           if_not_exists: bool, bootstrap: str, kafka_conf: tuple[str, ...]) -> None:
    """Create topics NAMES and wait until their partitions have leaders."""
    config = dict(_pairs(configs, "--config"))
    admin = _admin(bootstrap, kafka_conf)
    for name in names:
        made = admin.create(name, partitions=partitions or -1, replication_factor=replication_factor or -1,
                            config=config, exist_ok=if_not_exists)
        click.echo(f"created topic {name}" if made else f"topic {name} exists already", err=True)


@topics.command()
@click.argument("name")
@click.option("--all-configs", is_flag=True, help="Every config, defaults included (default: the ones that differ).")
@bootstrap_option
@kafka_conf_option
def describe(name: str, all_configs: bool, bootstrap: str, kafka_conf: tuple[str, ...]) -> None:
    """Print the partitions of NAME (leader, replicas, in-sync replicas) and its configs."""
    info = _admin(bootstrap, kafka_conf).describe(name, all_configs=all_configs)
    click.echo(f"topic {info.name}: {len(info.partitions)} partitions, replication factor {info.replication_factor}")
    for p in info.partitions:
        click.echo(f"  partition {p.id}  leader {p.leader}  replicas {','.join(map(str, p.replicas))}  "
                   f"in-sync {','.join(map(str, p.isrs))}")
    label = "configs" if all_configs else "configs (not defaults)"
    click.echo(f"{label}:" if info.configs else f"{label}: none")
    for key, value in info.configs.items():
        click.echo(f"  {key}={value}")


@topics.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@bootstrap_option
@kafka_conf_option
def delete(names: tuple[str, ...], yes: bool, bootstrap: str, kafka_conf: tuple[str, ...]) -> None:
    """Delete topics NAMES and their records (asks first, unless --yes)."""
    admin = _admin(bootstrap, kafka_conf)
    missing = sorted(set(names) - admin.exists(names))
    if missing:
        from serde import KafkaError

        raise KafkaError(f"no topic {', '.join(map(repr, missing))} on {bootstrap}; nothing was deleted")
    if not yes:
        what = f"topic {names[0]}" if len(names) == 1 else f"{len(names)} topics ({', '.join(names)})"
        if not click.confirm(f"Delete {what} on {bootstrap} with all its records?", default=False, err=True):
            raise click.ClickException("not deleted")
    admin.delete(names)
    click.echo(f"deleted {', '.join(names)}", err=True)
