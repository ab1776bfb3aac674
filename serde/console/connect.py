"""Kafka Connect, through a worker's REST API (the cluster's ``connect`` URL).

    /connect                         connectors with their state, type and tasks; create from JSON
    /connect/{name}                  status, tasks (with their traces), config with secrets masked
    POST /connect/create             create a connector from {"name": ..., "config": {...}}
    POST /connect/{name}/pause|resume|restart
    POST /connect/{name}/delete      delete it (confirmed first, the name typed again)

Config values whose key says password, secret, token, credential or ends in ``key`` are
shown as ``********``; credentials in URLs are removed. Connect's own refusals (400,
404, 409) are shown with its message; an unreachable or failing worker is a 502.
"""
from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._app import HttpError, console_of, path_segment, form, redirect, refuse_if_read_only, render
from ._config import MASK, redact_url
from .operations import confirm

__all__ = ["mask_connector_config", "routes"]

TIMEOUT = 10.0
_SECRET = re.compile(r"(password|passwd|pwd|passphrase|secret|token|credential|user\.info|jaas|keystore|"
                     r"truststore\.password|private|(^|[._-])key$|apikey$|access\.key|(^|[._-])headers?$)", re.I)


def mask_connector_config(config: dict[str, Any]) -> dict[str, str]:
    return {str(k): MASK if _SECRET.search(str(k)) else redact_url(str(v)) for k, v in sorted(config.items())}


class ConnectClient:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        import httpx

        where = redact_url(self.url)
        try:
            with httpx.Client(timeout=TIMEOUT) as client:
                answer = client.request(method, self.url + path, json=body, params=params,
                                        headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise HttpError(502, f"cannot reach Kafka Connect at {where}: {redact_url(str(exc)) or type(exc).__name__}") from exc
        if answer.status_code >= 400:
            try:
                message = str(answer.json().get("message") or answer.text)
            except (ValueError, AttributeError):
                message = answer.text[:500] or answer.reason_phrase
            status = answer.status_code if answer.status_code in (400, 404, 409, 422) else 502
            raise HttpError(status, f"Kafka Connect at {where} answered {answer.status_code}: {redact_url(message[:2000])}")
        if answer.status_code == 204 or not answer.content:
            return None
        try:
            return answer.json()
        except ValueError as exc:
            raise HttpError(502, f"Kafka Connect at {where} answered with something that is not JSON") from exc


def _client(request: Request) -> ConnectClient:
    url = console_of(request).resources(request).cluster.connect
    if not url:
        raise HttpError(404, "no Kafka Connect URL is configured for this cluster (connect = \"http://…\" in the config)")
    return ConnectClient(url)


def _name(request: Request) -> str:
    return path_segment(request.path_params["name"])


def connectors(request: Request) -> Response:
    client = _client(request)
    found = client.call("GET", "/connectors", params=[("expand", "status"), ("expand", "info")])  # type: ignore[arg-type]
    if not isinstance(found, dict):
        raise HttpError(502, "Kafka Connect's connector list is not a JSON object")
    rows = []
    for name, item in sorted(found.items()):
        status = (item or {}).get("status") or {}
        info = (item or {}).get("info") or {}
        rows.append({"name": name, "type": status.get("type") or info.get("type") or "",
                     "state": (status.get("connector") or {}).get("state", "?"),
                     "tasks": [(t.get("id"), t.get("state")) for t in status.get("tasks") or []],
                     "class": ((info.get("config") or {}).get("connector.class") or "").rsplit(".", 1)[-1]})
    worker = client.call("GET", "/")
    return render(request, "connect.html", title="Kafka Connect", rows=rows, worker=worker if isinstance(worker, dict) else {},
                  done=request.query_params.get("done", "")[:200])


def connector(request: Request) -> Response:
    client = _client(request)
    name = _name(request)
    info = client.call("GET", f"/connectors/{name}")
    status = client.call("GET", f"/connectors/{name}/status")
    if isinstance(status, dict):  # a failure's trace may quote a connection URL with its password
        if isinstance(status.get("connector"), dict) and isinstance(status["connector"].get("trace"), str):
            status["connector"]["trace"] = redact_url(status["connector"]["trace"])
        for task in status.get("tasks") or []:
            if isinstance(task, dict) and isinstance(task.get("trace"), str):
                task["trace"] = redact_url(task["trace"])
    return render(request, "connector.html", title=request.path_params["name"], name=request.path_params["name"],
                  info=info, status=status, config=mask_connector_config((info or {}).get("config") or {}),
                  done=request.query_params.get("done", "")[:200])


async def create(request: Request) -> Response:
    refuse_if_read_only(request)
    data = await form(request)
    text = data.get("definition", "").strip()
    try:
        definition = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise HttpError(400, f"the connector definition is not JSON: {exc}") from exc
    if (not isinstance(definition, dict) or not isinstance(definition.get("name"), str) or not definition["name"]
            or not isinstance(definition.get("config"), dict)):
        raise HttpError(400, 'a connector definition is {"name": "…", "config": {"connector.class": "…", …}}')
    definition["config"] = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in definition["config"].items()}
    _client(request).call("POST", "/connectors", {"name": definition["name"], "config": definition["config"]})
    return redirect(request, f"/connect/{path_segment(definition['name'])}", done="created")


def _action(verb: str) -> Any:
    async def act(request: Request) -> Response:
        refuse_if_read_only(request)
        await form(request)
        name = _name(request)
        client = _client(request)
        if verb == "restart":
            client.call("POST", f"/connectors/{name}/restart", params={"includeTasks": "true", "onlyFailed": "false"})
        else:
            client.call("PUT", f"/connectors/{name}/{verb}")
        return redirect(request, f"/connect/{name}", done={"pause": "paused", "resume": "resumed",
                                                            "restart": "restarted"}[verb])

    return act


async def delete(request: Request) -> Response:
    refuse_if_read_only(request)
    data = await form(request)
    raw, name = request.path_params["name"], _name(request)
    if data.get("confirmed") != "1":
        return confirm(request, heading=f"Delete connector {raw}?", danger=True, typed=raw, button="Delete",
                       lines=["The connector and its tasks stop and its configuration is removed."],
                       action=f"/connect/{name}/delete", fields={}, cancel=f"/connect/{name}")
    if data.get("confirm", "") != raw:
        raise HttpError(400, "type the connector's name to confirm the delete")
    _client(request).call("DELETE", f"/connectors/{name}")
    return redirect(request, "/connect", done=f"deleted {raw}")


def routes() -> list[Any]:
    return [
        Route("/connect", connectors),
        Route("/connect/create", create, methods=["POST"]),
        Route("/connect/{name}", connector),
        *(Route(f"/connect/{{name}}/{verb}", _action(verb), methods=["POST"]) for verb in ("pause", "resume", "restart")),
        Route("/connect/{name}/delete", delete, methods=["POST"]),
    ]
