"""The timeline aggregate: events, memberships and chairmanships counted by year, decade, kind or organization.

Counting happens in SQL on both engines: one UNION ALL of the three lists (each filtered exactly as
its own connection filters it), one GROUP BY over it, and, for every bucket's `items`, one statement
that numbers each bucket's items with a window function and keeps the first n of each.

Bucketing (the enum values' descriptions say it to clients too):

- An item's date is an event's `date` and a membership's or chairmanship's `startDate`.
- A recurring event is an item of every year it recurs in (from its `recurrence.since` to its
  `until`, or to the filter's `to` or this year; a biennial one every other year).
- An event that happened at another (its `occasion`: an accession at a summit) is counted with
  that event, not again: one happening, one count.
- YEAR: the date's year, for dates known to a year, month or day. A date known only to its decade
  ("the 1980's") is not put in a year it may not be in: it gets the decade's own bucket, key "198X",
  ordered just after the bucket of the decade's first year. Undated items: the bucket with key null, last.
- DECADE: the decade of the date (key "198X"), whatever its precision; undated items: key null, last.
- KIND: an event's kind; memberships and chairmanships, which have no kind, go to the buckets
  MEMBERSHIP and CHAIRMANSHIP. TYPE: EVENT, MEMBERSHIP or CHAIRMANSHIP.
- ORGANIZATION: the organization an item belongs to (key: its slug); events of none: key null.
  Date groupings come in time order; the others by count, largest first, then by key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, String, and_, case, func, literal, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from app.data.listings import chairmanships, events, memberships, organizations
from app.data.paging import page_window
from app.schema.enums import DatePrecision, EventKind
from app.schema.fields import bounded, strawberry_only_as
from app.schema.filters import DATE_ARGUMENT, ChairmanshipFilter, EventFilter, MembershipFilter, _date
from app.schema.runtime import Context, Info
from app.schema.specs import BOUND_FACTS, BOUND_GROUP_BY, BOUND_PAGE
from app.schema.types import Chairmanship, Event, Membership, Organization, load_node

TimelineItem = Annotated[
    Event | Membership | Chairmanship,
    strawberry.union("TimelineItem", description="An item of a timeline: an event, a membership or a chairmanship."),
]


@strawberry.enum(description="How a timeline groups its items into buckets.")
class TimelineGrouping(Enum):
    YEAR = strawberry.enum_value(
        "YEAR",
        description='By the year of the item\'s date (key "2013"). A date known only to its decade ("the '
        '1980\'s") goes to that decade\'s own bucket (key "198X"), never to a year it may not be in; '
        "undated items go to the bucket with a null key, last.",
    )
    DECADE = strawberry.enum_value(
        "DECADE", description='By the decade of the item\'s date (key "198X"); undated items: null key, last.'
    )
    KIND = strawberry.enum_value(
        "KIND",
        description="By an event's kind (key MEETING, SUMMIT, ...); memberships and chairmanships, which have "
        "no kind, go to the buckets MEMBERSHIP and CHAIRMANSHIP.",
    )
    TYPE = strawberry.enum_value("TYPE", description="By the item's type (key EVENT, MEMBERSHIP or CHAIRMANSHIP).")
    ORGANIZATION = strawberry.enum_value(
        "ORGANIZATION",
        description="By the organization the item belongs to (key: its slug); events of none: null key.",
    )


@strawberry.enum(description="The types of item a timeline counts.")
class TimelineItemType(Enum):
    EVENT = strawberry.enum_value(
        "EVENT",
        description="Events, placed at their date; a recurring one in every year it recurs in; one that happened "
        "at another (its `occasion`) counted with that one, not again.",
    )
    MEMBERSHIP = strawberry.enum_value("MEMBERSHIP", description="Memberships, placed at their start date.")
    CHAIRMANSHIP = strawberry.enum_value("CHAIRMANSHIP", description="Chairmanships, placed at their start date.")


ALL_TYPES = [TimelineItemType.EVENT, TimelineItemType.MEMBERSHIP, TimelineItemType.CHAIRMANSHIP]
NODE_TYPE = {"EVENT": "Event", "MEMBERSHIP": "Membership", "CHAIRMANSHIP": "Chairmanship"}


@strawberry.input(
    description="Which items a timeline counts: the filters of `events`, `memberships` and `chairmanships`, "
    "applied to each list as that list applies them, so a bucket counts what those lists would return (events "
    "with `hasOccasion: false`: one that happened at another is counted with it)."
)
class TimelineFilter:
    kinds: list[EventKind] | None = strawberry.field(
        default=None,
        description="Only events of these kinds; memberships and chairmanships have no kind, so this leaves them out.",
    )
    organization: str | None = strawberry.field(
        default=None,
        description="Only items of this organization (slug, acronym or search alias, any case): its events, memberships of it, "
        "its chairmanships.",
    )
    country: str | None = strawberry.field(
        default=None,
        description="Only items of this country (ISO alpha-3): events it took part in (`participant`), its "
        "memberships (`member`), chairmanships it held as chair or co-chair (`chair`).",
    )
    from_: str | None = strawberry.field(
        default=None,
        name="from",
        description="Only items whose dates reach this date or later, as each list's `from` filter has it."
        + DATE_ARGUMENT,
    )
    to: str | None = strawberry.field(
        default=None,
        description="Only items begun by this date, as each list's `to` filter has it." + DATE_ARGUMENT,
    )

    def event_filter(self) -> EventFilter:
        return EventFilter(
            kinds=self.kinds, organization=self.organization, participant=self.country, from_=self.from_, to=self.to
        )

    def membership_filter(self) -> MembershipFilter:
        return MembershipFilter(organization=self.organization, member=self.country, from_=self.from_, to=self.to)

    def chairmanship_filter(self) -> ChairmanshipFilter:
        return ChairmanshipFilter(organization=self.organization, chair=self.country, from_=self.from_, to=self.to)


def _branch(item_type: str, table: Any, prefix: str, kind: ColumnElement[Any], conditions: list[Any]) -> Select[Any]:
    return select(
        literal(item_type, String).label("item_type"),
        table.c.id.label("item_id"),
        kind.label("kind"),
        table.c.organization_id.label("organization_id"),
        table.c[f"{prefix}_year"].label("year"),
        table.c[f"{prefix}_precision"].label("precision"),
        table.c[f"{prefix}_earliest"].label("earliest"),
        table.c[f"{prefix}_latest"].label("latest"),
    ).where(*conditions)


def _occurrences(given: TimelineFilter) -> Select[Any]:
    """A recurring event once in each year it recurs in, within the filter's years: from its
    `since` to its `until` (open-ended: to its newest source's `published` year, else to the
    filter's `to`, else this year), a biennial one every
    other year. Each occurrence is an item of its year, ordered inside its bucket by the event's
    `date` (its first occurrence), as the lists order it."""
    since, until = _date(given.from_, "filter.from"), _date(given.to, "filter.to")
    last = until.latest.year if until is not None else dt.date.today().year
    first: Any = literal(since.earliest.year) if since is not None else select(func.min(events.c.since_year))
    years = select(first.label("y") if since is not None else first.scalar_subquery().label("y")).cte(
        "years", recursive=True
    )
    years = years.union_all(select((years.c.y + 1).label("y")).where(years.c.y < last))
    undated_filter = TimelineFilter(kinds=given.kinds, organization=given.organization, country=given.country)
    occurs = and_(
        years.c.y >= events.c.since_year,
        years.c.y <= func.coalesce(events.c.until_year, events.c.sources_until_year, last),
        or_(events.c.recurrence != "BIENNIAL", (years.c.y - events.c.since_year) % 2 == 0),
    )
    return (
        select(
            literal("EVENT", String).label("item_type"),
            events.c.id.label("item_id"),
            events.c.kind.label("kind"),
            events.c.organization_id.label("organization_id"),
            years.c.y.label("year"),
            literal("YEAR", String).label("precision"),
            events.c.date_earliest.label("earliest"),
            events.c.date_latest.label("latest"),
        )
        .select_from(events.join(years, occurs))
        .where(
            events.c.recurrence.is_not(None),
            events.c.occasion_id.is_(None),
            *undated_filter.event_filter().conditions(),
        )
    )


def timeline_items(of: list[TimelineItemType], filter: TimelineFilter | None, *, recurrences: bool = True) -> Any:
    """The items a timeline counts, as one subquery (one UNION ALL of the lists, each filtered as it
    filters itself): a recurring event once in each year it recurs in, or, with `recurrences`
    false, once, as the `events` list has it."""
    wanted = set(of)
    given = filter or TimelineFilter()
    branches = []
    if TimelineItemType.EVENT in wanted:
        # An event that happened at another (its `occasion`) is counted with it, not again.
        conditions = [*given.event_filter().conditions(), events.c.occasion_id.is_(None)]
        if recurrences:
            conditions.append(events.c.recurrence.is_(None))
        branches.append(_branch("EVENT", events, "date", events.c.kind, conditions))
        if recurrences:
            branches.append(_occurrences(given))
    if given.kinds is None and TimelineItemType.MEMBERSHIP in wanted:
        conditions = given.membership_filter().conditions()
        branches.append(_branch("MEMBERSHIP", memberships, "start", literal("MEMBERSHIP", String), conditions))
    if given.kinds is None and TimelineItemType.CHAIRMANSHIP in wanted:
        conditions = given.chairmanship_filter().conditions()
        branches.append(_branch("CHAIRMANSHIP", chairmanships, "start", literal("CHAIRMANSHIP", String), conditions))
    if not branches:  # nothing asked for: an empty list of the same shape
        branches.append(_branch("EVENT", events, "date", events.c.kind, [events.c.id.is_(None)]))
    return union_all(*branches).subquery("items")


@dataclass(frozen=True)
class TimelinePlan:
    """The statements of one timeline: its items with their bucket keys, grouped or ranked."""

    group_by: TimelineGrouping
    keyed: Any  # subquery: every item with its bucket key columns k0 (and k1 for YEAR)
    identity: tuple[Any, ...]

    @classmethod
    def build(
        cls, group_by: TimelineGrouping, of: list[TimelineItemType], filter: TimelineFilter | None
    ) -> TimelinePlan:
        items = timeline_items(of, filter)
        keyed = select(items, *_keys(group_by, items)).subquery("keyed")
        identity = (group_by, tuple(sorted(item.name for item in set(of))), repr(filter))
        return cls(group_by, keyed, identity)

    @property
    def key_columns(self) -> list[Any]:
        return [self.keyed.c.k0, self.keyed.c.k1] if self.group_by is TimelineGrouping.YEAR else [self.keyed.c.k0]

    def grouped(self) -> Select[Any]:
        """One row per bucket: its key columns, its count, and its count of each type."""
        keyed = self.keyed
        per_type = [
            func.sum(case((keyed.c.item_type == name, 1), else_=0)).label(name.lower())
            for name in ("EVENT", "MEMBERSHIP", "CHAIRMANSHIP")
        ]
        statement = select(*self.key_columns, func.count().label("total"), *per_type).group_by(*self.key_columns)
        if self.group_by is not TimelineGrouping.ORGANIZATION:
            return statement
        counted = statement.subquery("counted")
        return select(counted, organizations.c.slug, organizations.c.name).select_from(
            counted.outerjoin(organizations, organizations.c.id == counted.c.k0)
        )

    def ranked(self, size: int) -> Select[Any]:
        """The first `size` items of every bucket, oldest first (undated last), in one statement."""
        keyed = self.keyed
        number = func.row_number().over(
            partition_by=self.key_columns,
            order_by=[
                keyed.c.earliest.asc().nulls_last(),
                keyed.c.latest.asc().nulls_last(),
                keyed.c.item_type,
                keyed.c.item_id,
            ],
        )
        ranked = select(*self.key_columns, keyed.c.item_type, keyed.c.item_id, number.label("position")).subquery()
        return select(ranked).where(ranked.c.position <= size).order_by(ranked.c.position)


def _keys(group_by: TimelineGrouping, items: Any) -> list[ColumnElement[Any]]:
    if group_by is TimelineGrouping.YEAR:
        decade_only = case((items.c.precision == "DECADE", 1), else_=0)
        return [items.c.year.label("k0"), decade_only.label("k1")]
    if group_by is TimelineGrouping.DECADE:
        return [(items.c.year - items.c.year % 10).label("k0")]
    if group_by is TimelineGrouping.KIND:
        return [items.c.kind.label("k0")]
    if group_by is TimelineGrouping.TYPE:
        return [items.c.item_type.label("k0")]
    return [items.c.organization_id.label("k0")]


@strawberry.type(description="A bucket of a timeline: the items sharing a year, decade, kind, type or organization.")
class TimelineBucket:
    key: str | None = strawberry.field(
        description='The bucket\'s key: "2013" or "198X" (EDTF), an EventKind name, a type, an organization\'s '
        "slug; null for undated items (YEAR, DECADE) or items of no organization (ORGANIZATION)."
    )
    label: str = strawberry.field(description='The key for people: "2013", "the 1980s", "Meeting", "Undated".')
    count: int = strawberry.field(description="How many items the bucket has (all of them, not only `items`).")
    events: int = strawberry.field(description="How many of them are events.")
    memberships: int = strawberry.field(description="How many of them are memberships.")
    chairmanships: int = strawberry.field(description="How many of them are chairmanships.")
    precision: DatePrecision | None = strawberry.field(
        description="For a dated bucket of YEAR or DECADE: YEAR or DECADE, the span the bucket covers."
    )
    earliest: dt.date | None = strawberry.field(description="For a dated bucket: the first day it covers.")
    latest: dt.date | None = strawberry.field(description="For a dated bucket: the last day it covers.")
    group: strawberry.Private[tuple[Any, ...]]
    organization_id: strawberry.Private[int | None]
    plan: strawberry.Private[TimelinePlan]

    @strawberry.field(description="For ORGANIZATION: the organization (null for the bucket of items of none).")
    async def organization(self, info: Info) -> Organization | None:
        if self.organization_id is None:
            return None
        return await load_node(info, "Organization", self.organization_id)

    @bounded(lambda arguments: items_bound(arguments))
    @strawberry.field(
        description="The bucket's first items, oldest first (undated last); `count` says how many it has. Every "
        "bucket's items are read in one statement."
    )
    async def items(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="How many items (1 to 100; 20 when not given).")
        ] = None,
    ) -> list[TimelineItem]:
        ctx: Context = info.context
        size = page_window(
            first=first,
            after=None,
            last=None,
            before=None,
            tag="",
            keys=[],
            default_size=ctx.settings.default_page_size,
            max_size=ctx.settings.max_page_size,
        ).size
        plan = self.plan
        width = len(plan.key_columns)

        async def load(groups: Sequence[tuple[Any, ...]]) -> list[list[tuple[str, int]]]:
            found: dict[tuple[Any, ...], list[tuple[str, int]]] = {group: [] for group in groups}
            for row in await ctx.db.all(plan.ranked(size)):
                group = tuple(row[:width])
                if group in found:
                    found[group].append((row.item_type, row.item_id))
            return [found[group] for group in groups]

        listed = await ctx.loader(("timeline.items", plan.identity, size), load).load(self.group)
        return list(await asyncio.gather(*(load_node(info, NODE_TYPE[kind], pk) for kind, pk in listed)))


@strawberry.type(description="Items counted by bucket, for charts: the counts come from SQL, never from a page.")
class Timeline:
    group_by: TimelineGrouping = strawberry.field(description="How the items are grouped.")
    buckets: list[TimelineBucket] = bounded(lambda arguments: buckets_bound(arguments))(
        strawberry.field(
            description="The buckets that have items: by time for YEAR and DECADE (undated last), else largest first."
        )
    )

    @strawberry.field(description="How many items the timeline counts in all buckets together.")
    def total_count(self) -> int:
        return sum(bucket.count for bucket in self.buckets)


# -- what a timeline can hold, for its cost ---------------------------------------------------------

MOST_BUCKETS = 1_000
"""What `buckets` counts when the data's own numbers are not known (a bound, not a limit: never cut)."""


@dataclass(frozen=True)
class TimelineFacts:
    """Every bucket's count in the whole timeline (all types, no filter), per grouping, read once per data version.

    A filter or `of` only takes items away, so these bound any timeline's buckets and items: the cost
    walk counts `buckets` and `items(first:)` by them, and a timeline that can answer thousands of
    objects costs thousands of points (and takes a heavy slot) however it is written.
    """

    counts: dict[str, tuple[int, ...]]  # grouping's name -> its buckets' counts, largest first

    def buckets(self, grouping: str) -> int:
        return len(self.counts.get(grouping, ())) or 1

    def items(self, grouping: str, page: int) -> int:
        """Items per bucket, on average over the buckets: (their total, each at most `page`) / buckets."""
        counts = self.counts.get(grouping, ())
        if not counts:
            return 1
        return max(1, math.ceil(sum(min(page, count) for count in counts) / len(counts)))


async def timeline_facts(db: Any) -> TimelineFacts:
    """The facts of the whole timeline: one grouped statement per grouping."""
    counts: dict[str, tuple[int, ...]] = {}
    for grouping in TimelineGrouping:
        rows = await db.all(TimelinePlan.build(grouping, ALL_TYPES, None).grouped())
        counts[grouping.name] = tuple(sorted((int(row.total) for row in rows), reverse=True))
    return TimelineFacts(counts)


def buckets_bound(arguments: dict[str, Any]) -> int:
    """`Timeline.buckets`: as many as the whole timeline has for its grouping."""
    facts, grouping = arguments.get(BOUND_FACTS), arguments.get(BOUND_GROUP_BY)
    if isinstance(grouping, str) and grouping in ("TYPE", "KIND"):
        fixed = len(TimelineItemType) if grouping == "TYPE" else len(EventKind) + 2
        return min(fixed, facts.buckets(grouping)) if isinstance(facts, TimelineFacts) else fixed
    if isinstance(facts, TimelineFacts) and isinstance(grouping, str):
        return facts.buckets(grouping)
    return MOST_BUCKETS


def items_bound(arguments: dict[str, Any]) -> int:
    """`TimelineBucket.items(first:)`: its page, and no more than the buckets hold (on average per bucket)."""
    page = arguments.get(BOUND_PAGE)
    page = page if isinstance(page, int) and page > 0 else 1
    facts, grouping = arguments.get(BOUND_FACTS), arguments.get(BOUND_GROUP_BY)
    if isinstance(facts, TimelineFacts) and isinstance(grouping, str):
        return min(page, facts.items(grouping, page))
    return page


def _bucket(plan: TimelinePlan, row: Any) -> TimelineBucket:
    group_by = plan.group_by
    k0 = row.k0
    group = (k0, row.k1) if group_by is TimelineGrouping.YEAR else (k0,)
    key: str | None
    label: str
    precision = earliest = latest = None
    organization_id = None
    if group_by in (TimelineGrouping.YEAR, TimelineGrouping.DECADE):
        if k0 is None:
            key, label = None, "Undated"
        elif group_by is TimelineGrouping.YEAR and not row.k1:
            key, label = f"{k0:04d}", str(k0)
            precision, earliest, latest = DatePrecision.YEAR, dt.date(k0, 1, 1), dt.date(k0, 12, 31)
        else:
            key, label = f"{k0 // 10:03d}X", f"the {k0}s"
            precision, earliest, latest = DatePrecision.DECADE, dt.date(k0, 1, 1), dt.date(k0 + 9, 12, 31)
    elif group_by is TimelineGrouping.ORGANIZATION:
        key, label, organization_id = row.slug, row.name or "No organization", k0
    else:
        key, label = k0, str(k0).replace("_", " ").capitalize()
    return TimelineBucket(
        key=key,
        label=label,
        count=int(row.total),
        events=int(row.event),
        memberships=int(row.membership),
        chairmanships=int(row.chairmanship),
        precision=precision,
        earliest=earliest,
        latest=latest,
        group=group,
        organization_id=organization_id,
        plan=plan,
    )


def _order(group_by: TimelineGrouping, bucket: TimelineBucket) -> tuple[Any, ...]:
    if group_by in (TimelineGrouping.YEAR, TimelineGrouping.DECADE):
        first_year = bucket.group[0]
        return (first_year is None, first_year or 0, bucket.group[1:])
    return (-bucket.count, bucket.key is None, bucket.key or "")


@strawberry.type
class TimelineQueries:
    @strawberry_only_as("the timeline aggregates in SQL of its own (this module)")
    @strawberry.field(
        description="Events, memberships and chairmanships counted by year, decade, kind, type or organization, "
        "with the lists' filters, for charts. Mongolia's engagements by year: "
        '`timeline(groupBy: YEAR, filter: {country: "MNG"}) { buckets { key count items(first: 5) { __typename } } }`.'
    )
    async def timeline(
        self,
        info: Info,
        group_by: Annotated[TimelineGrouping, strawberry.argument(description="How to group the items.")],
        of: Annotated[
            list[TimelineItemType] | None,
            strawberry.argument(description="Which types of item to count (default: all three)."),
        ] = None,
        filter: Annotated[TimelineFilter | None, strawberry.argument(description="Which items to count.")] = None,
    ) -> Timeline:
        ctx: Context = info.context
        plan = TimelinePlan.build(group_by, ALL_TYPES if of is None else of, filter)
        buckets = [_bucket(plan, row) for row in await ctx.db.all(plan.grouped())]
        buckets.sort(key=lambda bucket: _order(group_by, bucket))
        return Timeline(group_by=group_by, buckets=buckets)
