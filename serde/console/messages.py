"""Message views: topics, and a topic's messages newest first, decoded, filtered, exported.

    /topics
    /topics/{topic}/messages?partition=0&from_offset=&to_offset=&since=&until=&page_size=50&filter=&cursor=
    /topics/{topic}/messages/export?format=ndjson|csv|avro&<the same selection>

A page reads at most ``page_size`` records per partition (more only when a filter drops
some, up to ``serde.console._kafka.MAX_SCAN``); ``cursor`` is where each partition's next
older page ends, so paging never reads the topic from its start. Exports hold the decoded
values of the selection: NDJSON as ``serde convert`` writes JSON, CSV and Avro converted
from it by serde's conversion engine, so ``serde convert`` reads each back.
"""
from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._errors import SerdeError
from ._app import HttpError, console_of, int_param, render
from ._decode import Decoded, shown
from ._filter import MAX_LENGTH, FilterError, compile_filter
from ._kafka import MAX_SCAN, Raw, cursor_text, iter_cursor

__all__ = ["routes"]

MAX_EXPORT = 10_000
MAX_COUNTED = 1000  # topics whose records the topics page counts (two ListOffsets requests)
EXPORT_TYPES = {"ndjson": ("application/x-ndjson", "ndjson"), "csv": ("text/csv; charset=utf-8", "csv"),
                "avro": ("application/avro", "avro")}


def topics(request: Request) -> Response:
    browser = console_of(request).resources(request).browser
    search = request.query_params.get("q", "")[:200]
    found = browser.topics()
    shown = {name: count for name, count in found.items() if search.lower() in name.lower()}
    records = browser.counts(dict(list(shown.items())[:MAX_COUNTED])) if shown else {}
    rows = [{"name": name, "partitions": count, "records": records.get(name)} for name, count in shown.items()]
    return render(request, "topics.html", title="Topics", rows=rows, search=search, total=len(found),
                  done=request.query_params.get("done", "")[:200])


def record_time(millis: int | None) -> dt.datetime | None:
    """A record's timestamp, or None: a producer may set any CreateTime (year 10000 or
    2**63 - 1 ms), which must not take the page down; the raw milliseconds stay shown."""
    if not millis or millis <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None


def _time(text: str | None, name: str) -> int | None:
    """Epoch milliseconds from digits, or from an ISO-8601 date-time (UTC unless it says)."""
    if not text:
        return None
    text = text.strip()[:64]
    if text.isascii() and text.isdigit():  # str.isdigit() also takes '²', which int() refuses
        return int(text)
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HttpError(400, f"{name} must be epoch milliseconds or an ISO-8601 date-time, not {text!r}") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return int(when.timestamp() * 1000)


def _headers(raw: Raw) -> list[tuple[str, str]]:
    out = []
    for name, value in raw.headers[:100]:
        if value is None:
            out.append((name, "null"))
            continue
        try:
            out.append((name, value.decode("utf-8")))
        except UnicodeDecodeError:
            out.append((name, "0x" + value[:1024].hex()))
    return out


class Selection:
    """The query of a messages page (or export), checked."""

    def __init__(self, request: Request, page_size: int, maximum: int) -> None:
        q = request.query_params
        self.topic = request.path_params["topic"]
        part = q.get("partition", "")
        self.partition = int_param(part, "partition", minimum=0, maximum=1_000_000) if part not in ("", "all") else None
        self.from_offset = int_param(q.get("from_offset"), "from_offset", minimum=0, maximum=2**63 - 1)
        self.to_offset = int_param(q.get("to_offset"), "to_offset", minimum=0, maximum=2**63 - 1)
        self.since = _time(q.get("since"), "since")
        self.until = _time(q.get("until"), "until")
        self.page_size = int_param(q.get("page_size"), "page_size", minimum=1, maximum=maximum) or page_size
        self.filter_text = q.get("filter", "")
        if len(self.filter_text) > MAX_LENGTH:
            raise HttpError(400, f"the filter is longer than {MAX_LENGTH} characters")
        try:
            self.predicate = compile_filter(self.filter_text)
        except FilterError as exc:
            raise HttpError(400, f"filter: {exc}") from exc
        try:
            self.cursor = iter_cursor(q.get("cursor"))
        except ValueError as exc:
            raise HttpError(400, "cursor must look like 0:120,1:98") from exc
        self.query = {k: v for k, v in (
            ("partition", part), ("from_offset", q.get("from_offset", "")), ("to_offset", q.get("to_offset", "")),
            ("since", q.get("since", "")), ("until", q.get("until", "")), ("page_size", q.get("page_size", "")),
            ("filter", self.filter_text)) if v}

    def read(self, request: Request) -> Any:
        resources = console_of(request).resources(request)
        browser, decoder = resources.browser, resources.decoder
        partitions = browser.partitions(self.topic)
        if self.partition is not None:
            if self.partition not in partitions:
                raise HttpError(404, f"topic {self.topic!r} has no partition {self.partition}")
            partitions = [self.partition]
        topic, predicate = self.topic, self.predicate

        def keep(raw: Raw) -> dict[str, Any] | None:
            key = decoder.decode(raw.key, topic, raw.headers, True)
            value = decoder.decode(raw.value, topic, raw.headers, False)
            headers = _headers(raw)
            fields = {"value": value.value if value.kind != "hex" else None, "key": key.value if key.kind != "hex" else None,
                      "headers": dict(headers), "partition": raw.partition, "offset": raw.offset,
                      "timestamp": raw.timestamp, "schema_id": value.schema_id, "subject": value.subject}
            if not predicate(fields):
                return None
            return {"raw": raw, "key": key, "value": value, "headers": headers}

        return browser.page(topic, partitions, self.page_size, cursor=self.cursor, from_offset=self.from_offset,
                            to_offset=self.to_offset, since_ms=self.since, until_ms=self.until, keep=keep)


def _row(item: dict[str, Any]) -> dict[str, Any]:
    raw: Raw = item["raw"]
    value: Decoded = item["value"]
    key: Decoded = item["key"]
    when = record_time(raw.timestamp)
    return {
        "partition": raw.partition, "offset": raw.offset,
        "timestamp": when.isoformat(timespec="milliseconds").replace("+00:00", "Z") if when else "",
        "key": shown(key), "key_kind": key.kind, "key_schema": key,
        "value": shown(value), "value_kind": value.kind, "value_schema": value,
        "headers": item["headers"],
    }


def messages(request: Request) -> Response:
    config = console_of(request).config
    selection = Selection(request, config.page_size, config.max_page_size)
    page = selection.read(request)
    rows = [_row(item) for item in page.records]
    older = urlencode({**selection.query, "cursor": cursor_text(page.cursor)}) if page.cursor else None
    return render(request, "messages.html", title=f"{selection.topic}: messages", topic=selection.topic, rows=rows,
                  selection=selection, query=selection.query, older=older, scanned=page.scanned,
                  bounds=sorted(page.partitions.items()), current=urlencode(
                      {**selection.query, **({"cursor": request.query_params["cursor"]} if "cursor" in request.query_params else {})}),
                  max_filter=MAX_LENGTH, max_scan=MAX_SCAN)


def export(request: Request) -> Response:
    fmt = request.query_params.get("format", "ndjson")
    if fmt not in EXPORT_TYPES:
        raise HttpError(400, f"format must be one of {', '.join(EXPORT_TYPES)}")
    config = console_of(request).config
    selection = Selection(request, config.page_size, MAX_EXPORT)
    page = selection.read(request)
    items = list(reversed(page.records))  # oldest first in a file
    values = [item["value"] for item in items]
    writer = None
    ids = {(v.kind, v.schema_id) for v in values}
    if fmt == "avro" and len(ids) == 1 and values and values[0].kind == "avro":
        from .. import SchemaSource

        registry = console_of(request).resources(request).registry
        found = registry.by_id(values[0].schema_id)
        writer = SchemaSource(found.text, registry.resolve_references(found.references)) if found.references else found.text
    data = export_bytes(values, fmt, writer)
    media, extension = EXPORT_TYPES[fmt]
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in selection.topic)[:100] or "messages"
    return Response(data, media_type=media,
                    headers={"content-disposition": f'attachment; filename="{name}.{extension}"'})


def export_bytes(values: list[Decoded], fmt: str, schema: Any = None) -> bytes:
    """The decoded values as NDJSON, CSV or an Avro container file, through serde.convert
    (Avro with ``schema``, the values' writer schema, when they share one; else a schema
    derived from the records)."""
    import orjson

    from ..formats.jsonschema import json_dumps

    lines = []
    for decoded in values:
        value = decoded.value
        if decoded.kind == "csv":
            value = list(value)
        try:
            lines.append(json_dumps(value, orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE))
        except TypeError:  # NaN or infinity: JSON has none
            lines.append(b"null\n")
    ndjson = b"".join(lines)
    if fmt == "ndjson":
        return ndjson
    if not values:
        raise HttpError(404, "nothing to export: the selection is empty")
    import serde

    out = io.BytesIO()
    try:
        serde.convert(io.BytesIO(ndjson), out, from_format="json", to_format=fmt, to_schema=schema)
    except SerdeError as exc:
        raise HttpError(422, f"cannot export these values as {fmt}: {exc}") from exc
    return out.getvalue()


def routes() -> list[Route]:
    return [
        Route("/topics", topics),
        Route("/topics/{topic}/messages", messages),
        Route("/topics/{topic}/messages/export", export),
    ]
