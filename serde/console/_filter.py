"""A small, safe filter language over decoded messages, evaluated server side.

Never Python's ``eval``: expressions are tokenised and parsed here into a tree of
closures that can only read the message. The grammar::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := operand (OP operand)?       OP: == != < <= > >= contains startswith endswith in
    operand := literal | path | call | "(" expr ")" | "[" literal ("," literal)* "]"
    path    := NAME ("." NAME | "[" (INT | STRING) "]")*
    call    := ("len" | "lower" | "upper" | "str" | "exists") "(" expr ")"
    literal := INT | FLOAT | 'text' | "text" | true | false | null

Roots: ``value``, ``key``, ``headers``, ``partition``, ``offset``, ``timestamp`` (epoch ms),
``schema_id``, ``subject``. A missing field is ``null``; an ordering between values of
different types is false. Expressions are bounded: ``MAX_LENGTH`` characters and
``MAX_DEPTH`` nesting.

    value.amount > 100 and headers.source == "web"
    key startswith "user-" or value.tags contains "vip"
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from .._errors import ConfigError

__all__ = ["FilterError", "compile_filter", "MAX_LENGTH"]

MAX_LENGTH = 1000
MAX_DEPTH = 32
ROOTS = ("value", "key", "headers", "partition", "offset", "timestamp", "schema_id", "subject")
_FUNCTIONS = ("len", "lower", "upper", "str", "exists")
_WORD_OPS = ("contains", "startswith", "endswith", "in")
_KEYWORDS = {"and", "or", "not", "true", "false", "null", *_WORD_OPS}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|\.|,)
    )""",
    re.VERBOSE,
)

Message = Mapping[str, Any]
Node = Callable[[Message], Any]


class FilterError(ConfigError):
    """The expression does not parse; the message says where."""


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        while text[pos].isspace():
            pos += 1
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise FilterError(f"unexpected character {text[pos:pos + 1]!r} at position {pos + 1}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return out


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.depth = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise FilterError(f"the expression ends early{f' (expected {value!r})' if value else ''}")
        if value is not None and token[1] != value:
            raise FilterError(f"expected {value!r} at position {token[2] + 1}, found {token[1]!r}")
        self.pos += 1
        return token

    def at(self, *values: str) -> bool:
        token = self.peek()
        return token is not None and token[0] in ("name", "op") and token[1] in values

    def parse(self) -> Node:
        node = self.expr()
        token = self.peek()
        if token is not None:
            raise FilterError(f"unexpected {token[1]!r} at position {token[2] + 1}")
        return node

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError(f"the expression nests deeper than {MAX_DEPTH}")
        try:
            return self.or_()
        finally:
            self.depth -= 1

    def or_(self) -> Node:
        parts = [self.and_()]
        while self.at("or"):
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else (lambda m: any(_truth(p(m)) for p in parts))

    def and_(self) -> Node:
        parts = [self.not_()]
        while self.at("and"):
            self.take()
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else (lambda m: all(_truth(p(m)) for p in parts))

    def not_(self) -> Node:
        if self.at("not"):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise FilterError(f"the expression nests deeper than {MAX_DEPTH}")
            inner = self.not_()
            self.depth -= 1
            return lambda m: not _truth(inner(m))
        return self.compare()

    def compare(self) -> Node:
        left = self.operand()
        if self.at("==", "!=", "<", "<=", ">", ">=", *_WORD_OPS):
            op = self.take()[1]
            right = self.operand()
            test = _COMPARE[op]
            return lambda m: test(left(m), right(m))
        return left

    def operand(self) -> Node:
        token = self.take()
        kind, text, where = token
        if kind == "num":
            number = float(text) if any(c in text for c in ".eE") else int(text)
            return lambda m: number
        if kind == "str":
            string = _unquote(text)
            return lambda m: string
        if kind == "op" and text == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if kind == "op" and text == "[":
            items: list[Node] = []
            if not self.at("]"):
                items.append(self.operand())
                while self.at(","):
                    self.take()
                    items.append(self.operand())
            self.take("]")
            return lambda m: [item(m) for item in items]
        if kind == "name":
            if text == "true":
                return lambda m: True
            if text == "false":
                return lambda m: False
            if text == "null":
                return lambda m: None
            if text in _FUNCTIONS and self.at("("):
                self.take("(")
                arg = self.expr()
                self.take(")")
                return _call(text, arg)
            if text in _KEYWORDS:
                raise FilterError(f"unexpected {text!r} at position {where + 1}")
            if text not in ROOTS:
                raise FilterError(f"unknown name {text!r} at position {where + 1}; start with one of {', '.join(ROOTS)}")
            return self.path(text)
        raise FilterError(f"unexpected {text!r} at position {where + 1}")

    def path(self, root: str) -> Node:
        steps: list[Any] = []
        while self.at(".", "["):
            if self.take()[1] == ".":
                kind, text, where = self.take()
                if kind != "name":
                    raise FilterError(f"expected a field name at position {where + 1}")
                steps.append(text)
            else:
                kind, text, where = self.take()
                if kind == "num" and "." not in text:
                    steps.append(int(text))
                elif kind == "str":
                    steps.append(_unquote(text))
                else:
                    raise FilterError(f"expected an index or a quoted name at position {where + 1}")
                self.take("]")
        return lambda m: _walk(m.get(root), steps)


def _walk(value: Any, steps: list[Any]) -> Any:
    for step in steps:
        if isinstance(value, Mapping):
            value = value.get(step) if isinstance(step, str) else None
        elif isinstance(value, (list, tuple)) and isinstance(step, int):
            value = value[step] if -len(value) <= step < len(value) else None
        else:
            return None
    return value


def _truth(value: Any) -> bool:
    return bool(value)


def _same_kind(a: Any, b: Any) -> bool:
    number = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return (isinstance(a, number) and isinstance(b, number)) or type(a) is type(b)


def _order(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        a, b = _comparable(a), _comparable(b)
        if a is None or b is None or not _same_kind(a, b):
            return False
        try:
            return test(a, b)
        except TypeError:
            return False
    return compare


def _comparable(value: Any) -> Any:
    """Decoded logical types compare as their text (timestamps ISO, decimals plain)."""
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    import decimal

    if isinstance(value, decimal.Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _equal(a: Any, b: Any) -> bool:
    a, b = _comparable(a), _comparable(b)
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _contains(a: Any, b: Any) -> bool:
    a, b = _comparable(a), _comparable(b)
    if isinstance(a, str):
        return isinstance(b, str) and b in a
    if isinstance(a, list):
        return any(_equal(item, b) for item in a)
    if isinstance(a, dict):
        return isinstance(b, str) and b in a
    return False


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    "<": _order(lambda a, b: a < b),
    "<=": _order(lambda a, b: a <= b),
    ">": _order(lambda a, b: a > b),
    ">=": _order(lambda a, b: a >= b),
    "contains": _contains,
    "in": lambda a, b: _contains(b, a),
    "startswith": lambda a, b: isinstance(_comparable(a), str) and isinstance(b, str) and _comparable(a).startswith(b),
    "endswith": lambda a, b: isinstance(_comparable(a), str) and isinstance(b, str) and _comparable(a).endswith(b),
}


def _call(name: str, arg: Node) -> Node:
    if name == "len":
        return lambda m: len(v) if isinstance(v := _comparable(arg(m)), (str, list, dict)) else None
    if name == "lower":
        return lambda m: v.lower() if isinstance(v := _comparable(arg(m)), str) else None
    if name == "upper":
        return lambda m: v.upper() if isinstance(v := _comparable(arg(m)), str) else None
    if name == "str":
        return lambda m: None if (v := _comparable(arg(m))) is None else str(v)
    return lambda m: arg(m) is not None  # exists


def compile_filter(text: str) -> Callable[[Message], bool]:
    """A predicate over a message mapping (see ROOTS); raises FilterError."""
    if len(text) > MAX_LENGTH:
        raise FilterError(f"the filter is longer than {MAX_LENGTH} characters")
    if not text.strip():
        return lambda m: True
    node = _Parser(text).parse()

    def predicate(message: Message) -> bool:
        try:
            return _truth(node(message))
        except RecursionError:  # pragma: no cover - bounded by MAX_DEPTH
            return False

    return predicate
