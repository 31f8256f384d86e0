"""Synthetic data at scale: N organizations with proportional facts, for benchmarks and capacity tests.

`python -m app seed --synthetic N` fills a migrated, empty database (or one emptied with
`--reset`) with N organizations (a parent hierarchy), ~250 countries, ~10 memberships, ~100
events, ~1 chairmanship and ~2 statistics per organization, event participants and partners,
mentions and search entries. Like the curated data, every fact has a citation: each
organization gets a synthetic report whose text states its facts sentence by sentence, and each
citation quotes one of those sentences at its exact offsets. Partial dates come in every
precision (and unknown), stored exactly as `app.dates.PartialDate` stores them.

The data is deterministic (a fixed random seed): the same N gives the same rows. Rows are
written with Core bulk inserts (multi-row VALUES batches) in one transaction, parents before
children; secondary and full-text indexes are built once at the end instead of row by row.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import random
import string
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, insert, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.data import models
from app.data.engine import create_engine
from app.data.migrations import head_revision
from app.data.releases import documents_in_database, seeded_at_of, write_release
from app.dates import DatePrecision, PartialDate
from app.seeding.dataset import date_columns
from app.seeding.locate import passages
from app.seeding.writer import reset_database

Progress = Callable[[str], None]

RANDOM_SEED = 20261129
FLUSH_ROWS = 20_000
MAX_COUNTRIES = 250

TABLES: dict[str, Table] = {table.name: table for table in models.Base.metadata.sorted_tables}
# Insert order: every table after the tables it references.
LOAD_ORDER = [table.name for table in models.Base.metadata.sorted_tables if table.name != "dataset_state"]

TOPICS = [
    "Trade",
    "Water Security",
    "Energy",
    "Peacekeeping Operations",
    "Human Rights",
    "Climate Change",
    "Education",
    "Public Health",
    "Transit Transport",
    "Food and Agriculture",
    "Disarmament",
    "Statistics",
    "Migration",
    "Literacy",
    "Desertification",
    "Nuclear Safety",
    "Maritime Affairs",
    "Telecommunications",
    "Tourism",
    "Decent Work",
]
BODIES = ["Commission on", "Council for", "Forum on", "Agency for", "Committee on", "Programme on", "Office for"]
REGIONS = ["Asian", "Eurasian", "Pacific", "Northern", "Steppe", "Central", "Inter-regional", "Global"]
LOCATIONS = ["Ulaanbaatar", "Geneva", "New York", "Bangkok", "Vienna", "Genève", "São Paulo", "Улаанбаатар", "Nairobi"]
ROLES = ["member", "member", "member", "observer", "associate member", "member of the Governing body"]
PARTICIPANT_ROLES = ["participant", "participant", "host", "co-sponsor", "signatory"]
UNITS = ["member states", "projects", "staff", "resolutions", "peacekeepers", "field offices"]
QUALIFIERS = [None, None, "more than", "about", "nearly"]
ORDINALS = {1: "st", 2: "nd", 3: "rd"}
SYLLABLES = ["ka", "ro", "vi", "an", "tu", "mel", "sar", "do", "ni", "ul", "bek", "zan", "lor", "qu", "es", "ta"]
EVENT_KINDS = [kind.name for kind in models.EventKind]
ORGANIZATION_KINDS = [kind.name for kind in models.OrganizationKind]
# Mongolia takes part in this share of events, so its timeline grows with the data like the real one.
MONGOLIA_SHARE = 0.05


@dataclass
class TableLoad:
    """Rows written to one table and the seconds its inserts took."""

    rows: int = 0
    seconds: float = 0.0


@dataclass
class SyntheticReport:
    """What a synthetic load wrote, and how fast."""

    organizations: int
    tables: dict[str, TableLoad] = field(default_factory=lambda: {name: TableLoad() for name in LOAD_ORDER})
    generate_seconds: float = 0.0
    index_seconds: float = 0.0
    total_seconds: float = 0.0
    data_version: int = 0
    database_bytes: int | None = None

    @property
    def rows(self) -> int:
        return sum(load.rows for load in self.tables.values())

    def table(self) -> str:
        lines = [f"{'table':<30}{'rows':>12}{'insert s':>10}{'rows/s':>11}"]
        for name, load in self.tables.items():
            rate = load.rows / load.seconds if load.seconds else 0.0
            lines.append(f"{name:<30}{load.rows:>12,}{load.seconds:>10.2f}{rate:>11,.0f}")
        lines.append(
            f"{'all tables':<30}{self.rows:>12,}{sum(t.seconds for t in self.tables.values()):>10.2f}"
            f"{self.rows / self.total_seconds if self.total_seconds else 0:>11,.0f}  (overall, generation included)"
        )
        lines.append(
            f"generating rows {self.generate_seconds:.2f} s; indexes and planner statistics {self.index_seconds:.2f} s;"
            f" total {self.total_seconds:.2f} s"
        )
        if self.database_bytes is not None:
            lines.append(f"database size {self.database_bytes / 2**20:,.1f} MiB")
        return "\n".join(lines)


class SyntheticRefused(Exception):
    """The database is not at the newest migration, or not empty without --reset."""


async def seed_synthetic(
    database_url: str,
    organizations: int,
    *,
    reset: bool = False,
    progress: Progress = lambda _message: None,
    advance: Callable[[int], None] = lambda _done: None,
) -> SyntheticReport:
    """Fill the database with `organizations` synthetic organizations and their facts, in one transaction.

    `progress` is told each stage; `advance(n)` that n more organizations were generated.
    """
    if organizations < 1:
        raise SyntheticRefused("the number of organizations must be at least 1")
    started = time.perf_counter()
    report = SyntheticReport(organizations)
    engine = create_engine(database_url, pool=False)
    # Rows go out as multi-row INSERT ... VALUES batches (SQLAlchemy's "insertmanyvalues"), not
    # one statement per row: on PostgreSQL that is several times faster.
    engine.sync_engine.dialect.use_insertmanyvalues_wo_returning = True
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_load, report, reset, progress, advance)
        if engine.dialect.name == "postgresql":
            await _vacuum(engine, report, progress)
        report.total_seconds = time.perf_counter() - started
        async with engine.connect() as conn:
            report.database_bytes = await conn.run_sync(_database_bytes)
    finally:
        await engine.dispose()
    return report


def _load(
    conn: Connection, report: SyntheticReport, reset: bool, progress: Progress, advance: Callable[[int], None]
) -> None:
    _check_ready(conn, reset)
    if reset:
        progress("deleting every row")
        reset_database(conn)
    dialect = conn.dialect.name
    if dialect == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size = -262144")  # 256 MiB: index pages of big tables stay in memory
    indexes = _DeferredIndexes(conn)
    indexes.suspend()
    writer = _BulkWriter(conn, report, progress)
    progress("generating the rows")
    _Generator(report.organizations, writer, advance).run()
    writer.flush()
    started = time.perf_counter()
    progress("building the indexes")
    indexes.resume()
    if dialect == "postgresql":
        _advance_sequences(conn)
    else:
        progress("updating the planner's statistics")
        conn.exec_driver_sql("ANALYZE")
    report.index_seconds = time.perf_counter() - started
    report.data_version = _bump_version(conn)
    # A release like any seed's; its changes are not listed (a bulk load for benchmarks, every record new).
    write_release(conn, report.data_version, seeded_at_of(conn), documents_in_database(conn), [])


async def _vacuum(engine: AsyncEngine, report: SyntheticReport, progress: Progress) -> None:
    """VACUUM (ANALYZE) the loaded tables: planner statistics, and the visibility map and hint bits.

    Without it the first reads after the load rewrite every page they touch (hint bits) and
    counts cannot be index-only scans, so the first benchmark would measure the load's tail.
    VACUUM cannot run inside a transaction, hence after the commit.
    """
    started = time.perf_counter()
    progress("vacuuming and updating the planner's statistics")
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(LOAD_ORDER)}")
    report.index_seconds += time.perf_counter() - started


def _check_ready(conn: Connection, reset: bool) -> None:
    has_version = inspect(conn).has_table("alembic_version")
    current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() if has_version else None
    if current != head_revision():
        raise SyntheticRefused(
            f"the database is at migration {current or 'none'}, not {head_revision()}: run `python -m app migrate` first"
        )
    if reset:
        return
    filled = [name for name in LOAD_ORDER if conn.execute(select(TABLES[name]).limit(1)).first() is not None]
    if filled:
        raise SyntheticRefused(f"the database already holds data ({', '.join(filled)}); use --reset to delete it first")


class _DeferredIndexes:
    """Takes the secondary indexes (and the full-text index) off the tables during the load.

    Keeping an index up to date row by row costs several times more than building it once from
    the loaded rows, for B-trees and even more for the full-text index (an FTS5 table kept by
    triggers on SQLite, a GIN index on PostgreSQL). Indexes that back a constraint (primary
    keys, unique constraints) stay. Each definition is read from the database and replayed, so
    the models and migrations stay the one place that defines them; inside the transaction,
    a failure restores them with everything else.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.definitions: list[str] = []

    def suspend(self) -> None:
        tables = ", ".join(f"'{name}'" for name in LOAD_ORDER)
        if self.conn.dialect.name == "sqlite":
            found = self.conn.exec_driver_sql(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
                f" AND ((type = 'index' AND tbl_name IN ({tables}))"
                "  OR (type = 'trigger' AND tbl_name = 'search_entries' AND sql LIKE '%AFTER INSERT%'))"
            ).all()
            for kind, name, sql in found:
                self.conn.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
                self.definitions.append(sql)
            return
        found = self.conn.exec_driver_sql(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i"
            f" WHERE i.schemaname = current_schema() AND i.tablename IN ({tables})"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ).all()
        for name, definition in found:
            self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
            self.definitions.append(definition)

    def resume(self) -> None:
        if self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        for definition in self.definitions:
            self.conn.exec_driver_sql(definition)
        if self.conn.dialect.name == "sqlite":
            self.conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")


class _BulkWriter:
    """Buffers rows per table and inserts them in executemany batches, parents first."""

    def __init__(self, conn: Connection, report: SyntheticReport, progress: Progress) -> None:
        self.conn = conn
        self.report = report
        self.progress = progress
        self.buffers: dict[str, list[dict[str, Any]]] = {name: [] for name in LOAD_ORDER}
        self.buffered = 0
        self.next_ids: dict[str, int] = {name: 1 for name in LOAD_ORDER}
        self.generate_started = time.perf_counter()

    def new_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.buffers[table].append(row)
        self.buffered += 1

    def maybe_flush(self) -> None:
        if self.buffered >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        self.report.generate_seconds += time.perf_counter() - self.generate_started
        for name in LOAD_ORDER:
            rows = self.buffers[name]
            if not rows:
                continue
            started = time.perf_counter()
            self.conn.execute(insert(TABLES[name]), rows)
            load = self.report.tables[name]
            load.seconds += time.perf_counter() - started
            load.rows += len(rows)
            self.buffers[name] = []
        self.buffered = 0
        self.progress(f"{self.report.tables['events'].rows:,} events written")
        self.generate_started = time.perf_counter()


class _Document:
    """A synthetic document's text, built sentence by sentence, remembering where each one is."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.sentences = 0

    def add(self, sentence: str) -> tuple[int, int]:
        """Append a sentence; its (start, end) offsets in the text."""
        if self.parts:
            separator = "\n\n" if self.sentences % 8 == 0 else " "
            self.parts.append(separator)
            self.length += len(separator)
        start = self.length
        self.parts.append(sentence)
        self.length += len(sentence)
        self.sentences += 1
        return start, self.length

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class _Org:
    id: int
    name: str
    acronym: str | None
    topic: str


class _Generator:
    """Makes the rows, organization by organization, each with its own cited report."""

    def __init__(self, organizations: int, writer: _BulkWriter, advance: Callable[[int], None]) -> None:
        self.count = organizations
        self.writer = writer
        self.advance = advance
        self.rng = random.Random(RANDOM_SEED)
        self.countries: list[tuple[int, str, str]] = []  # (id, code, name)
        self.orgs: list[_Org] = []

    def run(self) -> None:
        self._countries()
        for index in range(self.count):
            self._organization(index)
            self.writer.maybe_flush()
            self.advance(1)

    # -- helpers ---------------------------------------------------------------------------------

    def _date(self, unknown: float = 0.08, low: int = 1946, high: int = 2025) -> PartialDate | None:
        rng = self.rng
        if rng.random() < unknown:
            return None
        year = rng.randint(low, high)
        roll = rng.random()
        if roll < 0.55:
            month = rng.randint(1, 12)
            return PartialDate.of_day(year, month, rng.randint(1, calendar.monthrange(year, month)[1]))
        if roll < 0.75:
            return PartialDate.of_month(year, rng.randint(1, 12))
        if roll < 0.95:
            return PartialDate.of_year(year)
        return PartialDate.of_decade(year)

    def _later(self, date: PartialDate | None) -> PartialDate | None:
        """A date after `date` (for an end), in any precision."""
        low = date.latest.year + 1 if date is not None else 1950
        if low > 2025:
            return None
        return self._date(unknown=0.0, low=low, high=2025)

    def _cite(self, document_id: int, span: tuple[int, int], quote: str, column: str, subject_id: int) -> None:
        row: dict[str, Any] = dict.fromkeys(models.SUBJECT_COLUMNS)
        row.update(
            id=self.writer.new_id("citations"),
            document_id=document_id,
            start=span[0],
            end=span[1],
            quote=quote,
        )
        row[column] = subject_id
        self.writer.add("citations", row)

    def _search(self, entity: str, entity_id: int, title: str, body: str, start: int = 0, end: int = 0) -> None:
        self.writer.add(
            "search_entries",
            {
                "id": self.writer.new_id("search_entries"),
                "entity_type": entity,
                "entity_id": entity_id,
                "start": start,
                "end": end,
                "title": title,
                "body": body,
            },
        )

    def _document(self, slug: str, title: str, document: _Document, origin: str) -> int:
        document_id = self.writer.new_id("documents")
        body = document.text
        self.writer.add(
            "documents",
            {
                "id": document_id,
                "slug": slug,
                "title": title,
                "language": "en",
                "origin": origin,
                "sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
                "text": body,
            },
        )
        self._search("document", document_id, title, origin)
        for passage in passages(body):
            self._search("passage", document_id, "", passage.text, passage.start, passage.end)
        return document_id

    # -- countries -------------------------------------------------------------------------------

    def _countries(self) -> None:
        total = min(MAX_COUNTRIES, max(20, self.count))
        codes = _country_codes(total)
        document = _Document()
        stated: list[tuple[int, tuple[int, int], str]] = []
        for index, code in enumerate(codes):
            country_id = self.writer.new_id("countries")
            name = "Mongolia" if code == "MNG" else _country_name(index)
            aliases = [f"the Republic of {name}"] if index % 7 == 3 else []
            self.writer.add("countries", {"id": country_id, "code": code, "name": name, "aliases": aliases})
            sentence = f"{name} ({code}) takes part in the work of the organizations this report describes."
            stated.append((country_id, document.add(sentence), sentence))
            self._search("country", country_id, name, " ".join([code, *aliases]))
            self.countries.append((country_id, code, name))
        document_id = self._document(
            "synthetic-countries", "Synthetic countries", document, "Synthetic: the countries of the synthetic data."
        )
        for country_id, span, sentence in stated:
            self._cite(document_id, span, sentence, "country_id", country_id)

    def _country(self) -> tuple[int, str, str]:
        return self.countries[self.rng.randrange(len(self.countries))]

    # -- one organization and its facts ----------------------------------------------------------

    def _organization(self, index: int) -> None:
        # Each organization draws from its own stream, so organization i has the same number of
        # memberships, events, ... whatever N is: a query over the first organizations has the
        # same shape at N = 10 and N = 10,000.
        self.rng = random.Random(f"{RANDOM_SEED}:{index}")
        rng, writer = self.rng, self.writer
        org_id = writer.new_id("organizations")
        topic = rng.choice(TOPICS)
        if index == 0:  # the README's examples ask for ESCAP
            org = _Org(org_id, "Economic and Social Commission for Asia and the Pacific", "ESCAP", topic)
            slug, kind, parent = "escap", "UN_REGIONAL_COMMISSION", None
        else:
            region, body = rng.choice(REGIONS), rng.choice(BODIES)
            name = f"{region} {body} {topic} {index}"
            acronym = None
            if rng.random() < 0.6:
                acronym = "".join(word[0] for word in name.split() if word[0].isupper()) + str(index)
            org = _Org(org_id, name, acronym, topic)
            slug = f"org-{index:06d}"
            kind = rng.choice(ORGANIZATION_KINDS)
            parent = self.orgs[rng.randrange(len(self.orgs))] if rng.random() < 0.7 else None
        self.orgs.append(org)
        label = f"{org.name} ({org.acronym})" if org.acronym else org.name
        description = f"A synthetic body working on {topic.lower()}."
        writer.add(
            "organizations",
            {
                "id": org_id,
                "slug": slug,
                "name": org.name,
                "acronym": org.acronym,
                "aliases": [f"the {org.acronym}"] if org.acronym else [],
                "kind": kind,
                "description": description,
                "parent_id": parent.id if parent else None,
            },
        )
        self._search("organization", org_id, label, description)

        document = _Document()
        cites: list[tuple[tuple[int, int], str, str, int]] = []
        mentions: list[tuple[int, int, str, str]] = []  # (organization id, start, name, sentence)

        def state(sentence: str, column: str, subject_id: int, mention: bool = False) -> None:
            span = document.add(sentence)
            cites.append((span, sentence, column, subject_id))
            if mention:
                at = sentence.index(org.name)
                mentions.append((org_id, span[0] + at, org.name, sentence))

        belongs = f", part of the {parent.name}," if parent else ""
        state(
            f"The {label}{belongs} works on {topic.lower()}; this report’s figures are its own.",
            "organization_id",
            org_id,
            True,
        )
        if parent:
            sentence = cites[-1][1]
            mentions.append((parent.id, cites[-1][0][0] + sentence.rindex(parent.name), parent.name, sentence))

        for _ in range(rng.randint(5, 15)):
            self._membership(org, state)
        chairmanships = [self._chairmanship(org, state) for _ in range(rng.randint(0, 2))]
        for _ in range(rng.randint(50, 150)):
            self._event(org, chairmanships, state)
        for _ in range(rng.randint(1, 3)):
            self._statistic(org, state)

        document_id = self._document(
            f"report-{slug}", f"Report on the {org.name}", document, f"Synthetic: facts of the {org.name}."
        )
        for span, quote, column, subject_id in cites:
            self._cite(document_id, span, quote, column, subject_id)
        for organization_id, start, name, sentence in mentions:
            writer.add(
                "mentions",
                {
                    "id": writer.new_id("mentions"),
                    "organization_id": organization_id,
                    "document_id": document_id,
                    "start": start,
                    "end": start + len(name),
                    "text": name,
                    "context": sentence,
                },
            )

    def _membership(self, org: _Org, state: Callable[..., None]) -> None:
        rng = self.rng
        membership_id = self.writer.new_id("memberships")
        country_id, _code, country = self._country()
        role = rng.choice(ROLES)
        start = self._date(unknown=0.15)
        status = rng.choice(["ONGOING", "ENDED", "UNKNOWN"])
        end = self._later(start) if status == "ENDED" else None
        if status == "ENDED" and end is None:
            status = "UNKNOWN"
        tenure = {"ONGOING": " and remains one", "ENDED": f" until {_bare(end)}", "UNKNOWN": ""}[status]
        article = "an" if role[0] in "aeiou" else "a"
        sentence = f"{country} became {article} {role} of the {org.name} {_words(start, 'on')}{tenure}."
        self.writer.add(
            "memberships",
            {
                "id": membership_id,
                "slug": f"membership-{membership_id}",
                "country_id": country_id,
                "organization_id": org.id,
                "role": role,
                "status": status,
                **date_columns("start", start),
                **date_columns("end", end),
            },
        )
        self._search("membership", membership_id, f"{country}: {role} of {org.name}", sentence)
        state(sentence, "membership_id", membership_id, True)

    def _chairmanship(self, org: _Org, state: Callable[..., None]) -> int:
        rng, writer = self.rng, self.writer
        chairmanship_id = writer.new_id("chairmanships")
        chair_id, _code, chair = self._country()
        session = rng.randint(1, 80) if rng.random() < 0.7 else None
        start = self._date(unknown=0.1)
        end = self._later(start) if rng.random() < 0.5 else None
        name = org.acronym or org.name
        title = f"Chair of the {_ordinal(session)} Session of {name}" if session else f"Presidency of {name}"
        predecessor = self._country()[0] if rng.random() < 0.5 else None
        writer.add(
            "chairmanships",
            {
                "id": chairmanship_id,
                "slug": f"chairmanship-{chairmanship_id}",
                "organization_id": org.id,
                "chair_id": chair_id,
                "predecessor_id": predecessor,
                "title": title,
                "session": session,
                "office_holder": f"Minister for Foreign Affairs of {chair}" if rng.random() < 0.5 else None,
                **date_columns("start", start),
                **date_columns("end", end),
            },
        )
        if rng.random() < 0.2:
            co_chair = self._country()[0]
            if co_chair != chair_id:
                writer.add("chairmanship_co_chairs", {"chairmanship_id": chairmanship_id, "country_id": co_chair})
        sentence = f"{chair} held the {title} {_words(start, 'on')}."
        self._search("chairmanship", chairmanship_id, title, sentence)
        state(sentence, "chairmanship_id", chairmanship_id)
        return chairmanship_id

    def _event(self, org: _Org, chairmanships: list[int], state: Callable[..., None]) -> None:
        rng, writer = self.rng, self.writer
        event_id = writer.new_id("events")
        kind = rng.choice(EVENT_KINDS)
        topic = rng.choice(TOPICS) if rng.random() < 0.5 else org.topic
        title = f"{_ordinal(rng.randint(1, 60))} {kind.replace('_', ' ').title()} on {topic}"
        date = self._date()
        end = None
        if date is not None and date.precision is DatePrecision.DAY and rng.random() < 0.3:
            last = date.earliest + dt.timedelta(days=rng.randint(1, 4))
            end = PartialDate.of_day(last.year, last.month, last.day)
        location = rng.choice(LOCATIONS) if rng.random() < 0.6 else None
        symbol = f"A/RES/{rng.randint(1, 79)}/{event_id}" if kind == "RESOLUTION" else None
        description = f"The {title} adopted conclusions on {topic.lower()}." if rng.random() < 0.1 else None
        writer.add(
            "events",
            {
                "id": event_id,
                "slug": f"event-{event_id}",
                "title": title,
                "kind": kind,
                "description": description,
                "symbol": symbol,
                "location": location,
                "organization_id": org.id,
                "chairmanship_id": rng.choice(chairmanships) if chairmanships and rng.random() < 0.05 else None,
                **date_columns("date", date),
                **date_columns("end", end),
            },
        )
        taken: set[int] = set()
        if rng.random() < MONGOLIA_SHARE:
            taken.add(self.countries[0][0])
        for _ in range(rng.randint(0, 3)):
            taken.add(self._country()[0])
        for country_id in sorted(taken):
            writer.add(
                "event_participants",
                {"event_id": event_id, "country_id": country_id, "role": rng.choice(PARTICIPANT_ROLES)},
            )
        if len(self.orgs) > 1 and rng.random() < 0.1:
            partner = self.orgs[rng.randrange(len(self.orgs) - 1)]
            writer.add("event_partner_organizations", {"event_id": event_id, "organization_id": partner.id})
        when = f"from {_day(date)} to {_day(end)}" if date is not None and end is not None else _words(date, "on")
        place = f" in {location}" if location else ""
        state(f"The {org.name} held the {title} {when}{place}.", "event_id", event_id)
        if description:
            state(description, "event_id", event_id)
        self._search("event", event_id, title, " ".join(part for part in (symbol, description, location) if part))

    def _statistic(self, org: _Org, state: Callable[..., None]) -> None:
        rng = self.rng
        statistic_id = self.writer.new_id("statistics")
        unit = rng.choice(UNITS)
        qualifier = rng.choice(QUALIFIERS)
        value = rng.randint(1, 20_000)
        as_of = self._date(unknown=0.2)
        country_id, _code, country = self._country() if rng.random() < 0.3 else (None, None, None)
        about = f" in {country}" if country else ""
        self.writer.add(
            "statistics",
            {
                "id": statistic_id,
                "slug": f"statistic-{statistic_id}",
                "label": f"{unit.capitalize()} of the {org.name}{about}",
                "value": float(value),
                "unit": unit,
                "qualifier": qualifier,
                "organization_id": org.id,
                "country_id": country_id,
                **date_columns("as_of", as_of),
            },
        )
        amount = f"{qualifier} {value:,}" if qualifier else f"{value:,}"
        sentence = f"The {org.name} counted {amount} {unit}{about} ({_words(as_of, 'as of')})."
        self._search("statistic", statistic_id, f"{unit.capitalize()} of the {org.name}{about}", sentence)
        state(sentence, "statistic_id", statistic_id)


def _words(date: PartialDate | None, preposition: str) -> str:
    """A partial date as a document writes it: "on 27 May 2019", "in May 2019", "in the 1990s"."""
    if date is None:
        return "at a date the report does not give"
    if preposition == "on" and date.precision is not DatePrecision.DAY:
        preposition = "in"
    return f"{preposition} {_bare(date)}"


def _bare(date: PartialDate | None) -> str:
    """ "27 May 2019", "May 2019", "2019", "the 1990s"; "an unknown date"."""
    if date is None:
        return "an unknown date"
    if date.precision is DatePrecision.DAY:
        return _day(date)
    if date.precision is DatePrecision.MONTH:
        return f"{calendar.month_name[date.month or 1]} {date.year}"
    if date.precision is DatePrecision.YEAR:
        return str(date.year)
    return f"the {date.year}s"


def _day(date: PartialDate) -> str:
    return f"{date.day} {calendar.month_name[date.month or 1]} {date.year}"


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else ORDINALS.get(number % 10, "th")
    return f"{number}{suffix}"


def _country_codes(total: int) -> list[str]:
    """MNG first (the timeline example asks for it), then distinct made-up alpha-3 codes."""
    codes = ["MNG"]
    for combination in _letters():
        if len(codes) == total:
            break
        if combination != "MNG":
            codes.append(combination)
    return codes


def _letters() -> Iterator[str]:
    for first in "QXZ":  # letters no real alpha-3 code starts with, except a few
        for second in string.ascii_uppercase:
            for third in string.ascii_uppercase:
                yield first + second + third


def _country_name(index: int) -> str:
    """A made-up name, distinct for each index below 256."""
    syllables = SYLLABLES[(index // 16) % 16] + SYLLABLES[index % 16]
    return syllables.capitalize() + ("ia" if index % 3 else "stan")


def _advance_sequences(conn: Connection) -> None:
    """Ids were given explicitly; move each id sequence past them so later seeds can insert."""
    for name in LOAD_ORDER:
        if "id" not in TABLES[name].c or not TABLES[name].c.id.primary_key:
            continue
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL)"
            f" FROM {name}"
        )


def _bump_version(conn: Connection) -> int:
    """Bump the data version, as every seed that writes does (result caches key on it)."""
    state = TABLES["dataset_state"]
    now = dt.datetime.now(dt.UTC)
    current = conn.execute(select(state.c.version)).scalar()
    if current is None:
        conn.execute(insert(state).values(id=1, version=1, seeded_at=now))
        return 1
    conn.execute(update(state).values(version=current + 1, seeded_at=now))
    return int(current) + 1


def _database_bytes(conn: Connection) -> int | None:
    if conn.dialect.name == "postgresql":
        return int(conn.execute(select(func.pg_database_size(func.current_database()))).scalar_one())
    database = conn.engine.url.database
    if not database or database == ":memory:":
        return None
    page_size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
    pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    return int(page_size) * int(pages)
