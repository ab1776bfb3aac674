"""Data types of the compatibility checker: rules, the changes a diff finds, violations, results.

Violations are data, not exceptions: the CLI and the registry decide how to surface them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Change", "CompatResult", "Rule", "Violation"]


@dataclass(frozen=True)
class Rule:
    """One kind of schema change with a stable ID.

    ``compatible`` is Confluent's STRICT verdict on that change; ``lenient`` the verdict under
    the LENIENT policy (JSON Schema only; equal to ``compatible`` elsewhere). ``describe`` is a
    message template; ``{name}`` is replaced by the last segment of the change's path.
    ``replaced_by`` marks a retired ID that is kept so old configs still resolve.
    """

    id: str
    schema_type: str
    purpose: str
    compatible: bool
    describe: str
    lenient: bool | None = None
    replaced_by: str | None = None

    def allowed(self, policy: str = "STRICT") -> bool:
        if policy == "LENIENT" and self.lenient is not None:
            return self.lenient
        return self.compatible


@dataclass(frozen=True)
class Change:
    """What a diff walk found: a rule ID at a location in the new and the old schema."""

    rule_id: str
    path: str
    old_path: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Violation:
    """An incompatible change, with where it is and which previous version it breaks.

    ``new_path``/``old_path`` locate it in the candidate and in the previous schema (JSON
    pointer, Avro pointer or ``Message/tag``); ``old_version`` is the previous schema's
    version (1-based position in ``previous`` unless versions were given); ``direction`` is
    ``BACKWARD`` (new reads old data) or ``FORWARD`` (old reads new data).
    """

    rule_id: str
    message: str
    new_path: str
    old_path: str
    old_version: int | None
    direction: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class CompatResult:
    """The verdict of ``check``: ``messages`` has one readable line per violation."""

    compatible: bool
    messages: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
