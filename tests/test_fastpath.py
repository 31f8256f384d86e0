"""The fast path: the compiler answers exactly as Strawberry does; the result cache and ETags
follow the data version, so a re-seed is seen."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from graphql import parse

from app.config import PROJECT_ROOT, Settings
from app.data.engine import create_engine, create_sqlite_reader
from app.data.session import RequestDatabase
from app.execution import compiler
from app.execution.executable import schema
from app.schema.runtime import Context
from app.schema.timeline import timeline_facts
from app.seeding import seed
from tests.conftest import Api, make_api
from tests.test_statement_counts import THREE_LEVELS, THREE_LEVELS_STATEMENTS

EXAMPLES = sorted((PROJECT_ROOT / "app" / "examples").glob("*.graphql"))

EXTRA = {
    "issue 11's fields": (
        """query($role: ParticipantRole) {
             events(first: 60, filter: {from: "2000", to: "2019", place: "MNG"}) { totalCount
               edges { cursor node { slug basis basisNote location place { __typename name basis country { code } }
                 recurrence { __typename frequency since { edtf } until { edtf } description }
                 occasion { slug date { edtf } }
                 participants(first: 5, filter: {roleKind: $role}) { __typename totalCount
                   edges { __typename cursor role roleKind basis basisNote node { code basis } } } } } }
             country(code: "MNG") { events(filter: {participantRole: HOST}, first: 50) { totalCount nodes { slug } } }
             statistics(first: 20) { nodes { slug basis places { name basis basisNote country { code } } } }
             countries(first: 50) { nodes { code basis basisNote } }
             memberships(first: 50) { nodes { slug basis basisNote } }
             chairmanships(filter: {activeOn: "2019"}) { nodes { slug basis } } }""",
        {"role": "HOST"},
    ),
    "fragments and aliases": (
        """query { first: organizations(first: 3, orderBy: {field: SLUG, direction: DESC}) { ...page }
                   again: organizations(first: 2) { edges { cursor node { ...org } } pageInfo { startCursor endCursor } }
                   __typename }
           fragment page on OrganizationConnection { totalCount nodes { ...org } pageInfo { hasNextPage } }
           fragment org on Organization { __typename id slug kids: children(first: 5) { nodes { slug } }
             ... on Node { id } parent { ... on Organization { name } } }""",
        None,
    ),
    "directives": (
        """query($with: Boolean!) { events(first: 5) { nodes { title date @include(if: $with) { edtf }
             location @skip(if: $with) } } }""",
        {"with": True},
    ),
    "filters and orders in variables": (
        """query($f: EventFilter, $o: EventOrder, $n: Int) { events(first: $n, filter: $f, orderBy: $o) {
             totalCount nodes { slug kind date { edtf precision year month day earliest latest } endDate { edtf } } } }""",
        {"f": {"from": "2006", "to": "2013"}, "o": {"field": "DATE", "direction": "DESC"}, "n": 7},
    ),
    "backwards with a cursor": (
        """query { events(last: 3, before: null) { edges { cursor node { slug } }
             pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }""",
        None,
    ),
    "everything on a country": (
        """{ country(code: "mng") { __typename id code name aliases
             memberships(first: 50, filter: {status: ONGOING}) { totalCount nodes { slug role status
               startDate { edtf } endDate { edtf } organization { slug kind } citations { quote start end } } }
             chairmanships { nodes { slug title session officeHolder coChairs { code } predecessor { code }
               events { nodes { slug } } organization { acronym } chair { code } } }
             events(first: 30, filter: {kinds: [SUMMIT, CONFERENCE]}) { nodes { slug participants { nodes { code } }
               partnerOrganizations { nodes { slug } } chairmanship { slug } organization { slug } } }
             statistics { nodes { slug label value unit qualifier asOf { edtf } country { code } organization { slug } } }
             citations { quote document { slug title language origin sha256 } } } }""",
        None,
    ),
    "organization lookups and mentions": (
        """{ a: organization(slug: "CD") { slug mentions(first: 3) { totalCount edges { cursor node { text start end
               context document { slug } } } } statistics { totalCount } }
             b: organization(slug: "nothing") { slug } c: country(code: "xxx") { code } }""",
        None,
    ),
    "documents": ("{ documents { nodes { id slug title text } } }", None),
}


async def both_paths(url: str, query: str, variables: dict[str, Any] | None) -> tuple[Any, Any, int, int]:
    engine = create_engine(url)
    reader = create_sqlite_reader(url)
    settings = Settings(database_url=url)
    try:
        slow = Context(db=RequestDatabase(engine, reader), settings=settings)
        if "timeline(" in query:  # a timeline is costed on what the data holds, read as the executor reads it
            facts_db = RequestDatabase(engine, reader)
            slow.cost_facts = await timeline_facts(facts_db)
            await facts_db.close()
        result = await schema.execute(query, variable_values=variables, context_value=slow)
        await slow.db.close()
        assert result.errors is None, result.errors
        fast = Context(db=RequestDatabase(engine, reader), settings=settings)
        data = json.loads(await compiler.execute(compiler.prepare(schema, parse(query), None, variables, fast), fast))
        await fast.db.close()
        return result.data, data, slow.db.statements, fast.db.statements
    finally:
        await engine.dispose()
        if reader is not None:
            reader.dispose()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
async def test_compiler_answers_the_examples_like_strawberry(seeded_db: str, path: Path) -> None:
    query = path.read_text(encoding="utf-8")
    # Not the compiler's: Strawberry answers them (search and the timeline aggregate in SQL of their
    # own; a `within` filter looks its organization up first).
    if any(marker in query for marker in ("search(", "timeline(", "within:")):
        with pytest.raises(compiler.Unsupported):
            await both_paths(seeded_db, query, None)
        return
    slow, fast, _slow_statements, _fast_statements = await both_paths(seeded_db, query, None)
    assert json.dumps(fast) == json.dumps(slow)  # same values, same key order


@pytest.mark.parametrize("name", list(EXTRA))
async def test_compiler_answers_like_strawberry(seeded_db: str, name: str) -> None:
    query, variables = EXTRA[name]
    slow, fast, _, _ = await both_paths(seeded_db, query, variables)
    assert json.dumps(fast) == json.dumps(slow)


async def test_compiled_statement_count_is_one(seeded_db: str) -> None:
    _, _, slow, fast = await both_paths(seeded_db, THREE_LEVELS, {"n": 3})
    assert slow == THREE_LEVELS_STATEMENTS
    assert fast == 1


async def test_repeats_are_served_by_the_executor_then_the_cache(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    query = "query FiveEvents($n: Int = 5) { events(first: $n) { nodes { slug date { edtf } } } }"
    with caplog.at_level(logging.INFO, logger="app.access"):
        first = await api.data(query, {"n": 4})
        second = await api.data(query, {"n": 5})
        third = await api.data(query, {"n": 5})
    assert len(second["events"]["nodes"]) == len(third["events"]["nodes"]) == 5
    assert len(first["events"]["nodes"]) == 4
    events = [record.event for record in caplog.records if record.name == "app.access"]  # type: ignore[attr-defined]
    assert [event["servedBy"] for event in events] == ["executor", "executor", "cache"]  # compiled from the first
    assert all(event["operation"] == "FiveEvents" for event in events)


@pytest.fixture
async def small_api(migrated_db: str, small_seed: Path) -> AsyncIterator[tuple[Api, str, Path]]:
    await asyncio.to_thread(lambda: asyncio.run(seed(migrated_db, small_seed)))
    # Every request reads the data version, listening or not: these tests are about what a re-seed
    # changes, not about how fast its announcement arrives (tests/test_announce.py times that).
    async for made in make_api(migrated_db, data_version_check_seconds=0, data_version_fallback_seconds=0):
        yield made, migrated_db, small_seed


async def reseed(url: str, seed_dir: Path, old: str, new: str) -> None:
    path = seed_dir / "small.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    await asyncio.to_thread(lambda: asyncio.run(seed(url, seed_dir)))


QUERY = "query Titles { events(first: 10, filter: {kind: MEETING}) { nodes { title } } }"


async def test_result_cache_serves_repeats_without_sql(small_api: tuple[Api, str, Path]) -> None:
    api, _url, _seed_dir = small_api
    first = await api.data(QUERY)
    assert api.last_statements > 0
    again = await api.data(QUERY)
    assert again == first
    assert api.last_statements == 0  # answered from the result cache


async def test_result_cache_sees_a_reseed(small_api: tuple[Api, str, Path]) -> None:
    api, url, seed_dir = small_api
    assert (await api.data(QUERY))["events"]["nodes"] == [{"title": "ESCAP meeting"}]
    await api.data(QUERY)
    await reseed(url, seed_dir, "title: ESCAP meeting", "title: ESCAP ministerial meeting")
    assert (await api.data(QUERY))["events"]["nodes"] == [{"title": "ESCAP ministerial meeting"}]
    assert api.last_statements > 0


async def test_get_answers_carry_an_etag_and_304_skips_execution(small_api: tuple[Api, str, Path]) -> None:
    api, url, seed_dir = small_api
    first = await api.client.get("/graphql", params={"query": QUERY})
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert tag.startswith('"v')
    assert "max-age" in first.headers["cache-control"]

    again = await api.client.get("/graphql", params={"query": QUERY}, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert "server-timing" not in again.headers  # nothing was executed

    other = await api.client.get("/graphql", params={"query": QUERY + " "}, headers={"If-None-Match": tag})
    assert other.status_code == 200  # another request, another tag

    await reseed(url, seed_dir, "title: ESCAP meeting", "title: ESCAP ministerial meeting")
    fresh = await api.client.get("/graphql", params={"query": QUERY}, headers={"If-None-Match": tag})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != tag
    assert fresh.json()["data"]["events"]["nodes"] == [{"title": "ESCAP ministerial meeting"}]


async def test_errors_are_not_cached_nor_tagged(small_api: tuple[Api, str, Path]) -> None:
    api, _url, _seed_dir = small_api
    response = await api.client.get("/graphql", params={"query": "{ events(first: 0) { nodes { title } } }"})
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_PAGE_SIZE"
    assert "etag" not in response.headers
    again = await api.client.get("/graphql", params={"query": "{ events(first: 0) { nodes { title } } }"})
    assert again.json()["errors"][0]["extensions"]["code"] == "INVALID_PAGE_SIZE"


async def test_hot_query_still_checks_limits_with_new_variables(small_api: tuple[Api, str, Path]) -> None:
    api, _url, _seed_dir = small_api
    query = "query($n: Int) { events(first: $n) { nodes { title } } }"
    await api.data(query, {"n": 2})
    await api.data(query, {"n": 3})  # now run by the executor
    errors = await api.errors(query, {"n": 101})
    assert errors[0]["extensions"]["code"] == "PAGE_SIZE_EXCEEDED"
    assert errors[0]["path"] == ["events"]


async def test_concurrent_misses_are_answered_once(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    query = "query Together { chairmanships { nodes { slug chair { code } } } }"
    with caplog.at_level(logging.INFO, logger="app.access"):
        answers = await asyncio.gather(*(api.data(query) for _ in range(8)))
    assert all(answer == answers[0] for answer in answers)
    served = [r.event["servedBy"] for r in caplog.records if r.name == "app.access"]  # type: ignore[attr-defined]
    assert served.count("cache") == 7
    assert len(served) == 8


def test_result_cache_is_bounded_by_bytes() -> None:
    from app.lru import LRU

    cache = LRU(size=100, max_weight=1_000)
    for key in range(10):
        cache.put(key, f"answer {key}", weight=300)
    assert cache.weight <= 1_000
    assert cache.get(9) == "answer 9" and cache.get(0) is None
    cache.put("huge", "x", weight=5_000)  # larger than the whole budget: not kept
    assert cache.get("huge") is None
