"""Synthetic data: proportional counts, real citations, stored partial dates, constant statement counts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from app.config import PROJECT_ROOT, SEED_DIR
from app.data import models
from app.data.engine import create_engine
from app.data.migrations import upgrade
from app.dates import from_parts
from app.seeding import seed
from app.tools.synthetic import SyntheticRefused, seed_synthetic
from tests.conftest import Api, Databases, make_api

NESTED = (PROJECT_ROOT / "app" / "examples" / "nested.graphql").read_text(encoding="utf-8")
ORGANIZATION = (PROJECT_ROOT / "app" / "examples" / "organization.graphql").read_text(encoding="utf-8")
FACT_TABLES = {
    "countries": "country_id",
    "organizations": "organization_id",
    "memberships": "membership_id",
    "chairmanships": "chairmanship_id",
    "events": "event_id",
    "statistics": "statistic_id",
}
DATE_PREFIXES = {
    "memberships": ("start", "end"),
    "chairmanships": ("start", "end"),
    "events": ("date", "end"),
    "statistics": ("as_of",),
}


def read(url: str, work: Callable[[Any], Any]) -> Any:
    """Run `work(connection)` on a fresh synchronous view of the database."""

    async def run() -> Any:
        engine = create_engine(url, pool=False)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def counts(url: str) -> dict[str, int]:
    def work(conn: Any) -> dict[str, int]:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in models.Base.metadata.sorted_tables
        }

    return dict(read(url, work))


@pytest.fixture(scope="module")
def synthetic_dbs(databases: Databases) -> dict[tuple[str, int], str]:
    """Databases with 10 and 40 synthetic organizations, on each engine (made on first use)."""
    return {}


@pytest.fixture
def synthetic(synthetic_dbs: dict[tuple[str, int], str], databases: Databases, engine_name: str) -> Any:
    def make(organizations: int) -> str:
        key = (engine_name, organizations)
        if key not in synthetic_dbs:
            url = databases.new(engine_name)
            upgrade(url)
            asyncio.run(seed_synthetic(url, organizations))
            synthetic_dbs[key] = url
        return synthetic_dbs[key]

    return make


@pytest.mark.parametrize("organizations", [10, 40])
def test_counts_grow_in_proportion(synthetic: Any, organizations: int) -> None:
    found = counts(synthetic(organizations))
    n = organizations
    assert found["organizations"] == n
    assert found["countries"] == max(20, n)
    assert found["documents"] == n + 1  # a report per organization, one for the countries
    for table, per_organization in (("memberships", 10), ("events", 100), ("statistics", 2), ("chairmanships", 1)):
        assert 0.7 * per_organization * n <= found[table] <= 1.3 * per_organization * n, (table, found[table])
    facts = sum(found[table] for table in FACT_TABLES)
    assert facts <= found["citations"] <= 1.2 * facts
    assert found["event_participants"] > found["events"]
    assert found["search_entries"] > facts
    assert found["mentions"] >= found["memberships"] + n


def test_every_citation_quotes_its_document_at_its_offsets(synthetic: Any) -> None:
    url = synthetic(10)

    def work(conn: Any) -> tuple[dict[int, str], list[Any], list[Any]]:
        documents = dict(conn.execute(select(models.Document.id, models.Document.text)).all())
        citations = conn.execute(
            select(models.Citation.document_id, models.Citation.start, models.Citation.end, models.Citation.quote)
        ).all()
        mentions = conn.execute(
            select(models.Mention.document_id, models.Mention.start, models.Mention.end, models.Mention.text)
        ).all()
        return documents, citations, mentions

    documents, citations, mentions = read(url, work)
    assert citations and mentions
    for document_id, start, end, quote in [*citations, *mentions]:
        assert documents[document_id][start:end] == quote
    assert any(not text.isascii() for text in documents.values())  # offsets count code points, not bytes


def test_every_fact_has_a_citation(synthetic: Any) -> None:
    url = synthetic(10)

    def work(conn: Any) -> dict[str, int]:
        uncited = {}
        for table_name, column in FACT_TABLES.items():
            table = models.Base.metadata.tables[table_name]
            cited = select(models.Citation.__table__.c[column]).where(models.Citation.__table__.c[column].is_not(None))
            uncited[table_name] = conn.execute(
                select(func.count()).select_from(table).where(table.c.id.not_in(cited))
            ).scalar_one()
        return uncited

    assert read(url, work) == dict.fromkeys(FACT_TABLES, 0)


def test_partial_dates_come_in_every_precision_stored_as_the_api_reads_them(synthetic: Any) -> None:
    url = synthetic(10)

    def work(conn: Any) -> list[tuple[str, Any]]:
        rows = []
        for table_name, prefixes in DATE_PREFIXES.items():
            table = models.Base.metadata.tables[table_name]
            for prefix in prefixes:
                parts = ("year", "month", "day", "precision", "edtf", "earliest", "latest")
                for row in conn.execute(select(*(table.c[f"{prefix}_{part}"] for part in parts))):
                    rows.append((f"{table_name}.{prefix}", row))
        return rows

    precisions = set()
    for where, (year, month, day, precision, edtf, earliest, latest) in read(url, work):
        precisions.add(precision)
        if precision is None:
            assert (year, month, day, edtf, earliest, latest) == (None,) * 6, where
            continue
        date = from_parts(year, month, day, precision)
        assert (date.edtf, date.earliest, date.latest) == (edtf, earliest, latest), where
    assert precisions == {"DAY", "MONTH", "YEAR", "DECADE", None}


def test_refuses_a_database_with_data_and_replaces_it_on_reset(databases: Databases, engine_name: str) -> None:
    url = databases.new(engine_name)
    upgrade(url)
    first = asyncio.run(seed_synthetic(url, 3))
    before = counts(url)
    with pytest.raises(SyntheticRefused, match="--reset"):
        asyncio.run(seed_synthetic(url, 3))
    again = asyncio.run(seed_synthetic(url, 3, reset=True))
    after = counts(url)
    assert after.pop("releases") == before.pop("releases") + 1  # the history stays, one release more
    assert after == before  # the same N gives the same rows
    assert (first.data_version, again.data_version) == (1, 2)
    assert again.tables["events"].rows == before["events"]


def test_refuses_an_unmigrated_database(databases: Databases, engine_name: str) -> None:
    with pytest.raises(SyntheticRefused, match="migrate"):
        asyncio.run(seed_synthetic(databases.new(engine_name), 3))


def test_the_real_seed_replaces_synthetic_data(databases: Databases, engine_name: str) -> None:
    """Ids were given explicitly; later inserts must still get fresh ones (PostgreSQL's sequences)."""
    url = databases.new(engine_name)
    upgrade(url)
    asyncio.run(seed_synthetic(url, 3))
    outcome = asyncio.run(seed(url, SEED_DIR))
    assert outcome.report is not None and outcome.report.counts["events"]["removed"] > 0
    assert counts(url)["organizations"] == outcome.dataset.counts()["organizations"]


async def _statements(url: str, query: str, variables: dict[str, Any] | None = None) -> int:
    """SQL statements of the query's second run, with the result cache off.

    The first request of a fresh app can batch differently (loads of one type issued in one
    tick or two, as statements compile), so the steady state is compared.
    """
    made: AsyncIterator[Api] = make_api(url, result_cache_size=0)
    api = await anext(made)
    try:
        await api.data(query, variables)
        await api.data(query, variables)
        return api.last_statements
    finally:
        await made.aclose()


@pytest.fixture
def small_and_large(synthetic: Any) -> tuple[str, str]:
    return synthetic(10), synthetic(40)


@pytest.mark.parametrize(
    ("query", "variables"),
    [(NESTED, {"first": 20}), (NESTED, {"first": 5}), (ORGANIZATION, None)],
    ids=["nested-20", "nested-5", "organization"],
)
async def test_statement_counts_do_not_depend_on_data_size(
    small_and_large: tuple[str, str], query: str, variables: dict[str, Any] | None
) -> None:
    small, large = small_and_large
    assert await _statements(small, query, variables) == await _statements(large, query, variables) > 0


def test_cli_reports_rows_per_second(databases: Databases) -> None:
    url = databases.new("sqlite")
    upgrade(url)
    done = subprocess.run(
        [sys.executable, "-m", "app", "seed", "--synthetic", "2", "--database-url", url],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "rows/s" in done.stdout and "events" in done.stdout and "data version 1" in done.stdout
