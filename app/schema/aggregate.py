"""`Query.aggregate`: the items `timeline` counts, grouped by one to three keys, in ONE statement.

The statement is app/data/aggregates.py's, over the timeline's items (app/schema/timeline.py):
Strawberry's resolver runs it, and the compiler (app/execution/compiler.py) wraps the same
statement into the answer's JSON. A recurring event counts in each period it recurs in: with
YEAR or DECADE among the keys it is an item of every year it recurs in, as in `timeline` (a
decade then counts each year's occurrence); without a time key it is one item, as in the lists,
so that a group by COUNTRY counts what `events(filter: {participant: ...})` returns.

Its cost is its groups: at most `first` (MAX_GROUPS when not given), fewer when every key has few
values (TYPE, KIND, ROLE); `groups_bound` is the field's declared bound, read by the cost walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from app.data import aggregates
from app.errors import BadUserInput, InvalidPageSize, PageSizeExceeded
from app.schema.enums import EventKind, ParticipantRole
from app.schema.fields import bounded, compiled_as, structural
from app.schema.runtime import Context, Info
from app.schema.timeline import ALL_TYPES, TimelineFilter, TimelineItemType, timeline_items

MAX_GROUPS = 1_000
"""Most groups one answer holds (and how many when `first` is not given)."""

MAX_KEYS = 3


@strawberry.enum(description="What `aggregate` groups items by; a key is null for items that have none.")
class AggregateKey(Enum):
    YEAR = strawberry.enum_value(
        "YEAR",
        description='The year of the item\'s date ("2013"). A date known only to its decade ("the 1980\'s") is in '
        "the decade's own group (\"198X\", ordered just after the decade's first year), never in a year it may not "
        "be in; a recurring event is in every year it recurs in. Undated: null.",
    )
    DECADE = strawberry.enum_value(
        "DECADE",
        description='The decade of the item\'s date ("198X"); a recurring event is counted in each of its years, '
        "as in `timeline`. Undated: null.",
    )
    KIND = strawberry.enum_value(
        "KIND",
        description="An event's kind (MEETING, SUMMIT, ...); memberships and chairmanships: MEMBERSHIP, CHAIRMANSHIP.",
    )
    TYPE = strawberry.enum_value("TYPE", description="The item's type: EVENT, MEMBERSHIP or CHAIRMANSHIP.")
    ORGANIZATION = strawberry.enum_value(
        "ORGANIZATION", description="The slug of the organization the item belongs to; null for an event of none."
    )
    COUNTRY = strawberry.enum_value(
        "COUNTRY",
        description="Each country taking part (ISO alpha-3): an event's participants, a membership's member, a "
        "chairmanship's chair and co-chairs; an item is in the group of each of its countries. None: null.",
    )
    ROLE = strawberry.enum_value(
        "ROLE",
        description="Each country's part (a ParticipantRole name): an event's participants' role kinds, MEMBER for "
        "a membership, CHAIR and CO_CHAIR for a chairmanship; with COUNTRY, that country's part. None: null.",
    )
    PLACE = strawberry.enum_value(
        "PLACE", description='The name of an event\'s place ("Ulaanbaatar"); memberships and chairmanships: null.'
    )


# Keys with few values, the null one included: a grouping by them alone has at most their product of groups.
KEY_VALUES = {"TYPE": 3, "KIND": len(EventKind) + 2, "ROLE": len(ParticipantRole) + 1}


@strawberry.input(description="Which groups to keep, by their counts.")
class AggregateHaving:
    min_count: int | None = strawberry.field(
        default=None, description="Only groups of at least this many items (0 or more)."
    )


@strawberry.type(description="A group of `aggregate`: the items sharing its keys, counted by type.")
class AggregateGroup:
    keys: list[str | None] = structural(
        description="The group's keys, one per `groupBy` key, in its order; null where an item has none."
    )
    count: int = structural(description="How many items the group has.")
    events: int = structural(description="How many of them are events (an occurrence each, with a time key).")
    memberships: int = structural(description="How many of them are memberships.")
    chairmanships: int = structural(description="How many of them are chairmanships.")


@dataclass(frozen=True)
class AggregatePlan:
    """The arguments of one `aggregate`, checked: what its statement needs."""

    keys: tuple[str, ...]
    of: tuple[TimelineItemType, ...]
    filter: TimelineFilter | None
    first: int
    min_count: int

    @classmethod
    def of_arguments(cls, args: dict[str, Any]) -> AggregatePlan:
        """The plan of the field's arguments (Python names, as resolvers get them); refused ones raise."""
        keys = tuple(key.name for key in args["group_by"])
        if not 1 <= len(keys) <= MAX_KEYS:
            raise BadUserInput(f"`groupBy` takes 1 to {MAX_KEYS} keys, not {len(keys)}", argument="groupBy")
        if len(set(keys)) != len(keys):
            raise BadUserInput("`groupBy` names a key twice", argument="groupBy")
        first = args.get("first")
        if first is not None and first > MAX_GROUPS:
            raise PageSizeExceeded(
                f"`first: {first}` asks for more than {MAX_GROUPS} groups; use `having` or a filter",
                argument="first",
                limit=MAX_GROUPS,
            )
        if first is not None and first < 1:
            raise InvalidPageSize(f"`first` must be between 1 and {MAX_GROUPS}, not {first}", argument="first")
        having = args.get("having")
        min_count = having.min_count if having is not None and having.min_count is not None else 0
        if min_count < 0:
            raise BadUserInput(f"`having.minCount` must be 0 or more, not {min_count}", argument="having.minCount")
        of = args.get("of")
        return cls(
            keys=keys,
            of=tuple(ALL_TYPES if of is None else of),
            filter=args.get("filter"),
            first=MAX_GROUPS if first is None else first,
            min_count=min_count,
        )

    @property
    def shape(self) -> tuple[Any, ...]:
        """What the statement's text depends on (`first` and `min_count` are its parameters)."""
        return (self.keys, tuple(sorted(item.name for item in set(self.of))), repr(self.filter))

    def statement(self, dialect: str) -> Select[Any]:
        """The one statement of the groups (app/data/aggregates.py)."""
        items = timeline_items(list(self.of), self.filter, recurrences=bool(aggregates.TIME_KEYS & set(self.keys)))
        return aggregates.grouped(items, self.keys, dialect=dialect, first=self.first, min_count=self.min_count)


def groups_bound(arguments: dict[str, Any]) -> int:
    """The most groups an `aggregate` can return, from its arguments as the query gives them."""
    first = arguments.get("first")
    most = first if isinstance(first, int) and not isinstance(first, bool) and 1 <= first <= MAX_GROUPS else MAX_GROUPS
    keys = arguments.get("groupBy")
    keys = [keys] if isinstance(keys, str) else keys
    if not isinstance(keys, list) or not keys:
        return most
    product = 1
    for key in keys:
        product *= KEY_VALUES.get(key, MAX_GROUPS) if isinstance(key, str) else MAX_GROUPS
    return min(most, product)


ARGUMENTS = ("of", "groupBy", "filter", "having", "first")


@strawberry.type
class AggregateQueries:
    @bounded(groups_bound)
    @compiled_as("aggregate", *ARGUMENTS)
    @strawberry.field(
        description="The items `timeline` counts (events, memberships, chairmanships, with its filter), grouped by "
        "one to three keys and counted in SQL, for dashboards: Mongolia's events by year and kind: "
        '`aggregate(of: [EVENT], groupBy: [YEAR, KIND], filter: {country: "MNG"}) { keys count }`. Groups that '
        "have items, ordered by their keys (each in `groupBy`'s order: years in time order, text by its "
        "characters, null last). A recurring event counts in every year it recurs in when a key is YEAR or "
        "DECADE, else once, as the lists count it."
    )
    async def aggregate(
        self,
        info: Info,
        *,
        of: Annotated[
            list[TimelineItemType] | None,
            strawberry.argument(description="Which types of item to count (default: all three)."),
        ] = None,
        group_by: Annotated[
            list[AggregateKey], strawberry.argument(description="One to three keys, each at most once.")
        ],
        filter: Annotated[
            TimelineFilter | None, strawberry.argument(description="Which items to count, as `timeline` has it.")
        ] = None,
        having: Annotated[
            AggregateHaving | None, strawberry.argument(description="Which groups to keep, by their counts.")
        ] = None,
        first: Annotated[
            int | None,
            strawberry.argument(
                description=f"The first n groups by key (1 to {MAX_GROUPS:,}; all up to {MAX_GROUPS:,} when not given)."
            ),
        ] = None,
    ) -> list[AggregateGroup]:
        ctx: Context = info.context
        plan = AggregatePlan.of_arguments(
            {"group_by": group_by, "of": of, "filter": filter, "having": having, "first": first}
        )
        rows = await ctx.db.all(plan.statement(ctx.db.engine.dialect.name))
        width = len(plan.keys)
        return [
            AggregateGroup(
                keys=[row._mapping[f"k{position}"] for position in range(width)],
                count=int(row.total),
                events=int(row.event),
                memberships=int(row.membership),
                chairmanships=int(row.chairmanship),
            )
            for row in rows
        ]
