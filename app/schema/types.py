"""The API's object types, each field declared once (app/schema/fields.py says how).

Each object keeps its row (`row`, private); columns are read from it by their declarations, and
relations go through the request's loaders on Strawberry's path, or into the one SQL statement
the compiler (app/execution/compiler.py) builds from the same declarations.
"""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select

from app.data import paging
from app.data.listings import BASE, co_chairs, countries, documents, places, statistic_places, uncited_sentences
from app.schema import filters as f
from app.schema.conflicts import Conflict, conflicts_of
from app.schema.enums import Basis, EventKind, OrganizationKind, ParticipantRole, RecurrenceFrequency, TenureStatus
from app.schema.fields import (
    CITATIONS_IN_ORDER,
    DOCUMENT_TEXT,
    NODE_TABLES,
    NODE_TYPES,
    After,
    Before,
    First,
    Last,
    RowsOf,
    Special,
    citations_of,
    column,
    compiled,
    connection,
    embedded,
    from_row,
    load_node,
    partial_date,
    reference,
    row_type,
    rows_of,
    strawberry_only,
    structural,
    structural_resolver,
)
from app.schema.relay import Connection, Node, PageInfo
from app.schema.runtime import Info
from app.schema.values import Citation, Mention, PartialDate

BASIS = "STATED where the cited text says it; INFERRED where the curator read it into the text (`basisNote` says how)."
BASIS_NOTE = 'For an INFERRED fact, what was inferred and why ("Congo" read as the DRC); null for a stated one.'


def conflicts(entity_type: str, what: str) -> Any:
    async def resolve(self: Any, info: Info) -> list[Conflict]:
        return await conflicts_of(info, entity_type, self.row.id)

    field = strawberry.field(
        resolver=resolve,
        description=f"Where documents disagree about this {what}: each value with its citation.",
    )
    return strawberry_only(field, "conflicts are read by Strawberry's resolvers (app/schema/conflicts.py)")


@row_type
@strawberry.type(description="An organization, body, forum, initiative or group of states.")
class Organization(Node):
    row: strawberry.Private[Any]
    slug: str = column(description='Stable natural key, e.g. "osce"; `organization(slug:)` takes it.')
    name: str = column(description='Full name: "Organization for Security and Co-operation in Europe".')
    acronym: str | None = column(description='Acronym, where it has one: "OSCE".')
    aliases: list[str] = column(description='Other names the documents use: "the UN".')
    kind: OrganizationKind = column(description="What sort of body it is.")
    description: str | None = column(description="A short description.")
    basis: Basis = column(
        description="Whether the text gives its name, aliases and parent (STATED) or the curator supplied some of "
        'them (INFERRED: the P5\'s full name, where the text says only "the P5"; `basisNote` says which).'
    )
    basis_note: str | None = column(description=BASIS_NOTE)
    search_aliases: list[str] = column(
        description='Other names users type that the documents do not use ("Ulan Bator"): the curator\'s, kept apart '
        "from `aliases`; the filters and search find the organization by them too."
    )
    parent = reference(
        "parent_id", "Organization | None", description="The body it belongs to: ESCAP -> United Nations."
    )
    children = connection(
        "organization.children",
        description="Bodies that belong to it.",
        filter=f.OrganizationFilter,
        order=f.OrganizationOrder,
    )
    memberships = connection(
        "organization.memberships",
        description="Memberships of this organization (Mongolia's, as the documents state them).",
        filter=f.MembershipFilter,
        order=f.MembershipOrder,
    )
    chairmanships = connection(
        "organization.chairmanships",
        description="Chairmanships and presidencies of this body.",
        filter=f.ChairmanshipFilter,
        order=f.ChairmanshipOrder,
    )
    events = connection(
        "organization.events",
        description="Events that belong to this organization (an ASEM summit to ASEM).",
        filter=f.EventFilter,
        order=f.EventOrder,
    )
    statistics = connection(
        "organization.statistics",
        description="Figures the documents give about this organization.",
        filter=f.StatisticFilter,
        order=f.StatisticOrder,
    )
    mentions = connection(
        "organization.mentions", description="Every passage of every document that names it, in document order."
    )
    citations = citations_of("organization_id", description="Where the documents state this organization's facts.")
    conflicts = conflicts("organization", "organization")


@row_type
@strawberry.type(description="A country the documents name.")
class Country(Node):
    row: strawberry.Private[Any]
    code: str = column(description='ISO 3166-1 alpha-3 code: "MNG".')
    name: str = column(description='Common English name: "Mongolia".')
    aliases: list[str] = column(description='Other names the documents use: "the ROK".')
    basis: Basis = column(description="Whether the text names this country (STATED) or the curator inferred it.")
    basis_note: str | None = column(description=BASIS_NOTE)
    memberships = connection(
        "country.memberships",
        description="Its memberships of organizations and bodies.",
        filter=f.MembershipFilter,
        order=f.MembershipOrder,
    )
    chairmanships = connection(
        "country.chairmanships",
        description="Chairmanships it held, as chair or co-chair.",
        filter=f.ChairmanshipFilter,
        order=f.ChairmanshipOrder,
    )
    events = connection(
        "country.events",
        description="Events it took part in (hosted, attended, co-sponsored, signed, was invited to); "
        "`filter: {participantRole: HOST}` gives the events it hosted.",
        filter=f.EventFilter,
        order=f.EventOrder,
    )
    statistics = connection(
        "country.statistics",
        description="Figures the documents give about this country.",
        filter=f.StatisticFilter,
        order=f.StatisticOrder,
    )
    citations = citations_of("country_id", description="Where the documents name this country.")


@row_type
@strawberry.type(description="A country's membership of an organization or body, with its role and tenure.")
class Membership(Node):
    row: strawberry.Private[Any]
    slug: str = column(description="Stable natural key from the seed files.")
    role: str | None = column(description='The role: "member", "member of the Governing body".')
    start_date: PartialDate | None = partial_date("start", description="When it began; null where no source says.")
    end_date: PartialDate | None = partial_date("end", description="When it ended; null where no source says.")
    status: TenureStatus = column(
        description="ONGOING or ENDED where the sources say so, else UNKNOWN (no end date is not 'ongoing')."
    )
    basis: Basis = column(description=BASIS)
    basis_note: str | None = column(description=BASIS_NOTE)
    member = reference("country_id", "Country", description="The member country.")
    organization = reference("organization_id", "Organization", description="The organization or body.")
    citations = citations_of("membership_id", description="Where the documents state this membership.")
    conflicts = conflicts("membership", "membership")


CO_CHAIRS = RowsOf(
    entity="Country",
    name="chairmanship.coChairs",
    statement=BASE["Country"]
    .join_from(countries, co_chairs, co_chairs.c.country_id == countries.c.id)
    .order_by(countries.c.name, countries.c.id),
    parent=co_chairs.c.chairmanship_id,
)


@row_type
@strawberry.type(description="A chairmanship, presidency or co-chairmanship of a body.")
class Chairmanship(Node):
    row: strawberry.Private[Any]
    slug: str = column(description="Stable natural key from the seed files.")
    title: str = column(description='What it was: "Chair of the 75th Session of ESCAP", "Presidency of the CD".')
    session: int | None = column(description="The session's number, where there is one: 75.")
    office_holder: str | None = column(description='Who held it: "Minister for Foreign Affairs of Mongolia".')
    start_date: PartialDate | None = partial_date("start", description="When it began; null where no source says.")
    end_date: PartialDate | None = partial_date("end", description="When it ended; null where no source says.")
    basis: Basis = column(description=BASIS)
    basis_note: str | None = column(description=BASIS_NOTE)
    organization = reference(
        "organization_id", "Organization", description="The body chaired: ESCAP, the Community of Democracies, ..."
    )
    chair = reference("chair_id", "Country", description="The country that held it.")
    co_chairs = rows_of(CO_CHAIRS, "The countries that co-chaired beside it.")
    predecessor = reference(
        "predecessor_id", "Country | None", description="The country that held it before, where the documents say."
    )
    events = connection(
        "chairmanship.events",
        description="Events held under this chairmanship.",
        filter=f.EventFilter,
        order=f.EventOrder,
    )
    citations = citations_of("chairmanship_id", description="Where the documents state this chairmanship.")
    conflicts = conflicts("chairmanship", "chairmanship")


@row_type
@strawberry.type(description="A place as the documents name it, resolved to a country where the text allows.")
class Place:
    row: strawberry.Private[Any]
    name: str = column(description='The name as the text gives it: "Ulaanbaatar", "Darfur", "Western Sahara".')
    country = reference(
        "country_id", "Country | None", description="The country it is in, where known: Darfur -> Sudan (SDN)."
    )
    basis: Basis = column(
        description='Whether the text states the country ("Darfur and Abyei of Sudan") or the curator inferred '
        "it (Helsinki is in Finland)."
    )
    basis_note: str | None = column(description=BASIS_NOTE)
    search_aliases: list[str] = column(
        description='Other names users type that the documents do not use ("Ulan Bator" for Ulaanbaatar): the '
        "curator's, not the text's; the `place` filters find the place by them too."
    )


STATISTIC_PLACES = RowsOf(
    entity="Place",
    name="statistic.places",
    statement=BASE["Place"]
    .join_from(places, statistic_places, statistic_places.c.place_id == places.c.id)
    .order_by(statistic_places.c.position, places.c.id),
    parent=statistic_places.c.statistic_id,
)


@row_type
@strawberry.type(description='How an event recurs: "annually held since 2014", "adopts every two years since 1998".')
class Recurrence:
    row: strawberry.Private[Any]
    frequency: RecurrenceFrequency = column("recurrence", description="How often: ANNUAL, BIENNIAL or IRREGULAR.")
    since: PartialDate = partial_date(description="When it began to recur (its first occurrence, where known).")
    until: PartialDate | None = partial_date(
        description="When it stopped; null: ongoing as of its newest source (`Document.published`), which is as far "
        "as date filters, the timeline and aggregates project it."
    )
    description: str | None = column("recurrence_description", description="The text's words for it.")


@strawberry.type(description="A country's part in an event: the edge says how it took part.")
class EventParticipantEdge:
    row: strawberry.Private[Any]
    cursor: str = structural(description="Opaque position of this item; pass to `after` or `before`.")
    node: Country = structural(description="The country.")
    role: str | None = column(
        "edge_role", description='The source\'s words for its part: "host", "main co-sponsor", "incoming president".'
    )
    role_kind: ParticipantRole = column("edge_role_kind", description="Its part, in few words: HOST, INVITEE, ...")
    basis: Basis = column(
        "edge_basis", description="Whether the text states this part (STATED) or the curator inferred it."
    )
    basis_note: str | None = column("edge_basis_note", description=BASIS_NOTE)


@strawberry.type(description="A page of an event's participants, each edge with the country's part.")
class EventParticipantConnection:
    edges: list[EventParticipantEdge] = structural(description="The page's countries, each with its part.")
    nodes: list[Country] = structural(description="The page's countries, without their parts.")
    page_info: PageInfo = structural(description="Cursors and whether more pages exist.")
    counter: strawberry.Private[Any]

    @structural_resolver
    @strawberry.field(description="How many items the whole list has, filters applied (counted only when asked).")
    async def total_count(self) -> int:
        return int(await self.counter())


@row_type
@strawberry.type(description="Something that took place or was adopted, signed, launched or held.")
class Event(Node):
    row: strawberry.Private[Any]
    slug: str = column(description="Stable natural key from the seed files.")
    title: str = column(description="What the event was.")
    kind: EventKind = column(description="What sort of event it was.")
    description: str | None = column(description="More about it.")
    symbol: str | None = column(description='A document symbol, for resolutions: "A/RES/64/214".')
    date: PartialDate | None = partial_date(description="When it took place (its first day); null where unknown.")
    end_date: PartialDate | None = partial_date(
        "end", description='Its last day, for multi-day events: "27-28 May 2019".'
    )
    ongoing: bool = column(
        description='Still going on as of its sources ("has been consistently pursuing since the 1980\'s"): it '
        "spans from `date` to its newest source's `Document.published`, where the date filters find it, and no "
        "further. false: a happening of its `date` (and `endDate`)."
    )
    location: str | None = column(
        description='Where it took place: the name of its `place` ("Ulaanbaatar"), always equal to `place { name }`.',
        deprecation_reason="Use `place { name }` (and `place { country }`, `place { basis }`); `location` is the "
        "same name, kept for older clients.",
    )
    place = reference(
        "place_id",
        "Place | None",
        description="Where it took place: the place as the text names it, with its country where the text allows.",
    )
    recurrence = embedded(
        "Recurrence",
        "recurrence",
        description='How it recurs ("annually held since 2014"); null for a one-off event. Date filters and '
        "`timeline` see a recurring event in every period it recurs in.",
    )
    occasion = reference(
        "occasion_id",
        "Event | None",
        description="The event this one happened at or during (Mongolia's accession at the ASEM summit in "
        "Helsinki); `timeline` counts it with that event, not again.",
    )
    basis: Basis = column(description=BASIS)
    basis_note: str | None = column(description=BASIS_NOTE)
    organization = reference(
        "organization_id",
        "Organization | None",
        description="The organization it belongs to (ASEM for an ASEM summit).",
    )
    chairmanship = reference(
        "chairmanship_id", "Chairmanship | None", description="The chairmanship it was held under, if any."
    )
    participants = connection(
        "event.participants",
        description="Countries taking part, hosting, co-sponsoring, signing or invited; each edge says how "
        "(`role`, `roleKind`).",
        filter=f.EventParticipantFilter,
        order=f.CountryOrder,
        connection_type=EventParticipantConnection,
        edge_type=EventParticipantEdge,
    )
    partner_organizations = connection(
        "event.partnerOrganizations",
        description="Other organizations involved (the EU as a co-launcher).",
        filter=f.OrganizationFilter,
        order=f.OrganizationOrder,
    )
    citations = citations_of("event_id", description="Where the documents state this event.")
    conflicts = conflicts("event", "event")


@row_type
@strawberry.type(description='A figure a document gives: "more than 18,139 peacekeepers".')
class Statistic(Node):
    row: strawberry.Private[Any]
    slug: str = column(description="Stable natural key from the seed files.")
    label: str = column(description="What the figure counts.")
    value: float = column(description="The number.")
    unit: str | None = column(description='What it counts in: "peacekeepers".')
    qualifier: str | None = column(description='How exact it is: "more than", "approximately".')
    as_of: PartialDate | None = partial_date(description="The date the figure holds for, where given.")
    organization = reference(
        "organization_id", "Organization | None", description="The organization the figure is about, if any."
    )
    country = reference(
        "country_id",
        "Country | None",
        description="The country the figure is about, if any (Mongolia, for Mongolia's peacekeepers abroad).",
    )
    places = rows_of(
        STATISTIC_PLACES,
        "The places the figure is about, in the text's order: \"serving in South Sudan, Western Sahara, Darfur "
        'and Abyei of Sudan, ..." gives South Sudan (SSD), Western Sahara (ESH), Darfur (SDN), ...',
    )
    basis: Basis = column(description=BASIS)
    basis_note: str | None = column(description=BASIS_NOTE)
    citations = citations_of("statistic_id", description="Where the documents give this figure.")
    conflicts = conflicts("statistic", "figure")


async def _document_text(self: Any, info: Info) -> str:
    ctx = info.context

    async def load(keys: Any) -> Any:
        return await paging.rows_by_key(ctx.db, "document_text", DOCUMENT_TEXT, documents.c.id, keys)

    row = await ctx.loader("document.text", load).load(self.row.id)
    return str(row.text)


@row_type
@strawberry.type(description="A passage of a document: its text and offsets (`text[start:end]`).")
class Passage:
    row: strawberry.Private[Any]
    text: str = column(description="The passage, as the document has it.")
    start: int = column(description="Offset of its first character in `Document.text`.")
    end: int = column(description="Offset just past its last character.")


UNCITED = RowsOf(
    entity="Passage",
    name="document.uncited",
    statement=select(uncited_sentences).order_by(uncited_sentences.c.start, uncited_sentences.c.id),
    parent=uncited_sentences.c.document_id,
)


@row_type
@strawberry.type(description="How much of a document the knowledge base covers, sentence by sentence.")
class DocumentCoverage:
    row: strawberry.Private[Any]
    sentences: int = column("sentence_count", description="How many sentences the document has.")
    cited: int = column("cited_count", description="How many a fact's citation quotes (in part or whole).")
    no_fact: int = column(
        "no_fact_count",
        description="How many the curator lists as stating no fact (page chrome, a general statement).",
    )
    uncited = rows_of(UNCITED, "Every other sentence, in document order.")


@row_type
@strawberry.type(description="A source document, kept byte for byte; citation offsets refer to its text.")
class Document(Node):
    row: strawberry.Private[Any]
    slug: str = column(description="Stable natural key.")
    title: str = column(description="The document's title.")
    language: str = column(description='Its language (BCP 47): "en".')
    origin: str | None = column(description="Where it comes from.")
    sha256: str = column(description="SHA-256 of its UTF-8 text, to check a copy.")
    published: PartialDate | None = partial_date(
        "published",
        description='When it was written, as far as known ("2020"); nothing in the knowledge base is dated after '
        "the newest document's date (a recurrence with no end is projected no further). `basis` says whether the "
        "document gives it or the curator read it from the text.",
    )
    basis: Basis = column(
        description="Whether the document states its `published` date (STATED) or the curator read it from the text "
        '(INFERRED: "As of September 2020"; `basisNote` says how).'
    )
    basis_note: str | None = column(description=BASIS_NOTE)

    coverage = embedded(
        "DocumentCoverage",
        "sentence_count",
        nullable=False,
        description="How much of the document the knowledge base covers: every sentence is cited by a fact, "
        "listed by the curator as stating no fact, or uncited.",
    )
    text: str = compiled(
        strawberry.field(
            resolver=_document_text,
            description="The full text. Offsets count Unicode code points; `text[start:end]` is a citation's quote.",
        ),
        Special(kind="document.text"),
    )


def make_item(entity: str, row: Any) -> Any:
    return from_row(NODE_TYPES.get(entity) or Mention, row)


__all__ = [
    "CITATIONS_IN_ORDER",
    "NODE_TABLES",
    "NODE_TYPES",
    "After",
    "Before",
    "Chairmanship",
    "Citation",
    "Connection",
    "Country",
    "Document",
    "Event",
    "First",
    "Last",
    "Membership",
    "Mention",
    "Organization",
    "PartialDate",
    "Place",
    "Special",
    "Statistic",
    "compiled",
    "load_node",
]
