"""HTTP at /graphql: body limit, content types, malformed JSON, batches, GET, CORS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Api, make_api

QUERY = {"query": "{ organizations(first: 2) { nodes { id } } }"}


def _refusal(response: object, status: int, code: str) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["errors"][0]["extensions"]["code"] == code
    return str(body["errors"][0]["message"])


async def test_malformed_json_is_a_400_that_says_so(api: Api) -> None:
    response = await api.client.post("/graphql", content=b'{"query": ', headers={"content-type": "application/json"})
    assert "not valid JSON" in _refusal(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize("body", [b'"a string"', b"42", b"null"])
async def test_a_body_that_is_not_an_object_is_a_400(api: Api, body: bytes) -> None:
    response = await api.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert "JSON object" in _refusal(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None]
)
async def test_other_content_types_are_a_415(api: Api, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await api.client.post("/graphql", content=b'{"query": "{ __typename }"}', headers=headers)
    assert "application/json" in _refusal(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_json_with_a_charset_is_accepted(api: Api) -> None:
    response = await api.client.post(
        "/graphql", content=b'{"query": "{ __typename }"}', headers={"content-type": "application/json; charset=utf-8"}
    )
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.fixture
async def small_body(seeded_db: str) -> AsyncIterator[Api]:
    async for made in make_api(seeded_db, max_body_bytes=1_000):
        yield made


async def test_body_at_the_limit_is_read_and_one_byte_past_is_a_413(small_body: Api) -> None:
    prefix, suffix = b'{"query": "{ __typename }", "extensions": {"pad": "', b'"}}'
    pad = 1_000 - len(prefix) - len(suffix)
    at_limit = prefix + b"x" * pad + suffix
    assert len(at_limit) == 1_000
    headers = {"content-type": "application/json"}
    response = await small_body.client.post("/graphql", content=at_limit, headers=headers)
    assert response.json() == {"data": {"__typename": "Query"}}
    past = prefix + b"x" * (pad + 1) + suffix
    message = _refusal(
        await small_body.client.post("/graphql", content=past, headers=headers), 413, "PAYLOAD_TOO_LARGE"
    )
    assert "1,001 bytes" in message and "1,000" in message


async def test_a_body_without_length_is_counted_while_it_arrives(small_body: Api) -> None:
    sent = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b" " * 100

    response = await small_body.client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    message = _refusal(response, 413, "PAYLOAD_TOO_LARGE")
    assert "content-length" not in response.request.headers
    assert "is larger than that" in message  # counted as it arrived: refused at the limit, the rest dropped unread
    assert response.headers["connection"] == "close"


async def test_batches_are_refused_by_default(api: Api) -> None:
    response = await api.client.post("/graphql", json=[QUERY, QUERY])
    assert "Batching is not supported" in _refusal(response, 400, "BAD_REQUEST")


async def test_batches_can_be_allowed_up_to_a_cap_and_share_one_cost_budget(seeded_db: str) -> None:
    async for api in make_api(seeded_db, max_batch_size=2, max_query_cost=8):
        response = await api.client.post("/graphql", json=[QUERY, QUERY])
        assert [item.get("errors") for item in response.json()] == [None, None]
        _refusal(await api.client.post("/graphql", json=[QUERY, QUERY, QUERY]), 400, "BAD_REQUEST")
        first = {"query": "{ organizations(first: 4) { nodes { id } } }"}  # 5 objects
        second = {"query": "{ countries(first: 4) { nodes { id } } }"}
        answers = (await api.client.post("/graphql", json=[first, second])).json()
        codes = [error["extensions"]["code"] for item in answers for error in item.get("errors", [])]
        assert codes == ["QUERY_TOO_COMPLEX"]  # 5 + 5 > 8: the second is refused


async def test_get_runs_queries_with_cache_control(api: Api) -> None:
    response = await api.client.get("/graphql", params=QUERY)
    assert response.status_code == 200 and len(response.json()["data"]["organizations"]["nodes"]) == 2
    assert response.headers["cache-control"].startswith("public, max-age=")
    post = await api.client.post("/graphql", json=QUERY)
    assert "public" not in post.headers.get("cache-control", "")


async def test_get_never_runs_a_mutation(api: Api) -> None:
    response = await api.client.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.status_code in (400, 405)
    assert "data" not in response.text


async def test_cors_allows_the_configured_origins_only(seeded_db: str) -> None:
    async for api in make_api(seeded_db, cors_origins=["https://app.example"]):
        allowed = await api.client.post("/graphql", json=QUERY, headers={"origin": "https://app.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        other = await api.client.post("/graphql", json=QUERY, headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        preflight = await api.client.options(
            "/graphql",
            headers={
                "origin": "https://app.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert "POST" in preflight.headers["access-control-allow-methods"]
        refused = await api.client.post(
            "/graphql", content=b"{", headers={"origin": "https://app.example", "content-type": "application/json"}
        )
        assert refused.status_code == 400
        assert refused.headers["access-control-allow-origin"] == "https://app.example"
