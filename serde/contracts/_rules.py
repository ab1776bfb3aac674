"""Which of a schema's data-contract rules apply to a read or a write.

A rule (Confluent's ``Rule``) has a ``name``, a ``kind`` (CONDITION, TRANSFORM), a
``mode``, a ``type`` (CEL, CEL_FIELD, JSONATA, ENCRYPT, …) and may be ``disabled``.
Domain and encoding rules run when their mode covers the operation (WRITEREAD covers
both); migration rules (UPGRADE, DOWNGRADE, UPDOWN) run only between two versions of a
subject, when a reader reads with another version than the writer's.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

WRITE_MODES = frozenset({"WRITE", "WRITEREAD"})
READ_MODES = frozenset({"READ", "WRITEREAD"})
MIGRATION_MODES = frozenset({"UPGRADE", "DOWNGRADE", "UPDOWN"})


def _rules(rule_set: Mapping[str, Any] | None, kinds: Iterable[str]) -> Iterable[Mapping[str, Any]]:
    if not isinstance(rule_set, Mapping):
        return
    for kind in kinds:
        for rule in rule_set.get(kind) or ():
            if isinstance(rule, Mapping) and not rule.get("disabled"):
                yield rule


def unexecuted_rule(
    rule_set: Mapping[str, Any] | None, modes: frozenset[str], *, migrating: bool = False
) -> Mapping[str, Any] | None:
    """The first enabled rule of ``rule_set`` that an operation in ``modes`` would have to
    run (domain and encoding rules whose mode is in ``modes``; with ``migrating``, every
    migration rule too), or None when there is none. A rule set enabled only elsewhere
    (``enableAt`` NONE, GATEWAY or SERVER) is not for clients to run."""
    if isinstance(rule_set, Mapping) and str(rule_set.get("enableAt") or "ALL").upper() not in ("ALL", "CLIENT"):
        return None
    for rule in _rules(rule_set, ("domainRules", "encodingRules")):
        if str(rule.get("mode", "WRITEREAD")).upper() in modes:
            return rule
    if migrating:
        for rule in _rules(rule_set, ("migrationRules",)):
            if str(rule.get("mode", "UPGRADE")).upper() in MIGRATION_MODES:
                return rule
    return None


def describe_rule(rule: Mapping[str, Any]) -> str:
    """``rule 'encryptSsn' (type ENCRYPT, kind TRANSFORM, mode WRITEREAD, on tags PII)``."""
    parts = [f"type {rule.get('type', '?')}", f"kind {rule.get('kind', 'TRANSFORM')}", f"mode {rule.get('mode', 'WRITEREAD')}"]
    tags = rule.get("tags")
    if tags:
        parts.append(f"on tags {', '.join(str(t) for t in tags)}")
    return f"rule {rule.get('name', '?')!r} ({', '.join(parts)})"
