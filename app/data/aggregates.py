"""Grouped aggregates: the items of a timeline counted by one to three keys, in ONE statement.

`grouped(items, keys, ...)` takes the items as a subquery of the timeline's shape (`item_type`,
`item_id`, `kind`, `organization_id`, `year`, `precision`, ...; app/schema/timeline.py builds it
from the lists' filters) and returns the statement of the groups: one row per combination of
keys that has items, with its keys as text (`k0`, `k1`, `k2`, in the order asked), its count and
its count of each type, numbered (`_r`) and ordered by the keys, `having` and `first` applied.
Strawberry's resolver runs it as it is; the compiler wraps it into the answer's JSON.

The keys, each NULL for "none":

- YEAR: the date's year, "2013"; a date known only to its decade, "198X" (never a year it may not
  be in), ordered just after the decade's first year. DECADE: "198X". Undated: NULL, last.
- KIND: an event's kind, MEMBERSHIP or CHAIRMANSHIP. TYPE: EVENT, MEMBERSHIP or CHAIRMANSHIP.
- ORGANIZATION: the slug of the organization the item belongs to.
- COUNTRY and ROLE: each country taking part, and its part: an event's participants with their
  role kind, a membership's member (MEMBER), a chairmanship's chair (CHAIR) and co-chairs
  (CO_CHAIR). An item is in the group of each of its countries; taken together, COUNTRY and ROLE
  are one country's part. An item with no country: NULL.
- PLACE: the name of an event's place; memberships and chairmanships have none.

A group counts items, each once: an event with eleven invitees is one item of the group INVITEE.
Text keys order by their characters (binary collation on both engines), NULL last.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, Select, String, and_, bindparam, case, cast, func, literal, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from app.data.listings import (
    chairmanships,
    co_chairs,
    countries,
    events,
    memberships,
    organizations,
    participants,
    places,
)

KEYS = ("YEAR", "DECADE", "KIND", "TYPE", "ORGANIZATION", "COUNTRY", "ROLE", "PLACE")
TIME_KEYS = frozenset({"YEAR", "DECADE"})
TYPES = ("EVENT", "MEMBERSHIP", "CHAIRMANSHIP")

FIRST = "aggregate_first"
MIN_COUNT = "aggregate_min_count"
"""The names of the statement's two parameters: how many groups at most, and the least count."""


def _holders() -> Any:
    """Every item's countries and their parts: participants, members, chairs and co-chairs."""
    return union_all(
        select(
            literal("EVENT", String).label("item_type"),
            participants.c.event_id.label("item_id"),
            participants.c.country_id.label("country_id"),
            participants.c.role_kind.label("role_kind"),
        ),
        select(literal("MEMBERSHIP", String), memberships.c.id, memberships.c.country_id, literal("MEMBER", String)),
        select(literal("CHAIRMANSHIP", String), chairmanships.c.id, chairmanships.c.chair_id, literal("CHAIR", String)),
        select(
            literal("CHAIRMANSHIP", String),
            co_chairs.c.chairmanship_id,
            co_chairs.c.country_id,
            literal("CO_CHAIR", String),
        ),
    ).subquery("holders")


def _padded(number: ColumnElement[Any], width: int) -> ColumnElement[Any]:
    """A positive integer as text with leading zeros, the same on both engines ("0980")."""
    text = cast(number, String)
    return case(
        *((number < 10**digits, literal("0" * (width - digits), String) + text) for digits in range(1, width)),
        else_=text,
    )


class _Keys:
    """The key and sort expressions of each key over the items and the joins they need."""

    def __init__(self, items: Any, keys: Sequence[str], binary: Any) -> None:
        self.items = items
        self.binary = binary
        self.source: Any = items
        self.holders: Any = None
        if "COUNTRY" in keys or "ROLE" in keys:
            self.holders = _holders()
            self.source = self.source.outerjoin(
                self.holders,
                and_(self.holders.c.item_type == items.c.item_type, self.holders.c.item_id == items.c.item_id),
            )
        if "COUNTRY" in keys:
            self.source = self.source.outerjoin(countries, countries.c.id == self.holders.c.country_id)
        if "ORGANIZATION" in keys:
            self.source = self.source.outerjoin(organizations, organizations.c.id == items.c.organization_id)
        if "PLACE" in keys:
            placed = events.alias("placed")
            self.source = self.source.outerjoin(
                placed, and_(items.c.item_type == "EVENT", placed.c.id == items.c.item_id)
            ).outerjoin(places, places.c.id == placed.c.place_id)

    def text(self, column: ColumnElement[Any]) -> tuple[ColumnElement[Any], list[ColumnElement[Any]]]:
        return column, [self.binary(column)]

    def of(self, key: str) -> tuple[ColumnElement[Any], list[ColumnElement[Any]]]:
        """The key's text (NULL for none) and the expressions that order it."""
        year = self.items.c.year
        if key == "YEAR":
            decade_only = self.items.c.precision == "DECADE"
            text = case(
                (decade_only, func.substr(_padded(year, 4), 1, 3) + literal("X", String)), else_=_padded(year, 4)
            )
            return text, [year, case((decade_only, 1), else_=0)]
        if key == "DECADE":
            start = year - year % 10
            return func.substr(_padded(start, 4), 1, 3) + literal("X", String), [start]
        if key == "KIND":
            return self.text(self.items.c.kind)
        if key == "TYPE":
            return self.text(self.items.c.item_type)
        if key == "ORGANIZATION":
            return self.text(organizations.c.slug)
        if key == "COUNTRY":
            return self.text(countries.c.code)
        if key == "ROLE":
            return self.text(self.holders.c.role_kind)
        if key == "PLACE":
            return self.text(places.c.name)
        raise ValueError(f"unknown aggregate key {key!r}")


def grouped(items: Any, keys: Sequence[str], *, dialect: str, first: int, min_count: int) -> Select[Any]:
    """The groups of `items` by `keys` (names of `KEYS`), as the module's docstring says, in one statement."""

    def binary(column: ColumnElement[Any]) -> ColumnElement[Any]:
        # Both engines order text by its characters: PostgreSQL's default collation would not.
        return column.collate("C") if dialect == "postgresql" else column

    built = _Keys(items, keys, binary)
    texts: list[ColumnElement[Any]] = []
    orders: list[ColumnElement[Any]] = []
    for position, key in enumerate(keys):
        text, order = built.of(key)
        texts.append(text.label(f"k{position}"))
        orders.extend(column.label(f"s{position}_{n}") for n, column in enumerate(order))
    # An item once per combination of its keys (an event with eleven invitees is one INVITEE item).
    keyed = select(items.c.item_type, items.c.item_id, items.c.year.label("item_year"), *texts, *orders).select_from(
        built.source
    )
    if built.holders is not None:
        keyed = keyed.distinct()
    rows = keyed.subquery("keyed")
    key_columns = [rows.c[f"k{position}"] for position in range(len(keys))]
    order_columns = [rows.c[column.name] for column in orders]
    ordering = [column.asc().nulls_last() for column in order_columns]
    total = func.count().label("total")
    per_type = [func.sum(case((rows.c.item_type == name, 1), else_=0)).label(name.lower()) for name in TYPES]
    return (
        select(*key_columns, total, *per_type, func.row_number().over(order_by=ordering).label("_r"))
        .group_by(*key_columns, *order_columns)
        .having(func.count() >= bindparam(MIN_COUNT, min_count, type_=Integer))
        .order_by(*ordering)
        .limit(bindparam(FIRST, first, type_=Integer))
    )
