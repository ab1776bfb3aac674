"""ACLs: list, create and delete, where the cluster has an authorizer.

    /acls                 every ACL binding (or why there are none: no authorizer)
    POST /acls/create     create one binding (confirmed first)
    POST /acls/delete     delete the bindings matching one (confirmed first)
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._admin import ACL_FIELDS, NoAuthorizer, acl_args
from ._app import HttpError, console_of, form, redirect, refuse_if_read_only, render
from .operations import confirm

__all__ = ["routes"]

CHOICES = {
    "resource_type": ("TOPIC", "GROUP", "BROKER", "TRANSACTIONAL_ID"),
    "pattern_type": ("LITERAL", "PREFIXED"),
    "operation": ("ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE", "CLUSTER_ACTION",
                  "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE"),
    "permission": ("ALLOW", "DENY"),
}


def acls(request: Request) -> Response:
    admin = console_of(request).resources(request).admin
    try:
        rows, missing = admin.acls(), None
    except NoAuthorizer as exc:
        rows, missing = [], str(exc)
    search = request.query_params.get("q", "")[:200].lower()
    if search:
        rows = [r for r in rows if any(search in v.lower() for v in r.values())]
    return render(request, "acls.html", title="ACLs", rows=rows, missing=missing, choices=CHOICES, search=search,
                  done=request.query_params.get("done", "")[:300])


async def _binding(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    refuse_if_read_only(request)
    data = await form(request)
    acl = {k: data.get(k, "").strip() for k in ACL_FIELDS}
    acl["host"] = acl["host"] or "*"
    try:
        acl_args(acl)
    except ValueError as exc:
        raise HttpError(400, str(exc)) from exc
    return data, acl


def _describe(acl: dict[str, str]) -> str:
    return (f"{acl['permission']} {acl['principal']} from {acl['host']} to {acl['operation']} "
            f"{acl['resource_type']} {acl['name']} ({acl['pattern_type']})")


async def create(request: Request) -> Response:
    data, acl = await _binding(request)
    if data.get("confirmed") != "1":
        return confirm(request, heading="Create this ACL?", lines=[_describe(acl)], action="/acls/create", fields=acl,
                       button="Create", cancel="/acls")
    console_of(request).resources(request).admin.create_acl(acl)
    return redirect(request, "/acls", done=f"created: {_describe(acl)}")


async def delete(request: Request) -> Response:
    data, acl = await _binding(request)
    if data.get("confirmed") != "1":
        return confirm(request, heading="Delete this ACL?", lines=[_describe(acl)], action="/acls/delete", fields=acl,
                       button="Delete", cancel="/acls", danger=True)
    count = console_of(request).resources(request).admin.delete_acl(acl)
    if not count:
        raise HttpError(404, f"no such ACL: {_describe(acl)}")
    return redirect(request, "/acls", done=f"deleted: {_describe(acl)}")


def routes() -> list[Any]:
    return [Route("/acls", acls), Route("/acls/create", create, methods=["POST"]),
            Route("/acls/delete", delete, methods=["POST"])]
