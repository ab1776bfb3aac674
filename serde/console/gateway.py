"""The serde gateway: its routes, its live figures and its dead letters.

    /gateway                                    routes from the cluster's ``gateway`` config file,
                                                figures from its ``gateway_metrics`` endpoint
    /gateway/dead-letters/{topic}               dead letters newest first: the original key and
                                                value decoded where possible, the error headers as fields
    POST /gateway/dead-letters/{topic}/replay   replay the selected ones to their source topic
    POST /gateway/dead-letters/{topic}/export   the selected ones as NDJSON

A replay produces each record's original key, value and headers (without the
``__connect.errors.*``, ``__rule.*`` and ``__serde.errors.*`` headers the gateway added)
to the topic named by its ``__connect.errors.topic`` header, where the gateway reads it
again: after its schema or route was fixed, it converts this time.
"""
from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._errors import ConfigError
from ._app import HttpError, console_of, form_lists, int_param, redirect, refuse_if_read_only, render
from ._config import redact_url
from ._decode import shown
from ._kafka import Raw, cursor_text, iter_cursor
from .messages import record_time
from .operations import confirm

__all__ = ["ERROR_PREFIXES", "parse_metrics", "routes"]

ERROR_PREFIXES = ("__connect.errors.", "__rule.", "__serde.errors.")
MAX_SELECTED = 500
PAGE = 50
_SAMPLE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus text format -> metric name -> [(labels, value)] (histogram buckets left out)."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in text.splitlines()[:20_000]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        found = _SAMPLE.match(line)
        if not found or found.group(1).endswith("_bucket"):
            continue
        try:
            value = float(found.group(4))
        except ValueError:
            continue
        labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                  for k, v in _LABEL.findall(found.group(3) or "")}
        out.setdefault(found.group(1), []).append((labels, value))
    return out


def _config(request: Request) -> tuple[Any, str | None]:
    path = console_of(request).resources(request).cluster.gateway
    if not path:
        return None, None
    from ..gateway.config import load_config

    try:
        return load_config(path), None
    except ConfigError as exc:
        return None, f"cannot read the gateway config {path}: {redact_url(str(exc))}"


def _metrics(url: str | None) -> tuple[dict[str, Any] | None, str | None]:
    if not url:
        return None, None
    import httpx

    try:
        answer = httpx.get(url.rstrip("/") + "/metrics", timeout=5.0)
    except httpx.HTTPError as exc:
        return None, f"cannot reach the gateway's metrics at {redact_url(url)}: {exc or type(exc).__name__}"
    if answer.status_code != 200:
        return None, f"the gateway's metrics at {redact_url(url)} answered {answer.status_code}"
    samples = parse_metrics(answer.text[:4_000_000])
    figures: dict[str, Any] = {"ready": any(v for _, v in samples.get("serde_gateway_ready", [])),
                               "topics": {}, "errors": [], "lag": [], "totals": {}}
    for metric, column in (("serde_gateway_records_in_total", "in"), ("serde_gateway_records_out_total", "out"),
                           ("serde_gateway_dead_lettered_total", "dead")):
        for labels, value in samples.get(metric, []):
            figures["topics"].setdefault(labels.get("topic", ""), {})[column] = int(value)
    for labels, value in samples.get("serde_gateway_conversion_errors_total", []):
        figures["errors"].append({**labels, "count": int(value)})
    for labels, value in samples.get("serde_gateway_consumer_lag", []):
        figures["lag"].append({**labels, "lag": int(value)})
    for name in ("retries", "commits", "aborts"):
        figures["totals"][name] = int(sum(v for _, v in samples.get(f"serde_gateway_{name}_total", [])))
    count = sum(v for _, v in samples.get("serde_gateway_end_to_end_latency_seconds_count", []))
    total = sum(v for _, v in samples.get("serde_gateway_end_to_end_latency_seconds_sum", []))
    figures["latency_ms"] = round(total / count * 1000, 1) if count else None
    return figures, None


def overview(request: Request) -> Response:
    cluster = console_of(request).resources(request).cluster
    if not cluster.gateway and not cluster.gateway_metrics:
        raise HttpError(404, "no gateway is configured for this cluster (gateway = \"gateway.toml\" and "
                             "gateway_metrics = \"http://…\" in the console config)")
    config, config_error = _config(request)
    figures, metrics_error = _metrics(cluster.gateway_metrics)
    routes_ = []
    for route in (config.routes if config else ()):
        def side(spec: Any) -> str:
            if spec is None:
                return "unchanged"
            detail = spec.subject or spec.type or ("derived" if spec.derive else "")
            return f"{spec.format}{' ' + detail if detail else ''}"

        routes_.append({"name": route.name, "sources": list(route.source_topics), "target": route.target_topic,
                        "key": f"{side(route.source_key)} → {side(route.target_key)}",
                        "value": f"{side(route.source_value)} → {side(route.target_value)}",
                        "errors": route.errors, "dead_letter_topic": route.dead_letter_topic})
    refresh = int_param(request.query_params.get("refresh"), "refresh", minimum=2, maximum=3600)
    return render(request, "gateway.html", title="Gateway", routes=routes_, config_error=config_error,
                  figures=figures, metrics_error=metrics_error, refresh=refresh,
                  group=config.settings.group if config else None, path=cluster.gateway,
                  metrics_url=redact_url(cluster.gateway_metrics) if cluster.gateway_metrics else None)


def _error_fields(raw: Raw) -> tuple[dict[str, str], list[tuple[str, bytes | None]]]:
    errors: dict[str, str] = {}
    kept: list[tuple[str, bytes | None]] = []
    for name, value in raw.headers:
        if name.startswith(ERROR_PREFIXES):
            errors[name] = (value or b"").decode("utf-8", "replace")
        else:
            kept.append((name, value))
    return errors, kept


def _letter(request: Request, raw: Raw) -> dict[str, Any]:
    decoder = console_of(request).resources(request).decoder
    errors, headers = _error_fields(raw)
    source = errors.get("__connect.errors.topic", "")
    key = decoder.decode(raw.key, source, headers, True)
    value = decoder.decode(raw.value, source, headers, False)
    when = record_time(raw.timestamp)
    return {"raw": raw, "id": f"{raw.partition}:{raw.offset}", "source": source, "errors": errors,
            "headers": [(n, (v or b"").decode("utf-8", "replace")) for n, v in headers],
            "key": key, "value": value, "key_text": shown(key), "value_text": shown(value),
            "timestamp": when.isoformat(timespec="milliseconds").replace("+00:00", "Z") if when else ""}


def dead_letters(request: Request) -> Response:
    topic = request.path_params["topic"]
    browser = console_of(request).resources(request).browser
    try:
        cursor = iter_cursor(request.query_params.get("cursor"))
    except ValueError as exc:
        raise HttpError(400, "cursor must look like 0:120,1:98") from exc
    page_size = int_param(request.query_params.get("page_size"), "page_size", minimum=1, maximum=500) or PAGE
    page = browser.page(topic, browser.partitions(topic), page_size, cursor=cursor)
    letters = [_letter(request, raw) for raw in page.records]
    older = f"cursor={quote(cursor_text(page.cursor))}&page_size={page_size}" if page.cursor else None
    return render(request, "dead_letters.html", title=f"{topic}: dead letters", topic=topic, letters=letters,
                  older=older, done=request.query_params.get("done", "")[:300], max_selected=MAX_SELECTED)


def _selected(values: list[str]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for text in values:
        p, sep, o = text.partition(":")
        if not sep or not (p.isascii() and p.isdigit()) or not (o.isascii() and o.isdigit()):
            raise HttpError(400, f"a dead letter is partition:offset, not {text[:40]!r}")
        out.append((int(p), int(o)))
    if not out:
        raise HttpError(400, "select at least one dead letter")
    if len(out) > MAX_SELECTED:
        raise HttpError(400, f"select at most {MAX_SELECTED} dead letters at once")
    return out


def _fetch(request: Request, topic: str, wanted: list[tuple[int, int]]) -> list[Raw]:
    records = console_of(request).resources(request).browser.fetch(topic, wanted)
    found = {(r.partition, r.offset) for r in records}
    missing = [f"{p}:{o}" for p, o in wanted if (p, o) not in found]
    if missing:
        raise HttpError(404, f"{topic} has no record at {', '.join(missing[:10])}")
    return records


async def replay(request: Request) -> Response:
    refuse_if_read_only(request)
    topic = request.path_params["topic"]
    data = await form_lists(request)
    wanted = _selected(data.get("selected", []))
    records = _fetch(request, topic, wanted)
    plan = []
    for raw in records:
        errors, headers = _error_fields(raw)
        source = errors.get("__connect.errors.topic", "")
        if not source:
            raise HttpError(400, f"the record at {raw.partition}:{raw.offset} has no __connect.errors.topic header: "
                                 "it does not say where it came from")
        plan.append((raw, source, headers, errors))
    path = f"/gateway/dead-letters/{quote(topic, safe='')}"
    if (data.get("confirmed") or [""])[0] != "1":
        return confirm(request, heading=f"Replay {len(plan)} dead letter(s)?", button="Replay",
                       lines=["Each record's original key, value and headers (without the error headers) is produced "
                              "again to its source topic, where the gateway reads it: fix its schema or route first."],
                       action=f"{path}/replay", cancel=path,
                       fields=[("selected", f"{raw.partition}:{raw.offset}") for raw, *_ in plan],
                       table={"head": ["Dead letter", "To topic", "Error"],
                              "rows": [[f"{raw.partition}:{raw.offset}", source,
                                        errors.get("__connect.errors.exception.message", "")[:300]]
                                       for raw, source, _, errors in plan]})
    browser = console_of(request).resources(request).browser
    targets: dict[str, int] = {}
    for raw, source, headers, _ in plan:
        browser.produce(source, raw.key, raw.value, headers)  # type: ignore[arg-type]
        targets[source] = targets.get(source, 0) + 1
    return redirect(request, path, done="replayed " + ", ".join(f"{n} to {t}" for t, n in sorted(targets.items())))


async def export(request: Request) -> Response:
    """A POST (the selection is a form; reading it changes nothing, so --read-only allows it)."""
    topic = request.path_params["topic"]
    wanted = _selected((await form_lists(request)).get("selected", []))
    lines = []
    for raw in _fetch(request, topic, wanted):
        letter = _letter(request, raw)
        record: dict[str, Any] = {"topic": topic, "partition": raw.partition, "offset": raw.offset,
                                  "timestamp": raw.timestamp, "source_topic": letter["source"], "errors": letter["errors"],
                                  "headers": dict(letter["headers"])}
        for side in ("key", "value"):
            decoded, data = letter[side], getattr(raw, side)
            record[side] = decoded.value if decoded.kind not in ("hex", "error", "null") else None
            record[f"{side}_base64"] = base64.b64encode(data).decode() if data is not None else None
        lines.append(json.dumps(record, default=str, ensure_ascii=False))
    return Response("\n".join(lines) + "\n", media_type="application/x-ndjson", headers={
        "content-disposition": f'attachment; filename="{re.sub(r"[^A-Za-z0-9._-]", "_", topic)}-dead-letters.ndjson"'})


def routes() -> list[Any]:
    return [
        Route("/gateway", overview),
        Route("/gateway/dead-letters/{topic}", dead_letters),
        Route("/gateway/dead-letters/{topic}/replay", replay, methods=["POST"]),
        Route("/gateway/dead-letters/{topic}/export", export, methods=["POST"]),
    ]
