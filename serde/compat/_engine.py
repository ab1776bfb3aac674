"""Levels, directions and the walk over previous versions; the rule modules do the diffing.

Directions follow Confluent: BACKWARD means the new schema reads data written with a
previous one (new is the reader), FORWARD the reverse, FULL both (forward findings first).
Non-transitive levels check the latest previous version only; transitive ones check all.
Unlike the registry, which stops at the first failing version, every failing version is
reported, so a CI run shows everything that needs fixing at once.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from types import MappingProxyType, ModuleType
from typing import Union

from serde._errors import ConfigError, SchemaParseError
from serde.compat._types import Change, CompatResult, Rule, Violation

__all__ = ["LEVELS", "POLICIES", "SCHEMA_TYPES", "SchemaInput", "check", "rules"]

LEVELS: tuple[str, ...] = (
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
)
POLICIES: tuple[str, ...] = ("STRICT", "LENIENT")

# schema type → module holding its RULES, parse() and changes(); imported on first use
_RULE_MODULES = MappingProxyType({
    "AVRO": "serde.compat.rules.avro",
    "JSON": "serde.compat.rules.jsonschema",
    "PROTOBUF": "serde.compat.rules.protobuf",
})
SCHEMA_TYPES: tuple[str, ...] = tuple(_RULE_MODULES)
_TYPE_ALIASES = {"JSONSCHEMA": "JSON", "JSON_SCHEMA": "JSON", "PROTO": "PROTOBUF"}

SchemaInput = Union[str, tuple[str, Mapping[str, str]]]


def normalise_schema_type(schema_type: str) -> str:
    name = str(schema_type).strip().upper()
    name = _TYPE_ALIASES.get(name, name)
    if name not in _RULE_MODULES:
        raise ConfigError(
            f"unknown schema type {schema_type!r}; expected one of {', '.join(SCHEMA_TYPES)}")
    return name


def normalise_level(level: str) -> str:
    name = str(level).strip().upper()
    if name not in LEVELS:
        raise ConfigError(f"unknown compatibility level {level!r}; expected one of {', '.join(LEVELS)}")
    return name


def _module(schema_type: str) -> ModuleType:
    return importlib.import_module(_RULE_MODULES[schema_type])


def rules(schema_type: str | None = None) -> list[Rule]:
    """Every rule (optionally of one schema type), sorted by schema type then ID."""
    types = [normalise_schema_type(schema_type)] if schema_type else list(SCHEMA_TYPES)
    found = [rule for t in types for rule in _module(t).RULES]
    return sorted(found, key=lambda r: (r.schema_type, r.id))


def _split(schema: SchemaInput) -> tuple[str, Mapping[str, str]]:
    if isinstance(schema, str):
        return schema, {}
    if isinstance(schema, tuple) and len(schema) == 2 and isinstance(schema[0], str):
        return schema[0], dict(schema[1] or {})
    raise ConfigError("a schema is its text or a (text, references) pair")


def parse(schema_type: str, schema: SchemaInput, what: str = "schema") -> object:
    """Parse one schema of ``schema_type``; a ``SchemaParseError`` names ``what`` it was."""
    text, references = _split(schema)
    try:
        return _module(normalise_schema_type(schema_type)).parse(text, references)
    except SchemaParseError as exc:
        exc.location = f"{what}: {exc.location}" if exc.location else what
        raise


def check(
    schema_type: str,
    new: SchemaInput,
    previous: Sequence[SchemaInput],
    level: str = "BACKWARD",
    *,
    policy: str = "STRICT",
    versions: Sequence[int] | None = None,
) -> CompatResult:
    """Check ``new`` against ``previous`` (oldest first) at a Confluent compatibility level.

    Each schema is its text or a ``(text, references)`` pair, references mapping an import
    name to its text. ``policy`` is ``STRICT`` (default) or ``LENIENT`` (JSON Schema only).
    ``versions`` gives the registry version of each previous schema (default 1, 2, ...).
    An invalid schema raises ``SchemaParseError``; it is never reported as incompatible.
    """
    schema_type = normalise_schema_type(schema_type)
    level = normalise_level(level)
    policy = str(policy).strip().upper()
    if policy not in POLICIES:
        raise ConfigError(f"unknown compatibility policy {policy!r}; expected STRICT or LENIENT")
    previous = list(previous)
    numbers = list(versions) if versions is not None else list(range(1, len(previous) + 1))
    if len(numbers) != len(previous):
        raise ConfigError("versions must give one number per previous schema")
    module = _module(schema_type)
    rule_table = {rule.id: rule for rule in module.RULES}

    parsed_new = parse(schema_type, new, "new schema")
    if level == "NONE" or not previous:
        return CompatResult(True, [], [])
    pairs = list(zip(numbers, previous))
    if not level.endswith("_TRANSITIVE"):
        pairs = pairs[-1:]
    directions = {"BACKWARD": ("BACKWARD",), "FORWARD": ("FORWARD",),
                  "FULL": ("FORWARD", "BACKWARD")}[level.split("_")[0]]

    violations: list[Violation] = []
    for version, schema in reversed(pairs):  # newest first, as the registry walks them
        parsed_old = parse(schema_type, schema, f"previous version {version}")
        for direction in directions:
            for change in module.changes(parsed_new, parsed_old, direction, policy=policy):
                rule = rule_table[change.rule_id]
                if not rule.allowed(policy):
                    violations.append(_violation(rule, change, version, direction))
    return CompatResult(not violations, [v.message for v in violations], violations)


def _violation(rule: Rule, change: Change, version: int, direction: str) -> Violation:
    leaf = change.path.rstrip("/").rsplit("/", 1)[-1]
    text = rule.describe.replace("{name}", leaf)
    if change.detail:
        text = f"{text}: {change.detail}"
    where = f"old version {version}" if direction == "BACKWARD" else \
        f"old version {version} cannot read data written with the new schema"
    message = f"{rule.id} {change.path}: {text} ({where})"
    return Violation(
        rule_id=rule.id,
        message=message,
        new_path=change.path,
        old_path=change.old_path or change.path,
        old_version=version,
        direction=direction,
    )
