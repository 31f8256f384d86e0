"""SQLAlchemy models of the knowledge base.

Every fact table has a natural key (`slug`, or `code` for countries) that seeding upserts by.
Every partial date is stored as its parts (year, month, day, precision, EDTF) and as the span
of days it covers (`*_earliest`, `*_latest`), which ordering and range filters use.
Relationships are not mapped: rows are read in batches by `app.loaders`, never lazily.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    column,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.dates import DatePrecision

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class OrganizationKind(enum.Enum):
    """What sort of body an organization is."""

    INTERGOVERNMENTAL_ORGANIZATION = "An intergovernmental organization (the UN, the OSCE)."
    SUPRANATIONAL_UNION = "A union of states with powers of its own (the European Union)."
    UN_ORGAN = "A principal organ of the United Nations (the General Assembly)."
    UN_SUBSIDIARY_BODY = "A body set up by a UN organ (the Human Rights Council)."
    UN_REGIONAL_COMMISSION = "One of the UN's regional commissions (ESCAP)."
    UN_SPECIALIZED_AGENCY = "A UN specialized agency (FAO)."
    UN_PROGRAMME = "A UN programme, fund, operation or arrangement (UN peacekeeping)."
    OFFICE = "An office or branch of an organization in a country."
    GOVERNING_BODY = "The governing body of an organization."
    MINISTERIAL_CONFERENCE = "The conference of ministers of an organization."
    WORKING_GROUP = "A working group of an organization."
    COMMISSION = "An international commission (the ICDP)."
    FORUM = "A forum, dialogue or conference series (ASEM, the Ulaanbaatar Dialogue)."
    INITIATIVE = "An initiative or alliance of states (the Global Alliance against tools of torture)."
    GROUP_OF_STATES = "A group of states (the P5, the landlocked developing countries)."
    THINK_TANK = "A research and advocacy body."
    GOVERNMENT = "A government or its part (the Government of Mongolia)."
    OTHER = "Any other body."


class EventKind(enum.Enum):
    """What sort of event an event is."""

    SUMMIT = "A summit of heads of state or government."
    CONFERENCE = "A conference."
    MEETING = "A meeting, including ministerial meetings and sessions' segments."
    SESSION = "A numbered session of a body."
    FORUM = "A forum or symposium."
    RESOLUTION = "A resolution adopted or issued."
    DECLARATION = "A declaration made or adopted."
    STATEMENT = "A statement issued."
    AGREEMENT = "An agreement, memorandum or framework signed."
    LEGISLATION = "A law adopted."
    ACCESSION = "Joining an organization."
    ESTABLISHMENT = "An organization, office or body established."
    LAUNCH = "An initiative or body officially launched."
    INITIATIVE = "An initiative proposed."
    ELECTION = "An election to an office or a body."
    VISIT = "An official visit."
    PRESIDENCY = "An office or presidency assumed."
    OTHER = "Any other event."


class ParticipantRole(enum.Enum):
    """What part a country took in an event, in few words (the source's own words are its `role`)."""

    HOST = "It hosted the event (on its soil, or as the event's organizer)."
    CHAIR = "It chaired the event or the body meeting."
    CO_CHAIR = "It chaired the event together with others."
    CO_SPONSOR = "It sponsored or co-sponsored a resolution or initiative (a main co-sponsor included)."
    SIGNATORY = "It signed the agreement, memorandum or framework."
    MEMBER = "It took part as a member, or became one (an accession)."
    PARTICIPANT = "It took part, with no more said."
    INVITEE = "It was invited; the sources do not say that it attended."
    OTHER = "Another part: initiator, proposer, declarant, issuer, legislator, negotiating party, ..."


class RecurrenceFrequency(enum.Enum):
    """How often a recurring event recurs."""

    ANNUAL = "Once a year."
    BIENNIAL = "Every two years."
    IRREGULAR = "Now and then, at no regular interval (or at one the sources do not give)."


class Basis(enum.Enum):
    """Whether the sources state a fact or the curator inferred it."""

    STATED = "The cited text states it."
    INFERRED = "The curator inferred it from the cited text; `basisNote` says how."


class TenureStatus(enum.Enum):
    """Whether a membership or office still holds, as far as the sources say."""

    ONGOING = "The sources say it still holds."
    ENDED = "The sources say it ended."
    UNKNOWN = "The sources do not say whether it still holds."


def _names(kind: type[enum.Enum]) -> str:
    return ", ".join(f"'{member.name}'" for member in kind)


def _date_checks(prefix: str) -> list[CheckConstraint]:
    """Check constraints keeping a stored partial date's parts consistent with its precision."""
    p = prefix
    precisions = ", ".join(f"'{member.value}'" for member in DatePrecision)
    return [
        CheckConstraint(f"{p}_precision IS NULL OR {p}_precision IN ({precisions})", name=f"{p}_precision"),
        CheckConstraint(f"{p}_month IS NULL OR {p}_month BETWEEN 1 AND 12", name=f"{p}_month"),
        CheckConstraint(f"{p}_day IS NULL OR {p}_day BETWEEN 1 AND 31", name=f"{p}_day"),
        CheckConstraint(f"{p}_year IS NULL OR {p}_year BETWEEN 1 AND 9999", name=f"{p}_year"),
        CheckConstraint(
            f"({p}_year IS NULL AND {p}_precision IS NULL AND {p}_edtf IS NULL AND {p}_earliest IS NULL"
            f" AND {p}_latest IS NULL AND {p}_month IS NULL AND {p}_day IS NULL)"
            f" OR ({p}_year IS NOT NULL AND {p}_precision IS NOT NULL AND {p}_edtf IS NOT NULL"
            f" AND {p}_earliest IS NOT NULL AND {p}_latest IS NOT NULL AND {p}_earliest <= {p}_latest"
            f" AND ({p}_precision = 'DAY') = ({p}_day IS NOT NULL)"
            f" AND ({p}_precision IN ('DAY', 'MONTH')) = ({p}_month IS NOT NULL))",
            name=f"{p}_parts",
        ),
    ]


def _basis_check() -> CheckConstraint:
    return CheckConstraint(f"basis IN ({_names(Basis)}) AND (basis = 'STATED' OR basis_note IS NOT NULL)", name="basis")


class Document(Base):
    """A source document, kept byte for byte; citation offsets refer to its text."""

    __tablename__ = "documents"
    __table_args__ = (_basis_check(), *_date_checks("published"))

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    # Coverage, computed by the seeder: sentences, those a fact cites, those the curator lists
    # as stating no fact (the others are rows of uncited_sentences).
    sentence_count: Mapped[int] = mapped_column(default=0, server_default="0")
    cited_count: Mapped[int] = mapped_column(default=0, server_default="0")
    no_fact_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the document was written, as its metadata gives it; `basis` says whether the document
    # states it or the curator read it from the text ("As of September 2020").
    published_year: Mapped[int | None]
    published_month: Mapped[int | None]
    published_day: Mapped[int | None]
    published_precision: Mapped[str | None] = mapped_column(String(8))
    published_edtf: Mapped[str | None] = mapped_column(String(16))
    published_earliest: Mapped[dt.date | None] = mapped_column(Date)
    published_latest: Mapped[dt.date | None] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(8), default="STATED", server_default="STATED")
    basis_note: Mapped[str | None] = mapped_column(Text)


class UncitedSentence(Base):
    """A sentence of a document that no fact cites and the curator did not list as stating no fact."""

    __tablename__ = "uncited_sentences"
    __table_args__ = (
        UniqueConstraint("document_id", "start"),
        CheckConstraint('start >= 0 AND "end" > start', name="span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    start: Mapped[int]
    end: Mapped[int]
    text: Mapped[str] = mapped_column(Text)


class Country(Base):
    """A country named by a document, keyed by ISO 3166-1 alpha-3."""

    __tablename__ = "countries"
    __table_args__ = (CheckConstraint("length(code) = 3", name="code_alpha3"), _basis_check())

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    basis: Mapped[str] = mapped_column(String(8), default="STATED", server_default="STATED")
    basis_note: Mapped[str | None] = mapped_column(Text)


class Place(Base):
    """A place as the text names it ("Ulaanbaatar", "Darfur"), resolved to a country where the text allows.

    `basis` says whether the text states the country ("Darfur and Abyei of Sudan") or the curator
    inferred it (Helsinki is in Finland).
    """

    __tablename__ = "places"
    __table_args__ = (_basis_check(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    folded: Mapped[str] = mapped_column(String(200), unique=True)  # the name casefolded: filters compare it
    country_id: Mapped[int | None] = mapped_column(ForeignKey("countries.id"), index=True)
    basis: Mapped[str] = mapped_column(String(8), default="STATED", server_default="STATED")
    basis_note: Mapped[str | None] = mapped_column(Text)
    # Other names users type that the text does not use ("Ulan Bator"), the curator's: listed, and
    # casefolded between bars ("|ulan bator|") for the filters to match.
    search_aliases: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    search_names: Mapped[str] = mapped_column(Text, default="", server_default="")


class Organization(Base):
    """An organization, body, forum, initiative or group of states."""

    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_names(OrganizationKind)})", name="kind"),
        _basis_check(),
        # `organization(slug:)` and the `organization` filters match the acronym in any case.
        Index("ix_organizations_lower_acronym", func.lower(column("acronym"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)  # lower case (seeding checks it)
    name: Mapped[str] = mapped_column(String(500), index=True)
    acronym: Mapped[str | None] = mapped_column(String(40))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Whether the text gives the name, aliases and parent, or the curator supplied them.
    basis: Mapped[str] = mapped_column(String(8), default="STATED", server_default="STATED")
    basis_note: Mapped[str | None] = mapped_column(Text)
    # Other names users type that the text does not use, the curator's (as for places).
    search_aliases: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    search_names: Mapped[str] = mapped_column(Text, default="", server_default="")


class Membership(Base):
    """A country's membership of an organization or body, with its role and tenure."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint(f"status IN ({_names(TenureStatus)})", name="status"),
        _basis_check(),
        *_date_checks("start"),
        *_date_checks("end"),
        Index(None, "start_earliest", "start_latest", "id"),
        Index(None, "end_earliest", "end_latest", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    start_year: Mapped[int | None]
    start_month: Mapped[int | None]
    start_day: Mapped[int | None]
    start_precision: Mapped[str | None] = mapped_column(String(8))
    start_edtf: Mapped[str | None] = mapped_column(String(16))
    start_earliest: Mapped[dt.date | None] = mapped_column(Date)
    start_latest: Mapped[dt.date | None] = mapped_column(Date)
    end_year: Mapped[int | None]
    end_month: Mapped[int | None]
    end_day: Mapped[int | None]
    end_precision: Mapped[str | None] = mapped_column(String(8))
    end_edtf: Mapped[str | None] = mapped_column(String(16))
    end_earliest: Mapped[dt.date | None] = mapped_column(Date)
    end_latest: Mapped[dt.date | None] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(8), default="STATED", server_default="STATED")
    basis_note: Mapped[str | None] = mapped_column(Text)


class Chairmanship(Base):
    """A chairmanship, presidency or co-chairmanship of a body held by a country."""

    __tablename__ = "chairmanships"
    __table_args__ = (
        CheckConstraint("session IS NULL OR session > 0", name="session"),
        _basis_check(),
        *_date_checks("start"),
        *_date_checks("end"),
        Index(None, "start_earliest", "start_latest", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    chair_id: Mapped[int] = mapped_column(ForeignKey("countries.id"), index=True)
    predecessor_id: Mapped[int | None] = mapped_column(ForeignKey("countries.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    session: Mapped[int | None]
    office_holder: Mapped[str | None] = mapped_column(String(300))
    start_year: Mapped[int | None]
    start_month: Mapped[int | None]
    start_day: Mapped[int | None]
    start_precision: Mapped[str | None] = mapped_column(String(8))
    start_edtf: Mapped[str | None] = mapped_column(String(16))
    start_earliest: Mapped[dt.date | None] = mapped_column(Date)
    start_latest: Mapped[dt.date | None] = mapped_column(Date)
    end_year: Mapped[int | None]
    end_month: Mapped[int | None]
    end_day: Mapped[int | None]
    end_precision: Mapped[str | None] = mapped_column(String(8))
    end_edtf: Mapped[str | None] = mapped_column(String(16))
    end_earliest: Mapped[dt.date | None] = mapped_column(Date)
    end_latest: Mapped[dt.date | None] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(8), default="STATED", server_default="STATED")
    basis_note: Mapped[str | None] = mapped_column(Text)


class ChairmanshipCoChair(Base):
    """A country that co-chaired beside the chair."""

    __tablename__ = "chairmanship_co_chairs"

    chairmanship_id: Mapped[int] = mapped_column(ForeignKey("chairmanships.id", ondelete="CASCADE"), primary_key=True)
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"), primary_key=True, index=True)


class Event(Base):
    """Something that happened (or was adopted, signed, held) at a date the sources give."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_names(EventKind)})", name="kind"),
        CheckConstraint(
            f"(recurrence IS NULL AND since_year IS NULL AND until_year IS NULL)"
            f" OR (recurrence IN ({_names(RecurrenceFrequency)}) AND since_year IS NOT NULL)",
            name="recurrence",
        ),
        CheckConstraint("occasion_id IS NULL OR occasion_id <> id", name="occasion"),
        _basis_check(),
        *_date_checks("date"),
        *_date_checks("end"),
        *_date_checks("since"),
        *_date_checks("until"),
        # A recurring event's span: date filters compare it beside the dates above.
        Index(None, "since_earliest", "until_latest", "id"),
        Index(None, "date_earliest", "date_latest", "id"),
        Index(None, "organization_id", "date_earliest", "date_latest", "id"),
        # end_latest last: a kind-and-dates filter (`from` compares the end) counts from the index alone.
        Index(None, "kind", "date_earliest", "date_latest", "id", "end_latest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    symbol: Mapped[str | None] = mapped_column(String(60), index=True)
    location: Mapped[str | None] = mapped_column(String(200))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    chairmanship_id: Mapped[int | None] = mapped_column(ForeignKey("chairmanships.id"), index=True)
    date_year: Mapped[int | None]
    date_month: Mapped[int | None]
    date_day: Mapped[int | None]
    date_precision: Mapped[str | None] = mapped_column(String(8))
    date_edtf: Mapped[str | None] = mapped_column(String(16))
    date_earliest: Mapped[dt.date | None] = mapped_column(Date)
    date_latest: Mapped[dt.date | None] = mapped_column(Date)
    end_year: Mapped[int | None]
    end_month: Mapped[int | None]
    end_day: Mapped[int | None]
    end_precision: Mapped[str | None] = mapped_column(String(8))
    end_edtf: Mapped[str | None] = mapped_column(String(16))
    end_earliest: Mapped[dt.date | None] = mapped_column(Date)
    end_latest: Mapped[dt.date | None] = mapped_column(Date)
    # Where: `location` is the place's name as the text gives it, `place_id` the place record.
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"), index=True)
    # The event this one happened at or during (Mongolia's accession at the ASEM summit in Helsinki).
    occasion_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), index=True)
    # A recurring event ("annually held since 2014"): its frequency and the span it recurs over.
    recurrence: Mapped[str | None] = mapped_column(String(12))
    recurrence_description: Mapped[str | None] = mapped_column(Text)
    since_year: Mapped[int | None]
    since_month: Mapped[int | None]
    since_day: Mapped[int | None]
    since_precision: Mapped[str | None] = mapped_column(String(8))
    since_edtf: Mapped[str | None] = mapped_column(String(16))
    since_earliest: Mapped[dt.date | None] = mapped_column(Date)
    since_latest: Mapped[dt.date | None] = mapped_column(Date)
    until_year: Mapped[int | None]
    until_month: Mapped[int | None]
    until_day: Mapped[int | None]
    until_precision: Mapped[str | None] = mapped_column(String(8))
    until_edtf: Mapped[str | None] = mapped_column(String(16))
    until_earliest: Mapped[dt.date | None] = mapped_column(Date)
    until_latest: Mapped[dt.date | None] = mapped_column(Date)
    # How far the sources reach: the last day (and its year) of the newest `published` date among
    # the documents citing the event; null when one of them is undated. A recurrence with no
    # `until` is projected no further than this (date filters, timeline, aggregates).
    sources_until_year: Mapped[int | None]
    sources_until: Mapped[dt.date | None] = mapped_column(Date)
    # A one-off event still going on as of its sources ("has been consistently pursuing since the
    # 1980's"): it spans from `date` to `sources_until` (to any date when that is unknown).
    ongoing: Mapped[bool] = mapped_column(default=False, server_default=false())
    basis: Mapped[str] = mapped_column(String(8), default="STATED", server_default="STATED")
    basis_note: Mapped[str | None] = mapped_column(Text)


class EventParticipant(Base):
    """A country taking part in an event, with its part (host, co-sponsor, participant)."""

    __tablename__ = "event_participants"
    __table_args__ = (
        CheckConstraint(f"role_kind IN ({_names(ParticipantRole)})", name="role_kind"),
        _basis_check(),
        # "The events Mongolia hosted": a country's participations of one kind, by event.
        Index(None, "country_id", "role_kind", "event_id"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(40), default="participant")
    role_kind: Mapped[str] = mapped_column(String(12), default="PARTICIPANT", server_default="PARTICIPANT")
    basis: Mapped[str] = mapped_column(String(8), default="STATED", server_default="STATED")
    basis_note: Mapped[str | None] = mapped_column(Text)


class EventPartnerOrganization(Base):
    """Another organization involved in an event (the EU as a co-launcher)."""

    __tablename__ = "event_partner_organizations"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True, index=True)


class Statistic(Base):
    """A figure a document gives: "more than 18,139 peacekeepers"."""

    __tablename__ = "statistics"
    __table_args__ = (
        _basis_check(),
        *_date_checks("as_of"),
        Index(None, "as_of_earliest", "as_of_latest", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    label: Mapped[str] = mapped_column(String(300))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(80))
    qualifier: Mapped[str | None] = mapped_column(String(80))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    country_id: Mapped[int | None] = mapped_column(ForeignKey("countries.id"), index=True)
    as_of_year: Mapped[int | None]
    as_of_month: Mapped[int | None]
    as_of_day: Mapped[int | None]
    as_of_precision: Mapped[str | None] = mapped_column(String(8))
    as_of_edtf: Mapped[str | None] = mapped_column(String(16))
    as_of_earliest: Mapped[dt.date | None] = mapped_column(Date)
    as_of_latest: Mapped[dt.date | None] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(8), default="STATED", server_default="STATED")
    basis_note: Mapped[str | None] = mapped_column(Text)


class StatisticPlace(Base):
    """A place a figure is about, in the order the text names them ("serving in South Sudan, Western Sahara, ...")."""

    __tablename__ = "statistic_places"
    __table_args__ = (CheckConstraint("position >= 0", name="position"),)

    statistic_id: Mapped[int] = mapped_column(ForeignKey("statistics.id", ondelete="CASCADE"), primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), primary_key=True, index=True)
    position: Mapped[int]


SUBJECT_COLUMNS = (
    "organization_id",
    "country_id",
    "membership_id",
    "chairmanship_id",
    "event_id",
    "statistic_id",
)


class Citation(Base):
    """A verbatim quote from a document that states a fact; exactly one subject per row."""

    __tablename__ = "citations"
    __table_args__ = (
        CheckConstraint(
            " + ".join(f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)" for column in SUBJECT_COLUMNS) + " = 1",
            name="one_subject",
        ),
        CheckConstraint('start >= 0 AND "end" > start', name="span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    start: Mapped[int]
    end: Mapped[int]
    quote: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    country_id: Mapped[int | None] = mapped_column(ForeignKey("countries.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    chairmanship_id: Mapped[int | None] = mapped_column(ForeignKey("chairmanships.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    statistic_id: Mapped[int | None] = mapped_column(ForeignKey("statistics.id", ondelete="CASCADE"), index=True)


class Mention(Base):
    """A passage where a document names an organization, found by the seeder."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("organization_id", "document_id", "start"),
        CheckConstraint('start >= 0 AND "end" > start', name="span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    start: Mapped[int]
    end: Mapped[int]
    text: Mapped[str] = mapped_column(String(500))
    context: Mapped[str] = mapped_column(Text)


class SearchEntry(Base):
    """One searchable text: an entity's words, or a passage of a document.

    The full-text index over it is engine-specific and made by a migration: an FTS5 table on
    SQLite, a GIN index over a tsvector expression on PostgreSQL.
    """

    __tablename__ = "search_entries"
    __table_args__ = (UniqueConstraint("entity_type", "entity_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int]
    start: Mapped[int] = mapped_column(default=0)
    end: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)


CONFLICT_SUBJECTS = ("organization", "membership", "chairmanship", "event", "statistic")


class Conflict(Base):
    """Documents that disagree on one field of one fact; the fact keeps the first-stated value.

    The subject is named like a search entry's (`entity_type`, `entity_id`): the seeder writes
    conflicts together with their subjects and removes them with them, in one transaction.
    """

    __tablename__ = "conflicts"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id", "field"),
        CheckConstraint(f"entity_type IN ({', '.join(repr(name) for name in CONFLICT_SUBJECTS)})", name="entity_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int]
    field: Mapped[str] = mapped_column(String(40))  # as the seed files name it: "start", "date", "as_of"


class ConflictValue(Base):
    """One of the values a conflict's documents state, with the quote that states it (position 0 is kept)."""

    __tablename__ = "conflict_values"
    __table_args__ = (
        UniqueConstraint("conflict_id", "position"),
        CheckConstraint("position >= 0", name="position"),
        CheckConstraint('start >= 0 AND "end" > start', name="span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conflict_id: Mapped[int] = mapped_column(ForeignKey("conflicts.id", ondelete="CASCADE"))
    position: Mapped[int]
    value: Mapped[str] = mapped_column(Text)  # EDTF for dates, a slug or code for references
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    start: Mapped[int]
    end: Mapped[int]
    quote: Mapped[str] = mapped_column(Text)


def new_database_id() -> str:
    """A random identity for a database (12 hex digits), written once: two databases never share ETags."""
    return secrets.token_hex(6)


class DatasetState(Base):
    """One row: the data version, bumped by every seed that writes; result caches key on it.

    `database_id` is this database's identity, random, written once (migration 0014 or the first
    seed): ETags and result caches carry it with the version, since every database starts at 1.
    """

    __tablename__ = "dataset_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    seeded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    database_id: Mapped[str | None] = mapped_column(String(32), default=new_database_id)


class Release(Base):
    """A data release: one row per seed that changed something, keyed by the data version it made.

    `documents` is the JSON list of the documents the release was built from (slug, sha256, and
    published where the document's metadata gives it); `counts` the JSON object of records per type.
    """

    __tablename__ = "releases"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seeded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    documents: Mapped[str] = mapped_column(Text)
    counts: Mapped[str] = mapped_column(Text)


CHANGE_ACTIONS = ("ADDED", "UPDATED", "REMOVED")


class Change(Base):
    """One record a release added, updated or removed: its type and slug (kept once it is gone) and, as
    JSON text, its changed fields with their values before and after (`[[field, before, after], ...]`,
    each value itself JSON text or null)."""

    __tablename__ = "changes"
    __table_args__ = (
        CheckConstraint(f"action IN ({', '.join(repr(name) for name in CHANGE_ACTIONS)})", name="action"),
        Index(None, "entity_type", "slug", "id"),
        Index(None, "release", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release: Mapped[int] = mapped_column(ForeignKey("releases.version", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(8))
    entity_type: Mapped[str] = mapped_column(String(20))
    slug: Mapped[str] = mapped_column(String(160))
    fields: Mapped[str] = mapped_column(Text)
