"""Consumer groups: state, members and assignments, committed and end offsets, lag, and
offset resets.

    /groups                         every group with its state, type and members
    /groups/{group}                 members, per partition committed/end/lag; a lag chart
    /groups/{group}/lag             the same figures as JSON (the chart polls it)
    POST /groups/{group}/reset      dry run: the offsets a reset would commit
    POST /groups/{group}/reset      with confirmed=1: commit them

A reset goes to the earliest or latest offset, the first offset at or after a timestamp,
or a given offset (kept within the partition), for the topics chosen; it is refused
unless the group is empty (no member could commit over it), and checked again when
applied. Kafka Streams applications are consumer groups named by their application.id
and appear here as such.
"""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._app import HttpError, console_of, form_lists, redirect, refuse_if_read_only, render
from .messages import _time
from .operations import confirm

__all__ = ["routes"]

RESET_TO = ("earliest", "latest", "timestamp", "offset")


def groups(request: Request) -> Response:
    admin = console_of(request).resources(request).admin
    found = admin.groups()
    search = request.query_params.get("q", "")[:200]
    rows = [g for g in found if search.lower() in g["group_id"].lower()]
    return render(request, "groups.html", title="Consumer groups", rows=rows, search=search, total=len(found))


def _group(request: Request) -> Any:
    return console_of(request).resources(request).admin.group(request.path_params["group"])


def group(request: Request) -> Response:
    view = _group(request)
    topics = sorted({p.topic for p in view.partitions})
    return render(request, "group.html", title=view.group_id, group=view, topics=topics,
                  done=request.query_params.get("done", "")[:200], reset_to=RESET_TO)


def lag(request: Request) -> Response:
    view = _group(request)
    return JSONResponse({"group": view.group_id, "state": view.state, "time": int(time.time() * 1000), "lag": view.lag,
                         "partitions": [{"topic": p.topic, "partition": p.partition, "committed": p.committed,
                                         "end": p.end, "lag": p.lag} for p in view.partitions]})


async def reset(request: Request) -> Response:
    refuse_if_read_only(request)
    data = await form_lists(request)
    first = {k: v[0] for k, v in data.items()}
    to = first.get("to", "")
    if to not in RESET_TO:
        raise HttpError(400, f"reset to one of {', '.join(RESET_TO)}")
    value = first.get("value", "").strip()[:64]
    if to == "timestamp":
        when = _time(value, "the timestamp")
        if when is None:
            raise HttpError(400, "a timestamp is needed (epoch milliseconds or ISO-8601)")
        value = str(when)
    elif to == "offset":
        if not (value.isascii() and value.isdigit()):
            raise HttpError(400, "an offset is a whole number, 0 or more")
    topics = [t for t in data.get("topic", []) if t][:1000]
    if not topics:
        raise HttpError(400, "choose at least one topic to reset")
    admin = console_of(request).resources(request).admin
    view = _group(request)
    if not view.empty:
        raise HttpError(409, f"group {view.group_id!r} is {view.state.lower()} with {len(view.members)} member(s): "
                             "offsets can only be reset while it is empty (stop its consumers first)")
    plan = admin.plan_reset(view, topics, to, value)
    path = f"/groups/{quote(view.group_id, safe='')}"
    if first.get("confirmed") != "1":
        return confirm(request, heading=f"Reset the offsets of {view.group_id}? (dry run)", button="Apply the reset",
                       lines=[f"Dry run: nothing has changed yet. Resetting to {to}{' ' + value if value else ''} "
                              f"would commit these offsets for {len(plan.rows)} partition(s):"],
                       action=f"{path}/reset", fields=[("to", to), ("value", value), *(("topic", t) for t in topics)],
                       cancel=path,
                       table={"head": ["Topic", "Partition", "Committed now", "New offset", "Low", "High", "Lag after"],
                              "rows": [[r["topic"], r["partition"], r["current"], r["new"], r["low"], r["high"], r["lag"]]
                                       for r in plan.rows]})
    admin.apply_reset(plan)
    return redirect(request, path, done=f"offsets reset to {to}{' ' + value if value else ''} on {len(plan.rows)} partition(s)")


def routes() -> list[Any]:
    return [
        Route("/groups", groups),
        Route("/groups/{group}", group),
        Route("/groups/{group}/lag", lag),
        Route("/groups/{group}/reset", reset, methods=["POST"]),
    ]
