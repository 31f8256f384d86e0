"""Query limits, each at its boundary and one past it, through literals and variables, on both engines."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import get_introspection_query

from app.config import Settings
from app.data.session import RequestDatabase
from tests.conftest import Api, make_api

DEFAULTS = Settings()


@pytest.fixture
async def tight(seeded_db: str) -> AsyncIterator[Api]:
    """The app with small limits, so each boundary is quick to reach."""
    async for made in make_api(
        seeded_db,
        max_query_cost=1_021,
        max_query_depth=5,
        max_aliases=3,
        max_tokens=60,
        max_directives=2,
        max_query_bytes=1_000,
    ):
        yield made


def _code(errors: list[dict[str, Any]]) -> str:
    return str(errors[0]["extensions"]["code"])


NESTED = "query($n: Int) { organizations(first: 10) { nodes { children(first: $n) { nodes { id } } } } }"


# --- cost -----------------------------------------------------------------------------------------


async def test_cost_at_the_limit_runs_and_one_past_is_refused_through_variables(tight: Api) -> None:
    # the connection, 10 organizations, and for each a connection and n children: 21 + 10 n
    assert "organizations" in await tight.data(NESTED, {"n": 100})  # 1,021
    one_more = NESTED.replace("nodes { children", "pageInfo { hasNextPage } nodes { children")
    errors = await tight.errors(one_more, {"n": 100})  # and the page info: 1,022
    assert _code(errors) == "QUERY_TOO_COMPLEX"
    assert errors[0]["extensions"]["cost"] == 1_022
    assert errors[0]["extensions"]["limit"] == 1_021
    assert "1,022" in errors[0]["message"] and "1,021" in errors[0]["message"]


async def test_cost_at_the_limit_runs_and_one_past_is_refused_through_literals(tight: Api) -> None:
    at_limit = "{ organizations(first: 10) { nodes { children(first: 100) { nodes { id } } } } }"
    assert "organizations" in await tight.data(at_limit)
    past = at_limit.replace("nodes { children", "pageInfo { hasNextPage } nodes { children")
    errors = await tight.errors(past)
    assert _code(errors) == "QUERY_TOO_COMPLEX"
    assert errors[0]["extensions"]["cost"] == 1_022


async def test_variable_defaults_and_the_default_page_size_are_costed(seeded_db: str) -> None:
    async for api in make_api(seeded_db, max_query_cost=21):
        assert await api.data("{ organizations { nodes { id } } }")  # the connection and 20 by default
        assert await api.data("query($n: Int = 20) { organizations(first: $n) { nodes { id } } }")
        errors = await api.errors("query($n: Int = 21) { organizations(first: $n) { nodes { id } } }")
        assert errors[0]["extensions"]["cost"] == 22
        errors = await api.errors("{ organizations { nodes { id } } countries(last: 1) { nodes { id } } }")
        assert errors[0]["extensions"]["cost"] == 23


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        ("{ organizations(first: 10) { nodes { id } edges { node { id } } } }", None, 31),  # both count
        ("{ organizations(first: 7) { totalCount } }", None, 8),  # the page is read anyway
        ("{ organizations(first: 2) { nodes { citations { quote } } } }", None, 1 + 2 + 2 * 10),
        ('{ organization(slug: "escap") { parent { parent { name } } } }', None, 3),  # single objects too
        ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["a", "b", "c"]}, 3),
        ("{ organizations(first: 1000) { nodes { id } } }", None, 101),  # more than 100 is refused anyway
        ("{ documents(first: 2) { nodes { title text } } }", None, 1 + 2 + 2 * 50),  # whole texts weigh more
        (
            "fragment F on Organization { children(first: 5) { nodes { id } } }"
            " { organizations(first: 3) { nodes { ...F } } }",
            None,
            1 + 3 + 3 * (1 + 5),
        ),
        (
            '{ search(query: "ESCAP", first: 4) { nodes { ... on Organization { events(first: 5) { nodes { id } } } } } }',
            None,
            1 + 4 + 4 * (1 + 5),
        ),
    ],
)
async def test_cost_counts_what_a_query_can_return(seeded_db: str, query: str, variables: Any, cost: int) -> None:
    async for api in make_api(seeded_db, max_query_cost=max(cost - 1, 1)):
        if cost > 1:
            errors = await api.errors(query, variables)
            costed = [e for e in errors if e["extensions"]["code"] == "QUERY_TOO_COMPLEX"]
            assert costed and costed[0]["extensions"]["cost"] == cost
    async for api in make_api(seeded_db, max_query_cost=max(cost, 1)):
        response = await api.post(query, variables)
        codes = {e["extensions"]["code"] for e in response.json().get("errors", [])}
        assert "QUERY_TOO_COMPLEX" not in codes


NODE_BOMB = (
    "{ organizations(first: 100) { nodes { children(first: 100) { nodes { children(first: 100) { nodes {"
    " children(first: 100) { nodes { children(first: 100) { nodes { id } } } } } } } } } } }"
)


async def test_the_node_bomb_is_refused_in_under_50_ms(api: Api) -> None:
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        errors = await api.errors(NODE_BOMB)
        timings.append(time.perf_counter() - started)
        assert _code(errors) == "QUERY_TOO_COMPLEX"
        assert errors[0]["extensions"]["cost"] == 10_202_020_201
        assert api.last_statements == 0
    assert statistics.median(timings) < 0.050, timings


async def test_fragment_fan_out_is_costed_without_expanding_it(api: Api) -> None:
    # 2^30 paths through the fragments: counted per fragment, not per path
    fragments = "".join(
        f"fragment F{i} on Organization {{ children(first: 2) {{ nodes {{ ...F{i + 1} ...F{i + 1} }} }} }}"
        for i in range(30)
    )
    query = "{ organizations(first: 2) { nodes { ...F0 } } }" + fragments + "fragment F30 on Organization { id }"
    started = time.perf_counter()
    errors = await api.errors(query)
    assert time.perf_counter() - started < 0.5
    assert _code(errors) in ("QUERY_TOO_COMPLEX", "QUERY_TOO_DEEP")


# --- depth ----------------------------------------------------------------------------------------


def _parents(levels: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = f"parent {{ {inner} }}"
    return f'{{ organization(slug: "escap") {{ {inner} }} }}'


async def test_depth_at_the_limit_runs_and_one_past_is_refused(tight: Api) -> None:
    assert await tight.data(_parents(3))  # organization, 3 x parent, id: 5 levels
    errors = await tight.errors(_parents(4))
    assert _code(errors) == "QUERY_TOO_DEEP"
    assert errors[0]["extensions"] == {
        "requestId": errors[0]["extensions"]["requestId"],
        "code": "QUERY_TOO_DEEP",
        "depth": 6,
        "limit": 5,
    }


async def test_depth_counts_through_fragments_and_ignores_introspection(tight: Api) -> None:
    query = (
        'fragment P on Organization { parent { parent { parent { id } } } } { organization(slug: "escap") { ...P } }'
    )
    assert await tight.data(query)
    deeper = 'fragment P on Organization { parent { parent { parent { parent { id } } } } } { organization(slug: "escap") { ...P } }'
    assert _code(await tight.errors(deeper)) == "QUERY_TOO_DEEP"
    assert await tight.data('{ __type(name: "Organization") { fields { type { ofType { ofType { name } } } } } }')


async def test_circular_fragments_are_refused_by_validation_without_hanging(api: Api) -> None:
    query = (
        "fragment A on Organization { parent { ...B } } fragment B on Organization { parent { ...A } }"
        ' { organization(slug: "escap") { ...A } }'
    )
    errors = await api.errors(query)
    assert _code(errors) == "GRAPHQL_VALIDATION_FAILED"
    assert "Cannot spread fragment" in errors[0]["message"]
    self_spread = 'fragment A on Organization { a: id ...A } { organization(slug: "escap") { ...A } }'
    assert _code(await api.errors(self_spread)) == "GRAPHQL_VALIDATION_FAILED"


# --- aliases, directives, tokens, document size ---------------------------------------------------


async def test_aliases_at_the_limit_run_and_one_past_is_refused(tight: Api) -> None:
    assert await tight.data("{ a: __typename b: __typename c: __typename }")
    errors = await tight.errors("{ a: __typename b: __typename c: __typename d: __typename }")
    assert errors[0]["extensions"] == {
        "requestId": errors[0]["extensions"]["requestId"],
        "code": "TOO_MANY_ALIASES",
        "aliases": 4,
        "limit": 3,
    }


async def test_aliases_inside_fragments_count_at_every_spread(tight: Api) -> None:
    # CVE-2026-47707: one alias in a fragment spread four times is four aliases
    query = "fragment F on Query { a: __typename } { ...F ... on Query { ...F } x: __typename }"
    assert await tight.data(query)  # 3
    errors = await tight.errors(
        "fragment F on Query { a: __typename } { ...F ... on Query { ...F ...F } x: __typename }"
    )
    assert errors[0]["extensions"]["aliases"] == 4


async def test_directives_at_the_limit_run_and_one_past_is_refused_through_variables(tight: Api) -> None:
    query = "query($y: Boolean!) { a: __typename @include(if: $y) b: __typename @skip(if: $y) }"
    assert await tight.data(query, {"y": True}) == {"a": "Query"}
    past = (
        "query($y: Boolean!) { a: __typename @include(if: $y) b: __typename @skip(if: $y) c: __typename @skip(if: $y) }"
    )
    errors = await tight.errors(past, {"y": True})
    assert errors[0]["extensions"]["code"] == "TOO_MANY_DIRECTIVES"


async def test_tokens_at_the_limit_run_and_one_past_is_refused(tight: Api) -> None:
    # "{", "}" and each name are tokens: 2 + 58 names = 60
    assert await tight.data("{" + " __typename" * 58 + "}")
    errors = await tight.errors("{" + " __typename" * 59 + "}")
    assert _code(errors) == "TOO_MANY_TOKENS"
    assert "60" in errors[0]["message"]
    comments = "{ __typename" + "\n#" * 61 + "\n}"  # comments count too: a padded document is no cheaper
    assert _code(await tight.errors(comments)) == "TOO_MANY_TOKENS"


async def test_document_size_at_the_limit_runs_and_one_past_is_refused(tight: Api) -> None:
    query = "{ __typename }"
    assert await tight.data(query + " " * (1_000 - len(query)))
    errors = await tight.errors(query + " " * (1_001 - len(query)))
    assert errors[0]["extensions"] == {
        "requestId": errors[0]["extensions"]["requestId"],
        "code": "QUERY_TOO_LARGE",
        "bytes": 1_001,
        "limit": 1_000,
    }


# --- page sizes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "code"),
    [(0, "INVALID_PAGE_SIZE"), (1, None), (100, None), (101, "PAGE_SIZE_EXCEEDED"), (-1, "INVALID_PAGE_SIZE")],
)
async def test_page_sizes_through_variables_at_root_and_nested(api: Api, size: int, code: str | None) -> None:
    for query in (
        "query($n: Int) { organizations(first: $n) { nodes { id } } }",
        "query($n: Int) { organizations(first: 2) { nodes { children(last: $n) { nodes { id } } } } }",
    ):
        response = (await api.post(query, {"n": size})).json()
        codes = {error["extensions"]["code"] for error in response.get("errors", [])}
        assert codes == ({code} if code else set()), response


# --- introspection --------------------------------------------------------------------------------


async def test_graphiqls_introspection_query_is_allowed_by_default(api: Api) -> None:
    query = get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True)
    data = await api.data(query)
    assert any(t["name"] == "Organization" for t in data["__schema"]["types"])


async def test_nested_introspection_is_limited(api: Api) -> None:
    nested = "{ __schema { types { fields { type { fields { name } } } } } }"
    assert (await api.data(nested))["__schema"]["types"]
    fields = "name"
    for _ in range(6):
        fields = f"fields {{ type {{ {fields} }} }}"
    errors = await api.errors("{ __schema { types { " + fields + " } } }")
    assert _code(errors) == "GRAPHQL_VALIDATION_FAILED"  # graphql-core's introspection depth rule
    # Introspection is counted exactly from the schema: many aliased copies add up.
    flood = "{ " + " ".join(f"a{i}: __schema {{ types {{ fields {{ args {{ name }} }} }} }}" for i in range(25)) + " }"
    assert _code(await api.errors(flood)) == "QUERY_TOO_COMPLEX"


async def test_introspection_can_be_turned_off(seeded_db: str) -> None:
    async for api in make_api(seeded_db, introspection=False):
        errors = await api.errors("{ __schema { types { name } } }")
        assert _code(errors) == "INTROSPECTION_DISABLED"
        assert _code(await api.errors('{ __type(name: "Organization") { name } }')) == "INTROSPECTION_DISABLED"
        assert await api.data("{ __typename }") == {"__typename": "Query"}
        assert (await api.client.get("/schema.graphql")).status_code == 404


# --- heavy operations -----------------------------------------------------------------------------


async def test_heavy_operations_take_turns_while_cheap_ones_go_ahead(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = RequestDatabase.all

    async def slow(self: RequestDatabase, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.3)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(RequestDatabase, "all", slow)
    # The compiler alone answers (verify mode would run every query twice, doubling each wait).
    async for api in make_api(
        seeded_db, heavy_query_cost=10, max_heavy_operations=1, result_cache_size=0, execution="compiled"
    ):
        started = time.perf_counter()
        queries = {
            "heavy 1": "{ organizations(first: 20) { nodes { id } } }",  # 21 objects
            "heavy 2": "{ countries(first: 20) { nodes { id } } }",
            "cheap": '{ country(code: "MNG") { name } }',  # 1 object
        }
        finished = dict(
            zip(queries, await asyncio.gather(*(_finish(api, q, started) for q in queries.values())), strict=True)
        )
        assert finished["cheap"] < 0.5
        first, second = sorted((finished["heavy 1"], finished["heavy 2"]))
        assert first >= 0.3 and second - first >= 0.25  # one after the other


async def _finish(api: Api, query: str, started: float) -> float:
    await api.data(query)
    return time.perf_counter() - started
