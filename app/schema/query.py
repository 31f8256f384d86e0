"""The root Query type."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated, Any

import strawberry

from app.data import paging, search
from app.data.ids import decode_id
from app.data.listings import BASE, countries, organization_by_slug
from app.data.paging import encode_cursor, page_window
from app.errors import PageSizeExceeded
from app.schema import filters as f
from app.schema.about import AboutQueries
from app.schema.aggregate import AggregateQueries
from app.schema.conflicts import ConflictQueries
from app.schema.fields import After, First, compiled_as, from_row, load_node, root_connection, strawberry_only_as
from app.schema.rate_limit import RateLimitQueries
from app.schema.relay import Node, PageInfo
from app.schema.releases import RELEASE_TYPE, ReleaseQueries, release_by_version
from app.schema.runtime import Context, Info
from app.schema.timeline import TimelineQueries
from app.schema.types import NODE_TYPES, Chairmanship, Country, Document, Event, Membership, Organization, Statistic

SearchResult = Annotated[
    Organization | Country | Membership | Chairmanship | Event | Statistic | Document,
    strawberry.union("SearchResult", description="Anything search can find."),
]

SEARCH_ENTITY = {
    "organization": "Organization",
    "country": "Country",
    "membership": "Membership",
    "chairmanship": "Chairmanship",
    "event": "Event",
    "statistic": "Statistic",
    "document": "Document",
    "passage": "Document",
}


def organization_lookup(slug: str) -> Any:
    """The statement finding an organization by slug or acronym, any case; the slug wins a tie."""
    return organization_by_slug(slug.strip().lower())


@strawberry.type(description="A search hit: the object found, how well it matched, and where.")
class SearchResultEdge:
    cursor: str = strawberry.field(description="Opaque position of this hit; pass to `after`.")
    node: SearchResult = strawberry.field(description="The object found (a document, for a passage).")
    score: float = strawberry.field(
        description="Relevance within this search: the integer part is the tier (3: an organization or country "
        "named exactly; 2: one whose name has every word; 1: a title with every word; 0: text only), the "
        "fraction the engine's relevance. Hits come by tier, then shorter title, then relevance."
    )
    snippet: str = strawberry.field(
        description="The matching text, HTML-escaped, with the matched words in <mark>...</mark>."
    )
    start: int | None = strawberry.field(
        description="For a document passage: offset of the passage in `Document.text`; else null."
    )
    end: int | None = strawberry.field(description="For a document passage: offset just past it; else null.")


@strawberry.type(description="Search hits, best first.")
class SearchResultConnection:
    edges: list[SearchResultEdge] = strawberry.field(description="The hits with their cursors, scores and snippets.")
    nodes: list[SearchResult] = strawberry.field(description="The objects found, without hit details.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more hits exist.")
    query: strawberry.Private[str]
    ctx: strawberry.Private[Context]

    @strawberry.field(description="How many hits the search has in all.")
    async def total_count(self) -> int:
        return await search.count(self.ctx.db, self.query)


# The types of a search cursor's values: (tier, title length, relevance, entry id).
SEARCH_KEYS = [paging.SortKey(search.SearchEntry.__table__.c.id, python_type=t) for t in search.KEY_TYPES]


@strawberry.type(
    description="The root of every query: lists, lookups by natural key, node lookup, search, the timeline "
    "and grouped aggregates and the conflicts between documents."
)
class Query(TimelineQueries, AggregateQueries, ConflictQueries, RateLimitQueries, AboutQueries, ReleaseQueries):
    @compiled_as("node", "id")
    @strawberry.field(description="Any object by its global ID; null if there is none.")
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="A global ID.")]
    ) -> Node | None:
        type_name, pk = decode_id(id, NODE_IDS)
        return await _load(info, type_name, pk)

    @compiled_as("nodes", "ids")
    @strawberry.field(description="Objects by their global IDs, in the same order; null for each one not found.")
    async def nodes(
        self,
        info: Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global IDs (at most 100).")],
    ) -> list[Node | None]:
        if len(ids) > info.context.settings.max_page_size:
            raise PageSizeExceeded(
                f"`ids` has {len(ids)} IDs; at most {info.context.settings.max_page_size} at once",
                argument="ids",
                limit=info.context.settings.max_page_size,
            )
        decoded = [decode_id(value, NODE_IDS) for value in ids]
        return await _gather(info, decoded)

    organizations = root_connection(
        "Organization",
        description="Organizations, bodies, forums, initiatives and groups of states.",
        filter=f.OrganizationFilter,
        order=f.OrganizationOrder,
    )

    @compiled_as("organization", "slug")
    @strawberry.field(description='One organization by slug or acronym, any case ("osce", "OSCE"); null if none.')
    async def organization(
        self, info: Info, slug: Annotated[str, strawberry.argument(description="A slug or an acronym.")]
    ) -> Organization | None:
        ctx: Context = info.context
        rows = await ctx.db.all(organization_lookup(slug))
        return from_row(Organization, rows[0]) if rows else None

    countries = root_connection(
        "Country",
        description="Countries the documents name.",
        filter=f.CountryFilter,
        order=f.CountryOrder,
    )

    @compiled_as("country", "code")
    @strawberry.field(description='One country by ISO 3166-1 alpha-3 code, any case ("MNG"); null if none.')
    async def country(
        self, info: Info, code: Annotated[str, strawberry.argument(description="An ISO 3166-1 alpha-3 code.")]
    ) -> Country | None:
        rows = await info.context.db.all(BASE["Country"].where(countries.c.code == code.strip().upper()))
        return from_row(Country, rows[0]) if rows else None

    memberships = root_connection(
        "Membership",
        description="Memberships of organizations and bodies.",
        filter=f.MembershipFilter,
        order=f.MembershipOrder,
    )

    chairmanships = root_connection(
        "Chairmanship",
        description="Chairmanships, presidencies and co-chairmanships.",
        filter=f.ChairmanshipFilter,
        order=f.ChairmanshipOrder,
    )

    events = root_connection(
        "Event",
        description="Events: summits, conferences, resolutions, declarations, agreements, ...",
        filter=f.EventFilter,
        order=f.EventOrder,
    )

    statistics = root_connection(
        "Statistic",
        description="Figures the documents give.",
        filter=f.StatisticFilter,
        order=f.StatisticOrder,
    )

    documents = root_connection(
        "Document",
        description="The source documents.",
        order=f.DocumentOrder,
    )

    @strawberry_only_as("search ranks in app/data/search.py, with snippets")
    @strawberry.field(
        description="Full-text search over every object and every document passage, best first. "
        "Every word must match (English stemming: 'chaired' finds 'chair')."
    )
    async def search(
        self,
        info: Info,
        query: Annotated[str, strawberry.argument(description="Words to look for; punctuation is ignored.")],
        first: First = None,
        after: After = None,
    ) -> SearchResultConnection:
        ctx: Context = info.context
        tag = "search:" + " ".join(search.words(query))
        window = page_window(
            first=first,
            after=after,
            last=None,
            before=None,
            tag=tag,
            keys=SEARCH_KEYS,
            default_size=ctx.settings.default_page_size,
            max_size=ctx.settings.max_page_size,
        )
        size = window.size
        cursor = window.after
        hits = await search.search(ctx.db, query, limit=size + 1, after=cursor)
        more = len(hits) > size
        hits = hits[:size]
        found = await _gather(info, [(SEARCH_ENTITY[hit.entity_type], hit.entity_id) for hit in hits])
        edges = []
        for hit, node in zip(hits, found, strict=True):
            if node is None:
                continue
            passage = hit.entity_type == "passage"
            edges.append(
                SearchResultEdge(
                    cursor=encode_cursor(tag, hit.key),
                    node=node,
                    score=hit.score,
                    snippet=hit.snippet,
                    start=hit.start if passage else None,
                    end=hit.end if passage else None,
                )
            )
        return SearchResultConnection(
            edges=edges,
            nodes=[edge.node for edge in edges],
            page_info=PageInfo(
                has_next_page=more,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            query=query,
            ctx=ctx,
        )


async def _gather(info: Info, ids: Sequence[tuple[str, int]]) -> list[Any]:
    """Load many nodes of mixed types concurrently, so each type is one batched statement."""
    return list(await asyncio.gather(*(_load(info, type_name, pk) for type_name, pk in ids)))


NODE_IDS = {*NODE_TYPES, RELEASE_TYPE}
"""The types a global ID may name: the row types, and data releases (app/schema/releases.py)."""


async def _load(info: Info, type_name: str, pk: int) -> Any:
    if type_name == RELEASE_TYPE:
        return await release_by_version(info.context, pk)
    return await load_node(info, type_name, pk)
