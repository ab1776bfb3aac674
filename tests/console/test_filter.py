"""The filter language: what matches, what does not, and what is refused."""
from __future__ import annotations

import datetime as dt
import decimal

import pytest

from serde.console import FilterError, compile_filter
from serde.console._filter import MAX_DEPTH, MAX_LENGTH

MESSAGE = {
    "value": {"amount": 120, "name": "Ada", "tags": ["vip", "new"], "nested": {"deep": [1, {"x": "y"}]},
              "when": dt.datetime(2026, 1, 31, 12, tzinfo=dt.timezone.utc), "price": decimal.Decimal("9.50")},
    "key": "user-17",
    "headers": {"source": "web", "trace-id": "abc"},
    "partition": 2, "offset": 40, "timestamp": 1_700_000_000_000, "schema_id": 7, "subject": "orders-value",
}


@pytest.mark.parametrize("expression", [
    "value.amount > 100",
    "value.amount >= 120 and value.amount <= 120",
    'value.name == "Ada"',
    "value.name == 'Ada'",
    'key startswith "user-"',
    'key endswith "17"',
    'value.tags contains "vip"',
    '"new" in value.tags',
    'headers.source == "web" and not (partition == 1)',
    'headers["trace-id"] == "abc"',
    "value.nested.deep[1].x == 'y'",
    "value.nested.deep[-2] == 1",
    "value.missing == null",
    "not exists(value.missing) and exists(value.name)",
    "len(value.tags) == 2",
    "lower(value.name) == 'ada' or false",
    "upper(key) == 'USER-17'",
    "value.when >= '2026-01-31'",
    "value.price > 9.4",
    "str(partition) == '2'",
    "partition in [1, 2, 3]",
    "schema_id == 7 and subject contains 'orders'",
    "",
    "   ",
])
def test_matches(expression: str) -> None:
    assert compile_filter(expression)(MESSAGE) is True


@pytest.mark.parametrize("expression", [
    "value.amount < 100",
    "value.name == 'Bob'",
    "value.name > 3",  # an ordering between a string and a number is false, not an error
    "value.missing > 1",
    "value.tags contains 'gold'",
    "key contains 5",
    "not value.amount",
    "value.amount == '120'",  # no coercion between text and numbers
    "true == 1",
    "value.nested.deep[9] == 1",
    "value.name.first == 'A'",
])
def test_does_not_match(expression: str) -> None:
    assert compile_filter(expression)(MESSAGE) is False


@pytest.mark.parametrize("expression, says", [
    ("value.amount >", "ends early"),
    ("value.amount > 1 1", "unexpected '1'"),
    ("__import__('os')", "unknown name '__import__'"),
    ("open('x')", "unknown name 'open'"),
    ("value.amount + 1", "unexpected character '+'"),
    ("value..x", "expected a field name"),
    ("value[1.5]", "expected an index"),
    ("(value.amount > 1", "expected ')'"),
    ("value.__class__ == 1 and", "ends early"),
    ("and", "unexpected 'and'"),
    ("'unterminated", "unexpected character"),
])
def test_refused(expression: str, says: str) -> None:
    with pytest.raises(FilterError, match=None) as info:
        compile_filter(expression)
    assert says in str(info.value)


def test_bounded_length() -> None:
    with pytest.raises(FilterError, match=f"longer than {MAX_LENGTH}"):
        compile_filter("value.a == 1 or " * 100 + "true")


def test_bounded_depth() -> None:
    with pytest.raises(FilterError, match="nests deeper"):
        compile_filter("(" * (MAX_DEPTH + 2) + "true" + ")" * (MAX_DEPTH + 2))
    with pytest.raises(FilterError, match="nests deeper"):
        compile_filter("not " * (MAX_DEPTH + 2) + "true")


def test_attribute_names_never_reach_python_objects() -> None:
    # a path only walks mappings and lists: no attribute of a Python object is ever read
    assert compile_filter("value.when.year == 2026")(MESSAGE) is False
    assert compile_filter("value.price.real == 9.5")(MESSAGE) is False
