"""Data contracts: the ``metadata`` and ``ruleSet`` a registry stores with a schema, and
the rules they carry, run as confluent-kafka runs them.

Serializers and deserializers run a schema's rules by themselves (domain rules on the
record, encoding rules on the payload, migrations between versions); this package is
what they call. Executors are found by rule type (CEL, CEL_FIELD, JSONATA, ENCRYPT,
ENCRYPT_PAYLOAD are serde's own; plug-ins use the ``serde.rules`` entry point group) and
see one small interface: :class:`RuleExecutor` or :class:`FieldRuleExecutor`.
"""
from ._engine import Contract, RuleOverride, Rules, has_rules
from ._executor import FieldContext, FieldRuleExecutor, RuleContext, RuleExecutor
from ._rules import READ_MODES, WRITE_MODES, describe_rule

__all__ = [
    "Contract",
    "FieldContext",
    "FieldRuleExecutor",
    "READ_MODES",
    "RuleContext",
    "RuleExecutor",
    "RuleOverride",
    "Rules",
    "WRITE_MODES",
    "describe_rule",
    "has_rules",
]
