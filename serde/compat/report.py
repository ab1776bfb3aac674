"""Printers for compatibility reports: text, json, junit and github (Actions annotations).

Each printer takes the per-subject reports of one run and returns the whole output as a
string, so the CLI only chooses one by name (``PRINTERS``) and writes it.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from types import MappingProxyType
from xml.sax.saxutils import escape, quoteattr

from serde.compat._sources import SubjectReport

__all__ = ["PRINTERS", "render"]


def _summary(reports: Sequence[SubjectReport]) -> str:
    counts: dict[str, int] = {}
    for r in reports:
        counts[r.status] = counts.get(r.status, 0) + 1
    parts = [f"{n} {status}" for status, n in sorted(counts.items())]
    return f"{len(reports)} subject(s): " + (", ".join(parts) if parts else "nothing to check")


def text(reports: Sequence[SubjectReport]) -> str:
    lines = []
    for r in reports:
        checked = f"against version(s) {', '.join(map(str, r.versions))}" if r.versions else ""
        head = f"{r.status.upper():<12} {r.subject} ({r.schema_type}, {r.level}{', ' + checked if checked else ''})"
        lines.append(head)
        if r.note:
            lines.append(f"    {r.note}")
        for message in r.messages:
            lines.append(f"    {message}")
    lines.append(_summary(reports))
    return "\n".join(lines) + "\n"


def as_json(reports: Sequence[SubjectReport]) -> str:
    payload = {
        "compatible": all(r.status in ("compatible", "new") for r in reports),
        "subjects": [
            {
                "subject": r.subject,
                "file": r.file,
                "schema_type": r.schema_type,
                "level": r.level,
                "status": r.status,
                "versions_checked": r.versions,
                "note": r.note or None,
                "error": r.error,
                "messages": r.messages,
                "violations": [
                    {
                        "rule_id": v.rule_id,
                        "message": v.message,
                        "new_path": v.new_path,
                        "old_path": v.old_path,
                        "old_version": v.old_version,
                        "direction": v.direction,
                    }
                    for v in (r.result.violations if r.result else [])
                ],
            }
            for r in reports
        ],
    }
    return json.dumps(payload, indent=2) + "\n"


def junit(reports: Sequence[SubjectReport]) -> str:
    failures = sum(r.status == "incompatible" for r in reports)
    errors = sum(r.status == "invalid" for r in reports)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="serde compat" tests="{len(reports)}" failures="{failures}" errors="{errors}">',
        f'  <testsuite name="serde compat" tests="{len(reports)}" failures="{failures}" errors="{errors}">',
    ]
    for r in reports:
        name = quoteattr(f"{r.subject} ({r.level})")
        classname = quoteattr(r.file or r.subject)
        body = escape("\n".join(r.messages))
        if r.status == "incompatible":
            out.append(f"    <testcase name={name} classname={classname}>")
            out.append(f'      <failure message="incompatible" type="IncompatibleSchema">{body}</failure>')
            out.append("    </testcase>")
        elif r.status == "invalid":
            out.append(f"    <testcase name={name} classname={classname}>")
            out.append(f'      <error message="invalid schema" type="SchemaParseError">{body}</error>')
            out.append("    </testcase>")
        else:
            out.append(f"    <testcase name={name} classname={classname}/>")
    out += ["  </testsuite>", "</testsuites>"]
    return "\n".join(out) + "\n"


def _gh_escape(value: str, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github(reports: Sequence[SubjectReport]) -> str:
    """GitHub Actions workflow commands: one ``::error`` annotation per finding."""
    out = []
    for r in reports:
        file_part = f"file={_gh_escape(r.file, True)}," if r.file else ""
        if r.status in ("incompatible", "invalid"):
            title = f"{'Incompatible' if r.status == 'incompatible' else 'Invalid'} schema {r.subject}"
            locations = getattr(r, "locations", None) or []
            for index, message in enumerate(r.messages):
                where = locations[index] if index < len(locations) else None
                place = f"line={where[0]},col={where[1]}," if where and file_part else (
                    "line=1," if file_part else "")
                out.append(f"::error {file_part}{place}title={_gh_escape(title, True)}::{_gh_escape(message)}")
        elif r.status == "new":
            place = "line=1," if file_part else ""
            out.append(f"::notice {file_part}{place}title={_gh_escape('New subject ' + r.subject, True)}::{_gh_escape(r.note)}")
    out.append(_summary(reports))
    return "\n".join(out) + "\n"


PRINTERS: MappingProxyType[str, Callable[[Sequence[SubjectReport]], str]] = MappingProxyType({
    "github": github,
    "json": as_json,
    "junit": junit,
    "text": text,
})


def render(reports: Sequence[SubjectReport], fmt: str = "text") -> str:
    return PRINTERS[fmt](reports)
