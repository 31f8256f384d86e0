"""`Query.dataRelease`, `Query.dataReleases`, `Query.changes`: data releases and what each changed.

Strawberry answers them (a query selecting one of them is read in one snapshot, and the release
is the one of the data version read in that snapshot: the same the answer's data comes from).
`node(id:)` resolves a DataRelease's ID here too (the compiler leaves such an ID to Strawberry).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import strawberry
from sqlalchemy import Select, and_, bindparam, func, select, true

from app.data import paging
from app.data.ids import encode_id
from app.data.listings import BASE, documents
from app.data.models import DatasetState
from app.data.paging import SortKey, encode_cursor, page_window
from app.data.records import CITATION, LICENCE, TYPES, slug_column, table_of
from app.data.releases import changes, releases
from app.errors import BadUserInput
from app.schema.fields import ROW_TYPES, After, Before, First, Last, from_row, strawberry_only, strawberry_only_as
from app.schema.relay import Connection, Edge, Node, PageInfo
from app.schema.runtime import Context, Info

if TYPE_CHECKING:
    from app.schema.types import Document

RELEASE_TYPE = "DataRelease"
EXPORT_URL = "/export/knowledge-base.jsonl.gz"
STRAWBERRY = "releases are read by Strawberry's resolvers (app/schema/releases.py)"


def _only(description: str) -> Any:
    return strawberry_only(strawberry.field(description=description), STRAWBERRY)


@strawberry.type(description='How many records of one type a release has: {type: "Event", count: 49}.')
class TypeCount:
    type: str = _only('The API\'s type name: "Organization", "Event", ...')
    count: int = _only("How many records of that type.")


async def _release_documents(
    self: DataRelease, info: Info
) -> list[Annotated[Document, strawberry.lazy("app.schema.types")]]:
    slugs = [document["slug"] for document in self.documents_built_from]
    rows = await paging.rows_by_key(info.context.db, "release.documents", BASE["Document"], documents.c.slug, slugs)
    return [from_row(ROW_TYPES["Document"], row) for row in rows if row is not None]


@strawberry.type(
    description="A data release: what one seed that changed something made. Every answer comes from one; "
    "`dataRelease` says which."
)
class DataRelease(Node):
    version: int = _only("The data version this release made (the number in ETags and `Query.changes`).")
    seeded_at: str = _only("When it was seeded: ISO 8601 date-time, UTC.")
    counts: list[TypeCount] = _only("How many records of each type it has.")
    export_url: str = _only(
        "Where the whole release is, one JSON object per line, gzipped (the current release's; ETag per release)."
    )
    licence: str = _only("The data's licence, and the sources' own terms for what is quoted from them.")
    citation: str = _only("How to cite this release.")
    documents_built_from: strawberry.Private[list[dict[str, Any]]]
    documents: list[Annotated[Document, strawberry.lazy("app.schema.types")]] = strawberry_only(
        strawberry.field(
            resolver=_release_documents,
            description="The documents it was built from (those still in the knowledge base).",
        ),
        STRAWBERRY,
    )


def _seeded_at(value: Any) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return str(value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _release(version: int, seeded_at: Any, documents_json: str, counts_json: str) -> DataRelease:
    counts = orjson.loads(counts_json)
    when = _seeded_at(seeded_at)
    return DataRelease(
        id=strawberry.ID(encode_id(RELEASE_TYPE, version)),
        version=version,
        seeded_at=when,
        counts=[TypeCount(type=name, count=int(counts.get(name, 0))) for name in TYPES],
        export_url=EXPORT_URL,
        licence=LICENCE,
        citation=CITATION.format(version=version, seeded_at=when),
        documents_built_from=orjson.loads(documents_json),
    )


RELEASE_COLUMNS = select(releases.c.version, releases.c.seeded_at, releases.c.documents, releases.c.counts)


async def release_by_version(ctx: Context, version: int) -> DataRelease | None:
    rows = await paging.rows_by_key(ctx.db, "release", RELEASE_COLUMNS, releases.c.version, [version])
    row = rows[0]
    return None if row is None else _release(row.version, row.seeded_at, row.documents, row.counts)


async def current_release(ctx: Context) -> DataRelease:
    """The release of the data version in this request's snapshot; for a database seeded before releases were
    recorded, one made from the records as they are."""
    state = await ctx.db.all(select(DatasetState.version, DatasetState.seeded_at).where(DatasetState.id == 1))
    version = int(state[0][0] or 0) if state else 0
    found = await release_by_version(ctx, version)
    if found is not None:
        return found
    counts = await ctx.db.all(
        select(*(select(func.count()).select_from(table_of(name)).scalar_subquery().label(name) for name in TYPES))
    )
    docs = await ctx.db.all(select(documents.c.slug, documents.c.sha256).order_by(documents.c.slug))
    return _release(
        version,
        state[0][1] if state and state[0][1] is not None else dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
        orjson.dumps([{"slug": s, "sha256": h, "published": None} for s, h in docs]).decode(),
        orjson.dumps(dict(counts[0]._mapping)).decode(),
    )


@strawberry.enum(description="What a release did to a record.")
class ChangeAction(enum.Enum):
    ADDED = strawberry.enum_value("ADDED", description="The release added the record.")
    UPDATED = strawberry.enum_value("UPDATED", description="The release changed some of the record's fields.")
    REMOVED = strawberry.enum_value(
        "REMOVED", description="The release removed the record; its slug and last values are kept here."
    )


@strawberry.type(description="One field a release changed: its value before and after, each as JSON text.")
class FieldChange:
    field: str = _only('The field, as the API names it ("title", "startDate", "citations").')
    before: str | None = _only("Its value before, as JSON text; null when the record was added.")
    after: str | None = _only("Its value after, as JSON text; null when the record was removed.")


async def _change_node(self: Change, info: Info) -> Node | None:
    ctx: Context = info.context
    type_name = self.type

    async def load(keys: Sequence[str]) -> list[Any]:
        return await paging.rows_by_key(
            ctx.db, ("change.node", type_name), BASE[type_name], slug_column(type_name), keys
        )

    row = await ctx.loader(("change.node", type_name), load).load(self.slug)
    return None if row is None else from_row(ROW_TYPES[type_name], row)


@strawberry.type(description="A record one release added, updated or removed, with each changed field.")
class Change:
    release: int = _only("The version of the release that made it.")
    action: ChangeAction = _only("ADDED, UPDATED or REMOVED.")
    type: str = _only('The record\'s type: "Event", "Organization", ...')
    slug: str = _only("The record's slug (a country's code), kept once the record is gone.")
    fields: list[FieldChange] = _only(
        "Each changed field, before and after (for ADDED and REMOVED: every field, so a removed record's "
        "last values stay known)."
    )
    node: Node | None = strawberry_only(
        strawberry.field(resolver=_change_node, description="The record as it is now; null once removed."),
        STRAWBERRY,
    )


@strawberry.input(description="Which changes to list; every condition given must hold.")
class ChangeFilter:
    since: int | None = strawberry.field(default=None, description="Only releases after this version.")
    type: str | None = strawberry.field(default=None, description='Only records of this type: "Event".')
    slug: str | None = strawberry.field(default=None, description="Only the record with this slug (or code).")
    action: ChangeAction | None = strawberry.field(default=None, description="Only this action.")


RELEASE_KEYS = [SortKey(releases.c.version, descending=True)]
CHANGE_KEYS = [SortKey(changes.c.id, descending=True)]
CHANGE_COLUMNS = select(
    changes.c.id, changes.c.release, changes.c.action, changes.c.entity_type, changes.c.slug, changes.c.fields
)


def _change(row: Any) -> Change:
    return Change(
        release=row.release,
        action=ChangeAction(row.action),
        type=row.entity_type,
        slug=row.slug,
        fields=[FieldChange(field=f, before=b, after=a) for f, b, a in orjson.loads(row.fields)],
    )


def _filtered(filter: ChangeFilter | None) -> tuple[tuple[str, ...], Select[Any], dict[str, Any]]:
    """The changes' statement for the filters given (their names shape it; values are bound)."""
    if filter is None:
        return (), CHANGE_COLUMNS, {}
    if filter.type is not None and filter.type not in TYPES:
        raise BadUserInput(
            f"`filter.type` {filter.type[:40]!r} is not a type with changes; one of {', '.join(TYPES)}",
            argument="filter",
        )
    given: dict[str, Any] = {}
    conditions = []
    if filter.since is not None:
        conditions.append(changes.c.release > bindparam("c_since"))
        given["c_since"] = filter.since
    if filter.type is not None:
        conditions.append(changes.c.entity_type == bindparam("c_type"))
        given["c_type"] = filter.type
    if filter.slug is not None:
        conditions.append(changes.c.slug == bindparam("c_slug"))
        given["c_slug"] = filter.slug
    if filter.action is not None:
        conditions.append(changes.c.action == bindparam("c_action"))
        given["c_action"] = filter.action.value
    return tuple(sorted(given)), CHANGE_COLUMNS.where(and_(true(), *conditions)), given


async def _page(
    ctx: Context,
    name: Any,
    statement: Select[Any],
    keys: list[SortKey],
    tag: str,
    params: dict[str, Any],
    args: dict[str, Any],
    make: Any,
) -> Connection[Any]:
    window = page_window(
        tag=tag,
        keys=keys,
        default_size=ctx.settings.default_page_size,
        max_size=ctx.settings.max_page_size,
        **args,
    )
    page = await paging.fetch_page(ctx.db, name, statement, keys, window, params, runs=False)
    edges = [Edge(cursor=encode_cursor(tag, paging.cursor_values(row, keys)), node=make(row)) for row in page.rows]

    async def counter() -> int:
        counted = paging.prepared.get(
            ("count", name), lambda: select(func.count()).select_from(statement.order_by(None).subquery())
        )
        return int((await ctx.db.all(counted, params))[0][0])

    return Connection(
        edges=edges,
        nodes=[edge.node for edge in edges],
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        counter=counter,
    )


@strawberry.type
class ReleaseQueries:
    @strawberry_only_as(STRAWBERRY)
    @strawberry.field(
        description="The release this answer was read from: the same snapshot as the data beside it. Show it as "
        '"data as of"; refresh when its version changes.'
    )
    async def data_release(self, info: Info) -> DataRelease:
        return await current_release(info.context)

    @strawberry_only_as(STRAWBERRY)
    @strawberry.field(description="Every data release, newest first.")
    async def data_releases(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[DataRelease]:
        args = {"first": first, "after": after, "last": last, "before": before}
        return await _page(
            info.context,
            "data_releases",
            RELEASE_COLUMNS,
            RELEASE_KEYS,
            "DataRelease:version:DESC",
            {},
            args,
            lambda row: _release(row.version, row.seeded_at, row.documents, row.counts),
        )

    @strawberry_only_as(STRAWBERRY)
    @strawberry.field(
        description="Every record each release added, updated or removed, newest first, each changed field "
        "before and after. `filter: {since: 12}` gives what changed after release 12."
    )
    async def changes(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[ChangeFilter | None, strawberry.argument(description="Which changes to list.")] = None,
    ) -> Connection[Change]:
        shape, statement, params = _filtered(filter)
        args = {"first": first, "after": after, "last": last, "before": before}
        return await _page(
            info.context, ("data_changes", shape), statement, CHANGE_KEYS, "Change:id:DESC", params, args, _change
        )
