"""Model classes the tests share (module level, so forward references resolve)."""
from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Literal, Optional

import pydantic

from serde.models import Float32, Int32, Precision, TimestampMillis

UTC = dt.timezone.utc


class Color(enum.Enum):
    RED = "RED"
    GREEN = "GREEN"


class Size(enum.Enum):  # values that are not identifiers: the names are the symbols
    SMALL = 1
    LARGE = 2


@dataclass
class Line:
    """One order line."""

    sku: str
    qty: Annotated[int, Int32]
    price: Annotated[Decimal, Precision(10, 2)]


@dataclass
class Order:
    __serde_name__ = "com.acme.Order"
    id: int
    when: dt.datetime
    day: dt.date
    at: dt.time
    ref: uuid.UUID
    color: Color
    size: Size
    status: Literal["NEW", "DONE"]
    lines: list[Line]
    tags: dict[str, int]
    ratio: Annotated[float, Float32]
    score: float
    blob: bytes
    flag: bool
    note: Optional[str] = None
    choice: int | str = 0
    parent: Optional[Order] = None  # a forward reference to itself: recursion
    created: Annotated[dt.datetime, TimestampMillis] | None = None
    amount: Annotated[Decimal, Precision(8, 3)] | None = None
    labels: list[str] = field(default_factory=list, metadata={"doc": "free-form labels"})


def sample_order(**changes) -> Order:
    child = Order(id=1, when=dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), day=dt.date(2024, 1, 2),
                  at=dt.time(1, 2, 3, 4000), ref=uuid.UUID(int=7), color=Color.GREEN, size=Size.LARGE, status="DONE",
                  lines=[Line("a", 2, Decimal("1.50"))], tags={"k": 1}, ratio=0.5, score=1.25, blob=b"\x00\x01",
                  flag=True, choice="x")
    values = dict(id=2, when=dt.datetime(2024, 1, 2, 3, 4, 5, 654321, tzinfo=UTC), day=dt.date(2024, 2, 29),
                  at=dt.time(23, 59, 59, 999000), ref=uuid.UUID(int=12345), color=Color.RED, size=Size.SMALL,
                  status="NEW", lines=[Line("b", -3, Decimal("-0.01")), Line("c", 2**31 - 1, Decimal("12345678.90"))],
                  tags={}, ratio=-2.0, score=1e100, blob=b"", flag=False, note="n", choice=5, parent=child,
                  created=dt.datetime(2024, 1, 1, 0, 0, 0, 1000, tzinfo=UTC), amount=Decimal("1.250"), labels=["x", "y"])
    values.update(changes)
    return Order(**values)


class PLine(pydantic.BaseModel):
    sku: str = pydantic.Field(min_length=1, max_length=10, pattern="^[a-z]+$", description="stock unit")
    qty: int = pydantic.Field(ge=0, le=1000)
    price: Decimal = pydantic.Field(max_digits=10, decimal_places=2)


class POrder(pydantic.BaseModel):
    """An order, as a pydantic model."""

    id: int
    when: dt.datetime
    lines: list[PLine] = pydantic.Field(default_factory=list, max_length=5)
    klass: str = pydantic.Field(alias="class", default="standard")
    color: Color = Color.RED
    child: Optional[POrder] = None
    ratio: float = pydantic.Field(default=0.0, multiple_of=0.5)


def sample_porder() -> POrder:
    when = dt.datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=UTC)
    return POrder(id=1, when=when, lines=[PLine(sku="ab", qty=3, price=Decimal("9.99"))], **{"class": "gold"},
                  color=Color.GREEN, child=POrder(id=2, when=when), ratio=1.5)


# evolution: V2 adds an optional field (at the end, so Protobuf numbers stay)
@dataclass
class EventV1:
    __serde_name__ = "com.acme.Event"
    id: int
    name: str


@dataclass
class EventV2:
    __serde_name__ = "com.acme.Event"
    id: int
    name: str
    source: Optional[str] = None
