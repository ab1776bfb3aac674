"""JSONATA rules: migrations (UPGRADE, DOWNGRADE) and transforms with JSONata
expressions, evaluated by ``jsonata-python`` on the record as a dict.

Each evaluation is bounded in time as Java's executor bounds it (``jsonata.timeout.ms``,
default 60 s, a rule parameter or ``rule_conf`` key), checked every 256 evaluation steps
(jsonata-python's own Timebox, which checks every step and tracks depth, costs a third of
a simple migration); runaway recursion ends in Python's recursion limit, also an error.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Mapping

import jsonata

from .._errors import RuleError
from ._executor import RuleContext, RuleExecutor

MAX_EXPRESSION = 64 * 1024


def _re2_engine() -> Any:
    """Regex literals compiled by RE2 (google-re2), which runs in linear time: a pattern
    such as ``/(a+)+$/`` would keep Python's ``re`` busy inside one evaluation step, where
    no time bound can stop it. None when google-re2 is not installed."""
    try:
        import re2
    except ImportError:
        return None

    def compile_re2(pattern: str, flags: Any) -> Any:
        inline = ("i" if flags.case_insensitive else "") + ("m" if flags.multiline else "")
        try:
            return re2.compile(f"(?{inline}){pattern}" if inline else pattern)
        except re2.error as exc:
            raise RuleError(f"JSONata regex not supported by RE2 (no backreferences or lookaround): {exc}") from None

    return compile_re2


class JsonataExecutor(RuleExecutor):
    type = "JSONATA"

    def __init__(self) -> None:
        self._compiled: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._conf: Mapping[str, Any] = {}

    def configure(self, registry: Any, rule_conf: Mapping[str, Any]) -> None:
        self._conf = rule_conf

    def _expression(self, text: str) -> Any:
        found = self._compiled.get(text)
        if found is None:
            if len(text) > MAX_EXPRESSION:
                raise RuleError(f"JSONata expression of {len(text)} characters (at most {MAX_EXPRESSION})")
            try:
                found = jsonata.Jsonata(text, _re2_engine() or jsonata.Jsonata.__init__.__defaults__[0])
            except Exception as exc:  # noqa: BLE001 - jsonata's JException and parser errors
                raise RuleError(f"invalid JSONata expression: {exc}") from None
            with self._lock:
                self._compiled[text] = found
        return found

    def _bound(self, ctx: RuleContext, name: str, default: int) -> int:
        value = ctx.parameter(name) or self._conf.get(name)
        try:
            return int(value) if value is not None else default
        except ValueError:
            raise RuleError(f"{name} must be an integer, not {value!r}") from None

    def transform(self, ctx: RuleContext, message: Any) -> Any:
        text = ctx.rule.get("expr")
        if not text:
            raise RuleError("a JSONATA rule needs an expr")
        expression = self._expression(str(text))
        frame = expression.create_frame()
        timeout_ms = self._bound(ctx, "jsonata.timeout.ms", 60_000)
        deadline = time.monotonic() + timeout_ms / 1000
        steps = [0]

        def on_entry(expr: Any, value: Any, environment: Any) -> None:
            steps[0] += 1
            if not steps[0] & 255 and time.monotonic() > deadline:
                raise RuleError(f"JSONata expression ran longer than jsonata.timeout.ms = {timeout_ms}")

        frame.bind("__evaluate_entry", on_entry)
        try:
            return expression.evaluate(message, frame)
        except RuleError:
            raise
        except RecursionError:
            raise RuleError("JSONata expression recursed too deep") from None
        except Exception as exc:  # noqa: BLE001 - jsonata raises JException for every evaluation error
            from .cel import scrub  # the record's values the error quotes must not travel on

            raise RuleError(f"JSONata evaluation failed: {scrub(str(exc), str(text))}") from None
