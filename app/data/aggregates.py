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


def _chair_holders() -> Any:
    """Every chairmanship's holders and their parts: the chair (CHAIR) and the co-chairs (CO_CHAIR)."""
    return union_all(
        select(
            chairmanships.c.id.label("chairmanship_id"),
            chairmanships.c.chair_id.label("country_id"),
            literal("CHAIR", String).label("role_kind"),
        ),
        select(co_chairs.c.chairmanship_id, co_chairs.c.country_id, literal("CO_CHAIR", String)),
    ).subquery("chair_holders")


def _padded(number: ColumnElement[Any], width: int) -> ColumnElement[Any]:
    """A positive integer as text with leading zeros, the same on both engines ("0980")."""
    text = cast(number, String)
    return case(
        *((number < 10**digits, literal("0" * (width - digits), String) + text) for digits in range(1, width)),
        else_=text,
    )


class _Keys:
    """What each key reads from the items (and the joins that needs), and how its text is made."""

    def __init__(self, items: Any, keys: Sequence[str]) -> None:
        self.items = items
        self.source: Any = items
        self.country_id: Any = None
        self.role: Any = None
        if "COUNTRY" in keys or "ROLE" in keys:
            # Each type's holders joined on its own key (an index each), not one union joined to the items.
            held = _chair_holders()
            self.source = (
                self.source.outerjoin(
                    participants, and_(items.c.item_type == "EVENT", participants.c.event_id == items.c.item_id)
                )
                .outerjoin(memberships, and_(items.c.item_type == "MEMBERSHIP", memberships.c.id == items.c.item_id))
                .outerjoin(held, and_(items.c.item_type == "CHAIRMANSHIP", held.c.chairmanship_id == items.c.item_id))
            )
            self.country_id = func.coalesce(participants.c.country_id, memberships.c.country_id, held.c.country_id)
            self.role = func.coalesce(
                participants.c.role_kind,
                case((memberships.c.id.is_not(None), literal("MEMBER", String))),
                held.c.role_kind,
            )
        if "COUNTRY" in keys:
            self.source = self.source.outerjoin(countries, countries.c.id == self.country_id)
        if "ORGANIZATION" in keys:
            self.source = self.source.outerjoin(organizations, organizations.c.id == items.c.organization_id)
        if "PLACE" in keys:
            placed = events.alias("placed")
            self.source = self.source.outerjoin(
                placed, and_(items.c.item_type == "EVENT", placed.c.id == items.c.item_id)
            ).outerjoin(places, places.c.id == placed.c.place_id)

    def read(self, key: str) -> list[ColumnElement[Any]]:
        """The values the key is grouped and ordered by, in order (NULL: none)."""
        year = self.items.c.year
        if key == "YEAR":
            return [year, case((self.items.c.precision == "DECADE", 1), else_=0)]
        if key == "DECADE":
            return [year - year % 10]
        column = {
            "KIND": self.items.c.kind,
            "TYPE": self.items.c.item_type,
            "ORGANIZATION": organizations.c.slug,
            "COUNTRY": countries.c.code,
            "ROLE": self.role,
            "PLACE": places.c.name,
        }.get(key)
        if column is None:
            raise ValueError(f"unknown aggregate key {key!r}")
        return [column]


def _text(key: str, values: list[ColumnElement[Any]]) -> ColumnElement[Any]:
    """A group's key as the API gives it, from the values it was grouped by: "2013", "198X", a name."""
    if key == "YEAR":
        year, decade_only = values
        return case((decade_only == 1, _decade(year)), else_=_padded(year, 4))
    if key == "DECADE":
        return _decade(values[0])
    return values[0]


def _decade(year: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.substr(_padded(year, 4), 1, 3) + literal("X", String)


def grouped(items: Any, keys: Sequence[str], *, dialect: str, first: int, min_count: int) -> Select[Any]:
    """The groups of `items` by `keys` (names of `KEYS`), as the module's docstring says, in one statement."""
    built = _Keys(items, keys)
    read = [built.read(key) for key in keys]
    labels = [[f"s{position}_{n}" for n in range(len(values))] for position, values in enumerate(read)]
    # An item once per combination of its keys (an event with eleven invitees is one INVITEE item).
    keyed = select(
        items.c.item_type,
        items.c.item_id,
        items.c.year.label("item_year"),
        *(
            value.label(label)
            for values, names in zip(read, labels, strict=True)
            for value, label in zip(values, names, strict=True)
        ),
    ).select_from(built.source)
    if built.role is not None:
        keyed = keyed.distinct()
    rows = keyed.subquery("keyed")
    grouping = [rows.c[label] for names in labels for label in names]

    def ordered(column: ColumnElement[Any]) -> Any:
        # Text by its characters on both engines: PostgreSQL's default collation would not.
        text = isinstance(column.type, String) and dialect == "postgresql"
        return (column.collate("C") if text else column).asc().nulls_last()

    ordering = [ordered(column) for column in grouping]
    texts = [
        _text(key, [rows.c[label] for label in names]).label(f"k{position}")
        for position, (key, names) in enumerate(zip(keys, labels, strict=True))
    ]
    per_type = [func.sum(case((rows.c.item_type == name, 1), else_=0)).label(name.lower()) for name in TYPES]
    return (
        select(*texts, func.count().label("total"), *per_type, func.row_number().over(order_by=ordering).label("_r"))
        .group_by(*grouping)
        .having(func.count() >= bindparam(MIN_COUNT, min_count, type_=Integer))
        .order_by(*ordering)
        .limit(bindparam(FIRST, first, type_=Integer))
    )
