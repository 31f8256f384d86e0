"""Filter and order inputs, and the SQL conditions they stand for (a short allow-list, on indexed columns)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.dates import DateParseError, PartialDate, parse_date
from app.schema.enums import EventKind, OrganizationKind, TenureStatus
from app.schema.errors import BadUserInput
from app.schema.listings import (
    chairmanships,
    co_chairs,
    countries,
    events,
    memberships,
    organizations,
    participants,
    statistics,
)

Conditions = list[ColumnElement[bool]]


@strawberry.enum(description="The direction of an ordering.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Ascending: A to Z, smallest first, oldest first.")
    DESC = strawberry.enum_value("DESC", description="Descending: Z to A, largest first, newest first.")


DATE_ORDER_NOTE = (
    " Partial dates sort by the first day they cover, then by the last (the shorter span first):"
    " 2019-01 < 2019 < 2019-05 < 2019-05-27; unknown dates sort after every known date."
)


def _date(value: str | None, argument: str) -> PartialDate | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except DateParseError as error:
        raise BadUserInput(f"`{argument}`: {error}", argument=argument) from None


def _like(value: str) -> str:
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def organization_ids(reference: str) -> Any:
    """The ids of organizations a slug or acronym names, case-insensitive (a subquery)."""
    value = reference.strip().lower()
    return select(organizations.c.id).where(
        or_(func.lower(organizations.c.slug) == value, func.lower(organizations.c.acronym) == value)
    )


def country_ids(code: str) -> Any:
    return select(countries.c.id).where(countries.c.code == code.strip().upper())


def span_overlaps(table: Any, start: str, end: str, since: PartialDate | None, until: PartialDate | None) -> Conditions:
    """Rows whose span [start, end] shares a day with [since, until]; an open end is open-ended."""
    conditions: Conditions = []
    start_earliest = table.c[f"{start}_earliest"]
    end_latest = func.coalesce(table.c[f"{end}_latest"], table.c[f"{start}_latest"])
    if since is not None:
        conditions.append(end_latest >= since.earliest)
    if until is not None:
        conditions.append(start_earliest <= until.latest)
    if conditions:
        conditions.append(start_earliest.is_not(None))
    return conditions


DATE_ARGUMENT = (
    ' A partial date in EDTF or the documents\' words ("2019", "2019-05", "27 May 2019", "198X");'
    " it stands for every day it covers."
)


@strawberry.input(description="Which organizations to list.")
class OrganizationFilter:
    kind: OrganizationKind | None = strawberry.field(default=None, description="Only organizations of this kind.")
    parent: str | None = strawberry.field(
        default=None, description="Only direct children of this organization (slug or acronym, any case)."
    )
    top_level: bool | None = strawberry.field(
        default=None, description="true: only organizations without a parent; false: only those with one."
    )
    name: str | None = strawberry.field(
        default=None, description="Only organizations whose name or acronym contains this text (any case)."
    )
    acronym: str | None = strawberry.field(
        default=None, description="Only the organization with this acronym (any case)."
    )

    def conditions(self) -> Conditions:
        found: Conditions = []
        if self.kind is not None:
            found.append(organizations.c.kind == self.kind.name)
        if self.parent is not None:
            found.append(organizations.c.parent_id.in_(organization_ids(self.parent)))
        if self.top_level is not None:
            column = organizations.c.parent_id
            found.append(column.is_(None) if self.top_level else column.is_not(None))
        if self.name is not None:
            pattern = _like(self.name)
            found.append(
                or_(
                    func.lower(organizations.c.name).like(pattern, escape="\\"),
                    func.lower(organizations.c.acronym).like(pattern, escape="\\"),
                )
            )
        if self.acronym is not None:
            found.append(func.lower(organizations.c.acronym) == self.acronym.strip().lower())
        return found


@strawberry.input(description="Which memberships to list.")
class MembershipFilter:
    organization: str | None = strawberry.field(
        default=None, description="Only memberships of this organization (slug or acronym, any case)."
    )
    member: str | None = strawberry.field(default=None, description="Only memberships of this country (ISO alpha-3).")
    status: TenureStatus | None = strawberry.field(default=None, description="Only memberships with this status.")
    active_on: str | None = strawberry.field(
        default=None,
        description="Only memberships that may have held on this date: begun by its end, not ended before its start."
        + DATE_ARGUMENT,
    )
    from_: str | None = strawberry.field(
        default=None,
        name="from",
        description="Only memberships whose tenure reaches this date or later." + DATE_ARGUMENT,
    )
    to: str | None = strawberry.field(
        default=None, description="Only memberships that began by this date." + DATE_ARGUMENT
    )

    def conditions(self) -> Conditions:
        found: Conditions = []
        if self.organization is not None:
            found.append(memberships.c.organization_id.in_(organization_ids(self.organization)))
        if self.member is not None:
            found.append(memberships.c.country_id.in_(country_ids(self.member)))
        if self.status is not None:
            found.append(memberships.c.status == self.status.name)
        active = _date(self.active_on, "filter.activeOn")
        if active is not None:
            found.append(or_(memberships.c.start_earliest.is_(None), memberships.c.start_earliest <= active.latest))
            found.append(or_(memberships.c.end_latest.is_(None), memberships.c.end_latest >= active.earliest))
        since, until = _date(self.from_, "filter.from"), _date(self.to, "filter.to")
        if since is not None:
            found.append(or_(memberships.c.end_latest.is_(None), memberships.c.end_latest >= since.earliest))
        if until is not None:
            found.append(and_(memberships.c.start_earliest.is_not(None), memberships.c.start_earliest <= until.latest))
        return found


@strawberry.input(description="Which chairmanships to list.")
class ChairmanshipFilter:
    organization: str | None = strawberry.field(
        default=None, description="Only chairmanships of this body (slug or acronym, any case)."
    )
    chair: str | None = strawberry.field(
        default=None, description="Only chairmanships this country held, as chair or co-chair (ISO alpha-3)."
    )
    from_: str | None = strawberry.field(
        default=None,
        name="from",
        description="Only chairmanships held on or after this date." + DATE_ARGUMENT,
    )
    to: str | None = strawberry.field(
        default=None, description="Only chairmanships begun by this date." + DATE_ARGUMENT
    )

    def conditions(self) -> Conditions:
        found: Conditions = []
        if self.organization is not None:
            found.append(chairmanships.c.organization_id.in_(organization_ids(self.organization)))
        if self.chair is not None:
            ids = country_ids(self.chair)
            found.append(
                or_(
                    chairmanships.c.chair_id.in_(ids),
                    chairmanships.c.id.in_(select(co_chairs.c.chairmanship_id).where(co_chairs.c.country_id.in_(ids))),
                )
            )
        since, until = _date(self.from_, "filter.from"), _date(self.to, "filter.to")
        found.extend(span_overlaps(chairmanships, "start", "end", since, until))
        return found


@strawberry.input(description="Which events to list.")
class EventFilter:
    kind: EventKind | None = strawberry.field(default=None, description="Only events of this kind.")
    kinds: list[EventKind] | None = strawberry.field(default=None, description="Only events of one of these kinds.")
    organization: str | None = strawberry.field(
        default=None, description="Only events of this organization (slug or acronym, any case)."
    )
    participant: str | None = strawberry.field(
        default=None, description="Only events this country took part in (ISO alpha-3)."
    )
    from_: str | None = strawberry.field(
        default=None,
        name="from",
        description="Only events whose dates reach this date or later (spans overlap)." + DATE_ARGUMENT,
    )
    to: str | None = strawberry.field(
        default=None,
        description="Only events whose dates begin by this date (spans overlap)." + DATE_ARGUMENT,
    )
    text: str | None = strawberry.field(
        default=None, description="Only events whose title or description contains this text (any case)."
    )
    symbol: str | None = strawberry.field(default=None, description="Only the event with this document symbol.")

    def conditions(self) -> Conditions:
        found: Conditions = []
        if self.kind is not None:
            found.append(events.c.kind == self.kind.name)
        if self.kinds is not None:
            found.append(events.c.kind.in_([kind.name for kind in self.kinds]))
        if self.organization is not None:
            found.append(events.c.organization_id.in_(organization_ids(self.organization)))
        if self.participant is not None:
            found.append(
                events.c.id.in_(
                    select(participants.c.event_id).where(participants.c.country_id.in_(country_ids(self.participant)))
                )
            )
        since, until = _date(self.from_, "filter.from"), _date(self.to, "filter.to")
        found.extend(span_overlaps(events, "date", "end", since, until))
        if self.text is not None:
            pattern = _like(self.text)
            found.append(
                or_(
                    func.lower(events.c.title).like(pattern, escape="\\"),
                    func.lower(events.c.description).like(pattern, escape="\\"),
                )
            )
        if self.symbol is not None:
            found.append(events.c.symbol == self.symbol.strip())
        return found


@strawberry.input(description="Which figures to list.")
class StatisticFilter:
    organization: str | None = strawberry.field(
        default=None, description="Only figures about this organization (slug or acronym, any case)."
    )
    country: str | None = strawberry.field(default=None, description="Only figures about this country (ISO alpha-3).")

    def conditions(self) -> Conditions:
        found: Conditions = []
        if self.organization is not None:
            found.append(statistics.c.organization_id.in_(organization_ids(self.organization)))
        if self.country is not None:
            found.append(statistics.c.country_id.in_(country_ids(self.country)))
        return found


@strawberry.input(description="Which countries to list.")
class CountryFilter:
    name: str | None = strawberry.field(default=None, description="Only countries whose name contains this text.")

    def conditions(self) -> Conditions:
        if self.name is None:
            return []
        return [func.lower(countries.c.name).like(_like(self.name), escape="\\")]


@strawberry.enum(description="What organization lists can be ordered by.")
class OrganizationOrderField(Enum):
    NAME = strawberry.enum_value("NAME", description="The organization's name.")
    SLUG = strawberry.enum_value("SLUG", description="The organization's slug.")


@strawberry.enum(description="What country lists can be ordered by.")
class CountryOrderField(Enum):
    NAME = strawberry.enum_value("NAME", description="The country's name.")
    CODE = strawberry.enum_value("CODE", description="The country's ISO 3166-1 alpha-3 code.")


@strawberry.enum(description="What membership lists can be ordered by." + DATE_ORDER_NOTE)
class MembershipOrderField(Enum):
    START_DATE = strawberry.enum_value("START_DATE", description="When the membership began.")
    END_DATE = strawberry.enum_value("END_DATE", description="When the membership ended.")


@strawberry.enum(description="What chairmanship lists can be ordered by." + DATE_ORDER_NOTE)
class ChairmanshipOrderField(Enum):
    START_DATE = strawberry.enum_value("START_DATE", description="When the chairmanship began.")
    SESSION = strawberry.enum_value("SESSION", description="The session's number (unnumbered last).")


@strawberry.enum(description="What event lists can be ordered by." + DATE_ORDER_NOTE)
class EventOrderField(Enum):
    DATE = strawberry.enum_value("DATE", description="When the event took place.")
    TITLE = strawberry.enum_value("TITLE", description="The event's title.")


@strawberry.enum(description="What statistic lists can be ordered by." + DATE_ORDER_NOTE)
class StatisticOrderField(Enum):
    AS_OF = strawberry.enum_value("AS_OF", description="The date the figure holds for.")
    VALUE = strawberry.enum_value("VALUE", description="The figure's value.")
    LABEL = strawberry.enum_value("LABEL", description="The figure's label.")


@strawberry.enum(description="What document lists can be ordered by.")
class DocumentOrderField(Enum):
    TITLE = strawberry.enum_value("TITLE", description="The document's title.")
    SLUG = strawberry.enum_value("SLUG", description="The document's slug.")


@strawberry.input(description="How to order organizations (default: by name, ascending).")
class OrganizationOrder:
    field: OrganizationOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Which way.")


@strawberry.input(description="How to order countries (default: by name, ascending).")
class CountryOrder:
    field: CountryOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Which way.")


@strawberry.input(description="How to order memberships (default: by start date, ascending).")
class MembershipOrder:
    field: MembershipOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Which way.")


@strawberry.input(description="How to order chairmanships (default: by start date, ascending).")
class ChairmanshipOrder:
    field: ChairmanshipOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Which way.")


@strawberry.input(description="How to order events (default: by date, ascending).")
class EventOrder:
    field: EventOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Which way.")


@strawberry.input(description="How to order statistics (default: by as-of date, ascending).")
class StatisticOrder:
    field: StatisticOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Which way.")


@strawberry.input(description="How to order documents (default: by title, ascending).")
class DocumentOrder:
    field: DocumentOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Which way.")


DEFAULT_ORDER = {
    "Organization": "NAME",
    "Country": "NAME",
    "Membership": "START_DATE",
    "Chairmanship": "START_DATE",
    "Event": "DATE",
    "Statistic": "AS_OF",
    "Document": "TITLE",
    "Mention": "POSITION",
}
