"""graphql-cop's checks (finding 11), each sent as graphql-cop sends it, in default and production
mode, on both engines: what each mode allows, and why.

`FINDINGS[mode]` lists the checks graphql-cop reports in that mode. Production mode has none. The
default mode, a public read-only API meant to be explored, keeps four on purpose: introspection
and GraphiQL (the explorer and codegen need them), field suggestions (typos are answered
"Did you mean ...?"), and GET queries (no mutation exists, and GET answers are cacheable). The
introspection-based circular query is refused in both: introspection is counted exactly against
the cost limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.conftest import make_api

Check = Callable[[httpx.AsyncClient], Awaitable[bool]]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS[name] = function
        return function

    return register


async def _post(client: httpx.AsyncClient, query: str) -> Any:
    response = await client.post("/graphql", json={"query": query})
    try:
        return response.json()
    except ValueError:
        return {}


def _data(body: Any) -> Any:
    return body.get("data") if isinstance(body, dict) else None


@check("Alias Overloading (HIGH)")
async def alias_overloading(client: httpx.AsyncClient) -> bool:
    aliases = "".join(f"alias{i}:__typename \n" for i in range(101))
    return bool((_data(await _post(client, "query { " + aliases + " }")) or {}).get("alias100"))


@check("Array-based Query Batching (HIGH)")
async def batch_query(client: httpx.AsyncClient) -> bool:
    response = await client.post("/graphql", json=[{"query": "query { __typename }"}] * 10)
    body = response.json()
    return isinstance(body, list) and len(body) >= 10


@check("Introspection-based Circular Query (HIGH)")
async def circular_query_introspection(client: httpx.AsyncClient) -> bool:
    query = "query { __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }"
    return len(((_data(await _post(client, query)) or {}).get("__schema") or {}).get("types") or []) > 25


@check("Circular Fragment (HIGH)")
async def circular_fragment(client: httpx.AsyncClient) -> bool:
    query = "query { __schema { ...A } } fragment A on __Schema { __typename ...B } fragment B on __Schema { ...A }"
    return "errors" not in await _post(client, query)


@check("Directive Overloading (HIGH)")
async def directive_overloading(client: httpx.AsyncClient) -> bool:
    body = await _post(client, "query { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }")
    return len(body.get("errors", [])) == 10


@check("Field Duplication (HIGH)")
async def field_duplication(client: httpx.AsyncClient) -> bool:
    return bool((_data(await _post(client, "query { " + "__typename \n" * 500 + "} ")) or {}).get("__typename"))


@check("Field Suggestions (LOW)")
async def field_suggestions(client: httpx.AsyncClient) -> bool:
    body = await _post(client, "query { __schema { directive } }")
    return any("Did you mean" in error.get("message", "") for error in body.get("errors", []))


@check("GET Method Query Support (MEDIUM)")
async def get_method_support(client: httpx.AsyncClient) -> bool:
    response = await client.get("/graphql", params={"query": "{__typename}"})
    try:
        return bool((response.json().get("data") or {}).get("__typename"))
    except ValueError:
        return False


@check("Mutation is allowed over GET (MEDIUM)")
async def get_based_mutation(client: httpx.AsyncClient) -> bool:
    response = await client.get("/graphql", params={"query": "mutation {__typename}"})
    try:
        return bool((response.json().get("data") or {}).get("__typename"))
    except ValueError:
        return False


@check("GraphQL IDE (LOW)")
async def detect_graphiql(client: httpx.AsyncClient) -> bool:
    heuristics = ("graphiql.min.css", "GraphQL Playground", "GraphiQL", "graphql-playground")
    for endpoint in ("/graphiql", "/playground", "/console", "/graphql"):
        response = await client.get(endpoint, headers={"accept": "text/html"}, follow_redirects=True)
        if any(word in response.text for word in heuristics):
            return True
    return False


@check("Introspection (HIGH)")
async def introspection(client: httpx.AsyncClient) -> bool:
    body = await _post(client, "query { __schema { types { name fields { name } } } }")
    return bool(((_data(body) or {}).get("__schema") or {}).get("types"))


@check("POST based url-encoded query (MEDIUM)")
async def post_based_csrf(client: httpx.AsyncClient) -> bool:
    response = await client.post("/graphql", params={"query": "query {__typename}"})
    try:
        return bool((response.json().get("data") or {}).get("__typename"))
    except ValueError:
        return False


@check("Trace Mode (INFO)")
async def trace_mode(client: httpx.AsyncClient) -> bool:
    body = await _post(client, "query { __typename }")
    extensions = body.get("extensions") or {}
    return "tracing" in extensions or "stacktrace" in str(body).lower()


@check("Unhandled Errors Detection (INFO)")
async def unhandled_error_detection(client: httpx.AsyncClient) -> bool:
    body = await _post(client, "qwerty cop { abc }")
    return any("exception" in (error.get("extensions") or {}) for error in body.get("errors", []))


FINDINGS = {
    "default": {
        "Field Suggestions (LOW)",
        "GET Method Query Support (MEDIUM)",
        "GraphQL IDE (LOW)",
        "Introspection (HIGH)",
    },
    "production": set(),
}


@pytest.fixture(params=["default", "production"])
async def mode(request: pytest.FixtureRequest, seeded_db: str) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    settings = {"production": True} if request.param == "production" else {}
    async for api in make_api(seeded_db, **settings):
        yield str(request.param), api.client


@pytest.mark.parametrize("name", list(CHECKS))
async def test_graphql_cop_check(mode: tuple[str, httpx.AsyncClient], name: str) -> None:
    mode_name, client = mode
    found = await CHECKS[name](client)
    assert found == (name in FINDINGS[mode_name]), f"{name} in {mode_name} mode: found={found}"


def test_every_graphql_cop_check_is_here() -> None:
    assert len(CHECKS) == 14


async def test_production_mode_turns_each_back_on_by_its_own_setting(seeded_db: str) -> None:
    async for api in make_api(seeded_db, production=True, introspection=True, graphiql=True):
        assert await introspection(api.client)
        assert await detect_graphiql(api.client)
        assert not await get_method_support(api.client)  # GET stays persisted-only
        assert not await field_suggestions(api.client)
        assert (await api.client.get("/schema.graphql")).status_code == 200
    async for api in make_api(seeded_db, production=True):
        assert (await api.client.get("/schema.graphql")).status_code == 404


async def test_production_get_takes_persisted_queries(seeded_db: str) -> None:
    import hashlib
    import json

    query = "{ organizations(first: 1) { nodes { slug } } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})
    async for api in make_api(seeded_db, production=True):
        miss = await api.client.get("/graphql", params={"extensions": extensions})
        assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        registered = await api.client.get("/graphql", params={"extensions": extensions, "query": query})
        assert registered.status_code == 200 and registered.json()["data"]["organizations"]["nodes"]
        hit = await api.client.get("/graphql", params={"extensions": extensions})
        assert hit.status_code == 200 and hit.json() == registered.json()
        refused = await api.client.get("/graphql", params={"query": query})
        assert refused.status_code == 400 and refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert "persisted" in refused.json()["errors"][0]["message"]
