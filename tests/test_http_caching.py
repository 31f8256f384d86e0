"""HTTP done right at /graphql: ETags one per (operation, variables, data version), RFC 9110's If-None-Match,
Vary, brotli and gzip above a threshold with ETags kept, CORS refusals that explain themselves."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Api, make_api

QUERY = "query Escap($slug: String!) { organization(slug: $slug) { id name } }"
SHA = hashlib.sha256(QUERY.encode()).hexdigest()
NESTED = (Path(__file__).resolve().parent.parent / "app" / "examples" / "nested.graphql").read_text()


def _params(**params: Any) -> dict[str, str]:
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in params.items()}


async def _get(api: Api, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
    return await api.client.get("/graphql", params=_params(**params), headers=headers or {})


async def test_one_etag_whether_the_query_came_by_hash_or_in_full(api: Api) -> None:
    apq = {"persistedQuery": {"version": 1, "sha256Hash": SHA}}
    full = await _get(api, query=QUERY, variables={"slug": "escap"}, operationName="Escap", extensions=apq)
    hashed = await _get(api, variables={"slug": "escap"}, operationName="Escap", extensions=apq)
    plain = await _get(api, query=QUERY, variables={"slug": "escap"}, operationName="Escap")
    assert hashed.json() == full.json() == plain.json()
    assert hashed.headers["etag"] == full.headers["etag"] == plain.headers["etag"]
    # The order of variables' keys does not matter; their values, the operation and the document do.
    other = await _get(api, query=QUERY, variables={"slug": "osce"}, operationName="Escap")
    assert other.headers["etag"] != plain.headers["etag"]
    # A revalidation by hash is answered 304 from the hash alone, before the query is looked up.
    revalidated = await _get(
        api,
        {"if-none-match": plain.headers["etag"]},
        variables={"slug": "escap"},
        operationName="Escap",
        extensions=apq,
    )
    assert revalidated.status_code == 304


@pytest.mark.parametrize("form", ["strong", "weak", "listed", "star", "weak-gzip"])
async def test_if_none_match_is_compared_as_rfc_9110_says(api: Api, form: str) -> None:
    first = await _get(api, query=QUERY, variables={"slug": "escap"})
    tag = first.headers["etag"]
    sent = {
        "strong": tag,
        "weak": f"W/{tag}",
        "listed": f'"nope", W/{tag}',
        "star": "*",
        "weak-gzip": f'W/{tag[:-1]}-gzip"',
    }[form]
    again = await _get(api, {"if-none-match": sent}, query=QUERY, variables={"slug": "escap"})
    assert again.status_code == 304, again.text
    assert again.content == b""
    assert "accept" in again.headers["vary"].lower()


async def test_a_star_does_not_turn_an_error_into_a_304(api: Api) -> None:
    response = await _get(api, {"if-none-match": "*"}, query="{ events(first: 0) { nodes { id } } }")
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_PAGE_SIZE"


async def test_a_stale_tag_gets_the_answer(api: Api) -> None:
    response = await _get(api, {"if-none-match": 'W/"v0-stale"'}, query=QUERY, variables={"slug": "escap"})
    assert response.status_code == 200 and response.json()["data"]["organization"]["name"]


@pytest.mark.parametrize("coding", ["br", "gzip"])
async def test_large_answers_are_compressed_and_keep_their_etag_semantics(api: Api, coding: str) -> None:
    plain = await _get(api, {"accept-encoding": "identity"}, query=NESTED)
    assert "content-encoding" not in plain.headers
    compressed = await api.client.get(
        "/graphql", params={"query": NESTED}, headers={"accept-encoding": f"{coding}, identity;q=0.5"}
    )
    assert compressed.headers["content-encoding"] == coding
    assert "accept-encoding" in compressed.headers["vary"].lower()
    raw = compressed.num_bytes_downloaded
    assert compressed.json() == plain.json()  # httpx decoded it
    assert raw < len(plain.content) / 4
    print(f"nested example: {len(plain.content):,} bytes, {coding} {raw:,} bytes")
    tag = compressed.headers["etag"]
    assert tag == plain.headers["etag"][:-1] + f'-{coding}"'  # another representation, another strong tag
    for sent in (tag, f"W/{tag}", plain.headers["etag"]):
        again = await api.client.get(
            "/graphql", params={"query": NESTED}, headers={"accept-encoding": coding, "if-none-match": sent}
        )
        assert again.status_code == 304


async def test_small_answers_are_not_compressed(api: Api) -> None:
    response = await _get(api, {"accept-encoding": "gzip, br"}, query="{ __typename }")
    assert "content-encoding" not in response.headers
    assert "accept-encoding" in response.headers["vary"].lower()


async def test_post_answers_vary_too(api: Api) -> None:
    response = await api.client.post("/graphql", json={"query": NESTED}, headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["data"]["organizations"]["nodes"]


PREFLIGHT = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}


async def test_a_preflight_when_cors_is_off_says_how_to_turn_it_on(api: Api) -> None:
    response = await api.client.options("/graphql", headers={"origin": "https://app.example", **PREFLIGHT})
    assert response.status_code == 403
    message = response.json()["errors"][0]["message"]
    assert "CORS_ORIGINS" in message and "https://app.example" in message
    assert "access-control-allow-origin" not in response.headers


@pytest.fixture
async def cors_api(seeded_db: str) -> AsyncIterator[Api]:
    async for made in make_api(seeded_db, cors_origins=["https://app.example"], cors_allow_headers=["X-Custom"]):
        yield made


async def test_the_headers_apollo_urql_and_tracing_send_are_allowed(cors_api: Api) -> None:
    sent = (
        "content-type, apollographql-client-name, apollographql-client-version, apollo-require-preflight, "
        "traceparent, tracestate, sentry-trace, baggage, x-custom"
    )
    response = await cors_api.client.options(
        "/graphql",
        headers={
            "origin": "https://app.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": sent,
        },
    )
    assert response.status_code == 200, response.text
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in sent.split(", "):
        assert header in allowed
    simple = await cors_api.client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"origin": "https://app.example"}
    )
    assert "etag" in simple.headers["access-control-expose-headers"].lower()


async def test_a_refused_preflight_names_what_was_refused(cors_api: Api) -> None:
    other = await cors_api.client.options("/graphql", headers={"origin": "https://evil.example", **PREFLIGHT})
    assert other.status_code == 403
    assert "https://evil.example is not in CORS_ORIGINS" in other.json()["errors"][0]["message"]
    header = await cors_api.client.options(
        "/graphql",
        headers={
            "origin": "https://app.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, x-secret",
        },
    )
    assert header.status_code == 403
    message = header.json()["errors"][0]["message"]
    assert "x-secret" in message and "CORS_ALLOW_HEADERS" in message
    assert header.json()["errors"][0]["extensions"]["code"] == "CORS_REFUSED"
