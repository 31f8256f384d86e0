"""Conflicts between documents: where they state different values for one field of one fact.

The record keeps the first-stated value (app.seeding.merging); a conflict lists every value with
the citation that states it. Records list theirs (`conflicts`), and the root `conflicts` lists all.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import Table, select
from sqlalchemy.engine import Row

from app import dates
from app.data import models, paging
from app.data.paging import encode_cursor, page_window
from app.schema.enums import DatePrecision
from app.schema.fields import After, Before, First, Last, from_row, load_node, strawberry_only_as
from app.schema.relay import Connection, Edge, Node, PageInfo
from app.schema.runtime import Context, Info
from app.schema.values import Citation, PartialDate

conflicts: Table = models.Conflict.__table__  # type: ignore[assignment]
conflict_values: Table = models.ConflictValue.__table__  # type: ignore[assignment]
documents: Table = models.Document.__table__  # type: ignore[assignment]

# The seed files' field names that differ from the API's.
API_FIELDS = {
    "start": "startDate",
    "end": "endDate",
    "end_date": "endDate",
    "as_of": "asOf",
    "office_holder": "officeHolder",
}
DATE_FIELDS = frozenset({"start", "end", "end_date", "date", "as_of"})
ORDER = [paging.SortKey(conflicts.c.id)]
TAG = "Conflict:ID:ASC"


@strawberry.enum(description="The kinds of record documents can disagree about.")
class ConflictSubjectType(Enum):
    ORGANIZATION = strawberry.enum_value("organization", description="An organization (its kind or parent).")
    MEMBERSHIP = strawberry.enum_value("membership", description="A membership (its dates, role or status).")
    CHAIRMANSHIP = strawberry.enum_value("chairmanship", description="A chairmanship (its dates, session, ...).")
    EVENT = strawberry.enum_value("event", description="An event (its date, kind, place, participants' roles).")
    STATISTIC = strawberry.enum_value("statistic", description="A figure (its value, unit or date).")


@strawberry.type(description="One value a document states in a conflict, with the citation that states it.")
class ConflictValue:
    value: str = strawberry.field(
        description='The value as stated: EDTF for a date ("2011"), a slug or country code for a reference, '
        "an enum name for a kind or status, a participant's role for `participants`."
    )
    kept: bool = strawberry.field(
        description="Whether the record holds this value: the value of the document with precedence (highest "
        "priority, then most recent publication, then name order), or the most precise value agreeing with it. "
        "Every document stating the kept value is marked."
    )
    citation: Citation = strawberry.field(description="Where a document states this value.")
    date: PartialDate | None = strawberry.field(description="The value as a partial date, when the field is a date.")


@strawberry.type(
    description="Documents that state different values for one field of one record. The record keeps the value "
    "of the document with precedence (highest priority, then most recent publication, then name order) and "
    "this lists every document stating the field, agreeing ones included, each with its citation."
)
class Conflict:
    pk: strawberry.Private[int]
    entity_type: strawberry.Private[str]
    entity_id: strawberry.Private[int]
    seed_field: str = strawberry.field(
        description='The field as the seed files name it: "start", "end_date", "participants[MNG]" (that '
        "country's role)."
    )

    @classmethod
    def from_row(cls, row: Row[Any]) -> Conflict:
        return cls(pk=row.id, entity_type=row.entity_type, entity_id=row.entity_id, seed_field=row.field)

    @strawberry.field(
        description='The field of the record the documents disagree on, as this API names it: "startDate".'
    )
    def field(self) -> str:
        name = self.seed_field.split("[", 1)[0]
        return API_FIELDS.get(name, name)

    @strawberry.field(description="The record the documents disagree about.")
    async def subject(self, info: Info) -> Node:
        return await load_node(info, self.entity_type.capitalize(), self.entity_id)

    @strawberry.field(
        description="Every document's value, the kept one first, then those agreeing with it, then the others, "
        "each with its citation."
    )
    async def values(self, info: Info) -> list[ConflictValue]:
        ctx: Context = info.context
        statement = select(conflict_values).order_by(conflict_values.c.conflict_id, conflict_values.c.position)

        async def load(keys: Sequence[int]) -> list[list[Row[Any]]]:
            return await paging.rows_grouped_by(
                ctx.db, "conflict_values", statement, conflict_values.c.conflict_id, keys
            )

        rows = await ctx.loader("conflict.values", load).load(self.pk)
        is_date = self.seed_field in DATE_FIELDS
        kept_value = rows[0].value if rows else None
        return [
            ConflictValue(
                value=row.value,
                kept=row.value == kept_value,
                citation=from_row(Citation, row),
                date=_partial_date(row.value) if is_date else None,
            )
            for row in rows
        ]


def _partial_date(edtf: str) -> PartialDate:
    date = dates.parse_date(edtf)
    return PartialDate(
        edtf=date.edtf,
        precision=DatePrecision[date.precision.name],
        year=date.year,
        month=date.month,
        day=date.day,
        earliest=date.earliest,
        latest=date.latest,
    )


async def conflicts_of(info: Info, entity_type: str, pk: int) -> list[Conflict]:
    """A record's conflicts, loaded with those of every record of its type in the request in one statement."""
    ctx: Context = info.context
    statement = select(conflicts).where(conflicts.c.entity_type == entity_type).order_by(conflicts.c.id)

    async def load(keys: Sequence[int]) -> list[list[Row[Any]]]:
        return await paging.rows_grouped_by(ctx.db, ("conflicts", entity_type), statement, conflicts.c.entity_id, keys)

    rows = await ctx.loader(("conflicts", entity_type), load).load(pk)
    return [Conflict.from_row(row) for row in rows]


@strawberry.input(description="Which conflicts to list.")
class ConflictFilter:
    subject_type: ConflictSubjectType | None = strawberry.field(
        default=None, description="Only conflicts about records of this type."
    )
    document: str | None = strawberry.field(
        default=None, description="Only conflicts in which this document (by slug) states one of the values."
    )

    def conditions(self) -> list[Any]:
        found: list[Any] = []
        if self.subject_type is not None:
            found.append(conflicts.c.entity_type == self.subject_type.value)
        if self.document is not None:
            stated_by = (
                select(conflict_values.c.conflict_id)
                .join(documents, documents.c.id == conflict_values.c.document_id)
                .where(documents.c.slug == self.document.strip().lower())
            )
            found.append(conflicts.c.id.in_(stated_by))
        return found


@strawberry.type
class ConflictQueries:
    @strawberry_only_as("conflicts are read by Strawberry's resolvers (this module)")
    @strawberry.field(
        description="Every conflict between documents, oldest first: fields of records that documents state "
        "differently. Empty when the documents agree."
    )
    async def conflicts(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[ConflictFilter | None, strawberry.argument(description="Which to list.")] = None,
    ) -> Connection[Conflict]:
        ctx: Context = info.context
        window = page_window(
            first=first,
            after=after,
            last=last,
            before=before,
            tag=TAG,
            keys=ORDER,
            default_size=ctx.settings.default_page_size,
            max_size=ctx.settings.max_page_size,
        )
        statement = select(conflicts)
        if filter is not None:
            statement = statement.where(*filter.conditions())
        name = ("conflicts", repr(filter))
        page = await paging.fetch_page(ctx.db, name, statement, ORDER, window)
        items = [Conflict.from_row(row) for row in page.rows]
        cursors = [encode_cursor(TAG, paging.cursor_values(row, ORDER)) for row in page.rows]

        async def counter() -> int:
            return await paging.count(ctx.db, name, statement)

        return Connection(
            edges=[Edge(cursor=cursor, node=item) for cursor, item in zip(cursors, items, strict=True)],
            nodes=items,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
            ),
            counter=counter,
        )
