"""The API's object types. Each keeps its row; relations go through the request's loaders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import select
from sqlalchemy.engine import Row

from app import queries
from app.schema import filters as f
from app.schema.context import Context, Info
from app.schema.enums import DatePrecision, EventKind, OrganizationKind, TenureStatus
from app.schema.listings import BASE, ORDERINGS, RELATIONS, citations, co_chairs, countries, documents
from app.schema.relay import Connection, Edge, Node, PageInfo, encode_cursor, encode_id, page_window

if TYPE_CHECKING:
    from app.schema.conflicts import Conflict

FIRST = "Return the first n items (1 to 100; 20 when neither `first` nor `last` is given)."
AFTER = "Return items after this cursor."
LAST = "Return the last n items (1 to 100)."
BEFORE = "Return items before this cursor."

# The paging arguments every connection field takes.
First = Annotated[int | None, strawberry.argument(description=FIRST)]
After = Annotated[str | None, strawberry.argument(description=AFTER)]
Last = Annotated[int | None, strawberry.argument(description=LAST)]
Before = Annotated[str | None, strawberry.argument(description=BEFORE)]


# -- values ----------------------------------------------------------------------------------


@strawberry.type(description="A date known to a day, a month, a year or a decade, never made more precise.")
class PartialDate:
    edtf: str = strawberry.field(
        description='Extended Date/Time Format (ISO 8601-2): "1961-10-27", "2020-09", "1973", "198X".'
    )
    precision: DatePrecision = strawberry.field(description="How much of the date the source gives.")
    year: int = strawberry.field(description="The year (the decade's first year for a decade).")
    month: int | None = strawberry.field(description="The month, 1 to 12, where the source gives it.")
    day: int | None = strawberry.field(description="The day of the month, where the source gives it.")
    earliest: dt.date = strawberry.field(description='The first day the date covers: "2019" -> 2019-01-01.')
    latest: dt.date = strawberry.field(description='The last day the date covers: "2019" -> 2019-12-31.')

    @staticmethod
    def of(row: Row[Any], prefix: str) -> PartialDate | None:
        m = row._mapping
        if m[f"{prefix}_edtf"] is None:
            return None
        return PartialDate(
            edtf=m[f"{prefix}_edtf"],
            precision=DatePrecision[m[f"{prefix}_precision"]],
            year=m[f"{prefix}_year"],
            month=m[f"{prefix}_month"],
            day=m[f"{prefix}_day"],
            earliest=m[f"{prefix}_earliest"],
            latest=m[f"{prefix}_latest"],
        )


@strawberry.type(description="A verbatim quote from a document that states a fact: its provenance.")
class Citation:
    quote: str = strawberry.field(description="The quote, exactly as the document has it.")
    start: int = strawberry.field(description="Offset of the quote's first character in `document.text`.")
    end: int = strawberry.field(description="Offset just past the quote's last character (`text[start:end]`).")
    document_id: strawberry.Private[int]

    @strawberry.field(description="The document quoted.")
    async def document(self, info: Info) -> Document:
        return await load_node(info, "Document", self.document_id)


@strawberry.type(description="A passage where a document names an organization (found automatically).")
class Mention:
    text: str = strawberry.field(description="The name as written: the name, acronym or an alias.")
    start: int = strawberry.field(description="Offset of the name in `document.text`.")
    end: int = strawberry.field(description="Offset just past the name.")
    context: str = strawberry.field(description="The sentence the name occurs in.")
    document_id: strawberry.Private[int]

    @strawberry.field(description="The document that names the organization.")
    async def document(self, info: Info) -> Document:
        return await load_node(info, "Document", self.document_id)


# -- nodes -----------------------------------------------------------------------------------


CITATIONS_IN_ORDER = select(citations).order_by(citations.c.document_id, citations.c.start, citations.c.id)


async def _citations(info: Info, column: str, pk: int) -> list[Citation]:
    ctx: Context = info.context

    async def load(keys: Sequence[int]) -> list[list[Row[Any]]]:
        return await queries.rows_grouped_by(
            ctx.db, ("citations", column), CITATIONS_IN_ORDER, citations.c[column], keys
        )

    rows = await ctx.loader(("citations", column), load).load(pk)
    return [Citation(quote=r.quote, start=r.start, end=r.end, document_id=r.document_id) for r in rows]


async def _conflicts(info: Info, entity_type: str, pk: int) -> list[Any]:
    from app.schema.conflicts import conflicts_of  # that module builds on this one's types

    return await conflicts_of(info, entity_type, pk)


@strawberry.type(description="An organization, body, forum, initiative or group of states.")
class Organization(Node):
    pk: strawberry.Private[int]
    parent_id: strawberry.Private[int | None]
    slug: str = strawberry.field(description='Stable natural key, e.g. "osce"; `organization(slug:)` takes it.')
    name: str = strawberry.field(description='Full name: "Organization for Security and Co-operation in Europe".')
    acronym: str | None = strawberry.field(description='Acronym, where it has one: "OSCE".')
    aliases: list[str] = strawberry.field(description='Other names the documents use: "the UN".')
    kind: OrganizationKind = strawberry.field(description="What sort of body it is.")
    description: str | None = strawberry.field(description="A short description.")

    @classmethod
    def from_row(cls, row: Row[Any]) -> Organization:
        return cls(
            id=strawberry.ID(encode_id("Organization", row.id)),
            pk=row.id,
            parent_id=row.parent_id,
            slug=row.slug,
            name=row.name,
            acronym=row.acronym,
            aliases=list(row.aliases or []),
            kind=OrganizationKind.__members__[row.kind],
            description=row.description,
        )

    @strawberry.field(description="The body it belongs to: ESCAP -> United Nations.")
    async def parent(self, info: Info) -> Organization | None:
        if self.parent_id is None:
            return None
        return await load_node(info, "Organization", self.parent_id)

    @strawberry.field(description="Bodies that belong to it.")
    async def children(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[f.OrganizationFilter | None, strawberry.argument(description="Which to list.")] = None,
        order_by: Annotated[f.OrganizationOrder | None, strawberry.argument(description="How to order.")] = None,
    ) -> Connection[Organization]:
        return await nested_connection(info, "organization.children", self.pk, locals())

    @strawberry.field(description="Memberships of this organization (Mongolia's, as the documents state them).")
    async def memberships(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[f.MembershipFilter | None, strawberry.argument(description="Which to list.")] = None,
        order_by: Annotated[f.MembershipOrder | None, strawberry.argument(description="How to order.")] = None,
    ) -> Connection[Membership]:
        return await nested_connection(info, "organization.memberships", self.pk, locals())

    @strawberry.field(description="Chairmanships and presidencies of this body.")
    async def chairmanships(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[f.ChairmanshipFilter | None, strawberry.argument(description="Which to list.")] = None,
        order_by: Annotated[f.ChairmanshipOrder | None, strawberry.argument(description="How to order.")] = None,
    ) -> Connection[Chairmanship]:
        return await nested_connection(info, "organization.chairmanships", self.pk, locals())

    @strawberry.field(description="Events that belong to this organization (an ASEM summit to ASEM).")
    async def events(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[f.EventFilter | None, strawberry.argument(description="Which to list.")] = None,
        order_by: Annotated[f.EventOrder | None, strawberry.argument(description="How to order.")] = None,
    ) -> Connection[Event]:
        return await nested_connection(info, "organization.events", self.pk, locals())

    @strawberry.field(description="Figures the documents give about this organization.")
    async def statistics(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[f.StatisticFilter | None, strawberry.argument(description="Which to list.")] = None,
        order_by: Annotated[f.StatisticOrder | None, strawberry.argument(description="How to order.")] = None,
    ) -> Connection[Statistic]:
        return await nested_connection(info, "organization.statistics", self.pk, locals())

    @strawberry.field(description="Every passage of every document that names it, in document order.")
    async def mentions(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Mention]:
        return await nested_connection(info, "organization.mentions", self.pk, locals())

    @strawberry.field(description="Where the documents state this organization's facts.")
    async def citations(self, info: Info) -> list[Citation]:
        return await _citations(info, "organization_id", self.pk)

    @strawberry.field(description="Where documents disagree about this organization: each value with its citation.")
    async def conflicts(self, info: Info) -> list[Annotated[Conflict, strawberry.lazy("app.schema.conflicts")]]:
        return await _conflicts(info, "organization", self.pk)


@strawberry.type(description="A country the documents name.")
class Country(Node):
    pk: strawberry.Private[int]
    code: str = strawberry.field(description='ISO 3166-1 alpha-3 code: "MNG".')
    name: str = strawberry.field(description='Common English name: "Mongolia".')
    aliases: list[str] = strawberry.field(description='Other names the documents use: "the ROK".')

    @classmethod
    def from_row(cls, row: Row[Any]) -> Country:
        return cls(
            id=strawberry.ID(encode_id("Country", row.id)),
            pk=row.id,
            code=row.code,
            name=row.name,
            aliases=list(row.aliases or []),
        )

    @strawberry.field(description="Its memberships of organizations and bodies.")
    async def memberships(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[f.MembershipFilter | None, strawberry.argument(description="Which to list.")] = None,
        order_by: Annotated[f.MembershipOrder | None, strawberry.argument(description="How to order.")] = None,
    ) -> Connection[Membership]:
        return await nested_connection(info, "country.memberships", self.pk, locals())

    @strawberry.field(description="Chairmanships it held, as chair or co-chair.")
    async def chairmanships(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[f.ChairmanshipFilter | None, strawberry.argument(description="Which to list.")] = None,
        order_by: Annotated[f.ChairmanshipOrder | None, strawberry.argument(description="How to order.")] = None,
    ) -> Connection[Chairmanship]:
        return await nested_connection(info, "country.chairmanships", self.pk, locals())

    @strawberry.field(description="Events it took part in (hosted, attended, co-sponsored, signed).")
    async def events(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[f.EventFilter | None, strawberry.argument(description="Which to list.")] = None,
        order_by: Annotated[f.EventOrder | None, strawberry.argument(description="How to order.")] = None,
    ) -> Connection[Event]:
        return await nested_connection(info, "country.events", self.pk, locals())

    @strawberry.field(description="Figures the documents give about this country.")
    async def statistics(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[f.StatisticFilter | None, strawberry.argument(description="Which to list.")] = None,
        order_by: Annotated[f.StatisticOrder | None, strawberry.argument(description="How to order.")] = None,
    ) -> Connection[Statistic]:
        return await nested_connection(info, "country.statistics", self.pk, locals())

    @strawberry.field(description="Where the documents name this country.")
    async def citations(self, info: Info) -> list[Citation]:
        return await _citations(info, "country_id", self.pk)


@strawberry.type(description="A country's membership of an organization or body, with its role and tenure.")
class Membership(Node):
    pk: strawberry.Private[int]
    country_id: strawberry.Private[int]
    organization_id: strawberry.Private[int]
    slug: str = strawberry.field(description="Stable natural key from the seed files.")
    role: str | None = strawberry.field(description='The role: "member", "member of the Governing body".')
    start_date: PartialDate | None = strawberry.field(description="When it began; null where no source says.")
    end_date: PartialDate | None = strawberry.field(description="When it ended; null where no source says.")
    status: TenureStatus = strawberry.field(
        description="ONGOING or ENDED where the sources say so, else UNKNOWN (no end date is not 'ongoing')."
    )

    @classmethod
    def from_row(cls, row: Row[Any]) -> Membership:
        return cls(
            id=strawberry.ID(encode_id("Membership", row.id)),
            pk=row.id,
            slug=row.slug,
            country_id=row.country_id,
            organization_id=row.organization_id,
            role=row.role,
            start_date=PartialDate.of(row, "start"),
            end_date=PartialDate.of(row, "end"),
            status=TenureStatus.__members__[row.status],
        )

    @strawberry.field(description="The member country.")
    async def member(self, info: Info) -> Country:
        return await load_node(info, "Country", self.country_id)

    @strawberry.field(description="The organization or body.")
    async def organization(self, info: Info) -> Organization:
        return await load_node(info, "Organization", self.organization_id)

    @strawberry.field(description="Where the documents state this membership.")
    async def citations(self, info: Info) -> list[Citation]:
        return await _citations(info, "membership_id", self.pk)

    @strawberry.field(description="Where documents disagree about this membership: each value with its citation.")
    async def conflicts(self, info: Info) -> list[Annotated[Conflict, strawberry.lazy("app.schema.conflicts")]]:
        return await _conflicts(info, "membership", self.pk)


@strawberry.type(description="A chairmanship, presidency or co-chairmanship of a body.")
class Chairmanship(Node):
    pk: strawberry.Private[int]
    organization_id: strawberry.Private[int]
    chair_id: strawberry.Private[int]
    predecessor_id: strawberry.Private[int | None]
    slug: str = strawberry.field(description="Stable natural key from the seed files.")
    title: str = strawberry.field(
        description='What it was: "Chair of the 75th Session of ESCAP", "Presidency of the CD".'
    )
    session: int | None = strawberry.field(description="The session's number, where there is one: 75.")
    office_holder: str | None = strawberry.field(description='Who held it: "Minister for Foreign Affairs of Mongolia".')
    start_date: PartialDate | None = strawberry.field(description="When it began; null where no source says.")
    end_date: PartialDate | None = strawberry.field(description="When it ended; null where no source says.")

    @classmethod
    def from_row(cls, row: Row[Any]) -> Chairmanship:
        return cls(
            id=strawberry.ID(encode_id("Chairmanship", row.id)),
            pk=row.id,
            slug=row.slug,
            organization_id=row.organization_id,
            chair_id=row.chair_id,
            predecessor_id=row.predecessor_id,
            title=row.title,
            session=row.session,
            office_holder=row.office_holder,
            start_date=PartialDate.of(row, "start"),
            end_date=PartialDate.of(row, "end"),
        )

    @strawberry.field(description="The body chaired: ESCAP, the Community of Democracies, ...")
    async def organization(self, info: Info) -> Organization:
        return await load_node(info, "Organization", self.organization_id)

    @strawberry.field(description="The country that held it.")
    async def chair(self, info: Info) -> Country:
        return await load_node(info, "Country", self.chair_id)

    @strawberry.field(description="The countries that co-chaired beside it.")
    async def co_chairs(self, info: Info) -> list[Country]:
        ctx: Context = info.context
        statement = BASE["Country"].join_from(countries, co_chairs, co_chairs.c.country_id == countries.c.id)
        statement = statement.order_by(countries.c.name, countries.c.id)

        async def load(keys: Sequence[int]) -> list[list[Row[Any]]]:
            return await queries.rows_grouped_by(ctx.db, "co_chairs", statement, co_chairs.c.chairmanship_id, keys)

        rows = await ctx.loader("chairmanship.coChairs", load).load(self.pk)
        return [Country.from_row(row) for row in rows]

    @strawberry.field(description="The country that held it before, where the documents say.")
    async def predecessor(self, info: Info) -> Country | None:
        if self.predecessor_id is None:
            return None
        return await load_node(info, "Country", self.predecessor_id)

    @strawberry.field(description="Events held under this chairmanship.")
    async def events(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[f.EventFilter | None, strawberry.argument(description="Which to list.")] = None,
        order_by: Annotated[f.EventOrder | None, strawberry.argument(description="How to order.")] = None,
    ) -> Connection[Event]:
        return await nested_connection(info, "chairmanship.events", self.pk, locals())

    @strawberry.field(description="Where the documents state this chairmanship.")
    async def citations(self, info: Info) -> list[Citation]:
        return await _citations(info, "chairmanship_id", self.pk)

    @strawberry.field(description="Where documents disagree about this chairmanship: each value with its citation.")
    async def conflicts(self, info: Info) -> list[Annotated[Conflict, strawberry.lazy("app.schema.conflicts")]]:
        return await _conflicts(info, "chairmanship", self.pk)


@strawberry.type(description="Something that took place or was adopted, signed, launched or held.")
class Event(Node):
    pk: strawberry.Private[int]
    organization_id: strawberry.Private[int | None]
    chairmanship_id: strawberry.Private[int | None]
    slug: str = strawberry.field(description="Stable natural key from the seed files.")
    title: str = strawberry.field(description="What the event was.")
    kind: EventKind = strawberry.field(description="What sort of event it was.")
    description: str | None = strawberry.field(description="More about it.")
    symbol: str | None = strawberry.field(description='A document symbol, for resolutions: "A/RES/64/214".')
    date: PartialDate | None = strawberry.field(description="When it took place (its first day); null where unknown.")
    end_date: PartialDate | None = strawberry.field(description='Its last day, for multi-day events: "27-28 May 2019".')
    location: str | None = strawberry.field(description='Where it took place: "Ulaanbaatar".')

    @classmethod
    def from_row(cls, row: Row[Any]) -> Event:
        return cls(
            id=strawberry.ID(encode_id("Event", row.id)),
            pk=row.id,
            slug=row.slug,
            organization_id=row.organization_id,
            chairmanship_id=row.chairmanship_id,
            title=row.title,
            kind=EventKind.__members__[row.kind],
            description=row.description,
            symbol=row.symbol,
            date=PartialDate.of(row, "date"),
            end_date=PartialDate.of(row, "end"),
            location=row.location,
        )

    @strawberry.field(description="The organization it belongs to (ASEM for an ASEM summit).")
    async def organization(self, info: Info) -> Organization | None:
        if self.organization_id is None:
            return None
        return await load_node(info, "Organization", self.organization_id)

    @strawberry.field(description="The chairmanship it was held under, if any.")
    async def chairmanship(self, info: Info) -> Chairmanship | None:
        if self.chairmanship_id is None:
            return None
        return await load_node(info, "Chairmanship", self.chairmanship_id)

    @strawberry.field(description="Countries taking part, hosting, co-sponsoring or signing.")
    async def participants(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[f.CountryFilter | None, strawberry.argument(description="Which to list.")] = None,
        order_by: Annotated[f.CountryOrder | None, strawberry.argument(description="How to order.")] = None,
    ) -> Connection[Country]:
        return await nested_connection(info, "event.participants", self.pk, locals())

    @strawberry.field(description="Other organizations involved (the EU as a co-launcher).")
    async def partner_organizations(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[f.OrganizationFilter | None, strawberry.argument(description="Which to list.")] = None,
        order_by: Annotated[f.OrganizationOrder | None, strawberry.argument(description="How to order.")] = None,
    ) -> Connection[Organization]:
        return await nested_connection(info, "event.partnerOrganizations", self.pk, locals())

    @strawberry.field(description="Where the documents state this event.")
    async def citations(self, info: Info) -> list[Citation]:
        return await _citations(info, "event_id", self.pk)

    @strawberry.field(description="Where documents disagree about this event: each value with its citation.")
    async def conflicts(self, info: Info) -> list[Annotated[Conflict, strawberry.lazy("app.schema.conflicts")]]:
        return await _conflicts(info, "event", self.pk)


@strawberry.type(description='A figure a document gives: "more than 18,139 peacekeepers".')
class Statistic(Node):
    pk: strawberry.Private[int]
    organization_id: strawberry.Private[int | None]
    country_id: strawberry.Private[int | None]
    slug: str = strawberry.field(description="Stable natural key from the seed files.")
    label: str = strawberry.field(description="What the figure counts.")
    value: float = strawberry.field(description="The number.")
    unit: str | None = strawberry.field(description='What it counts in: "peacekeepers".')
    qualifier: str | None = strawberry.field(description='How exact it is: "more than", "approximately".')
    as_of: PartialDate | None = strawberry.field(description="The date the figure holds for, where given.")

    @classmethod
    def from_row(cls, row: Row[Any]) -> Statistic:
        return cls(
            id=strawberry.ID(encode_id("Statistic", row.id)),
            pk=row.id,
            slug=row.slug,
            organization_id=row.organization_id,
            country_id=row.country_id,
            label=row.label,
            value=row.value,
            unit=row.unit,
            qualifier=row.qualifier,
            as_of=PartialDate.of(row, "as_of"),
        )

    @strawberry.field(description="The organization the figure is about, if any.")
    async def organization(self, info: Info) -> Organization | None:
        if self.organization_id is None:
            return None
        return await load_node(info, "Organization", self.organization_id)

    @strawberry.field(description="The country the figure is about, if any.")
    async def country(self, info: Info) -> Country | None:
        if self.country_id is None:
            return None
        return await load_node(info, "Country", self.country_id)

    @strawberry.field(description="Where the documents give this figure.")
    async def citations(self, info: Info) -> list[Citation]:
        return await _citations(info, "statistic_id", self.pk)

    @strawberry.field(description="Where documents disagree about this figure: each value with its citation.")
    async def conflicts(self, info: Info) -> list[Annotated[Conflict, strawberry.lazy("app.schema.conflicts")]]:
        return await _conflicts(info, "statistic", self.pk)


@strawberry.type(description="A source document, kept byte for byte; citation offsets refer to its text.")
class Document(Node):
    pk: strawberry.Private[int]
    slug: str = strawberry.field(description="Stable natural key.")
    title: str = strawberry.field(description="The document's title.")
    language: str = strawberry.field(description='Its language (BCP 47): "en".')
    origin: str | None = strawberry.field(description="Where it comes from.")
    sha256: str = strawberry.field(description="SHA-256 of its UTF-8 text, to check a copy.")

    @classmethod
    def from_row(cls, row: Row[Any]) -> Document:
        return cls(
            id=strawberry.ID(encode_id("Document", row.id)),
            pk=row.id,
            slug=row.slug,
            title=row.title,
            language=row.language,
            origin=row.origin,
            sha256=row.sha256,
        )

    @strawberry.field(
        description="The full text. Offsets count Unicode code points; `text[start:end]` is a citation's quote."
    )
    async def text(self, info: Info) -> str:
        ctx: Context = info.context
        statement = select(documents.c.id, documents.c.text)

        async def load(keys: Sequence[int]) -> list[Row[Any] | None]:
            return await queries.rows_by_key(ctx.db, "document_text", statement, documents.c.id, keys)

        row = await ctx.loader("document.text", load).load(self.pk)
        return str(row.text)


NODE_TYPES: dict[str, Any] = {
    "Organization": Organization,
    "Country": Country,
    "Membership": Membership,
    "Chairmanship": Chairmanship,
    "Event": Event,
    "Statistic": Statistic,
    "Document": Document,
}


def make_item(entity: str, row: Row[Any]) -> Any:
    if entity == "Mention":
        return Mention(text=row.text, start=row.start, end=row.end, context=row.context, document_id=row.document_id)
    return NODE_TYPES[entity].from_row(row)


async def load_node(info: Info, type_name: str, pk: int) -> Any:
    """One object by primary key, batched with every other load of its type in the request."""
    ctx: Context = info.context
    table = NODE_TABLES[type_name]

    async def load(keys: Sequence[int]) -> list[Row[Any] | None]:
        return await queries.rows_by_key(ctx.db, ("node", type_name), BASE[type_name], table.c.id, keys)

    row = await ctx.loader(("node", type_name), load).load(pk)
    return None if row is None else NODE_TYPES[type_name].from_row(row)


NODE_TABLES = {name: BASE[name].selected_columns.id.table for name in NODE_TYPES}


# -- connections -----------------------------------------------------------------------------


def _ordering(entity: str, order_by: Any) -> tuple[str, list[queries.SortKey]]:
    field_name = order_by.field.name if order_by is not None else f.DEFAULT_ORDER[entity]
    descending = order_by is not None and order_by.direction is f.OrderDirection.DESC
    tag = f"{entity}:{field_name}:{'DESC' if descending else 'ASC'}"
    return tag, ORDERINGS[entity][field_name](descending)


def _window(ctx: Context, tag: str, keys: list[queries.SortKey], args: dict[str, Any]) -> queries.Window:
    return page_window(
        first=args.get("first"),
        after=args.get("after"),
        last=args.get("last"),
        before=args.get("before"),
        tag=tag,
        keys=keys,
        default_size=ctx.settings.default_page_size,
        max_size=ctx.settings.max_page_size,
    )


def build_connection(entity: str, page: queries.Page, tag: str, keys: list[queries.SortKey], counter: Any) -> Any:
    items = [make_item(entity, row) for row in page.rows]
    cursors = [encode_cursor(tag, queries.cursor_values(row, keys)) for row in page.rows]
    edges = [Edge(cursor=cursor, node=item) for cursor, item in zip(cursors, items, strict=True)]
    return Connection(
        edges=edges,
        nodes=items,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        counter=counter,
    )


async def root_connection(info: Info, entity: str, args: dict[str, Any]) -> Any:
    """A root list: filtered in SQL, read by keyset, counted only when `totalCount` is asked."""
    ctx: Context = info.context
    tag, keys = _ordering(entity, args.get("order_by"))
    window = _window(ctx, tag, keys, args)
    statement = BASE[entity]
    if args.get("filter") is not None:
        statement = statement.where(*args["filter"].conditions())
    name = (entity, tag, repr(args.get("filter")))
    page = await queries.fetch_page(ctx.db, name, statement, keys, window)

    async def counter() -> int:
        return await queries.count(ctx.db, name, statement)

    return build_connection(entity, page, tag, keys, counter)


async def nested_connection(info: Info, relation_name: str, parent_id: int, args: dict[str, Any]) -> Any:
    """A page of one parent's children, loaded with every sibling parent's in one statement."""
    ctx: Context = info.context
    relation = RELATIONS[relation_name]
    tag, keys = _ordering(relation.entity, args.get("order_by"))
    window = _window(ctx, tag, keys, args)
    statement = relation.statement
    filter_input = args.get("filter")
    if filter_input is not None:
        statement = statement.where(*filter_input.conditions())
    statement_name = (relation_name, tag, repr(filter_input))
    identity = (relation_name, tag, window, repr(filter_input))

    async def load_pages(parent_ids: Sequence[int]) -> list[queries.Page]:
        return await queries.fetch_pages(ctx.db, statement_name, statement, relation.parent, parent_ids, keys, window)

    async def load_counts(parent_ids: Sequence[int]) -> list[int]:
        counted = relation.counted(statement, filter_input is not None)
        return await queries.count_by_parent(ctx.db, statement_name, counted, relation.parent, parent_ids)

    page = await ctx.loader(("page", *identity), load_pages).load(parent_id)

    async def counter() -> int:
        return await ctx.loader(("count", relation_name, repr(filter_input)), load_counts).load(parent_id)

    return build_connection(relation.entity, page, tag, keys, counter)
