"""Offline schema compatibility checks with Confluent Schema Registry's verdicts.

    from serde.compat import check
    result = check("JSON", new_text, [v1_text, v2_text], level="BACKWARD_TRANSITIVE")
    result.compatible, result.messages
"""
# The rule modules live in the subpackage ``serde.compat.rules``; importing it first means
# its later submodule imports no longer rebind ``serde.compat.rules``, so the name stays
# the ``rules()`` listing function below.
import serde.compat.rules as _rule_modules  # noqa: F401  (must precede the next import)
from serde.compat._engine import LEVELS, check, rules
from serde.compat._types import CompatResult, Rule, Violation

__all__ = ["CompatResult", "LEVELS", "Rule", "Violation", "check", "rules"]

for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and not isinstance(_obj, tuple):
        try:
            _obj.__module__ = "serde.compat"
        except (AttributeError, TypeError):
            pass
del _name, _obj
