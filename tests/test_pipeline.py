"""The request pipeline (app/http/pipeline.py): one request, read once, one way through, every answer coded.

The first request of a document takes the same steps as its repeats (compiled when it can be, with
the same `extensions`); the body is decoded once; the query string is parsed once, one way, so no
two steps can read different parameters; refusals are GraphQL-shaped JSON with their code, faults
too; an answer is tagged with the version read in its own snapshot, and a revalidation naming newer
data than the server has is never answered with older data.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.config import Settings
from app.execution.executable import schema
from app.execution.executor import Executor
from app.http.app import create_app
from tests.conftest import Api, make_api
from tests.live import LiveServer
from tests.test_fastpath import QUERY as TITLES
from tests.test_fastpath import reseed

QUERY = 'query Escap { organization(slug: "escap") { id name events(first: 3) { nodes { id title } } } }'
SPEC = {"accept": "application/graphql-response+json, application/json;q=0.9"}


@pytest.fixture
async def compiled(seeded_db: str) -> AsyncIterator[Api]:
    """The app as it is deployed: the compiler on (no verify), no result cache (every request executes)."""
    async for made in make_api(seeded_db, execution="compiled", result_cache_size=0):
        yield made


def _events(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [record.event for record in caplog.records if record.name == "app.access"]  # type: ignore[attr-defined]


@pytest.fixture
def strawberry_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The calls of Strawberry's `schema.execute` (it still runs as before), one entry each."""
    calls: list[Any] = []
    real = schema.execute

    async def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return await real(*args, **kwargs)

    monkeypatch.setattr(schema, "execute", spy)
    return calls


async def test_the_first_request_is_compiled_like_its_repeats(
    compiled: Api, strawberry_calls: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.access"):
        answers = [(await compiled.client.post("/graphql", json={"query": QUERY})).json() for _ in range(3)]
    assert strawberry_calls == []  # Strawberry never ran: not for the first request either
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["extensions"]["cost"] == {"requested": 5, "actual": 5}
    assert [event["servedBy"] for event in _events(caplog)] == ["executor"] * 3


async def test_what_the_compiler_leaves_to_strawberry_still_runs(compiled: Api, strawberry_calls: list[Any]) -> None:
    data = await compiled.data("{ __schema { queryType { name } } }")
    assert data == {"__schema": {"queryType": {"name": "Query"}}}
    assert len(strawberry_calls) == 1


async def test_the_body_is_decoded_once(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    body = orjson.dumps({"query": QUERY})
    decoded = []
    real = orjson.loads

    def counting(data: Any) -> Any:
        if data == body:
            decoded.append(1)
        return real(data)

    monkeypatch.setattr(orjson, "loads", counting)
    for _ in range(3):
        response = await api.client.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 200
    assert decoded == [1, 1, 1]


async def test_typename_alone_asks_the_database_nothing(compiled: Api) -> None:
    for query, data in [
        ("{ __typename }", {"__typename": "Query"}),
        ("query Q { a: __typename ... on Query { b: __typename } }", {"a": "Query", "b": "Query"}),
    ]:
        response = await compiled.post(query)
        assert response.json() == {"data": data}
        assert compiled.last_statements == 0


async def test_head_answers_what_get_answers_without_a_body(api: Api) -> None:
    params = {"query": QUERY}
    got = await api.client.get("/graphql", params=params)
    head = await api.client.head("/graphql", params=params)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-length"] == got.headers["content-length"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_are_405_with_allow(api: Api, method: str) -> None:
    response = await api.client.request(method, "/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST, HEAD, OPTIONS"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_percent_encoded_parameter_names_are_the_parameters(api: Api) -> None:
    response = await api.client.get("/graphql?%71uery=%7B__typename%7D")
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "query_string",
    [
        "query={__typename}&query={organizations{totalCount}}",
        "query={__typename}&%71uery={__typename}",
        "extensions={}&extensions={}&query={__typename}",
    ],
)
async def test_a_parameter_given_twice_is_refused(api: Api, query_string: str) -> None:
    response = await api.client.get(f"/graphql?{query_string}", headers=SPEC)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST" and "more than once" in error["message"]


async def test_the_etag_names_the_representation(api: Api) -> None:
    params = {"query": QUERY}
    plain = await api.client.get("/graphql", params=params, headers={"accept": "application/json"})
    spec = await api.client.get("/graphql", params=params, headers=SPEC)
    assert plain.headers["content-type"] != spec.headers["content-type"]
    assert plain.headers["etag"] != spec.headers["etag"]
    again = await api.client.get("/graphql", params=params, headers={**SPEC, "if-none-match": plain.headers["etag"]})
    assert again.status_code == 200  # the JSON copy's tag does not validate the other representation


async def test_rate_limit_answers_are_never_cached(seeded_db: str) -> None:
    async for api in make_api(seeded_db, rate_limit_points=1_000, compress_min_bytes=10):
        query = "{ rateLimit { remaining used } }"
        first = await api.client.get("/graphql", params={"query": query}, headers={"accept-encoding": "gzip"})
        second = await api.client.get("/graphql", params={"query": query}, headers={"accept-encoding": "gzip"})
        assert first.status_code == second.status_code == 200
        assert first.headers["cache-control"] == second.headers["cache-control"] == "private, no-store"
        assert "etag" not in first.headers and "etag" not in second.headers
        assert first.json()["data"]["rateLimit"] != second.json()["data"]["rateLimit"]


async def test_a_refused_query_costs_a_token_point(seeded_db: str) -> None:
    bomb = "{ a: organizations(first: 100) { nodes { children(first: 100) { nodes { children(first: 100) { nodes { id } } } } } } }"
    async for api in make_api(seeded_db, rate_limit_points=1_000):
        refused = await api.client.post("/graphql", json={"query": bomb})
        assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert refused.headers["x-ratelimit-used"] == "1"
        after = await api.client.post("/graphql", json={"query": "{ __typename }"})
        assert after.status_code == 200 and after.headers["x-ratelimit-used"] == "2"


async def test_a_429_carries_cors_headers_browsers_can_read(seeded_db: str) -> None:
    origin = {"origin": "https://app.example"}
    async for api in make_api(seeded_db, rate_limit_points=1, cors_origins=["https://app.example"]):
        await api.client.post("/graphql", json={"query": "{ __typename }"}, headers=origin)
        refused = await api.client.post("/graphql", json={"query": "{ __typename }"}, headers=origin)
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert refused.headers["access-control-allow-origin"] == "https://app.example"
        exposed = {name.strip().lower() for name in refused.headers["access-control-expose-headers"].split(",")}
        assert {"retry-after", "x-ratelimit-remaining", "x-ratelimit-reset"} <= exposed
        assert int(refused.headers["retry-after"]) >= 1


async def test_production_refuses_queries_by_get_whatever_the_parameters_say(seeded_db: str) -> None:
    sha = hashlib.sha256(b"{ __typename }").hexdigest()
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": sha}})
    async for api in make_api(seeded_db, production=True):
        plain = await api.client.get("/graphql", params={"query": "{ __typename }"})
        assert plain.status_code == 400 and plain.headers["cache-control"] == "no-store"
        # Two `extensions`, the first with a hash: refused, not read one way here and another way there.
        twice = await api.client.get(f"/graphql?extensions={extensions}&extensions=%7B%7D&query=%7B__typename%7D")
        assert twice.status_code == 400 and "more than once" in twice.json()["errors"][0]["message"]


async def test_an_unforeseen_fault_is_coded_json_with_its_id(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Executor, "execute", broken)
    with caplog.at_level(logging.ERROR, logger="app.errors"):
        response = await api.client.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 500
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["errorId"] in caplog.text
    assert "a bug" not in response.text


async def _call(app: Any, receive: Any, method: str = "POST") -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "scheme": "http",
        "http_version": "1.1",
        "root_path": "",
    }
    await app(scope, receive, send)
    return sent


@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
async def test_a_client_gone_mid_body_is_499_at_info(seeded_db: str, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings(database_url=seeded_db))
    messages = iter([{"type": "http.request", "body": b'{"query": ', "more_body": True}, {"type": "http.disconnect"}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async with app.router.lifespan_context(app):
        with caplog.at_level(logging.INFO, logger="app.access"):
            sent = await _call(app, receive)
    assert sent == []
    [line] = [record for record in caplog.records if record.name == "app.access"]
    assert line.event["status"] == 499 and line.levelno == logging.INFO  # type: ignore[attr-defined]


@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
async def test_a_body_that_trickles_past_its_deadline_is_408(seeded_db: str) -> None:
    app = create_app(Settings(database_url=seeded_db, body_timeout_seconds=0.3))
    parts = [{"type": "http.request", "body": b"{", "more_body": True}]

    async def receive() -> dict[str, Any]:
        if parts:
            return parts.pop()
        await asyncio.sleep(3600)  # the client sends nothing more
        raise AssertionError("not reached")

    async with app.router.lifespan_context(app):
        sent = await _call(app, receive)
    assert sent[0]["status"] == 408
    assert orjson.loads(sent[1]["body"])["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"


@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
def test_a_plain_client_reads_the_413_of_a_5_mb_body(seeded_db: str, tmp_path: Path) -> None:
    with LiveServer(seeded_db, tmp_path / "server.log") as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        body = b'{"query": "{ __typename }", "pad": "' + b"x" * 5_000_000 + b'"}'
        connection.request("POST", "/graphql", body=body, headers={"content-type": "application/json"})
        response = connection.getresponse()
        answer = json.loads(response.read())
        connection.close()
    assert response.status == 413
    assert answer["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


# -- one snapshot per request (the answers' versions) ---------------------------------------------


@pytest.fixture
async def unannounced(migrated_db: str, small_seed: Path) -> AsyncIterator[tuple[Api, str, Path]]:
    """A server that hears of no re-seed (no announcement, the version re-read once an hour) and caches nothing."""
    from app.seeding import seed

    await asyncio.to_thread(lambda: asyncio.run(seed(migrated_db, small_seed)))
    async for made in make_api(
        migrated_db, result_cache_size=0, data_version_check_seconds=3600, data_version_fallback_seconds=3600
    ):
        yield made, migrated_db, small_seed


def _version(tag: str) -> int:
    return int(tag.strip('"').split("-")[0][1:])


async def test_an_answer_is_tagged_with_the_version_it_was_read_at(unannounced: tuple[Api, str, Path]) -> None:
    api, url, seed_dir = unannounced
    first = await api.client.get("/graphql", params={"query": TITLES})
    await reseed(url, seed_dir, "title: ESCAP meeting", "title: ESCAP ministerial meeting")
    second = await api.client.get("/graphql", params={"query": TITLES})
    assert second.json()["data"]["events"]["nodes"] == [{"title": "ESCAP ministerial meeting"}]
    assert _version(second.headers["etag"]) == _version(first.headers["etag"]) + 1  # not the worker's stale one
    # The worker's version moved forward with that answer: a revalidation of the old copy is not a 304.
    stale = await api.client.get("/graphql", params={"query": TITLES}, headers={"if-none-match": first.headers["etag"]})
    assert stale.status_code == 200


async def test_a_tag_newer_than_the_server_is_never_answered_with_older_data(api: Api) -> None:
    params = {"query": QUERY}
    current = await api.client.get("/graphql", params=params, headers=SPEC)
    tag = current.headers["etag"]
    version = _version(tag)
    newer = tag.replace(f'"v{version}-', f'"v{version + 5}-')
    response = await api.client.get("/graphql", params=params, headers={**SPEC, "if-none-match": newer})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1" and response.headers["cache-control"] == "no-store"
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "data" not in response.json()


async def test_requests_without_a_cache_never_share_an_etag_across_versions(
    unannounced: tuple[Api, str, Path],
) -> None:
    api, url, seed_dir = unannounced
    seen: dict[str, Any] = {}
    titles = ["ESCAP meeting", "ESCAP meeting 1", "ESCAP meeting 2"]
    for step, title in enumerate(titles):
        response = await api.client.get("/graphql", params={"query": TITLES})
        body = response.json()["data"]
        assert body["events"]["nodes"] == [{"title": title}]
        assert seen.setdefault(response.headers["etag"], body) == body  # one body per tag, always
        if step + 1 < len(titles):
            await reseed(url, seed_dir, f"title: {title}\n", f"title: {titles[step + 1]}\n")
    assert len(seen) == 3


def test_the_request_loop_names_no_private_strawberry_api() -> None:
    source = "".join(path.read_text() for path in Path("app").rglob("*.py"))
    for private in ("_handle_errors", "_get_stream_transport", "_getframe", "__signature__"):
        assert private not in source, private


async def test_httpx_answers_are_json_for_every_refusal(api: Api) -> None:
    for response in [
        await api.client.post("/graphql", content=b"{", headers={"content-type": "application/json"}),
        await api.client.post("/graphql", content=b"x", headers={"content-type": "text/plain"}),
        await api.client.get("/graphql?query=%ff"),
        await api.client.request("PUT", "/graphql"),
    ]:
        assert response.headers["content-type"].startswith("application/"), response.text
        assert response.json()["errors"][0]["extensions"]["code"]
