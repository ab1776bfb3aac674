"""Trying a rule set on sample records before registering it: what each rule did to
each record (``serde schema rules test``)."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from .._errors import SerdeError
from .._types import RegisteredSchema, SchemaSource
from ._engine import Contract, Rules


@dataclass
class TrialRecord:
    """One sample record: what went in, what came out (None when a rule refused it),
    each rule's outcome (``rule``, ``type``, ``kind``, ``mode``, ``outcome`` = passed,
    failed, changed, unchanged or skipped, ``detail``, ``changes``), and the error that
    stopped it."""

    index: int
    record: Any
    result: Any = None
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def try_rules(
    schema_type: str,
    schema: str,
    rule_set: Mapping[str, Any],
    records: Iterable[Any],
    *,
    metadata: Mapping[str, Any] | None = None,
    references: Mapping[str, str] | None = None,
    operation: str = "WRITE",
    registry: Any = None,
    rule_conf: Mapping[str, Any] | None = None,
    subject: str = "trial-value",
    prepare: Callable[[Any], Any] | None = None,
) -> list[TrialRecord]:
    """Run ``rule_set`` on each record as a serializer (``WRITE``: domain rules, the
    encoding, encoding rules) or a deserializer (``READ``: domain rules) would, with
    ``schema`` as the schema they belong to. ``registry`` is only needed by rules that
    keep keys there (ENCRYPT). ``prepare`` turns each sample into the schema's Python
    types first (``serde produce``'s coercion: ISO text to timestamps, base64 to bytes)."""
    from ..formats import get_format
    from ..registry.client import open_registry

    operation = operation.upper()
    if operation not in ("WRITE", "READ"):
        raise SerdeError(f"operation must be WRITE or READ, not {operation!r}")
    fmt = get_format({"AVRO": "avro", "JSON": "json", "PROTOBUF": "protobuf"}[schema_type.upper()])
    parsed = fmt.parse_schema(SchemaSource(schema, dict(references or {})))
    target = RegisteredSchema(0, schema_type.upper(), schema, metadata=metadata, rule_set=rule_set)
    rules = Rules(open_registry(registry) if registry is not None else None, rule_conf=rule_conf)
    contract = Contract(rules, target, parsed, subject=subject, topic=subject.rsplit("-", 1)[0], is_key=False)
    encode = fmt.encoder(parsed) if operation == "WRITE" else None
    out: list[TrialRecord] = []
    for index, record in enumerate(records):
        trial = TrialRecord(index, copy.deepcopy(record))
        rules.trace = trial.outcomes
        try:
            if prepare is not None:
                record = prepare(record)
            value = contract.run(operation, "domainRules", record)
            if encode is not None:
                payload = encode(value)
                contract.run(operation, "encodingRules", payload)
            trial.result = value
        except SerdeError as exc:
            trial.error = str(exc)
        out.append(trial)
    rules.trace = None
    rules.close()
    return out
