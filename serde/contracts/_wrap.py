"""Rules around a codec: what serializers and deserializers put around their encoders
and decoders when a schema carries rules (and only then, so plain schemas keep the
plain path).

Write: domain rules on the record, encode, encoding rules on the payload.
Read: encoding rules on the payload (the writer schema's, in reverse), decode, then the
migrations from the writer's version to the reader's, then the reader's domain rules
in reverse.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ._engine import Contract, Rules, has_rules

if TYPE_CHECKING:
    from .._types import RegisteredSchema
    from ..formats import ParsedSchema
    from ..registry.client import Registry


def has_write_rules(registered: "RegisteredSchema") -> bool:
    return has_rules(registered.rule_set, "WRITE") or has_rules(registered.rule_set, "WRITE", "encodingRules")


def has_read_rules(registered: "RegisteredSchema") -> bool:
    return has_rules(registered.rule_set, "READ") or has_rules(registered.rule_set, "READ", "encodingRules")


def writing(rules: Rules, registered: "RegisteredSchema", parsed: "ParsedSchema", encode: Callable[[Any], bytes], *,
            subject: str, topic: str, is_key: bool, to_dict: Callable[[Any], Any] | None = None) -> Callable[[Any], bytes]:
    """``encode`` with the schema's WRITE rules around it."""
    contract = Contract(rules, registered, parsed, subject=subject, topic=topic, is_key=is_key)
    domain = has_rules(registered.rule_set, "WRITE")
    encoding = has_rules(registered.rule_set, "WRITE", "encodingRules")

    def encode_with_rules(obj: Any) -> bytes:
        if to_dict is not None and not isinstance(obj, dict):
            obj = to_dict(obj)
        if domain:
            obj = contract.run("WRITE", "domainRules", obj)
        payload = encode(obj)
        if encoding:
            payload = contract.run("WRITE", "encodingRules", payload)
        return payload

    return encode_with_rules


@dataclass(frozen=True, slots=True)
class Migration:
    """One step between two versions: ``mode`` UPGRADE or DOWNGRADE, the version whose
    migration rules run (always the newer one) and the other side."""

    mode: str
    source: "RegisteredSchema"
    target: "RegisteredSchema"
    owner: "RegisteredSchema"


def migrations(registry: "Registry", subject: str, writer: "RegisteredSchema", reader: "RegisteredSchema") -> list[Migration]:
    """The steps from the writer's version of ``subject`` to the reader's, as
    confluent-kafka computes them: each version in between whose rule set has migration
    rules for the direction adds a step; downgrades run newest first."""
    writer_version, reader_version = _version_of(registry, subject, writer), int(reader.version or 0)
    if not writer_version or not reader_version or writer_version == reader_version:
        return []
    mode = "UPGRADE" if writer_version < reader_version else "DOWNGRADE"
    low, high = sorted((writer_version, reader_version))
    versions: list["RegisteredSchema"] = []
    for number in range(low, high + 1):
        if number == writer_version:
            versions.append(_with_version(writer, number))
        elif number == reader_version:
            versions.append(reader)
        else:
            versions.append(registry.version(subject, number))
    steps: list[Migration] = []
    for previous, current in zip(versions, versions[1:]):
        if has_rules(current.rule_set, mode, "migrationRules"):
            if mode == "UPGRADE":
                steps.append(Migration(mode, previous, current, current))
            else:
                steps.append(Migration(mode, current, previous, current))
    if mode == "DOWNGRADE":
        steps.reverse()
    return steps


def _version_of(registry: "Registry", subject: str, schema: "RegisteredSchema") -> int:
    """The version of ``subject`` that holds ``schema`` (by id, so metadata and rule sets
    need not compare equal), newest first; 0 when none does."""
    if schema.version and schema.subject == subject:
        return int(schema.version)
    numbers = registry.call(f"listing the versions of subject {subject!r}", registry.client.get_versions, subject)
    for number in sorted(numbers, reverse=True):
        if registry.version(subject, number).id == schema.id:
            return int(number)
    return 0


def _with_version(schema: "RegisteredSchema", version: int) -> "RegisteredSchema":
    from dataclasses import replace

    return schema if schema.version == version else replace(schema, version=version)


def reading(rules: Rules, writer: "RegisteredSchema", writer_parsed: "ParsedSchema", decode: Callable[[bytes], Any], *,
            target: "RegisteredSchema", target_parsed: "ParsedSchema | None", steps: list[Migration],
            subject: str, topic: str, is_key: bool,
            from_dict: Callable[[Any], Any] | None = None) -> Callable[..., Any]:
    """``decode`` with the rules around it. ``target`` is the schema whose domain rules
    run (the latest version with use_latest_version, else the writer's); ``steps`` the
    migrations to run between decoding (with the writer schema alone) and those."""
    encoding = has_rules(writer.rule_set, "READ", "encodingRules")
    domain = has_rules(target.rule_set, "READ")
    writer_contract = Contract(rules, writer, writer_parsed, subject=subject, topic=topic, is_key=is_key)
    contract = Contract(rules, target, target_parsed, subject=subject, topic=topic, is_key=is_key)
    step_contracts = [(step, Contract(rules, step.target, None, subject=subject, topic=topic, is_key=is_key))
                      for step in steps]

    def decode_with_rules(payload: bytes, headers: Any = None) -> Any:
        if encoding:
            payload = writer_contract.run("READ", "encodingRules", payload, headers=headers)
        value = decode(payload)
        for step, step_contract in step_contracts:
            value = step_contract.run(step.mode, "migrationRules", value, headers=headers, source=step.source,
                                      rule_set_of=step.owner)
        if domain:
            value = contract.run("READ", "domainRules", value, headers=headers)
        return from_dict(value) if from_dict is not None else value

    decode_with_rules.takes_headers = True  # type: ignore[attr-defined]
    return decode_with_rules
