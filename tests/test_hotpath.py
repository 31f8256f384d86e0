"""The lean path for repeated POSTs (app.http.hotpath): it answers exactly what the whole stack answers.

Each case is sent to two apps on the same database: one where the document is hot (answered
before, so the lean path serves it) and one with the lean path off (the whole stack). Status,
media type, body, the Server-Timing statement count and the access log line must be the same;
a spy on Strawberry's body parsing proves which path served.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

import app.http.app
from app.http.hotpath import HotPath
from app.http.view import GraphQLView
from tests.conftest import Api, make_api

ORGS = "query Orgs($first: Int, $after: String) { organizations(first: $first, after: $after) { nodes { id name } } }"
TWO = "query A { __typename } query B { organizations(first: 1) { nodes { acronym } } }"
NESTED = "query Nested($n: Int) { organizations(first: $n) { nodes { events(first: $n) { nodes { title } } } } }"
SPEC = {"Accept": "application/graphql-response+json, application/json;q=0.9"}
APQ = {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(ORGS.encode()).hexdigest()}}

# (name, body that makes the document hot, the body compared, headers)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, str]]] = [
    ("typename", {"query": "{ __typename }"}, {"query": "{ __typename }"}, {}),
    ("other variables", {"query": ORGS, "variables": {"first": 1}}, {"query": ORGS, "variables": {"first": 3}}, {}),
    ("operation name", {"query": TWO, "operationName": "A"}, {"query": TWO, "operationName": "B"}, {}),
    ("unknown operation", {"query": TWO, "operationName": "A"}, {"query": TWO, "operationName": "C"}, SPEC),
    ("bad variable, json", {"query": ORGS}, {"query": ORGS, "variables": {"first": "many"}}, {}),
    ("bad variable, spec", {"query": ORGS}, {"query": ORGS, "variables": {"first": "many"}}, SPEC),
    ("forged cursor", {"query": ORGS}, {"query": ORGS, "variables": {"after": "bm90IGEgY3Vyc29y"}}, {}),
    ("control character", {"query": ORGS}, {"query": ORGS, "variables": {"after": "a\u0000b"}}, SPEC),
    ("page too large", {"query": NESTED, "variables": {"n": 1}}, {"query": NESTED, "variables": {"n": 1000}}, {}),
    ("cost limit", {"query": NESTED, "variables": {"n": 1}}, {"query": NESTED, "variables": {"n": 100}}, SPEC),
    ("apq hit", {"query": ORGS, "extensions": APQ}, {"extensions": APQ, "variables": {"first": 2}}, SPEC),
]


class _Off(HotPath):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "size": 0})


@pytest.fixture
async def apis(seeded_db: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Api, Api]]:
    """(the app with the lean path, the app without it), both with the result cache off."""
    async for lean in make_api(seeded_db, result_cache_size=0, max_query_cost=50_000):
        monkeypatch.setattr(app.http.app, "HotPath", _Off)
        async for whole in make_api(seeded_db, result_cache_size=0, max_query_cost=50_000):
            monkeypatch.undo()
            yield lean, whole


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many requests Strawberry's view has parsed (the whole stack parses, the lean path does not)."""
    calls = [0]
    original = GraphQLView.parse_http_body

    async def counting(self: GraphQLView, request: Any) -> Any:
        calls[0] += 1
        return await original(self, request)

    monkeypatch.setattr(GraphQLView, "parse_http_body", counting)
    return calls


async def _send(api: Api, body: dict[str, Any], headers: dict[str, str], caplog: pytest.LogCaptureFixture) -> Any:
    caplog.clear()
    # One request ID for both paths, so their answers compare whole (errors carry it).
    response = await api.client.post("/graphql", json=body, headers={"x-request-id": "same-id", **headers})
    [line] = [record.event for record in caplog.records if record.name == "app.access"]  # type: ignore[attr-defined]
    logged = {key: value for key, value in line.items() if key not in {"durationMs", "dbMs"}}
    timing = response.headers.get("server-timing", "")
    statements = timing.split('desc="')[1] if "desc=" in timing else None
    return response.status_code, response.headers.get("content-type"), response.json(), statements, logged


@pytest.mark.parametrize(("name", "warm", "body", "headers"), CASES, ids=[case[0] for case in CASES])
async def test_the_lean_path_answers_what_the_whole_stack_answers(
    apis: tuple[Api, Api],
    parsed: list[int],
    caplog: pytest.LogCaptureFixture,
    name: str,
    warm: dict[str, Any],
    body: dict[str, Any],
    headers: dict[str, str],
) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    lean, whole = apis
    for api in (lean, whole):
        for _ in range(2):  # the first marks it hot for the lean path; the second is served by it
            status, *_rest = await _send(api, warm, {}, caplog)
            assert status == 200
    if body.get("query") is None:  # a hashed APQ request is its own document: make it hot too
        await _send(lean, body, headers, caplog)
    before = parsed[0]
    answer = await _send(lean, body, headers, caplog)
    assert parsed[0] == before, "the lean path parsed the request through Strawberry's view"
    assert answer == await _send(whole, body, headers, caplog)
    assert parsed[0] == before + 1


async def test_a_document_is_hot_only_after_a_clean_answer(
    apis: tuple[Api, Api], parsed: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    lean, _whole = apis
    failing = {"query": "{ organization(slug: 1) { name } }"}  # a validation error every time
    for expected in (1, 2, 3):
        _status, _type, answer, _timing, logged = await _send(lean, failing, {}, caplog)
        assert answer["errors"] and logged["errorCodes"] and parsed[0] == expected  # never hot: the whole stack
    await _send(lean, {"query": "{ __typename }"}, {}, caplog)
    await _send(lean, {"query": "{ __typename }"}, {}, caplog)
    assert parsed[0] == 4
    # Not the plain shape: an unknown field, a non-string operation name take the whole stack.
    await lean.client.post("/graphql", json={"query": "{ __typename }", "extra": 1})
    refused = await lean.client.post("/graphql", json={"query": "{ __typename }", "operationName": 5})
    assert refused.status_code == 400 and parsed[0] == 6


@pytest.mark.parametrize(
    ("query", "data"),
    [
        ("{ __typename }", {"__typename": "Query"}),
        ("query Q { a: __typename ... on Query { b: __typename } }", {"a": "Query", "b": "Query"}),
    ],
)
async def test_typename_alone_asks_the_database_nothing(
    apis: tuple[Api, Api], query: str, data: dict[str, str]
) -> None:
    lean, _whole = apis
    for _ in range(3):  # Strawberry, then the compiled fast path, then the lean path
        response = await lean.post(query)
        assert response.json() == {"data": data}
        assert lean.last_statements == 0, response.headers.get("server-timing")
