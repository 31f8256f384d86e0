"""Orderings, each declared once per entity: its fields (name, description, sort keys) and its default.

A declaration generates the GraphQL order enum (`<Entity>OrderField`) and input (`<Entity>Order`)
and gives both execution paths their keyset sort keys (`ordering()` in `app.schema.fields`, which
Strawberry's resolvers and the compiler call). A new ordering field is one `By(...)` line below; a
new ordering, one `declare(...)`. The sort keys are built by the key makers of
`app.data.listings` (`date_order`, `text_order`, `number_order`) or by a function of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import Table

from app.data.listings import (
    chairmanships,
    countries,
    date_order,
    documents,
    events,
    memberships,
    mentions,
    number_order,
    organizations,
    statistics,
    text_order,
)
from app.data.paging import SortKey

Keys = Callable[[Table, bool], list[SortKey]]


@strawberry.enum(description="The direction of an ordering.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Ascending: A to Z, smallest first, oldest first.")
    DESC = strawberry.enum_value("DESC", description="Descending: Z to A, largest first, newest first.")


DATE_ORDER_NOTE = (
    " Partial dates sort by the first day they cover, then by the last (the shorter span first):"
    " 2019-01 < 2019 < 2019-05 < 2019-05-27; unknown dates sort after every known date."
)


@dataclass(frozen=True)
class By:
    """One ordering field: its enum member's name and description, and its sort keys for a direction."""

    name: str
    description: str
    keys: Keys
    dated: bool = False  # a partial date: the enum's description explains how those sort


def by_date(name: str, prefix: str, description: str) -> By:
    """A partial date's columns `<prefix>_earliest`, `<prefix>_latest`, then id; unknown dates last."""
    return By(name, description, lambda table, d: date_order(table, prefix, d), dated=True)


def by_text(name: str, column: str, description: str) -> By:
    return By(name, description, lambda table, d: text_order(table, column, d))


def by_number(name: str, column: str, description: str, python_type: type = int) -> By:
    return By(name, description, lambda table, d: number_order(table, column, d, python_type))


@dataclass(frozen=True)
class Ordering:
    """An entity's ordering: its table, its fields, and its default (the first field, ascending)."""

    entity: str
    table: Table
    fields: tuple[By, ...]
    default_words: str = ""  # the default in words, for the input's description ("by start date")
    plural: str = ""  # "organizations"; with `default_words`, the GraphQL input is generated
    enum: Any = field(default=None, compare=False)
    input: Any = field(default=None, compare=False)

    @property
    def default(self) -> str:
        return self.fields[0].name

    def keys(self, name: str, descending: bool) -> list[SortKey]:
        return next(by for by in self.fields if by.name == name).keys(self.table, descending)


ORDERINGS: dict[str, Ordering] = {}


def declare(entity: str, table: Table, *fields: By, plural: str = "", default_words: str = "") -> Any:
    """Register an entity's ordering; with `plural`, make and return its GraphQL enum and input."""
    ordering = Ordering(entity, table, fields, default_words, plural)
    if plural:
        note = DATE_ORDER_NOTE if any(by.dated for by in fields) else ""
        members = {by.name: strawberry.enum_value(by.name, description=by.description) for by in fields}
        enum_type: Any = Enum(f"{entity}OrderField", members)  # type: ignore[misc]
        enum = strawberry.enum(enum_type, description=f"What {entity.lower()} lists can be ordered by.{note}")
        namespace = {
            "__annotations__": {"field": enum, "direction": OrderDirection},
            "field": strawberry.field(description="What to order by."),
            "direction": strawberry.field(default=OrderDirection.ASC, description="Which way."),
        }
        order = strawberry.input(
            type(f"{entity}Order", (), namespace),
            description=f"How to order {plural} (default: by {default_words}, ascending).",
        )
        ordering = Ordering(entity, table, fields, default_words, plural, enum, order)
    ORDERINGS[entity] = ordering
    return ordering.input


OrganizationOrder = declare(
    "Organization",
    organizations,
    by_text("NAME", "name", "The organization's name."),
    by_text("SLUG", "slug", "The organization's slug."),
    plural="organizations",
    default_words="name",
)
CountryOrder = declare(
    "Country",
    countries,
    by_text("NAME", "name", "The country's name."),
    by_text("CODE", "code", "The country's ISO 3166-1 alpha-3 code."),
    plural="countries",
    default_words="name",
)
MembershipOrder = declare(
    "Membership",
    memberships,
    by_date("START_DATE", "start", "When the membership began."),
    by_date("END_DATE", "end", "When the membership ended."),
    plural="memberships",
    default_words="start date",
)
ChairmanshipOrder = declare(
    "Chairmanship",
    chairmanships,
    by_date("START_DATE", "start", "When the chairmanship began."),
    by_number("SESSION", "session", "The session's number (unnumbered last)."),
    plural="chairmanships",
    default_words="start date",
)
EventOrder = declare(
    "Event",
    events,
    by_date("DATE", "date", "When the event took place."),
    by_text("TITLE", "title", "The event's title."),
    plural="events",
    default_words="date",
)
StatisticOrder = declare(
    "Statistic",
    statistics,
    by_date("AS_OF", "as_of", "The date the figure holds for."),
    by_number("VALUE", "value", "The figure's value.", float),
    by_text("LABEL", "label", "The figure's label."),
    plural="statistics",
    default_words="as-of date",
)
DocumentOrder = declare(
    "Document",
    documents,
    by_text("TITLE", "title", "The document's title."),
    by_text("SLUG", "slug", "The document's slug."),
    plural="documents",
    default_words="title",
)
# Mentions have one order, in reading order, and no GraphQL input.
declare(
    "Mention",
    mentions,
    By(
        "POSITION",
        "Where in its document.",
        lambda table, d: [SortKey(table.c.document_id, d), SortKey(table.c.start, d), SortKey(table.c.id, d)],
    ),
)

for _name, _order in list(globals().items()):  # each input is bound to the name GraphQL knows it by
    assert not _name.endswith("Order") or _order is ORDERINGS[_name.removesuffix("Order")].input, _name


def ordering(entity: str, order_by: Any) -> tuple[str, list[SortKey]]:
    """The cursor tag and sort keys of a listing's ordering (its default when `order_by` is None)."""
    name = order_by.field.name if order_by is not None else ORDERINGS[entity].default
    descending = order_by is not None and order_by.direction is OrderDirection.DESC
    tag = f"{entity}:{name}:{'DESC' if descending else 'ASC'}"
    return tag, ORDERINGS[entity].keys(name, descending)
