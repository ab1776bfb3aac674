"""Shared helpers: the rule IDs a diff emits, and the verdict check() gives."""
from __future__ import annotations

import json

from serde.compat import check
from serde.compat._engine import parse


def emitted(schema_type: str, old, new, direction: str = "BACKWARD", policy: str = "STRICT") -> list[str]:
    """Rule IDs of every change (compatible or not) between ``old`` and ``new``."""
    from serde.compat._engine import _module, normalise_schema_type

    module = _module(normalise_schema_type(schema_type))
    return [c.rule_id for c in module.changes(parse(schema_type, new), parse(schema_type, old),
                                              direction, policy=policy)]


def js(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


__all__ = ["check", "emitted", "js"]
