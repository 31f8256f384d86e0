"""Filter and order inputs, and the SQL conditions they stand for (a short allow-list, on indexed columns)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from sqlalchemy import Date, and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.data.listings import (
    chairmanships,
    co_chairs,
    countries,
    events,
    memberships,
    organization_named,
    organizations,
    participants,
    places,
    statistics,
)
from app.dates import DateParseError, PartialDate, parse_date
from app.errors import BadUserInput
from app.schema import orderings
from app.schema.enums import EventKind, OrganizationKind, ParticipantRole, TenureStatus

if TYPE_CHECKING:
    from app.schema.runtime import Context

Conditions = list[ColumnElement[bool]]


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


def _listed(column: Any, value: str) -> Any:
    """Whether a bar-separated list of casefolded names ("|ulan bator|ulaan baatar|") has `value`."""
    escaped = value.strip().casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%|{escaped}|%", escape="\\")


def organization_ids(reference: str) -> Any:
    """The ids of organizations a slug or acronym names, case-insensitive, or one of the curator's
    search aliases ("UNESCAP") (a subquery)."""
    return select(organizations.c.id).where(
        or_(organization_named(reference.strip().lower()), _listed(organizations.c.search_names, reference))
    )


def country_ids(code: str) -> Any:
    return select(countries.c.id).where(countries.c.code == code.strip().upper())


def organizations_within(reference: str) -> Any:
    """The ids of the organization a slug or acronym names and of every body under it, at any depth.

    A recursive subquery over the parent index; seeding refuses parent cycles, so it ends.
    """
    top = organization_ids(reference).cte("within_tree", recursive=True)
    tree = top.union_all(select(organizations.c.id).where(organizations.c.parent_id == top.c.id))
    return select(tree.c.id)


def place_ids(value: str) -> Any:
    """The ids of the places a name (any case) or one of the curator's search aliases ("Ulan Bator")
    names, or of every place in a country (code or name)."""
    text = value.strip()
    in_country = select(countries.c.id).where(
        or_(countries.c.code == text.upper(), func.lower(countries.c.name) == text.lower())
    )
    return select(places.c.id).where(
        or_(
            places.c.folded == text.casefold(),
            _listed(places.c.search_names, text),
            places.c.country_id.in_(in_country),
        )
    )


WITHIN = (
    " (slug, acronym or search alias, any case) or to any body under it, at any depth: within the UN are the General Assembly,"
    " ESCAP and the Human Rights Council (under the General Assembly). An unknown name is an error."
)


async def check_within(ctx: Context, value: str | None, argument: str) -> None:
    """BadUserInput unless `value` names an organization (batched per request, one statement)."""
    if value is None:
        return
    key = value.strip().lower()

    async def load(keys: Sequence[str]) -> list[bool]:
        statement = select(
            organizations.c.slug, func.lower(organizations.c.acronym).label("acronym"), organizations.c.search_names
        ).where(
            or_(
                organizations.c.slug.in_(list(keys)),
                func.lower(organizations.c.acronym).in_(list(keys)),
                *(_listed(organizations.c.search_names, key) for key in keys),
            )
        )
        rows = await ctx.db.all(statement)
        found = {name for row in rows for name in (row.slug, row.acronym) if name}
        listed = "".join(row.search_names for row in rows)
        return [name in found or f"|{name.casefold()}|" in listed for name in keys]

    if not await ctx.loader("filter.within", load).load(key):
        raise BadUserInput(
            f"`{argument}`: no organization has the slug or acronym {value!r}; "
            "`organizations(filter: {name: ...})` lists the slugs",
            argument=argument,
        )


FAR_FUTURE = dt.date(9999, 12, 31)


def recurrence_overlaps(since: PartialDate | None, until: PartialDate | None) -> Conditions:
    """Recurring events with an occurrence in [since, until]: every period from their `since` to
    their `until` (open-ended: ongoing as of their newest source, so projected to the end of that
    source's `published` date and no further; to any date when a source is undated), a biennial one
    only every other year from `since`."""
    conditions: Conditions = [events.c.recurrence.is_not(None)]
    if until is not None:
        conditions.append(events.c.since_earliest <= until.latest)
    if since is not None:
        ends = func.coalesce(events.c.until_latest, events.c.sources_until, literal(FAR_FUTURE, Date))
        conditions.append(ends >= since.earliest)
    first, last = events.c.since_year, func.coalesce(events.c.until_year, events.c.sources_until_year, 9999)
    low = first if since is None else case((first > since.earliest.year, first), else_=since.earliest.year)
    high = last if until is None else case((last < until.latest.year, last), else_=until.latest.year)
    conditions.append(or_(events.c.recurrence != "BIENNIAL", high - low >= 1, (low - first) % 2 == 0))
    return conditions


def event_dates(since: PartialDate | None, until: PartialDate | None) -> Conditions:
    """Events whose dates overlap [since, until]: a one-off event's span, or a recurring event's occurrences."""
    if since is None and until is None:
        return []
    once = and_(events.c.recurrence.is_(None), *span_overlaps(events, "date", "end", since, until, open_end=True))
    return [or_(once, and_(*recurrence_overlaps(since, until)))]


def span_overlaps(
    table: Any, start: str, end: str, since: PartialDate | None, until: PartialDate | None, *, open_end: bool = False
) -> Conditions:
    """Rows whose span [start, end] shares a day with [since, until]; an open end is open-ended.
    With `open_end` (events), an `ongoing` row with no end spans to its sources' date (`sources_until`)."""
    conditions: Conditions = []
    start_earliest = table.c[f"{start}_earliest"]
    own_end: Any = table.c[f"{start}_latest"]
    if open_end:
        reach = func.coalesce(table.c.sources_until, literal(FAR_FUTURE, Date))
        own_end = case((table.c.ongoing, reach), else_=own_end)
    end_latest = func.coalesce(table.c[f"{end}_latest"], own_end)
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
        default=None, description="Only direct children of this organization (slug, acronym or search alias, any case)."
    )
    top_level: bool | None = strawberry.field(
        default=None, description="true: only organizations without a parent; false: only those with one."
    )
    name: str | None = strawberry.field(
        default=None,
        description="Only organizations whose name, acronym or one of the curator's search aliases contains this "
        "text (any case).",
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
                    organizations.c.search_names.like(pattern, escape="\\"),
                )
            )
        if self.acronym is not None:
            found.append(func.lower(organizations.c.acronym) == self.acronym.strip().lower())
        return found


@strawberry.input(description="Which memberships to list.")
class MembershipFilter:
    organization: str | None = strawberry.field(
        default=None, description="Only memberships of this organization (slug, acronym or search alias, any case)."
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
    within: str | None = strawberry.field(default=None, description="Only memberships of this organization" + WITHIN)

    async def check(self, ctx: Context) -> None:
        await check_within(ctx, self.within, "filter.within")

    def conditions(self) -> Conditions:
        found: Conditions = []
        if self.organization is not None:
            found.append(memberships.c.organization_id.in_(organization_ids(self.organization)))
        if self.within is not None:
            found.append(memberships.c.organization_id.in_(organizations_within(self.within)))
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
        default=None, description="Only chairmanships of this body (slug, acronym or search alias, any case)."
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
    active_on: str | None = strawberry.field(
        default=None,
        description="Only chairmanships that may have been held on this date: begun by its end, not ended before "
        "its start; one without an end date counts as still held, as a membership without one does." + DATE_ARGUMENT,
    )
    within: str | None = strawberry.field(default=None, description="Only chairmanships of this body" + WITHIN)

    async def check(self, ctx: Context) -> None:
        await check_within(ctx, self.within, "filter.within")

    def conditions(self) -> Conditions:
        found: Conditions = []
        if self.organization is not None:
            found.append(chairmanships.c.organization_id.in_(organization_ids(self.organization)))
        if self.within is not None:
            found.append(chairmanships.c.organization_id.in_(organizations_within(self.within)))
        active = _date(self.active_on, "filter.activeOn")
        if active is not None:
            found.append(or_(chairmanships.c.start_earliest.is_(None), chairmanships.c.start_earliest <= active.latest))
            found.append(or_(chairmanships.c.end_latest.is_(None), chairmanships.c.end_latest >= active.earliest))
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
        default=None, description="Only events of this organization (slug, acronym or search alias, any case)."
    )
    participant: str | None = strawberry.field(
        default=None, description="Only events this country took part in (ISO alpha-3)."
    )
    participant_role: ParticipantRole | None = strawberry.field(
        default=None,
        description="Only events a country took part in with this role kind; with `participant` (or in a country's "
        '`events`), that country: `{participant: "MNG", participantRole: HOST}` are the events Mongolia hosted.',
    )
    place: str | None = strawberry.field(
        default=None,
        description='Only events at this place: a place name as the documents give it, any case ("Ulaanbaatar"), '
        'or one of the curator\'s search aliases ("Ulan Bator"), '
        'or a country, by ISO alpha-3 code or name ("MNG", "Mongolia"): every place in it.',
    )
    within: str | None = strawberry.field(default=None, description="Only events of this organization" + WITHIN)
    has_occasion: bool | None = strawberry.field(
        default=None,
        description="true: only events that happened at another event (their `occasion`: an accession at a summit); "
        "false: only the others, each happening once (what `timeline` counts).",
    )
    from_: str | None = strawberry.field(
        default=None,
        name="from",
        description="Only events whose dates reach this date or later (spans overlap); a recurring event matches "
        "while it recurs (every period from its `recurrence.since` to its `until`, open-ended if none; a biennial "
        "one every other year)." + DATE_ARGUMENT,
    )
    to: str | None = strawberry.field(
        default=None,
        description="Only events whose dates begin by this date (spans overlap); a recurring event matches from "
        "its `recurrence.since` on." + DATE_ARGUMENT,
    )
    text: str | None = strawberry.field(
        default=None, description="Only events whose title or description contains this text (any case)."
    )
    symbol: str | None = strawberry.field(default=None, description="Only the event with this document symbol.")

    async def check(self, ctx: Context) -> None:
        await check_within(ctx, self.within, "filter.within")

    def conditions(self, participation: Any = None) -> Conditions:
        """The SQL of the filter; `participation` is the participants table a country's events join."""
        found: Conditions = []
        if self.kind is not None:
            found.append(events.c.kind == self.kind.name)
        if self.kinds is not None:
            found.append(events.c.kind.in_([kind.name for kind in self.kinds]))
        if self.organization is not None:
            found.append(events.c.organization_id.in_(organization_ids(self.organization)))
        if self.participant is not None or (self.participant_role is not None and participation is None):
            links = select(participants.c.event_id)
            if self.participant is not None:
                links = links.where(participants.c.country_id.in_(country_ids(self.participant)))
            if self.participant_role is not None:
                links = links.where(participants.c.role_kind == self.participant_role.name)
            found.append(events.c.id.in_(links))
        if self.participant_role is not None and participation is not None:
            # A country's events: the role is that country's, on the participation its list joins.
            found.append(participation.c.role_kind == self.participant_role.name)
        if self.place is not None:
            found.append(events.c.place_id.in_(place_ids(self.place)))
        if self.within is not None:
            found.append(events.c.organization_id.in_(organizations_within(self.within)))
        if self.has_occasion is not None:
            column = events.c.occasion_id
            found.append(column.is_not(None) if self.has_occasion else column.is_(None))
        since, until = _date(self.from_, "filter.from"), _date(self.to, "filter.to")
        found.extend(event_dates(since, until))
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
        default=None, description="Only figures about this organization (slug, acronym or search alias, any case)."
    )
    country: str | None = strawberry.field(default=None, description="Only figures about this country (ISO alpha-3).")
    within: str | None = strawberry.field(default=None, description="Only figures about this organization" + WITHIN)

    async def check(self, ctx: Context) -> None:
        await check_within(ctx, self.within, "filter.within")

    def conditions(self) -> Conditions:
        found: Conditions = []
        if self.organization is not None:
            found.append(statistics.c.organization_id.in_(organization_ids(self.organization)))
        if self.within is not None:
            found.append(statistics.c.organization_id.in_(organizations_within(self.within)))
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


@strawberry.input(description="Which of an event's participants to list.")
class EventParticipantFilter:
    name: str | None = strawberry.field(default=None, description="Only countries whose name contains this text.")
    role_kind: ParticipantRole | None = strawberry.field(
        default=None, description="Only the countries that took part with this role kind (HOST, INVITEE, ...)."
    )

    def conditions(self) -> Conditions:
        found: Conditions = []
        if self.name is not None:
            found.append(func.lower(countries.c.name).like(_like(self.name), escape="\\"))
        if self.role_kind is not None:
            found.append(participants.c.role_kind == self.role_kind.name)
        return found


# The order inputs, declared with their sort keys in app/schema/orderings.py, beside the filters.
OrganizationOrder = orderings.OrganizationOrder
CountryOrder = orderings.CountryOrder
MembershipOrder = orderings.MembershipOrder
ChairmanshipOrder = orderings.ChairmanshipOrder
EventOrder = orderings.EventOrder
StatisticOrder = orderings.StatisticOrder
DocumentOrder = orderings.DocumentOrder
