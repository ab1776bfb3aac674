"""Running a schema's rules: which rules run, in which order, and what their outcome does.

The semantics are confluent-kafka's (data-contracts.md, section 2): domain rules run in
declared order on write and in reverse on read; encoding rules on the encoded payload;
migration rules between two versions of a subject. A rule is skipped when disabled (by
an override, by ``enableAt`` other than ALL or CLIENT, or by ``disabled``), when its
mode does not cover the operation, or, on read, when the record came back from a
dead-letter queue for that very rule (a ``__rule.name`` header). A CONDITION that does
not hold, an executor that fails, or a TRANSFORM that returns nothing runs the rule's
onFailure action (ERROR by default); otherwise onSuccess (NONE by default).
"""
from __future__ import annotations

import copy
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from .._errors import RuleConditionError, RuleError, SerdeError
from ._executor import FieldContext, FieldRuleExecutor, RuleContext, RuleExecutor
from ._fields import walker_for
from ._registry import load_executor

if TYPE_CHECKING:
    from .._types import RegisteredSchema
    from ..formats import ParsedSchema
    from ..registry.client import Registry

log = logging.getLogger("serde.contracts")

DLQ_RULE_NAME_HEADER = "__rule.name"
_OPERATION_MODES = {"WRITE": ("WRITE", "WRITEREAD"), "READ": ("READ", "WRITEREAD"),
                    "UPGRADE": ("UPGRADE", "UPDOWN"), "DOWNGRADE": ("DOWNGRADE", "UPDOWN")}


@dataclass(frozen=True, slots=True)
class RuleOverride:
    """Overrides a rule's ``disabled``, ``onSuccess`` or ``onFailure`` (None leaves it).
    Given to serializers as ``rule_overrides={"CEL_FIELD": RuleOverride(disabled=True)}``,
    keyed by rule name or rule type (a name wins)."""

    disabled: bool | None = None
    on_success: str | None = None
    on_failure: str | None = None


Action = Callable[[RuleContext, Any, "BaseException | None"], None]


class Rules:
    """The rule machinery of one serializer or deserializer: its executors (one instance
    per rule type, configured on first use), ``rule_conf``, overrides and custom actions."""

    def __init__(
        self,
        registry: "Registry | None",
        *,
        rule_conf: Mapping[str, Any] | None = None,
        executors: Mapping[str, RuleExecutor] | None = None,
        overrides: Mapping[str, RuleOverride | Mapping[str, Any]] | None = None,
        actions: Mapping[str, Action] | None = None,
    ) -> None:
        self.registry = registry
        self.rule_conf = {str(k): v for k, v in (rule_conf or {}).items()}
        self._given = {str(k).upper(): v for k, v in (executors or {}).items()}
        self._executors: dict[str, RuleExecutor | None] = {}
        self._overrides = {str(k): _as_override(v) for k, v in (overrides or {}).items()}
        self._actions = {str(k).upper(): v for k, v in (actions or {}).items()}
        self._lock = threading.Lock()
        # when a list: what each rule did (`serde schema rules test`); None on the hot path
        self.trace: list[dict[str, Any]] | None = None

    def executor(self, rule_type: str) -> RuleExecutor | None:
        found = self._executors.get(rule_type, _MISSING)
        if found is _MISSING:
            with self._lock:
                found = self._executors.get(rule_type, _MISSING)
                if found is _MISSING:
                    found = self._given.get(rule_type) or load_executor(rule_type)
                    if found is not None:
                        found.configure(self.registry, self.rule_conf)
                    self._executors[rule_type] = found
        return found  # type: ignore[return-value]

    def override(self, rule: Mapping[str, Any]) -> RuleOverride | None:
        return self._overrides.get(str(rule.get("name"))) or self._overrides.get(str(rule.get("type") or ""))

    def action(self, name: str) -> Action | None:
        return self._actions.get(name.upper())

    def close(self) -> None:
        for executor in self._executors.values():
            if executor is not None:
                try:
                    executor.close()
                except Exception as exc:  # noqa: BLE001 - closing must not hide the others
                    log.warning("closing rule executor %s: %s", type(executor).__name__, type(exc).__name__)


_MISSING: Any = object()


def _as_override(value: RuleOverride | Mapping[str, Any]) -> RuleOverride:
    if isinstance(value, RuleOverride):
        return value
    if isinstance(value, Mapping):
        return RuleOverride(disabled=value.get("disabled"), on_success=value.get("on_success", value.get("onSuccess")),
                            on_failure=value.get("on_failure", value.get("onFailure")))
    raise RuleError(f"a rule override is a RuleOverride or a dict, not {type(value).__name__}")


def _rule_list(rule_set: Mapping[str, Any] | None, key: str) -> list[Mapping[str, Any]]:
    rules = rule_set.get(key) if isinstance(rule_set, Mapping) else None
    return [r for r in rules if isinstance(r, Mapping)] if isinstance(rules, list) else []


def _enabled_here(rule_set: Mapping[str, Any] | None) -> bool:
    at = rule_set.get("enableAt") if isinstance(rule_set, Mapping) else None
    return str(at or "ALL").upper() in ("ALL", "CLIENT")


def has_rules(rule_set: Mapping[str, Any] | None, operation: str, phase: str = "domainRules") -> bool:
    """Whether ``rule_set`` has a rule of ``phase`` whose mode covers ``operation``
    (WRITE, READ, UPGRADE, DOWNGRADE), disabled or not: the cheap test that keeps
    schemas without rules on the plain path."""
    modes = _OPERATION_MODES[operation]
    default = "UPGRADE" if phase == "migrationRules" else "WRITEREAD"
    return any(str(r.get("mode") or default).upper() in modes for r in _rule_list(rule_set, phase))


@dataclass(slots=True)
class _Step:
    """One rule to run: its context, type, kind, executor (None: nobody runs it, which
    ends the list), its two actions and its tags."""

    ctx: RuleContext
    rule_type: str
    kind: str
    executor: RuleExecutor | None
    on_success: str
    on_failure: str
    tags: frozenset[str]


class Contract:
    """The rules of one schema, for one subject and one side of a topic: what a
    serializer runs around its encoder and a deserializer around its decoder."""

    def __init__(self, rules: Rules, target: "RegisteredSchema", parsed: "ParsedSchema | None", *,
                 subject: str, topic: str, is_key: bool) -> None:
        self.rules = rules
        self.target = target
        self.parsed = parsed
        self.subject = subject
        self.topic = topic
        self.is_key = is_key
        self._walker: Any = _MISSING
        self._plans: dict[tuple[Any, ...], list[_Step]] = {}

    @property
    def walker(self) -> Any:
        if self._walker is _MISSING:
            self._walker = walker_for(self.parsed, self.target.metadata) if self.parsed is not None else None
        return self._walker

    def run(self, operation: str, phase: str, message: Any, *, headers: Any = None,
            source: "RegisteredSchema | None" = None, rule_set_of: "RegisteredSchema | None" = None) -> Any:
        """Run the rules of ``phase`` (domainRules, encodingRules, migrationRules) that
        cover ``operation`` on ``message``; returns the message they leave."""
        if message is None:
            return message
        owner = rule_set_of or self.target
        trace = self.rules.trace
        # the rules to run depend only on the rule set, the operation and the headers (a
        # replayed dead letter): without headers or a trace, once per contract
        fast = trace is None and not headers
        key = (operation, phase, id(owner), id(source))
        steps = self._plans.get(key) if fast else None
        if steps is None:
            steps = self._steps(operation, phase, owner, source, headers, trace)
            if fast:
                self._plans[key] = steps
        for step in steps:
            message = self._apply(step, message, trace)
            if step.executor is None:
                return message  # as confluent-kafka: a rule nobody runs ends the rule list
        return message

    def _steps(self, operation: str, phase: str, owner: "RegisteredSchema", source: "RegisteredSchema | None",
               headers: Any, trace: list[dict[str, Any]] | None) -> list["_Step"]:
        rule_set = owner.rule_set
        rules = _rule_list(rule_set, phase)
        if not rules:
            return []
        enabled_env = _enabled_here(rule_set)
        shadowed = _shadowed(rules)
        order: Iterable[int] = range(len(rules))
        if operation in ("READ", "DOWNGRADE"):
            order = reversed(range(len(rules)))
        replayed = _replayed_rule(headers)  # in every mode, as confluent-kafka 2.16
        default_mode = "UPGRADE" if phase == "migrationRules" else "WRITEREAD"
        steps: list[_Step] = []
        for index in order:
            rule = rules[index]
            override = self.rules.override(rule)
            skipped = None
            if override is not None and override.disabled is not None:
                if override.disabled:
                    skipped = "disabled by an override"
            elif not enabled_env:
                skipped = f"enableAt {rule_set.get('enableAt')}"  # type: ignore[union-attr]
            elif rule.get("disabled"):
                skipped = "disabled"
            if skipped is None and replayed is not None and rule.get("name") == replayed:
                skipped = "a dead letter of this rule, replayed"
            if skipped is None and str(rule.get("mode") or default_mode).upper() not in _OPERATION_MODES[operation]:
                skipped = f"mode {rule.get('mode') or default_mode} does not cover {operation}"
            if skipped is None and index in shadowed:
                skipped = "an earlier rule of the same type and tags covers it"
            if skipped is not None:
                if trace is not None:
                    trace.append(_traced(rule, operation, "skipped", skipped))
                continue
            ctx = RuleContext(rule=rule, mode=operation, subject=self.subject, topic=self.topic, is_key=self.is_key,
                              target=self.target, source=source, target_parsed=self.parsed,
                              registry=self.rules.registry, rule_conf=self.rules.rule_conf, headers=headers)
            rule_type = str(rule.get("type") or "").upper()
            on_success, on_failure = _actions_of(rule, override, operation)
            executor = self.rules.executor(rule_type) if rule_type else None
            tags = rule.get("tags")
            steps.append(_Step(ctx, rule_type, str(rule.get("kind") or "TRANSFORM").upper(), executor,
                               on_success or "NONE", on_failure or "ERROR",
                               frozenset(str(t) for t in tags) if isinstance(tags, (list, tuple)) else frozenset()))
            if executor is None:
                break  # the rules after it never run
        return steps

    def _apply(self, step: "_Step", message: Any, trace: list[dict[str, Any]] | None) -> Any:
        ctx, rule, operation = step.ctx, step.ctx.rule, step.ctx.mode
        if step.executor is None:
            reason = (f"rule {rule.get('name')!r} has no type" if not step.rule_type else
                      f"no executor for rule type {step.rule_type} (rule {rule.get('name')!r}); "
                      "register one with rule_executors= or the serde.rules entry point, or pass "
                      "ignore_rules=True to run none of the schema's rules")
            if trace is not None:
                trace.append(_traced(rule, operation, "failed", reason, step.on_failure))
            self._act(ctx, step.on_failure, message, RuleError(reason, rule=ctx.name, rule_type=step.rule_type,
                                                               mode=operation))
            return message
        kind = step.kind
        before = copy.deepcopy(message) if trace is not None and kind == "TRANSFORM" else None
        try:
            if isinstance(step.executor, FieldRuleExecutor):
                result = self._run_field_rule(step.executor, ctx, message, kind, step.tags)
            else:
                result = step.executor.transform(ctx, message)
            if kind == "CONDITION":
                if not result:
                    raise RuleConditionError(_condition_reason(rule), rule=ctx.name, rule_type=step.rule_type,
                                             mode=operation)
            else:
                message = result
        except Exception as exc:  # noqa: BLE001 - every failure goes through onFailure
            if trace is not None:
                trace.append(_traced(rule, operation, "failed", str(exc) or type(exc).__name__, step.on_failure))
            self._act(ctx, step.on_failure, message, exc)
            return message
        if message is None:
            if trace is not None:
                trace.append(_traced(rule, operation, "failed", "left no record", step.on_failure))
            self._act(ctx, step.on_failure, message,
                      RuleError(f"rule {ctx.name!r} left no record", rule=ctx.name, rule_type=step.rule_type,
                                mode=operation))
            return message
        if trace is not None:
            if kind == "CONDITION":
                trace.append(_traced(rule, operation, "passed", "the condition holds"))
            else:
                changed = _changes(before, message)
                trace.append(_traced(rule, operation, "changed" if changed else "unchanged",
                                     ", ".join(changed) if changed else "", changes=changed))
        if step.on_success != "NONE":
            self._act(ctx, step.on_success, message, None)
        return message

    def _run_field_rule(self, executor: FieldRuleExecutor, ctx: RuleContext, message: Any, kind: str,
                        rule_tags: frozenset[str]) -> Any:
        walker = self.walker
        if walker is None:
            raise RuleError(f"field rules need a record schema; {self.target.schema_type} schema "
                            f"{self.target.id} has none serde can walk")
        transform = executor.new_transform(ctx)
        if kind == "CONDITION":
            def check(field: FieldContext, value: Any) -> Any:
                if transform(field, value) is False:
                    raise RuleConditionError(f"{_condition_reason(ctx.rule)} (field {field.full_name})",
                                             path=field.full_name, rule=ctx.name, rule_type=ctx.rule_type,
                                             mode=ctx.mode)
                return value

            walker.walk(message, check, rule_tags)
            return True
        return walker.walk(message, transform, rule_tags)

    def _act(self, ctx: RuleContext, action: str, message: Any, exc: BaseException | None) -> None:
        name = action.strip().upper()
        if name == "NONE":
            return
        if name == "ERROR":
            if exc is None:  # onSuccess ERROR: confluent-kafka's ErrorAction raises regardless
                exc = RuleError(f"rule {ctx.name!r} ran, and its onSuccess action is ERROR", rule=ctx.name,
                                rule_type=ctx.rule_type, mode=ctx.mode)
            raise _without_values(_rule_failure(ctx, exc), message)
        custom = self.rules.action(name)
        if custom is not None:
            custom(ctx, message, exc)
            return
        if name == "DLQ":
            # serializers have no producer of their own: the failure is raised, marked
            # for a dead-letter queue, and the gateway (or the caller) sends it there
            if exc is None:
                return
            error = _without_values(_rule_failure(ctx, exc), message)
            error.dead_letter = True  # type: ignore[attr-defined]
            raise error
        raise RuleError(f"rule {ctx.name!r}: no action {action!r} (known: NONE, ERROR, DLQ, and those given "
                        "with rule_actions=)", rule=ctx.name, rule_type=ctx.rule_type, mode=ctx.mode)


def _without_values(error: SerdeError, message: Any) -> SerdeError:
    """The error with the record's values cut out of its reason: expression engines quote
    the operands they choke on (a key not found, a string that is not a number), and a
    rule's error ends up in logs and dead-letter headers, where PII must not."""
    values = sorted(_leaf_texts(message, [], 0), key=len, reverse=True)
    reason = error.reason
    for text in values:
        if text in reason:
            reason = reason.replace(text, "<redacted>")
    error.reason = reason
    return error


def _leaf_texts(value: Any, out: list[str], depth: int) -> list[str]:
    """The record's values as text (the longer ones: short ones are names and numbers
    anyone could guess), bounded in number and depth."""
    if len(out) >= 10_000 or depth > 64:
        return out
    if isinstance(value, dict):
        for item in value.values():
            _leaf_texts(item, out, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _leaf_texts(item, out, depth + 1)
    elif isinstance(value, (bytes, bytearray)):
        if len(value) >= 4:
            out.append(bytes(value).decode("utf-8", "replace"))
            out.append(repr(bytes(value))[2:-1])
    elif hasattr(value, "ListFields"):
        for _, item in value.ListFields():
            _leaf_texts(item, out, depth + 1)
    elif value is not None and not isinstance(value, bool):
        text = str(value)
        if len(text) >= 4:
            out.append(text)
            if isinstance(value, str):
                out.append(repr(value)[1:-1])
    return out


def _traced(rule: Mapping[str, Any], operation: str, outcome: str, detail: str, action: str | None = None,
            changes: list[str] | None = None) -> dict[str, Any]:
    return {"rule": rule.get("name"), "type": rule.get("type"), "kind": rule.get("kind") or "TRANSFORM",
            "mode": operation, "outcome": outcome, "detail": detail, "action": action, "changes": changes or []}


def _changes(before: Any, after: Any, path: str = "$") -> list[str]:
    """The paths where ``after`` differs from ``before`` (records, lists, leaves)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in list(before) + [k for k in after if k not in before]:
            if key not in after or key not in before:
                out.append(f"{path}.{key}")
            else:
                out.extend(_changes(before[key], after[key], f"{path}.{key}"))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [p for i, (b, a) in enumerate(zip(before, after)) for p in _changes(b, a, f"{path}[{i}]")]
    return [] if type(before) is type(after) and before == after else [path]


def _rule_failure(ctx: RuleContext, exc: BaseException) -> SerdeError:
    """The error a failed rule raises: a RuleError (RuleConditionError for a condition)
    naming the rule, chained to what failed."""
    if isinstance(exc, RuleError):
        if exc.rule is None:
            exc.rule, exc.rule_type, exc.mode = ctx.name, ctx.rule_type, ctx.mode
        if exc.subject is None:
            exc.subject = ctx.subject
        if not exc.reason.startswith("rule "):
            exc.reason = f"rule {ctx.name!r} ({ctx.rule_type}, {ctx.mode}) failed: {exc.reason}"
        return exc
    if isinstance(exc, SerdeError):
        error = RuleError(f"rule {ctx.name!r} ({ctx.rule_type}, {ctx.mode}) failed: {exc}", rule=ctx.name,
                          rule_type=ctx.rule_type, mode=ctx.mode, subject=ctx.subject, path=exc.path)
    else:
        error = RuleError(f"rule {ctx.name!r} ({ctx.rule_type}, {ctx.mode}) failed: {type(exc).__name__}: {exc}",
                          rule=ctx.name, rule_type=ctx.rule_type, mode=ctx.mode, subject=ctx.subject)
    error.__cause__ = exc
    return error


def _condition_reason(rule: Mapping[str, Any]) -> str:
    if rule.get("doc"):
        return str(rule["doc"])
    if rule.get("expr"):
        return f"rule {rule.get('name')!r}: expression failed: {rule['expr']}"
    return f"rule {rule.get('name')!r} failed"


def _actions_of(rule: Mapping[str, Any], override: RuleOverride | None, operation: str) -> tuple[str | None, str | None]:
    on_success = override.on_success if override is not None and override.on_success is not None else rule.get("onSuccess")
    on_failure = override.on_failure if override is not None and override.on_failure is not None else rule.get("onFailure")
    mode = str(rule.get("mode") or "WRITEREAD").upper()
    return _side(on_success, mode, operation), _side(on_failure, mode, operation)


def _side(action: Any, mode: str, operation: str) -> str | None:
    """``"A,B"`` on a WRITEREAD or UPDOWN rule: A on write or upgrade, B on read or downgrade."""
    if not action:
        return None
    text = str(action)
    if "," in text and mode in ("WRITEREAD", "UPDOWN"):
        first, _, second = text.partition(",")
        return (first if operation in ("WRITE", "UPGRADE") else second).strip() or None
    return text


def _shadowed(rules: Sequence[Mapping[str, Any]]) -> set[int]:
    """Field TRANSFORM rules a first-declared rule of the same kind, mode, type and
    (non-empty) tags already covers: only that first one runs, in both directions."""
    seen: set[tuple[Any, ...]] = set()
    out: set[int] = set()
    for index, rule in enumerate(rules):
        tags = rule.get("tags")
        if str(rule.get("kind") or "TRANSFORM").upper() != "TRANSFORM" or not tags:
            continue
        key = (str(rule.get("mode") or "WRITEREAD").upper(), str(rule.get("type") or "").upper(),
               frozenset(str(t) for t in tags))
        if key in seen:
            out.add(index)
        seen.add(key)
    return out


def _replayed_rule(headers: Any) -> str | None:
    """The rule a dead-lettered record failed (its last ``__rule.name`` header)."""
    if not headers:
        return None
    value: Any = None
    items = headers.items() if isinstance(headers, Mapping) else headers
    try:
        for key, found in items:
            if key == DLQ_RULE_NAME_HEADER:
                value = found
    except (TypeError, ValueError):
        return None
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value if isinstance(value, str) else None
