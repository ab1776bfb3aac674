"""What a rule executor sees and implements: the one small interface between serde's
serializers (and the gateway) and the code that runs a data-contract rule.

An executor runs one rule ``type`` (CEL, CEL_FIELD, JSONATA, ENCRYPT, ...). Message
executors get the whole record (domain and migration rules) or the encoded payload
(encoding rules); field executors get each leaf field the rule applies to, with its
name, type and tags, and the engine does the walk, so no executor knows a format.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

if TYPE_CHECKING:
    from .._types import RegisteredSchema
    from ..formats import ParsedSchema
    from ..registry.client import Registry

# Confluent's FieldType names, as CEL_FIELD's ``typeName`` shows them
FIELD_TYPES = frozenset({"RECORD", "ENUM", "ARRAY", "MAP", "COMBINED", "FIXED", "STRING", "BYTES",
                         "INT", "LONG", "FLOAT", "DOUBLE", "BOOLEAN", "NULL"})


@dataclass(slots=True)
class FieldContext:
    """One leaf field during a field rule's walk.

    ``full_name`` is Confluent's: ``<record full name>.<field>`` in Avro, ``$.a.b`` in JSON
    Schema, ``pkg.Message.field`` in Protobuf. ``type_name`` is one of FIELD_TYPES.
    ``tags`` are the field's inline tags and those of every ``metadata.tags`` pattern its
    full name matches. ``message`` is the record (dict) or message holding the field."""

    full_name: str
    name: str
    type_name: str
    tags: frozenset[str]
    message: Any = None


@dataclass(slots=True)
class RuleContext:
    """One rule about to run on one record.

    ``mode`` is the operation: WRITE, READ, UPGRADE or DOWNGRADE (never WRITEREAD or
    UPDOWN, which are rule modes). ``target`` is the schema the rule belongs to and runs
    against (the writer's for encoding rules on read; the newer version for migrations);
    ``source`` the other side of a migration. ``rule_conf`` is the serializer's
    ``rule_conf`` option (KMS secrets, credentials), never logged."""

    rule: Mapping[str, Any]
    mode: str
    subject: str
    topic: str
    is_key: bool
    target: "RegisteredSchema"
    source: "RegisteredSchema | None" = None
    target_parsed: "ParsedSchema | None" = None
    registry: "Registry | None" = None
    rule_conf: Mapping[str, str] = field(default_factory=dict)
    headers: Any = None

    @property
    def name(self) -> str:
        return str(self.rule.get("name") or "")

    @property
    def rule_type(self) -> str:
        return str(self.rule.get("type") or "").upper()

    def parameter(self, name: str) -> str | None:
        """A rule parameter: the rule's ``params``, else the target schema's metadata
        properties (so one property can configure every rule of a schema)."""
        params = self.rule.get("params")
        if isinstance(params, Mapping) and name in params:
            return str(params[name])
        metadata = self.target.metadata if self.target is not None else None
        properties = metadata.get("properties") if isinstance(metadata, Mapping) else None
        if isinstance(properties, Mapping) and name in properties:
            return str(properties[name])
        return None


class RuleExecutor(ABC):
    """Runs rules of one ``type`` on a whole record (domain and migration rules) or on
    an encoded payload (encoding rules, given ``bytes``).

    A CONDITION returns a truth value; a TRANSFORM returns the new record or payload.
    Raise :class:`serde.RuleError` with a reason on failure (the engine adds the rule's
    name and runs its onFailure action). One instance serves one serializer or
    deserializer, so it may cache (compiled expressions, keys)."""

    type: ClassVar[str]

    def configure(self, registry: "Registry | None", rule_conf: Mapping[str, str]) -> None:
        """Called once before the first rule runs; keep what the executor needs."""

    @abstractmethod
    def transform(self, ctx: RuleContext, message: Any) -> Any:
        ...

    def close(self) -> None:
        """Release clients and caches."""


class FieldRuleExecutor(RuleExecutor):
    """Runs a rule on each leaf field it applies to (every leaf when the rule names no
    tags, else the fields with one of its tags). The engine walks the record; the
    executor only says what happens at a leaf."""

    @abstractmethod
    def new_transform(self, ctx: RuleContext) -> Callable[[FieldContext, Any], Any]:
        """A function (field, value) -> new value for one record (one rule application):
        set up per-record state here (e.g. fetch a key once, not per field). For a
        CONDITION the function returns a truth value; ``False`` fails the rule."""

    def transform(self, ctx: RuleContext, message: Any) -> Any:  # pragma: no cover - the engine walks
        raise NotImplementedError("field rules are run by the engine's field walk")
