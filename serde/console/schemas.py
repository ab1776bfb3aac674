"""Schema registry views: subjects, versions, a schema with its references, a diff of two
versions, a compatibility check of a draft (and registering it), the subject's
compatibility level, deletes behind a confirmation.

    /subjects                                   search, type, latest version
    /subjects/{subject}                         versions, compatibility level and mode
    /subjects/{subject}/versions/{version}      the schema, references both ways, rules,
                                                metadata, and the schema in the other two languages
    /subjects/{subject}/diff?from=1&to=3        side by side, with serde.compat's verdict
    /subjects/{subject}/check                   a draft against the subject (rule IDs, paths, reasons)
    /subjects/{subject}/delete                  soft or hard, after a confirmation

Registry calls go through serde's registry client (``Registry.call`` translates its
errors); compatibility is ``serde.compat.check``; translation is ``serde.translate.derive``.
"""
from __future__ import annotations

import difflib
import json
import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .._errors import RegistryError, SerdeError, SubjectNotFound
from .._types import RegisteredSchema, SchemaReference
from ._app import HttpError, base, console_of, path_segment, form, int_param, refuse_if_read_only, render

__all__ = ["routes"]

SUBJECTS_PER_PAGE = 100
MAX_VERSIONS = 1000  # versions read for a transitive check or a subject's list
MAX_DRAFT = 1024 * 1024
LANGUAGES = {"AVRO": "avro", "JSON": "json", "PROTOBUF": "protobuf"}
LABELS = {"AVRO": "Avro", "JSON": "JSON Schema", "PROTOBUF": "Protobuf"}


def _rest(registry: Any, what: str, path: str, query: dict[str, Any] | None = None) -> Any:
    return registry.call(what, registry.client._rest_client.get, path, query)


def _subject(request: Request) -> str:
    """The subject of the URL. '.' and '..' are refused: registry clients resolve them
    as dot segments (a POST to config/. would set the global level)."""
    name = request.path_params["subject"]
    if name in (".", ".."):
        raise HttpError(400, f"no subject can be named {name!r} here: HTTP clients read it as a path step")
    return name


def fetch_version(registry: Any, subject: str, number: int | str) -> RegisteredSchema:
    """A version as the registry has it now (serde's Registry caches versions for
    serializers, which never see one deleted; pages must)."""
    answer = _rest(registry, f"fetching version {number} of subject {subject!r}", f"subjects/{path_segment(subject)}/versions/{number}")
    guid = answer.get("guid")
    return RegisteredSchema(
        id=int(answer["id"]), schema_type=str(answer.get("schemaType") or "AVRO").upper(), text=answer["schema"],
        references=tuple(SchemaReference(r["name"], r["subject"], int(r["version"])) for r in answer.get("references") or ()),
        subject=answer.get("subject", subject), version=int(answer["version"]),
        guid=uuid.UUID(guid) if isinstance(guid, str) and len(guid) == 36 else None,
        metadata=answer.get("metadata") or None, rule_set=answer.get("ruleSet") or None,
    )


def pretty(schema_type: str, text: str) -> str:
    """JSON schemas (Avro, JSON Schema) indented; Protobuf as written."""
    if schema_type in ("AVRO", "JSON"):
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            return text
    return text


def _level(registry: Any, subject: str) -> str:
    try:
        answer = _rest(registry, f"the compatibility level of {subject!r}", f"config/{path_segment(subject)}", {"defaultToGlobal": "true"})
        return str(answer.get("compatibilityLevel") or answer.get("compatibility") or "BACKWARD")
    except RegistryError:
        return "BACKWARD"


def _mode(registry: Any, subject: str) -> str:
    try:
        answer = _rest(registry, f"the mode of {subject!r}", f"mode/{path_segment(subject)}", {"defaultToGlobal": "true"})
        return str(answer.get("mode") or "READWRITE")
    except RegistryError:
        return "READWRITE"


# -- /subjects ---------------------------------------------------------------------------
def subjects(request: Request) -> Response:
    registry = console_of(request).resources(request).registry
    search = request.query_params.get("q", "")[:200]
    kind = request.query_params.get("type", "").upper()
    if kind and kind not in LANGUAGES:
        raise HttpError(400, f"type must be one of {', '.join(LANGUAGES)}")
    page = int_param(request.query_params.get("page"), "page", minimum=1, maximum=1_000_000) or 1
    try:
        latest = _rest(registry, "listing the latest schemas", "schemas", {"latestOnly": "true"})
        rows = [{"subject": s["subject"], "version": s["version"], "id": s["id"], "type": s.get("schemaType", "AVRO")}
                for s in latest]
    except RegistryError:  # a registry without GET /schemas: one request per subject
        rows = []
        for subject in registry.call("listing subjects", registry.client.get_subjects)[: SUBJECTS_PER_PAGE * 10]:
            found = registry.latest(subject)
            rows.append({"subject": subject, "version": found.version, "id": found.id, "type": found.schema_type})
    rows.sort(key=lambda r: r["subject"])
    if search:
        rows = [r for r in rows if search.lower() in r["subject"].lower()]
    if kind:
        rows = [r for r in rows if r["type"] == kind]
    total = len(rows)
    shown = rows[(page - 1) * SUBJECTS_PER_PAGE: page * SUBJECTS_PER_PAGE]
    return render(request, "subjects.html", title="Subjects", rows=shown, total=total, search=search, kind=kind,
                  page=page, pages=max(1, -(-total // SUBJECTS_PER_PAGE)), types=LABELS)


# -- /subjects/{subject} ------------------------------------------------------------------
def subject(request: Request) -> Response:
    registry = console_of(request).resources(request).registry
    name = _subject(request)
    versions = registry.call(f"the versions of {name!r}", registry.client.get_versions, name)
    try:
        deleted = registry.call(f"the deleted versions of {name!r}", registry.client.get_versions, name, deleted_only=True)
    except RegistryError:
        deleted = []
    try:  # every version in one request (GET /schemas?subjectPrefix=...), newest first
        listed = _rest(registry, f"the schemas of {name!r}", "schemas", {"subjectPrefix": name})
        rows = [{"version": int(s["version"]), "id": s["id"], "type": s.get("schemaType", "AVRO"),
                 "references": len(s.get("references") or ())} for s in listed if s.get("subject") == name]
        rows.sort(key=lambda r: r["version"], reverse=True)
    except (RegistryError, KeyError, TypeError, ValueError):  # a registry without it: one request per version
        rows = []
        for version in list(reversed(versions))[:100]:
            found = fetch_version(registry, name, int(version))
            rows.append({"version": version, "id": found.id, "type": found.schema_type, "references": len(found.references)})
    from ..compat import LEVELS

    return render(request, "subject.html", title=name, subject=name, rows=rows, level=_level(registry, name), levels=LEVELS,
                  mode=_mode(registry, name), deleted=deleted, count=len(versions))


# -- /subjects/{subject}/versions/{version} -------------------------------------------------
def version(request: Request) -> Response:
    registry = console_of(request).resources(request).registry
    name = _subject(request)
    text = request.path_params["version"]
    if text != "latest":
        int_param(text, "version", minimum=1, maximum=2**31 - 1)
    found = fetch_version(registry, name, text)
    number = int(found.version or 0)
    try:
        ids = registry.call("schemas referencing it", registry.client.get_referenced_by, name, number)
    except RegistryError:
        ids = []
    referenced_by = []
    for schema_id in ids[:200]:
        try:
            where = _rest(registry, f"subjects of schema id {schema_id}", f"schemas/ids/{int(schema_id)}/versions")
        except RegistryError:
            where = []
        for item in where:
            referenced_by.append({"id": schema_id, "subject": item["subject"], "version": item["version"]})
    resolved: dict[str, str] = {}
    resolve_error = None
    try:
        resolved = registry.resolve_references(found.references)
    except SerdeError as exc:
        resolve_error = str(exc)
    derived = []
    from ..translate import derive

    for target, label in LABELS.items():
        if target == found.schema_type:
            continue
        try:
            text = derive(LANGUAGES[found.schema_type], found.text, LANGUAGES[target], references=resolved or None)
            derived.append({"label": label, "text": pretty(target, text), "error": None})
        except (SerdeError, ValueError, KeyError, NotImplementedError) as exc:
            derived.append({"label": label, "text": "", "error": str(exc)})
    versions = registry.call(f"the versions of {name!r}", registry.client.get_versions, name)
    return render(
        request, "version.html", title=f"{name} v{number}", subject=name, schema=found, number=number,
        text=pretty(found.schema_type, found.text), referenced_by=referenced_by, derived=derived,
        resolve_error=resolve_error, level=_level(registry, name), mode=_mode(registry, name),
        metadata=json.dumps(found.metadata, indent=2) if found.metadata else None,
        rules=json.dumps(found.rule_set, indent=2) if found.rule_set else None,
        versions=versions, label=LABELS.get(found.schema_type, found.schema_type),
    )


# -- /subjects/{subject}/diff ---------------------------------------------------------------
def side_by_side(old: str, new: str) -> list[dict[str, Any]]:
    """Rows of a side-by-side diff: (left number, left text, right number, right text, tag)."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[dict[str, Any]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                rows.append({"tag": "equal", "ln": i1 + k + 1, "left": a[i1 + k], "rn": j1 + k + 1, "right": b[j1 + k]})
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            left = a[i1 + k] if i1 + k < i2 else None
            right = b[j1 + k] if j1 + k < j2 else None
            rows.append({"tag": tag if left is not None and right is not None else ("delete" if right is None else "insert"),
                         "ln": i1 + k + 1 if left is not None else None, "left": left,
                         "rn": j1 + k + 1 if right is not None else None, "right": right})
    return rows


def diff(request: Request) -> Response:
    registry = console_of(request).resources(request).registry
    name = _subject(request)
    versions = registry.call(f"the versions of {name!r}", registry.client.get_versions, name)
    if not versions:
        raise SubjectNotFound(f"subject {name!r} has no versions")
    old_n = int_param(request.query_params.get("from"), "from", minimum=1, maximum=2**31 - 1) or (
        versions[-2] if len(versions) > 1 else versions[-1])
    new_n = int_param(request.query_params.get("to"), "to", minimum=1, maximum=2**31 - 1) or versions[-1]
    old, new = fetch_version(registry, name, old_n), fetch_version(registry, name, new_n)
    rows = side_by_side(pretty(old.schema_type, old.text), pretty(new.schema_type, new.text))
    verdict = None
    if old.schema_type == new.schema_type:
        from ..compat import check

        try:
            verdict = check(new.schema_type, _with_refs(registry, new), [_with_refs(registry, old)], "BACKWARD",
                            versions=[old_n])
        except SerdeError:
            verdict = None
    return render(request, "diff.html", title=f"{name}: v{old_n} → v{new_n}", subject=name, rows=rows, old=old_n,
                  new=new_n, versions=versions, verdict=verdict,
                  changed=sum(1 for r in rows if r["tag"] != "equal"))


def _with_refs(registry: Any, found: Any) -> Any:
    return (found.text, registry.resolve_references(found.references)) if found.references else found.text


# -- /subjects/{subject}/check ----------------------------------------------------------------
async def check_page(request: Request) -> Response:
    registry = await run_in_threadpool(lambda: console_of(request).resources(request).registry)
    name = _subject(request)
    from ..compat import LEVELS

    result = None
    draft = ""
    level = await run_in_threadpool(_level, registry, name)
    chosen = level
    if request.method == "POST":
        data = await form(request)
        draft = data.get("draft", "")
        if len(draft) > MAX_DRAFT:
            raise HttpError(413, f"the draft is over {MAX_DRAFT} characters")
        chosen = (data.get("level") or level).upper()
        if chosen not in LEVELS:
            raise HttpError(400, f"level must be one of {', '.join(LEVELS)}")
        if not draft.strip():
            result = {"error": "paste or upload a draft schema first"}
        else:
            result = await run_in_threadpool(_check, registry, name, draft, chosen)
    latest = await run_in_threadpool(fetch_version, registry, name, "latest")
    return render(request, "check.html", title=f"Check a draft against {name}", subject=name, levels=LEVELS,
                  level=level, chosen=chosen, draft=draft or pretty(latest.schema_type, latest.text), result=result,
                  label=LABELS.get(latest.schema_type, latest.schema_type))


def _check(registry: Any, name: str, draft: str, level: str) -> dict[str, Any]:
    from ..compat import check

    numbers = registry.call(f"the versions of {name!r}", registry.client.get_versions, name)[-MAX_VERSIONS:]
    previous = [fetch_version(registry, name, int(n)) for n in numbers]
    if not previous:
        return {"error": f"subject {name!r} has no versions"}
    latest = previous[-1]
    draft_input: Any = (draft, registry.resolve_references(latest.references)) if latest.references else draft
    try:
        verdict = check(latest.schema_type, draft_input, [_with_refs(registry, p) for p in previous], level, versions=numbers)
    except SerdeError as exc:
        return {"error": f"the draft is not a valid {LABELS.get(latest.schema_type, latest.schema_type)} schema: {exc}"}
    return {"compatible": verdict.compatible, "violations": verdict.violations, "level": level, "versions": numbers}


# -- /subjects/{subject}/register and /config ------------------------------------------------
async def register(request: Request) -> Response:
    """Register the draft as the subject's next version (the registry checks compatibility)."""
    refuse_if_read_only(request)
    name = _subject(request)
    data = await form(request)
    draft = data.get("draft", "")
    if not draft.strip() or len(draft) > MAX_DRAFT:
        raise HttpError(400, "paste or upload a draft of at most 1 MiB first")
    registry = await run_in_threadpool(lambda: console_of(request).resources(request).registry)

    def run() -> int:
        latest = fetch_version(registry, name, "latest")
        registry.register(name, latest.schema_type, draft, latest.references)
        return fetch_version(registry, name, "latest").version or 1

    number = await run_in_threadpool(run)
    return RedirectResponse(f"{base(request)}/subjects/{path_segment(name)}/versions/{number}", status_code=303)


async def set_level(request: Request) -> Response:
    """Set the subject's compatibility level (or, with "default", fall back to the global one)."""
    refuse_if_read_only(request)
    name = _subject(request)
    data = await form(request)
    from ..compat import LEVELS

    level = data.get("level", "").upper()
    if level not in (*LEVELS, "DEFAULT"):
        raise HttpError(400, f"level must be one of {', '.join(LEVELS)} or DEFAULT")
    registry = await run_in_threadpool(lambda: console_of(request).resources(request).registry)
    client = registry.client
    if level == "DEFAULT":
        await run_in_threadpool(registry.call, f"removing the level of {name!r}", client.delete_config, name)
    else:
        await run_in_threadpool(registry.call, f"setting the level of {name!r}", client.set_compatibility, name, level)
    return RedirectResponse(f"{base(request)}/subjects/{path_segment(name)}", status_code=303)


# -- /subjects/{subject}/delete ---------------------------------------------------------------
async def delete_page(request: Request) -> Response:
    name = _subject(request)
    if request.method == "GET":
        which = request.query_params.get("version", "all")
        if which != "all":
            int_param(which, "version", minimum=1, maximum=2**31 - 1)
        permanent = request.query_params.get("permanent") == "1"
        return render(request, "delete.html", title=f"Delete {name}", subject=name, which=which, permanent=permanent)
    refuse_if_read_only(request)
    data = await form(request)
    if data.get("confirm") != name:
        raise HttpError(400, "type the subject's name to confirm the delete")
    which = data.get("version", "all")
    permanent = data.get("permanent") == "1"
    registry = await run_in_threadpool(lambda: console_of(request).resources(request).registry)

    def run() -> None:
        client = registry.client
        if which == "all":
            try:
                registry.call(f"deleting subject {name!r}", client.delete_subject, name)
            except SubjectNotFound:
                if not permanent:
                    raise
            if permanent:  # the registry wants a soft delete first
                registry.call(f"deleting subject {name!r} permanently", client.delete_subject, name, True)
        else:
            number = int_param(which, "version", minimum=1, maximum=2**31 - 1)
            try:
                registry.call(f"deleting version {number} of {name!r}", client.delete_version, name, number)
            except RegistryError:
                if not permanent:
                    raise
            if permanent:
                registry.call(f"deleting version {number} of {name!r} permanently", client.delete_version, name, number, True)
        client.clear_caches() if hasattr(client, "clear_caches") else None

    await run_in_threadpool(run)
    target = f"{base(request)}/subjects" if which == "all" else f"{base(request)}/subjects/{path_segment(name)}"
    try:
        await run_in_threadpool(registry.call, "", registry.client.get_versions, name)
    except SerdeError:
        target = f"{base(request)}/subjects"
    return RedirectResponse(target, status_code=303)


def routes() -> list[Route]:
    return [
        Route("/subjects", subjects),
        Route("/subjects/{subject:path}/versions/{version}", version),
        Route("/subjects/{subject:path}/diff", diff),
        Route("/subjects/{subject:path}/check", check_page, methods=["GET", "POST"]),
        Route("/subjects/{subject:path}/delete", delete_page, methods=["GET", "POST"]),
        Route("/subjects/{subject:path}/register", register, methods=["POST"]),
        Route("/subjects/{subject:path}/config", set_level, methods=["POST"]),
        Route("/subjects/{subject:path}", subject),
    ]
