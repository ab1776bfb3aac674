"""Data contracts: the ``metadata`` and ``ruleSet`` a registry stores with a schema.

serde does not execute rules yet. What it does already is refuse to write or read with a
schema whose rules it would skip: an ENCRYPT rule ignored is a PII field written in
plaintext, a CEL condition ignored is a bad record let through. :func:`unexecuted_rule`
finds the rule that would be skipped, so serializers can say which one.
"""
from ._rules import READ_MODES, WRITE_MODES, describe_rule, unexecuted_rule

__all__ = ["READ_MODES", "WRITE_MODES", "describe_rule", "unexecuted_rule"]
