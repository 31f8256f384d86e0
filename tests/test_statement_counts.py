"""No N+1: the number of SQL statements depends on a query's shape, never on how many rows it returns.

Strawberry's path reads one batched statement per list and level (measured with the compiler off);
every request the compiler answers, the first included, is ONE statement (app/execution/compiler.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.config import PROJECT_ROOT
from app.data.engine import is_sqlite, libpq_url
from tests.conftest import Api, make_api


@pytest.fixture
async def roomy_api(seeded_db: str) -> AsyncIterator[Api]:
    """The app with a cost limit high enough for a three-level query at 50 a page (counts, not limits, are tested)."""
    async for made in make_api(seeded_db, max_query_cost=10_000_000):
        yield made


@pytest.fixture
async def roomy_strawberry_api(seeded_db: str) -> AsyncIterator[Api]:
    """The same, with the compiler off: Strawberry's own statement counts."""
    async for made in make_api(seeded_db, max_query_cost=10_000_000, execution="strawberry"):
        yield made


THREE_LEVELS = """query($n: Int!) {
  organizations(first: $n, orderBy: {field: SLUG, direction: ASC}) {
    totalCount
    nodes {
      slug
      parent { slug }
      memberships(first: $n) {
        totalCount
        nodes {
          member { code memberships(first: $n) { nodes { organization { slug } } } }
          startDate { edtf }
          citations { quote document { title } }
        }
      }
      events(first: $n) {
        nodes {
          title
          participants(first: $n) { nodes { code } }
          partnerOrganizations(first: $n) { nodes { slug } }
          citations { quote }
        }
      }
      mentions(first: $n) { nodes { text } }
    }
  }
}"""

# organizations page, its count; parents; memberships pages, their counts; member countries;
# their memberships pages; those memberships' organizations; membership citations; documents;
# events pages; participants pages; partner organizations pages; event citations; mentions.
THREE_LEVELS_STATEMENTS = 15
COMPILED_STATEMENTS = 1


@pytest.mark.parametrize("size", [2, 50])
async def test_three_level_query_costs_the_same_at_any_page_size(
    roomy_api: Api, roomy_strawberry_api: Api, size: int
) -> None:
    data = await roomy_strawberry_api.data(THREE_LEVELS, {"n": size})
    organizations = data["organizations"]["nodes"]
    assert len(organizations) == min(size, data["organizations"]["totalCount"])
    assert roomy_strawberry_api.last_statements == THREE_LEVELS_STATEMENTS
    assert await roomy_api.data(THREE_LEVELS, {"n": size}) == data  # the compiler, from the first request on
    assert roomy_api.last_statements == COMPILED_STATEMENTS


async def test_statement_count_grows_with_shape_not_rows(strawberry_api: Api, api: Api) -> None:
    flat = "query($n: Int!) { organizations(first: $n) { nodes { slug } } }"
    nested = "query($n: Int!) { organizations(first: $n) { nodes { events(first: 5) { nodes { title } } } } }"
    counts = []
    for query, n in ((flat, 1), (flat, 100), (nested, 100), (nested, 50)):
        await strawberry_api.data(query, {"n": n})
        await api.data(query, {"n": n})
        counts.append((strawberry_api.last_statements, api.last_statements))
    assert counts == [(1, 1), (1, 1), (2, 1), (2, 1)]


async def test_readme_nested_example_statement_count(roomy_api: Api, roomy_strawberry_api: Api) -> None:
    query = (PROJECT_ROOT / "app" / "examples" / "nested.graphql").read_text(encoding="utf-8")
    counts = []
    for first in (2, 20, 100, 3):  # 100 costs 27,301 objects: past the default limit, hence the roomy apps
        await roomy_strawberry_api.data(query, {"first": first})
        await roomy_api.data(query, {"first": first})
        counts.append((roomy_strawberry_api.last_statements, roomy_api.last_statements))
    # Strawberry: organizations; memberships pages; member countries; events pages; event citations
    assert counts == [(5, COMPILED_STATEMENTS)] * 4


async def test_the_server_counts_real_statements(api: Api, seeded_db: str) -> None:
    """The Server-Timing count is what the database saw: compare with an engine-level listener."""
    from sqlalchemy import event

    from app.data.engine import create_engine

    seen: list[str] = []
    engine = create_engine(seeded_db)

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    from app.config import Settings
    from app.data.session import RequestDatabase
    from app.execution.executable import schema
    from app.schema.runtime import Context

    context = Context(db=RequestDatabase(engine), settings=Settings(database_url=seeded_db))
    result = await schema.execute(THREE_LEVELS, variable_values={"n": 3}, context_value=context)
    await context.db.close()
    await engine.dispose()
    assert result.errors is None
    assert len(seen) == context.db.statements == THREE_LEVELS_STATEMENTS


@pytest.fixture
async def uncached_api(seeded_db: str) -> AsyncIterator[Api]:
    """The app with no result cache: every request executes."""
    async for made in make_api(seeded_db, result_cache_size=0):
        yield made


@pytest.mark.parametrize("example", sorted(p.stem for p in (PROJECT_ROOT / "app" / "examples").glob("*.graphql")))
async def test_an_examples_statement_count_is_the_same_on_every_run(uncached_api: Api, example: str) -> None:
    """The compiler answers in one statement from the first request on, where it covers a query;
    elsewhere Strawberry, whose loads of one type at one level share a statement whichever statement
    the database answers first: the count never varies."""
    query = (PROJECT_ROOT / "app" / "examples" / f"{example}.graphql").read_text(encoding="utf-8")
    counts = []
    for _ in range(5):
        await uncached_api.data(query)
        counts.append(uncached_api.last_statements)
    # Strawberry's alone: search and the timeline aggregate in SQL of their own; a `within` filter
    # looks its organization up first (an unknown one is an error).
    if any(marker in query for marker in ("search(", "timeline(", "within:")):
        assert len(set(counts)) == 1, counts
    else:
        assert counts == [COMPILED_STATEMENTS] * 5, counts


async def test_loads_waiting_for_the_connection_all_get_their_turn(seeded_db: str) -> None:
    """Many batched loads waiting for the connection to be free at once neither deadlock nor starve."""
    import asyncio

    from sqlalchemy import text

    from app.data.engine import create_engine
    from app.data.session import RequestDatabase

    engine = create_engine(seeded_db)
    database = RequestDatabase(engine)  # the async path, as heavy operations and PostgreSQL use
    try:

        async def load(n: int) -> int:
            await database.idle()
            rows = await database.all(text("SELECT count(*) FROM organizations WHERE id > :n"), {"n": n})
            return int(rows[0][0])

        counts = await asyncio.wait_for(asyncio.gather(*(load(n) for n in range(40))), timeout=20)
        assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]
        assert database.statements == 40
    finally:
        await database.close()
        await engine.dispose()


NEW_CONNECTIONS = {
    # the `within` check; the events page, its count; their places; those places' countries; occasions
    # (Event by key); the participants pages (each edge read with its row), their counts.
    "events": (
        """query($n: Int!) { events(first: $n, filter: {within: "UN"}) { totalCount nodes {
             place { name country { code } } occasion { slug }
             participants(first: $n, filter: {roleKind: HOST}) { totalCount edges { role roleKind basis node { code } } }
           } } }""",
        8,
    ),
    # the statistics page; their places (in the text's order); those places' countries.
    "statistics": ("""query($n: Int!) { statistics(first: $n) { nodes { places { name country { code } } } } }""", 3),
    # the country; its hosted events page (its participation's role kind), their count.
    "hosted": (
        """query($n: Int!) { country(code: "MNG") { events(first: $n, filter: {participantRole: HOST}) {
             totalCount nodes { slug place { name } } } } }""",
        4,
    ),
}


@pytest.fixture
async def roomy_uncached_api(seeded_db: str) -> AsyncIterator[Api]:
    async for made in make_api(seeded_db, max_query_cost=10_000_000, result_cache_size=0, execution="strawberry"):
        yield made


@pytest.mark.parametrize("name", list(NEW_CONNECTIONS))
@pytest.mark.parametrize("size", [10, 50, 100])
async def test_the_new_connections_cost_the_same_at_any_page_size(
    roomy_uncached_api: Api, name: str, size: int
) -> None:
    """Issue 11's connections and references (participants edges, places, occasions, within) batch per level
    on Strawberry's path (the compiler answers the last two in one statement: tests above)."""
    api = roomy_uncached_api
    query, expected = NEW_CONNECTIONS[name]
    data = await api.data(query, {"n": size})
    assert api.last_statements == expected
    assert data


async def test_a_compiled_answer_is_one_round_trip_on_postgresql(seeded_db: str) -> None:
    """On PostgreSQL the compiled statement runs on asyncpg's pool, and the pool takes its connection back
    without a session reset of its own (asyncpg's default sends `... RESET ALL;` after every statement, a
    second round trip): the last thing each of its idle connections ran is an answer's statement."""
    if is_sqlite(seeded_db):
        pytest.skip("asyncpg's pool serves PostgreSQL only")
    import asyncpg

    async for api in make_api(seeded_db, execution="compiled", result_cache_size=0):
        for _ in range(3):
            await api.data('{ organization(slug: "escap") { name events(first: 2) { nodes { title } } } }')
        watcher = await asyncpg.connect(libpq_url(seeded_db))
        try:
            database = await watcher.fetchval("SELECT current_database()")
            last = [
                row["query"]
                for row in await watcher.fetch(
                    "SELECT query FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() "
                    "AND state = 'idle'",
                    database,
                )
            ]
        finally:
            await watcher.close()
    answered = [query for query in last if "json_build_object" in query]
    assert answered, last
    assert not [query for query in last if "RESET ALL" in query], last
