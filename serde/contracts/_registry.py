"""Rule executors by rule type, found lazily: serde's own, then plug-ins.

Nothing is imported until a schema carrying a rule of that type is used, so CEL,
JSONata and the KMS SDKs cost nothing to users without rules. Plug-ins register an
executor class under the entry point group ``serde.rules`` (name = rule type).
"""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from .._errors import RuleError

# rule type -> ("module:class", the pip extra that brings its dependencies)
BUILTIN: dict[str, tuple[str, str]] = {
    "CEL": ("serde.contracts.cel:CelExecutor", "rules"),
    "CEL_FIELD": ("serde.contracts.cel:CelFieldExecutor", "rules"),
    "JSONATA": ("serde.contracts.jsonata:JsonataExecutor", "rules"),
    "ENCRYPT": ("serde.contracts.encryption:FieldEncryptionExecutor", "rules"),
    "ENCRYPT_PAYLOAD": ("serde.contracts.encryption:PayloadEncryptionExecutor", "rules"),
}
ENTRY_POINT_GROUP = "serde.rules"


def load_executor(rule_type: str) -> Any:
    """A new executor for ``rule_type``, or None when nobody provides one. A missing
    dependency of a built-in executor is a RuleError naming the pip extra."""
    spec = BUILTIN.get(rule_type)
    if spec is not None:
        target, extra = spec
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise RuleError(
                f"rule type {rule_type} needs {exc.name or 'a missing module'}: pip install 'serde-kafka[{extra}]'",
                rule_type=rule_type,
            ) from exc
        return getattr(module, attr)()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name.upper() == rule_type:
            return ep.load()()
    return None
