"""Every single-object lookup the API offers is an index search, on both engines.

`organization(slug:)` (and the `organization` filters) match the slug or the acronym in any case,
`country(code:)` the code. The statements the app really sends for them, its first answer
(Strawberry's) and its repeat (the compiler's) alike, are captured and explained on a database
of 5,000 organizations and 3,000 countries: each plan searches an index and scans no table. Then
the index is dropped and the same statement scans the table, which shows that at this size the
planner prefers the index when there is one.
"""

from __future__ import annotations

import asyncio
import itertools
import string
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.engine import Engine

from app.data.engine import async_url, create_engine
from app.data.migrations import upgrade
from app.data.models import Country, Organization
from tests.conftest import Api, Databases, make_api

ORGANIZATIONS = 5_000
COUNTRIES = 3_000


async def _fill(url: str) -> None:
    """Many organizations (one is ESCAP) and many countries (one is MNG), then fresh planner statistics."""
    codes = ["MNG", *("".join(c) for c in itertools.product(string.ascii_uppercase, repeat=3) if "".join(c) != "MNG")]
    engine = create_engine(url, pool=False)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(Organization),
                [{"slug": "escap", "name": "ESCAP", "acronym": "ESCAP", "kind": "UN_REGIONAL_COMMISSION"}]
                + [
                    {"slug": f"body-{n}", "name": f"Body {n}", "acronym": f"B{n}", "kind": "FORUM"}
                    for n in range(ORGANIZATIONS - 1)
                ],
            )
            await conn.execute(
                insert(Country), [{"code": code, "name": f"Country {code}"} for code in codes[:COUNTRIES]]
            )
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def lookup_db(request: pytest.FixtureRequest, databases: Databases) -> str:
    url = databases.new(request.param)
    upgrade(url)
    asyncio.run(_fill(url))
    return url


@pytest.fixture
async def lookup_api(lookup_db: str) -> AsyncIterator[Api]:
    async for made in make_api(lookup_db, result_cache_size=0):
        yield made


@pytest.fixture
def sent() -> Iterator[list[tuple[str, Any]]]:
    """The statements every engine sends while the test runs, with their parameters."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    yield statements
    event.remove(Engine, "before_cursor_execute", record)


async def plan(url: str, statement: str, parameters: Any, without: str | None = None) -> str:
    """The engine's plan for a statement as the app sent it, one line per step; `without` an index
    (dropped in a transaction that is rolled back)."""
    sqlite = async_url(url).get_backend_name() == "sqlite"
    engine = create_engine(url, pool=False)  # with the app's SQL functions on SQLite
    try:
        async with engine.connect() as conn:
            if without is not None:
                await conn.execute(text(f"DROP INDEX {without}"))
            explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            rows = (await conn.exec_driver_sql(explain + statement, parameters)).all()
            await conn.rollback()
    finally:
        await engine.dispose()
    return "\n".join(str(row[-1]) for row in rows)


def scans(plan_text: str, table: str) -> bool:
    """Whether a plan reads a whole table (PostgreSQL's Seq Scan, SQLite's SCAN)."""
    return f"Seq Scan on {table}" in plan_text or f"SCAN {table}" in plan_text


def searches(plan_text: str, table: str) -> bool:
    """Whether a plan looks rows of a table up by an index (PostgreSQL's index scans, SQLite's SEARCH)."""
    return "Index Scan using" in plan_text or "Index Scan on" in plan_text or f"SEARCH {table}" in plan_text


LOOKUPS = [
    # (query, the table it looks up, a word of its statement, the index of ours its plan must name)
    ('{ organization(slug: "Escap") { name } }', "organizations", "lower(", "ix_organizations_lower_acronym"),
    ('{ organization(slug: "body-17") { name } }', "organizations", "lower(", "ix_organizations_lower_acronym"),
    ('{ country(code: "mng") { name } }', "countries", "code", None),
]


@pytest.mark.parametrize("lookup_db", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize(("query", "table", "marker", "index"), LOOKUPS)
async def test_lookups_search_an_index(
    lookup_api: Api, lookup_db: str, sent: list[tuple[str, Any]], query: str, table: str, marker: str, index: str | None
) -> None:
    for attempt in ("first answer (Strawberry's)", "repeat (the compiler's)"):
        sent.clear()
        data = await lookup_api.data(query)
        assert next(iter(data.values())), data
        looked_up = [(sql, params) for sql, params in sent if f" {table}" in sql and marker in sql.lower()]
        assert looked_up, f"{attempt}: no statement on {table} among {[sql for sql, _ in sent]}"
        for statement, parameters in looked_up:
            found = await plan(lookup_db, statement, parameters)
            assert searches(found, table) and not scans(found, table), f"{attempt}:\n{statement}\n{found}"
            if index is not None:
                assert index in found, f"{attempt}:\n{statement}\n{found}"
                without = await plan(lookup_db, statement, parameters, without=index)
                assert scans(without, table), f"without {index} the planner should scan {table}:\n{without}"
