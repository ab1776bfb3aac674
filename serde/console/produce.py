"""Produce view: a record written with a registered schema (any subject, any version) or a
pasted one, edited as JSON, validated on the server as it is typed, with a sample record
generated from the schema.

    GET  /topics/{topic}/produce?subject=&version=      the form, with a sample record
    POST /topics/{topic}/produce/validate               JSON in, {"ok": ..., "errors": [...]} out
    POST /topics/{topic}/produce                        produce; the result links to the message

The record is coerced into the schema's types (ISO timestamps, decimal text, base64
bytes) and encoded by serde's serializer; nothing here knows a format.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._errors import SerdeError, SubjectNotFound
from ._app import HttpError, console_of, form, int_param, refuse_if_read_only, render
from .schemas import LABELS, LANGUAGES, fetch_version, pretty

__all__ = ["routes", "sample"]

MAX_HEADERS = 100
MAX_SAMPLE_DEPTH = 8


# -- a sample record from serde's neutral type model ---------------------------------------
def sample(model: Any, depth: int = 0) -> Any:
    """A plausible value of ``model`` (serde._model) as JSON, for the editor."""
    from .. import _model as m

    if depth > MAX_SAMPLE_DEPTH:
        return None
    if isinstance(model, m.Ref):
        return None  # a recursive use: stop here
    if isinstance(model, m.Record):
        return {f.name: (f.default if f.has_default and f.default is not None else sample(f.type, depth + 1)) for f in model.fields}
    if isinstance(model, m.Optional):
        inner = model.type
        return None if isinstance(inner, m.Ref) else sample(inner, depth + 1)
    if isinstance(model, m.Union_):
        return sample(model.types[0], depth + 1) if model.types else None
    if isinstance(model, m.Array):
        item = sample(model.items, depth + 1)
        return [] if item is None else [item]
    if isinstance(model, m.Map):
        item = sample(model.values, depth + 1)
        return {} if item is None else {"key": item}
    if isinstance(model, m.Enum):
        return model.default or (model.symbols[0] if model.symbols else "")
    if isinstance(model, m.Decimal):
        return "1" + ("." + "0" * model.scale if model.scale else "")
    if isinstance(model, m.Scalar):
        return {
            m.STRING: "text", m.BYTES: "", m.BOOLEAN: True, m.INT32: 1, m.INT64: 1, m.FLOAT32: 1.5, m.FLOAT64: 1.5,
            m.NULL: None, m.DATE: "2026-01-31", m.TIME_MILLIS: "12:00:00", m.TIMESTAMP_MILLIS: "2026-01-31T12:00:00Z",
            m.TIMESTAMP_MICROS: "2026-01-31T12:00:00Z", m.UUID: "00000000-0000-4000-8000-000000000000", m.ANY: {},
        }.get(model.kind)
    return None


class Target:
    """The schema a record is produced with: a subject's version, or a pasted schema."""

    def __init__(self, registry: Any, topic: str, subject: str | None, version: int | None, text: str | None,
                 schema_type: str | None, message: str | None = None, *, is_key: bool = False) -> None:
        from .. import SchemaSource, get_format

        self.registry, self.topic, self.subject, self.is_key = registry, topic, subject, is_key
        if subject:
            found = fetch_version(registry, subject, version or "latest")
            self.found = found
            self.version = found.version
            self.schema_type = found.schema_type
            self.text = found.text
            self.references = registry.resolve_references(found.references) if found.references else {}
        else:
            if not text or not text.strip():
                raise HttpError(400, "choose a subject or paste a schema")
            if (schema_type or "").upper() not in LANGUAGES:
                raise HttpError(400, f"schema_type must be one of {', '.join(LANGUAGES)}")
            self.found = None
            self.version = None
            self.schema_type = schema_type.upper()  # type: ignore[union-attr]
            self.text = text
            self.references = {}
        self.format = LANGUAGES[self.schema_type]
        # Protobuf: the message to write (default: the file's first, as Confluent's serializer)
        fmt = get_format(self.format)
        self.parsed = fmt.parse_schema(SchemaSource(self.text, self.references))
        descriptor = getattr(self.parsed, "file_descriptor_proto", None)
        package = f"{descriptor.package}." if descriptor is not None and descriptor.package else ""
        self.messages = [package + m.name for m in descriptor.message_type] if descriptor is not None else []
        self.message = message or (self.messages[0] if len(self.messages) > 1 else None)
        self.options = {"message": self.message} if self.message else {}
        if self.options:
            self.parsed = fmt.parse_schema(SchemaSource(self.text, self.references), **self.options)
        from ..gateway.pipeline import coercer

        self._coerce = coercer(self.parsed)
        self._encode = get_format(self.format).encoder(self.parsed)

    def sample(self) -> Any:
        from ..translate import to_model

        try:
            return sample(to_model(self.format, self.text, self.references or None, **self.options))
        except (SerdeError, ValueError, KeyError):
            return {}

    def validate(self, value: Any) -> list[str]:
        """Why ``value`` cannot be written with this schema (empty: it can)."""
        try:
            self._encode(self._coerce(value))
        except (SerdeError, ValueError, TypeError, OverflowError) as exc:
            return [str(exc) or type(exc).__name__]
        return []

    def serialize(self, value: Any) -> bytes:
        import serde

        if self.found is not None:
            subject = self.subject
            ser = serde.serializer(self.format, None, self.registry, use_schema_id=self.found.id, auto_register=False,
                                   subject_name_strategy=lambda topic, is_key, name: subject, **self.options)
        else:  # a pasted schema: registered under <topic>-value, as a serializer would
            ser = serde.serializer(self.format, self.text, self.registry, subject_name_strategy="topic", **self.options)
        from confluent_kafka.serialization import MessageField, SerializationContext

        field = MessageField.KEY if self.is_key else MessageField.VALUE
        return ser(self._coerce(value), SerializationContext(self.topic, field))  # type: ignore[no-any-return]


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise HttpError(400, f"the record is not JSON: {exc}") from exc


def _parse_headers(text: str) -> list[tuple[str, bytes]]:
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise HttpError(400, f"header line {number}: expected 'name: value'")
        out.append((name.strip(), value.strip().encode("utf-8")))
    if len(out) > MAX_HEADERS:
        raise HttpError(400, f"at most {MAX_HEADERS} headers")
    return out


def _target(request: Request, data: dict[str, str]) -> Target:
    registry = console_of(request).resources(request).registry
    version = int_param(data.get("version") or None, "version", minimum=1, maximum=2**31 - 1)
    subject = data.get("subject") or None
    return Target(registry, request.path_params["topic"], subject, version, data.get("schema"), data.get("schema_type"),
                  data.get("message") or None)


def _key_target(request: Request, data: Any) -> Target | None:
    """The key's schema when a key subject is chosen (the key is then JSON); else None (text)."""
    subject = data.get("key_subject") or None
    if subject is None:
        return None
    registry = console_of(request).resources(request).registry
    return Target(registry, request.path_params["topic"], subject, None, None, None, is_key=True)


def produce_form(request: Request) -> Response:
    resources = console_of(request).resources(request)
    registry = resources.registry
    topic = request.path_params["topic"]
    q = request.query_params
    try:
        latest = registry.call("listing subjects", registry.client._rest_client.get, "schemas", {"latestOnly": "true"})
        subjects = sorted(s["subject"] for s in latest)
    except SerdeError:
        subjects = sorted(registry.call("listing subjects", registry.client.get_subjects))
    subject = q.get("subject")
    if subject is None:
        subject = f"{topic}-value" if f"{topic}-value" in subjects else ""
    version = int_param(q.get("version"), "version", minimum=1, maximum=2**31 - 1)
    target = None
    error = None
    if subject:
        try:
            target = Target(registry, topic, subject, version, None, None, q.get("message") or None)
        except SubjectNotFound as exc:
            error = str(exc)
    versions = registry.call("versions", registry.client.get_versions, subject) if target is not None else []
    record = json.dumps(target.sample(), indent=2, ensure_ascii=False) if target is not None else "{}"
    key_subject = q.get("key_subject")
    if key_subject is None:
        key_subject = f"{topic}-key" if f"{topic}-key" in subjects else ""
    key_target = None
    if key_subject:
        try:
            key_target = _key_target(request, {"key_subject": key_subject})
        except SubjectNotFound as exc:
            error = str(exc)
    key_record = json.dumps(key_target.sample(), ensure_ascii=False) if key_target is not None else ""
    return render(request, "produce.html", title=f"Produce to {topic}", topic=topic, subjects=subjects, subject=subject,
                  target=target, versions=versions, record=record, error=error, types=LABELS,
                  key_subject=key_subject if key_target is not None else "", key_target=key_target, key_record=key_record,
                  schema_text=pretty(target.schema_type, target.text) if target is not None else "")


async def validate(request: Request) -> Response:
    data = await form(request)

    def run() -> dict[str, Any]:
        try:
            target = _target(request, data)
        except SerdeError as exc:
            return {"ok": False, "errors": [f"schema: {exc}"]}
        try:
            value = json.loads(data.get("record", ""))
        except (ValueError, RecursionError) as exc:
            return {"ok": False, "errors": [f"not JSON: {exc}"]}
        errors = target.validate(value)
        try:
            key_target = _key_target(request, data)
        except SerdeError as exc:
            return {"ok": False, "errors": [*errors, f"key schema: {exc}"]}
        if key_target is not None:
            try:
                errors += [f"key: {e}" for e in key_target.validate(json.loads(data.get("key", "")))]
            except (ValueError, RecursionError) as exc:
                errors.append(f"key: not JSON: {exc}")
        return {"ok": not errors, "errors": errors}

    return JSONResponse(await run_in_threadpool(run))


async def produce(request: Request) -> Response:
    refuse_if_read_only(request)
    data = await form(request)
    topic = request.path_params["topic"]

    def run() -> dict[str, Any]:
        target = _target(request, data)
        value = _parse_value(data.get("record", ""))
        errors = target.validate(value)
        if errors:
            raise HttpError(422, "the record does not fit the schema: " + "; ".join(errors))
        payload = target.serialize(value)
        key_target = _key_target(request, data)
        key_bytes: bytes | None = None
        if key_target is not None:
            try:
                key_value = json.loads(data.get("key", ""))
            except (ValueError, RecursionError) as exc:
                raise HttpError(400, f"the key is not JSON: {exc}") from exc
            key_errors = key_target.validate(key_value)
            if key_errors:
                raise HttpError(422, "the key does not fit its schema: " + "; ".join(key_errors))
            key_bytes = key_target.serialize(key_value)
        elif data.get("key"):
            key_bytes = data["key"].encode("utf-8")
        headers = _parse_headers(data.get("headers", ""))
        partition = int_param(data.get("partition") or None, "partition", minimum=0, maximum=1_000_000)
        browser = console_of(request).resources(request).browser
        p, offset = browser.produce(topic, key_bytes, payload, headers, partition)
        return {"partition": p, "offset": offset, "subject": target.subject, "version": target.version,
                "bytes": len(payload)}

    result = await run_in_threadpool(run)
    link = f"/topics/{quote(topic, safe='')}/messages?partition={result['partition']}&from_offset={result['offset']}&to_offset={result['offset']}"
    return render(request, "produced.html", title=f"Produced to {topic}", topic=topic, result=result, link=link)


def routes() -> list[Route]:
    return [
        Route("/topics/{topic}/produce", produce_form, methods=["GET"]),
        Route("/topics/{topic}/produce", produce, methods=["POST"]),
        Route("/topics/{topic}/produce/validate", validate, methods=["POST"]),
    ]
