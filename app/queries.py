"""Batched, keyset-paged reads of the knowledge base, with SQLAlchemy Core.

Everything here returns plain rows; nothing knows about GraphQL. A page of children is read
for all parents in one statement (a window function numbers each parent's children), so the
number of statements depends on the shape of a query, never on how many rows it returns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement


class RequestDatabase:
    """One connection per request, shared by its loaders, one statement at a time.

    Strawberry resolves sibling fields concurrently and a connection runs one statement at a
    time, hence the lock. The connection (and its snapshot) is taken at the first read.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self.statements = 0
        self.seconds = 0.0

    async def all(self, statement: Any) -> list[Row[Any]]:
        async with self._lock:
            if self._conn is None:
                self._conn = await self.engine.connect()
            started = time.perf_counter()
            result = await self._conn.execute(statement)
            rows = list(result.all())
            self.statements += 1
            self.seconds += time.perf_counter() - started
            return rows

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()


@dataclass(frozen=True)
class SortKey:
    """One column of an ordering; unknown (NULL) values sort after every known one."""

    expression: ColumnElement[Any]
    descending: bool = False
    nullable: bool = False
    python_type: type = int


@dataclass(frozen=True)
class Window:
    """Which slice of an ordered listing to read: Relay's first/after/last/before, decoded."""

    first: int | None = None
    after: tuple[Any, ...] | None = None
    last: int | None = None
    before: tuple[Any, ...] | None = None

    @property
    def size(self) -> int:
        size = self.last if self.last is not None else self.first
        assert size is not None
        return size

    @property
    def backwards(self) -> bool:
        return self.last is not None


@dataclass
class Page:
    rows: list[Row[Any]]
    has_next: bool
    has_previous: bool


def _comes_after(key: SortKey, value: Any, reverse: bool) -> ColumnElement[bool]:
    """Rows strictly after `value` in this key's order (or before it, when reversed)."""
    column = key.expression
    ascending = key.descending == reverse
    if ascending:  # nulls last: NULL is greater than every value
        if value is None:
            return false()
        return or_(column > value, column.is_(None)) if key.nullable else column > value
    if value is None:
        return column.is_not(None)
    return column < value


def _equals(key: SortKey, value: Any) -> ColumnElement[bool]:
    return key.expression.is_(None) if value is None else key.expression == value


def keyset_condition(keys: Sequence[SortKey], values: Sequence[Any], reverse: bool = False) -> ColumnElement[bool]:
    """Rows after the cursor `values` in the order of `keys` (before it when `reverse`)."""
    clauses = []
    for index, key in enumerate(keys):
        prefix = [_equals(keys[j], values[j]) for j in range(index)]
        clauses.append(and_(*prefix, _comes_after(key, values[index], reverse)))
    return or_(*clauses)


def order_clauses(keys: Sequence[SortKey], reverse: bool = False) -> list[Any]:
    clauses = []
    for key in keys:
        descending = key.descending != reverse
        expression = key.expression.desc() if descending else key.expression.asc()
        if key.nullable:
            expression = expression.nulls_first() if descending else expression.nulls_last()
        clauses.append(expression)
    return clauses


def cursor_values(row: Row[Any], keys: Sequence[SortKey]) -> tuple[Any, ...]:
    """The sort key values of a row, as the cursor stores them."""
    mapping = row._mapping
    return tuple(mapping[f"_k{index}"] for index in range(len(keys)))


def _with_keys(statement: Select[Any], keys: Sequence[SortKey]) -> Select[Any]:
    return statement.add_columns(*(key.expression.label(f"_k{index}") for index, key in enumerate(keys)))


def _windowed(statement: Select[Any], keys: Sequence[SortKey], window: Window) -> Select[Any]:
    if window.after is not None:
        statement = statement.where(keyset_condition(keys, window.after))
    if window.before is not None:
        statement = statement.where(keyset_condition(keys, window.before, reverse=True))
    return statement


async def fetch_page(db: RequestDatabase, statement: Select[Any], keys: Sequence[SortKey], window: Window) -> Page:
    """One page of a root listing, read by keyset."""
    statement = _windowed(_with_keys(statement, keys), keys, window)
    statement = statement.order_by(*order_clauses(keys, reverse=window.backwards)).limit(window.size + 1)
    rows = await db.all(statement)
    more = len(rows) > window.size
    rows = rows[: window.size]
    if window.backwards:
        rows.reverse()
        return Page(rows, has_next=window.before is not None, has_previous=more)
    return Page(rows, has_next=more, has_previous=window.after is not None)


async def fetch_pages(
    db: RequestDatabase,
    statement: Select[Any],
    parent: ColumnElement[Any],
    parent_ids: Sequence[Any],
    keys: Sequence[SortKey],
    window: Window,
) -> list[Page]:
    """One page of children for each parent, in one statement; pages in `parent_ids` order."""
    statement = _windowed(_with_keys(statement, keys), keys, window).where(parent.in_(parent_ids))
    number = func.row_number().over(partition_by=parent, order_by=order_clauses(keys, reverse=window.backwards))
    inner = statement.add_columns(parent.label("parent_key"), number.label("row_number")).subquery()
    outer = (
        select(inner)
        .where(inner.c["row_number"] <= window.size + 1)
        .order_by(inner.c["parent_key"], inner.c["row_number"])
    )
    grouped: dict[Any, list[Row[Any]]] = {parent_id: [] for parent_id in parent_ids}
    for row in await db.all(outer):
        grouped[row._mapping["parent_key"]].append(row)
    pages = []
    for parent_id in parent_ids:
        rows = grouped[parent_id]
        more = len(rows) > window.size
        rows = rows[: window.size]
        if window.backwards:
            rows.reverse()
            pages.append(Page(rows, has_next=window.before is not None, has_previous=more))
        else:
            pages.append(Page(rows, has_next=more, has_previous=window.after is not None))
    return pages


async def count(db: RequestDatabase, statement: Select[Any]) -> int:
    """How many rows a listing has (its filters applied, no paging)."""
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    rows = await db.all(counted)
    return int(rows[0][0])


async def count_by_parent(
    db: RequestDatabase, statement: Select[Any], parent: ColumnElement[Any], parent_ids: Sequence[Any]
) -> list[int]:
    """How many children each parent has, in one statement."""
    grouped = (
        statement.with_only_columns(parent, func.count()).where(parent.in_(parent_ids)).group_by(parent).order_by(None)
    )
    counts = {row._mapping[parent]: int(row[-1]) for row in await db.all(grouped)}
    return [counts.get(parent_id, 0) for parent_id in parent_ids]


async def rows_by_key(
    db: RequestDatabase, statement: Select[Any], key: ColumnElement[Any], keys: Sequence[Any]
) -> list[Row[Any] | None]:
    """The row for each key (None where there is none), in key order."""
    found = {row._mapping[key]: row for row in await db.all(statement.where(key.in_(keys)))}
    return [found.get(value) for value in keys]


async def rows_grouped_by(
    db: RequestDatabase, statement: Select[Any], parent: ColumnElement[Any], parent_ids: Sequence[Any]
) -> list[list[Row[Any]]]:
    """Every row for each parent (for short, bounded lists such as citations), in parent order."""
    grouped: dict[Any, list[Row[Any]]] = {parent_id: [] for parent_id in parent_ids}
    labelled = statement.add_columns(parent.label("parent_key")).where(parent.in_(parent_ids))
    for row in await db.all(labelled):
        grouped[row._mapping["parent_key"]].append(row)
    return [grouped[parent_id] for parent_id in parent_ids]


def decode_key_value(key: SortKey, value: Any) -> Any:
    """A cursor's JSON value back to the key's Python type (dates travel as ISO strings)."""
    if value is None:
        return None
    if key.python_type is dt.date:
        return dt.date.fromisoformat(value)
    if key.python_type is float:
        return float(value)
    if not isinstance(value, key.python_type):
        raise TypeError(f"expected {key.python_type.__name__}")
    return value


def encode_key_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
