"""A query's cost is the most objects its answer can hold (app/execution/query_limits.py), computed on its
variables as execution coerces them and on every list's real bound, so no answer holds more objects than
its query was costed (and charged, and given a heavy slot) for. Through HTTP, on both engines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.execution.executor import count_objects
from app.seeding import seed
from tests.conftest import Api, make_api
from tests.test_fastpath import reseed

EXAMPLES = sorted((Path(__file__).parent.parent / "app" / "examples").glob("*.graphql"))
ORGANIZATIONS = "query ($f: Int) { organizations(first: $f) { nodes { id } } }"
NESTED = "query ($f: Int) { organizations(first: $f) { nodes { events(first: $f) { nodes { id title } } } } }"


async def _post(api: Api, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await api.client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_float_page_size_is_costed_as_it_runs(api: Api) -> None:
    as_int = await _post(api, ORGANIZATIONS, {"f": 100})
    as_float = await _post(api, ORGANIZATIONS, {"f": 100.0})
    assert as_float["extensions"]["cost"]["requested"] == as_int["extensions"]["cost"]["requested"] == 101
    assert as_float["data"] == as_int["data"]
    # what the integer is refused for, so is the float (it was costed as the default page, then ran as 100)
    for f in (100, 100.0):
        refused = await _post(api, NESTED, {"f": f})
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["QUERY_TOO_COMPLEX"], f
    # a float that is no integer is refused as graphql-core refuses it for Int, with a code
    fraction = await _post(api, ORGANIZATIONS, {"f": 100.5})
    assert fraction["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and fraction["data"] is None


TIMELINES = [
    f"{{ timeline(groupBy: {grouping}) {{ totalCount buckets {{ key count items(first: {first}) {{ __typename "
    "... on Event { id organization { id } } ... on Membership { id } } } } }"
    for grouping in ("YEAR", "DECADE", "KIND", "TYPE", "ORGANIZATION")
    for first in (1, 100)
]
AGGREGATES = [
    "{ aggregate(groupBy: [ORGANIZATION]) { keys count } }",
    "{ aggregate(groupBy: [YEAR, KIND]) { keys count } }",
    "{ aggregate(groupBy: [TYPE], first: 2) { keys count } }",
]


@pytest.mark.parametrize(
    "query",
    [*TIMELINES, *AGGREGATES, *(path.read_text() for path in EXAMPLES)],
    ids=[
        *(f"timeline-{i}" for i in range(len(TIMELINES))),
        *(f"aggregate-{i}" for i in range(len(AGGREGATES))),
        *(p.stem for p in EXAMPLES),
    ],
)
async def test_no_answer_holds_more_objects_than_its_query_was_costed(api: Api, query: str) -> None:
    answer = await _post(api, query)
    assert "errors" not in answer, answer["errors"]
    objects = count_objects(answer["data"])
    assert objects <= answer["extensions"]["cost"]["requested"], (objects, answer["extensions"]["cost"])


async def test_a_timeline_is_costed_by_what_its_buckets_hold(api: Api) -> None:
    """Its buckets by the timeline's own (a list that is not a connection is not "10 items"), its items by page."""
    one = await _post(api, "{ timeline(groupBy: YEAR) { buckets { key } } }")
    buckets = len(one["data"]["timeline"]["buckets"])
    assert buckets > 10 and one["extensions"]["cost"]["requested"] == 1 + buckets
    few = await _post(api, "{ timeline(groupBy: YEAR) { buckets { items(first: 1) { __typename } } } }")
    many = await _post(api, "{ timeline(groupBy: YEAR) { buckets { items(first: 100) { __typename } } } }")
    assert few["extensions"]["cost"]["requested"] == 1 + 2 * buckets
    assert many["extensions"]["cost"]["requested"] > few["extensions"]["cost"]["requested"] + buckets
    # through a variable and a fragment, the same
    spread = await _post(
        api,
        "query ($g: TimelineGrouping!, $n: Int) { timeline(groupBy: $g) { ...B } } "
        "fragment B on Timeline { buckets { items(first: $n) { __typename } } }",
        {"g": "YEAR", "n": 100.0},
    )
    assert spread["extensions"]["cost"]["requested"] == many["extensions"]["cost"]["requested"]


@pytest.fixture
async def small(migrated_db: str, small_seed: Path) -> AsyncIterator[tuple[Api, str, Path]]:
    """The small seed, re-seeded by the test; every request reads the data version."""
    await asyncio.to_thread(lambda: asyncio.run(seed(migrated_db, small_seed)))
    async for made in make_api(migrated_db, data_version_check_seconds=0, data_version_fallback_seconds=0):
        yield made, migrated_db, small_seed


async def test_a_reseed_changes_what_a_timeline_is_costed(small: tuple[Api, str, Path]) -> None:
    """The timeline's numbers are read again at each data version: a bucket that is gone is not counted."""
    api, url, seed_dir = small
    query = "{ timeline(groupBy: KIND) { buckets { key } } }"
    before = await _post(api, query)
    kinds = len(before["data"]["timeline"]["buckets"])
    assert before["extensions"]["cost"]["requested"] == 1 + kinds
    await reseed(url, seed_dir, "kind: CONFERENCE", "kind: MEETING")  # the CONFERENCE bucket goes
    after = await _post(api, query)
    assert len(after["data"]["timeline"]["buckets"]) == kinds - 1
    assert after["extensions"]["cost"]["requested"] == kinds


async def test_a_refused_timeline_names_the_cost_it_was_refused_for(api: Api) -> None:
    """Strawberry reports the refusal with the cost the executor checked (on the data's numbers), not a guess."""
    query = "{ timeline(groupBy: YEAR) { buckets { items(first: 100) { ... on Event { citations { document { text } } } } } } }"
    refused = await _post(api, query)
    error = refused["errors"][0]["extensions"]
    assert error["code"] == "QUERY_TOO_COMPLEX"
    assert 10_000 < error["cost"] < 200_000  # 34 years' items, not 1,000 buckets of 100 (over 50 million)


def _heavy_waits(page: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in page.splitlines()
        if line.startswith("kb_heavy_slot_wait_seconds_count")
    )


async def test_a_timeline_that_can_answer_many_objects_takes_a_heavy_slot(seeded_db: str) -> None:
    """Costed by what it can answer (171 objects on the seed: over a heavy cost of 150), it waits for a heavy slot;
    costed as "10 buckets of 10" (111), it did not."""
    async for api in make_api(seeded_db, heavy_query_cost=150, result_cache_size=0):
        before = _heavy_waits((await api.client.get("/metrics")).text)
        await _post(api, "{ timeline(groupBy: YEAR) { buckets { key } } }")  # 35: not heavy
        assert _heavy_waits((await api.client.get("/metrics")).text) == before
        heavy = await _post(api, "{ timeline(groupBy: YEAR) { buckets { items(first: 100) { __typename } } } }")
        assert heavy["extensions"]["cost"]["requested"] >= 150
        assert _heavy_waits((await api.client.get("/metrics")).text) == before + 1


async def test_a_timeline_is_answered_when_its_numbers_cannot_be_read(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the data's numbers (they failed to read), a timeline is costed at the most it could hold: coded."""
    from app.execution import executor

    async def failing(_db: Any) -> Any:
        raise TimeoutError("statement timeout")

    monkeypatch.setattr(executor, "timeline_facts", failing)
    async for api in make_api(seeded_db, rate_limit_points=1_000_000):
        buckets = await _post(api, "{ timeline(groupBy: YEAR) { buckets { key } } }")
        assert buckets["data"]["timeline"]["buckets"] and buckets["extensions"]["cost"]["requested"] == 1_001
        items = await _post(api, "{ timeline(groupBy: YEAR) { buckets { items(first: 100) { __typename } } } }")
        assert [e["extensions"]["code"] for e in items["errors"]] == ["QUERY_TOO_COMPLEX"]
