"""Brokers and topic operations.

    /brokers                          brokers, the controller, each broker's configs (?broker=ID)
    /topics/{topic}                   partitions (leader, replicas, ISR, records), configs (defaults marked)
    POST /topics/create               create a topic
    POST /topics/{topic}/delete       delete it (the name typed again)
    POST /topics/{topic}/partitions   add partitions
    POST /topics/{topic}/config       set a config, or reset it to its default

Every change is two POSTs: the first answers a confirmation page saying what will happen,
the second (``confirmed=1``, with the CSRF token like every POST) does it. ``--read-only``
refuses both. Partition sizes in bytes need DescribeLogDirs, which confluent_kafka's
AdminClient does not offer: pages show record counts (high - low watermark).
"""
from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._app import HttpError, base, path_segment, console_of, form, int_param, redirect, refuse_if_read_only, render

__all__ = ["confirm", "routes"]

_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_CONFIG_NAME = re.compile(r"^[a-z0-9._-]{1,100}$")


def confirm(request: Request, *, heading: str, lines: list[str], action: str,
            fields: dict[str, Any] | list[tuple[str, Any]], button: str,
            cancel: str, typed: str | None = None, danger: bool = False, table: dict[str, Any] | None = None) -> Response:
    """The confirmation page of a change: the same form again with ``confirmed=1``
    (``fields`` as pairs when a name repeats)."""
    return render(request, "confirm.html", title=heading, heading=heading, lines=lines, action=base(request) + action,
                  fields=[(k, str(v)) for k, v in (fields.items() if isinstance(fields, dict) else fields)], button=button, cancel=base(request) + cancel,
                  typed=typed, danger=danger, table=table)


def brokers(request: Request) -> Response:
    admin = console_of(request).resources(request).admin
    cluster = admin.cluster()
    ids = [b["id"] for b in cluster["brokers"]]
    chosen = int_param(request.query_params.get("broker"), "broker", minimum=0, maximum=2**31 - 1)
    if chosen is None and ids:
        chosen = ids[0]
    if chosen is not None and chosen not in ids:
        raise HttpError(404, f"no broker {chosen} in this cluster")
    configs = admin.configs("broker", str(chosen)) if chosen is not None else []
    search = request.query_params.get("q", "")[:100]
    if search:
        configs = [c for c in configs if search.lower() in c.name.lower()]
    return render(request, "brokers.html", title="Brokers", info=cluster, chosen=chosen, configs=configs, search=search)


def topic(request: Request) -> Response:
    name = request.path_params["topic"]
    admin = console_of(request).resources(request).admin
    internal, partitions = admin.describe_topic(name)
    configs = admin.configs("topic", name)
    q = request.query_params
    return render(request, "topic.html", title=name, topic=name, internal=internal, partitions=partitions,
                  configs=configs, records=sum(p.records for p in partitions),
                  done=q.get("done", "")[:200], replication=max((len(p.replicas) for p in partitions), default=0))


def _config_lines(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines()[:100]:
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not _CONFIG_NAME.match(name):
            raise HttpError(400, f"configs are name=value lines; not {line.strip()[:60]!r}")
        out[name] = value.strip()
    return out


async def create_topic(request: Request) -> Response:
    refuse_if_read_only(request)
    data = await form(request)
    name = data.get("name", "").strip()
    if not _TOPIC.match(name) or name in (".", ".."):
        raise HttpError(400, "a topic name is 1 to 249 letters, digits, '.', '_' or '-'")
    partitions = int_param(data.get("partitions") or "1", "partitions", minimum=1, maximum=10_000) or 1
    replication = int_param(data.get("replication") or "1", "replication", minimum=1, maximum=100) or 1
    configs = _config_lines(data.get("configs", ""))
    if data.get("confirmed") != "1":
        lines = [f"Create topic {name} with {partitions} partition(s), replication factor {replication}?"]
        lines += [f"{k} = {v}" for k, v in configs.items()]
        return confirm(request, heading=f"Create topic {name}?", lines=lines, action="/topics/create", button="Create",
                       cancel="/topics", fields={"name": name, "partitions": partitions, "replication": replication,
                                                 "configs": data.get("configs", "")})
    console_of(request).resources(request).admin.create_topic(name, partitions, replication, configs)
    return redirect(request, f"/topics/{path_segment(name)}", done=f"created {name}")


async def delete_topic(request: Request) -> Response:
    refuse_if_read_only(request)
    name = request.path_params["topic"]
    data = await form(request)
    if data.get("confirmed") != "1":
        return confirm(request, heading=f"Delete topic {name}?", danger=True, typed=name, button="Delete",
                       lines=["Deleting a topic removes all its records for good; producers and consumers of it will fail."],
                       action=f"/topics/{path_segment(name)}/delete", fields={}, cancel=f"/topics/{path_segment(name)}")
    if data.get("confirm", "") != name:
        raise HttpError(400, "type the topic's name to confirm the delete")
    console_of(request).resources(request).admin.delete_topic(name)
    return redirect(request, "/topics", done=f"deleted {name}")


async def add_partitions(request: Request) -> Response:
    refuse_if_read_only(request)
    name = request.path_params["topic"]
    data = await form(request)
    total = int_param(data.get("total"), "total", minimum=1, maximum=10_000)
    if total is None:
        raise HttpError(400, "say how many partitions the topic should have")
    admin = console_of(request).resources(request).admin
    _, partitions = admin.describe_topic(name)
    if total <= len(partitions):
        raise HttpError(400, f"{name} has {len(partitions)} partitions: partitions can only be added (ask for more)")
    if data.get("confirmed") != "1":
        return confirm(request, heading=f"Add partitions to {name}?", button="Add partitions",
                       lines=[f"{name} goes from {len(partitions)} to {total} partitions. This cannot be undone, and "
                              "keyed records will map to other partitions from now on."],
                       action=f"/topics/{path_segment(name)}/partitions", fields={"total": total}, cancel=f"/topics/{path_segment(name)}")
    admin.add_partitions(name, total)
    return redirect(request, f"/topics/{path_segment(name)}", done=f"{name} has {total} partitions")


async def alter_config(request: Request) -> Response:
    refuse_if_read_only(request)
    name = request.path_params["topic"]
    data = await form(request)
    key = data.get("name", "").strip()
    if not _CONFIG_NAME.match(key):
        raise HttpError(400, "a config name is needed, e.g. retention.ms")
    reset = data.get("reset") == "1"
    value = None if reset else data.get("value", "")
    if value is not None and (not value.strip() or len(value) > 10_000):
        raise HttpError(400, "a value is needed (or reset the config to its default)")
    admin = console_of(request).resources(request).admin
    current = {c.name: c for c in admin.configs("topic", name)}
    if key not in current:
        raise HttpError(400, f"{key} is not a topic config")
    if data.get("confirmed") != "1":
        now = current[key]
        what = f"reset {key} to its default" if reset else f"set {key} to {value}"
        return confirm(request, heading=f"Change {key} of {name}?", button="Apply",
                       lines=[f"On topic {name}: {what}.",
                              f"Now: {now.value if now.value is not None else '(sensitive)'}{' (default)' if now.default else ''}"],
                       action=f"/topics/{path_segment(name)}/config", cancel=f"/topics/{path_segment(name)}",
                       fields={"name": key, "value": value or "", "reset": "1" if reset else "0"})
    admin.alter_topic_config(name, key, value)
    return redirect(request, f"/topics/{path_segment(name)}", done=f"{key} reset to its default" if reset else f"{key} = {value}")


def routes() -> list[Any]:
    return [
        Route("/brokers", brokers),
        Route("/topics/create", create_topic, methods=["POST"]),
        Route("/topics/{topic}", topic),
        Route("/topics/{topic}/delete", delete_topic, methods=["POST"]),
        Route("/topics/{topic}/partitions", add_partitions, methods=["POST"]),
        Route("/topics/{topic}/config", alter_config, methods=["POST"]),
    ]
