"""Automatic persisted queries, as Apollo Client and urql speak them: unknown hash, register, hit by GET."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.http.persisted_queries import PersistedQueries
from tests.conftest import Api, make_api

QUERY = "query Escap($slug: String!) { organization(slug: $slug) { name acronym events(first: 2) { nodes { title citations { quote } } } } }"
SHA = hashlib.sha256(QUERY.encode()).hexdigest()
# What Apollo Client's HttpLink sends with useGETForHashedQueries (and urql's persistedExchange alike).
CLIENT_ACCEPT = {"Accept": "application/graphql-response+json,application/json;q=0.9"}
MISS = "private, no-cache, must-revalidate"


def _extensions(sha256_hash: str = SHA, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256_hash}}


async def _get(api: Api, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
    encoded = {key: value if isinstance(value, str) else json.dumps(value) for key, value in params.items()}
    return await api.client.get("/graphql", params=encoded, headers=headers or CLIENT_ACCEPT)


def _error_code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_an_unknown_hash_answers_persisted_query_not_found(api: Api) -> None:
    response = await _get(api, extensions=_extensions(), variables={"slug": "escap"})
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body  # a request error: graphql-response+json answers it without `data`
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert body["errors"][0]["message"] == "PersistedQueryNotFound"
    assert _error_code(response) == "PERSISTED_QUERY_NOT_FOUND"
    assert response.headers["cache-control"] == MISS


async def test_apollos_round_trip_unknown_then_register_then_hit_by_get(api: Api) -> None:
    miss = await _get(api, extensions=_extensions(), variables={"slug": "escap"}, operationName="Escap")
    assert _error_code(miss) == "PERSISTED_QUERY_NOT_FOUND"

    registered = await api.client.post(
        "/graphql",
        json={"query": QUERY, "variables": {"slug": "escap"}, "operationName": "Escap", "extensions": _extensions()},
    )
    assert registered.status_code == 200, registered.text
    data = registered.json()["data"]
    assert data["organization"]["acronym"] == "ESCAP"
    assert data["organization"]["events"]["nodes"][0]["citations"][0]["quote"]

    hit = await _get(api, extensions=_extensions(), variables={"slug": "escap"}, operationName="Escap")
    assert hit.status_code == 200
    assert hit.json() == {"data": data, "extensions": registered.json()["extensions"]}
    assert hit.headers["cache-control"] == "public, max-age=60"
    assert len(str(hit.request.url)) < 300  # short enough for any cache and proxy

    other_variables = await _get(api, extensions=_extensions(), variables={"slug": "osce"})
    assert other_variables.json()["data"]["organization"]["acronym"] == "OSCE"


async def test_a_query_can_register_by_get_and_hit_by_post(api: Api) -> None:
    registered = await _get(api, query=QUERY, extensions=_extensions(), variables={"slug": "escap"})
    assert registered.json()["data"]["organization"]["acronym"] == "ESCAP"
    hit = await api.client.post("/graphql", json={"extensions": _extensions(), "variables": {"slug": "escap"}})
    assert hit.json()["data"] == registered.json()["data"]


async def test_a_hashed_get_from_a_browser_gets_json_not_the_explorer(api: Api) -> None:
    response = await _get(api, headers={"Accept": "*/*"}, extensions=_extensions())
    assert response.headers["content-type"].startswith("application/json")
    assert _error_code(response) == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_query_that_does_not_match_its_hash_is_refused_and_not_kept(api: Api) -> None:
    wrong = hashlib.sha256(b"{ __typename }").hexdigest()
    response = await api.client.post("/graphql", json={"query": QUERY, "extensions": _extensions(wrong)})
    assert response.status_code == 400
    assert _error_code(response) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert response.json()["errors"][0]["message"] == "provided sha does not match query"
    later = await _get(api, extensions=_extensions(wrong))
    assert _error_code(later) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "extensions",
    [
        _extensions(version=2),
        {"persistedQuery": {"version": 1}},
        _extensions(SHA.upper()),
        _extensions("abc"),
        {"persistedQuery": "yes"},
    ],
)
async def test_a_malformed_persisted_query_is_a_clear_400(api: Api, extensions: dict[str, Any]) -> None:
    response = await _get(api, extensions=extensions)
    assert response.status_code == 400
    assert _error_code(response) == "INVALID_PERSISTED_QUERY"


async def test_an_invalid_query_is_not_kept(api: Api) -> None:
    invalid = '{ organization(slug: "escap") { noSuchField } }'
    sha = hashlib.sha256(invalid.encode()).hexdigest()
    response = await api.client.post("/graphql", json={"query": invalid, "extensions": _extensions(sha)})
    assert response.json()["errors"]
    later = await _get(api, extensions=_extensions(sha))
    assert _error_code(later) == "PERSISTED_QUERY_NOT_FOUND"


async def test_get_never_runs_a_mutation(api: Api) -> None:
    response = await _get(api, query="mutation { __typename }")
    assert response.status_code == 400
    assert "data" not in response.text or response.json().get("data") is None


async def test_failed_gets_are_not_marked_cacheable(api: Api) -> None:
    response = await _get(api, query="{ organization(slug: 1) { name } }")
    assert "public" not in response.headers.get("cache-control", "")


@pytest.fixture
async def api_without_http_caching(seeded_db: str) -> AsyncIterator[Api]:
    async for made in make_api(seeded_db, http_cache_max_age_seconds=0):
        yield made


async def test_get_answers_carry_no_cache_control_when_turned_off(api_without_http_caching: Api) -> None:
    response = await _get(api_without_http_caching, query='{ organization(slug: "escap") { name } }')
    assert response.json()["data"]["organization"]["name"]
    assert "cache-control" not in response.headers


def test_the_store_drops_the_least_recently_used_query() -> None:
    store = PersistedQueries(max_entries=2)
    store.put("a", "{ a }")
    store.put("b", "{ b }")
    assert store.get("a") == "{ a }"  # now b is the least recently used
    store.put("c", "{ c }")
    assert len(store) == 2
    assert store.get("b") is None
    assert store.get("a") == "{ a }" and store.get("c") == "{ c }"
