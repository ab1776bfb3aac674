"""Which of a schema's data-contract rules apply to a read or a write.

A rule (Confluent's ``Rule``) has a ``name``, a ``kind`` (CONDITION, TRANSFORM), a
``mode``, a ``type`` (CEL, CEL_FIELD, JSONATA, ENCRYPT, …) and may be ``disabled``.
Domain and encoding rules run when their mode covers the operation (WRITEREAD covers
both); migration rules (UPGRADE, DOWNGRADE, UPDOWN) run only between two versions of a
subject, when a reader reads with another version than the writer's.
"""
from __future__ import annotations

from typing import Any, Mapping

WRITE_MODES = frozenset({"WRITE", "WRITEREAD"})
READ_MODES = frozenset({"READ", "WRITEREAD"})
MIGRATION_MODES = frozenset({"UPGRADE", "DOWNGRADE", "UPDOWN"})


def describe_rule(rule: Mapping[str, Any]) -> str:
    """``rule 'encryptSsn' (type ENCRYPT, kind TRANSFORM, mode WRITEREAD, on tags PII)``."""
    parts = [f"type {rule.get('type', '?')}", f"kind {rule.get('kind', 'TRANSFORM')}", f"mode {rule.get('mode', 'WRITEREAD')}"]
    tags = rule.get("tags")
    if tags:
        parts.append(f"on tags {', '.join(str(t) for t in tags)}")
    return f"rule {rule.get('name', '?')!r} ({', '.join(parts)})"
