"""Hostile variables (issue 19, finding 9): nested hundreds of levels deep, or huge (many keys, long lists), or
numbers no Int holds. Each gets a coded JSON error over real HTTP, by POST and by GET, on both engines: never a
plain-text 500, never INTERNAL_SERVER_ERROR, never a traceback logged at ERROR."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest

from app.execution.input_checks import MAX_VARIABLE_DEPTH, MAX_VARIABLE_VALUES
from tests.conftest import Api

ORGANIZATION = "query($v: String!) { organization(slug: $v) { id } }"
FIRST = "query($f: Int) { organizations(first: $f) { nodes { id } } }"
IDS = "query($v: [ID!]!) { nodes(ids: $v) { id } }"


def nested(depth: int) -> str:
    """JSON text of objects and lists `depth` levels inside one another (too deep for json.dumps to write)."""
    opening = "".join('{"a":' if level % 2 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 else "]" for level in reversed(range(depth)))
    return opening + "1" + closing


async def _ask(api: Api, method: str, query: str, variables: Any) -> tuple[int, dict[str, Any]]:
    """`variables` as a Python value, or as JSON text already written."""
    text = variables if isinstance(variables, str) else json.dumps(variables, separators=(",", ":"))
    if method == "POST":
        body = f'{{"query": {json.dumps(query)}, "variables": {text}}}'
        response = await api.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    else:
        response = await api.client.get("/graphql", params={"query": query, "variables": text})
    assert response.headers["content-type"].startswith("application/"), response.text[:200]
    return response.status_code, response.json()


def _codes(body: dict[str, Any]) -> list[str]:
    return [str((error.get("extensions") or {}).get("code")) for error in body.get("errors") or ()]


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("depth", [MAX_VARIABLE_DEPTH + 1, 600, 1000])
async def test_deep_variables_are_refused_with_a_code(
    api: Api, method: str, depth: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        status, body = await _ask(api, method, ORGANIZATION, f'{{"v": {nested(depth)}, "w": 1}}')
    assert status == 400, body
    assert _codes(body) == ["VARIABLES_TOO_DEEP"], body
    assert body["errors"][0]["extensions"]["limit"] == MAX_VARIABLE_DEPTH
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_variables_at_the_depth_limit_still_reach_the_schema(api: Api) -> None:
    """Just inside the limit the request goes on, and the schema says what is wrong with the value."""
    status, body = await _ask(api, "POST", ORGANIZATION, f'{{"v": {nested(MAX_VARIABLE_DEPTH)}}}')
    assert status == 200, body
    assert _codes(body) == ["BAD_USER_INPUT"], body


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize(
    "variables",
    [
        pytest.param({"v": ["x"] * (MAX_VARIABLE_VALUES + 1)}, id="long list"),
        pytest.param({f"k{i}": i for i in range(MAX_VARIABLE_VALUES + 1)}, id="many keys"),
        pytest.param({"v": [{"a": [1, 2]}] * (MAX_VARIABLE_VALUES // 3)}, id="nested lists"),
    ],
)
async def test_huge_variables_are_refused_with_a_code(api: Api, method: str, variables: dict[str, Any]) -> None:
    if method == "GET" and len(urlencode({"variables": json.dumps(variables)})) > 60_000:
        pytest.skip("a URL this long is refused 414 by the request-line limit before it is read (and by httpx)")
    status, body = await _ask(api, method, IDS, variables)
    assert status == 400, body
    assert _codes(body) == ["VARIABLES_TOO_LARGE"], body
    assert body["errors"][0]["extensions"]["limit"] == MAX_VARIABLE_VALUES


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize(
    "value",
    [2**31, -(2**31) - 1, 2**63, 2**64 - 1, 10**40, 1e308, -1e308, 2.5, 1e-300, 100.5, "100", True, [1], {"a": 1}],
)
async def test_numbers_no_int_holds_are_bad_user_input(api: Api, method: str, value: Any) -> None:
    status, body = await _ask(api, method, FIRST, {"f": value})
    assert status == 200, body
    assert _codes(body) == ["BAD_USER_INPUT"], body


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_number_past_what_json_holds_is_a_bad_request(api: Api, method: str) -> None:
    """1e400 is not a double (orjson refuses it): the body is refused as not JSON, with its code."""
    if method == "POST":
        response = await api.client.post(
            "/graphql",
            content=b'{"query": "%s", "variables": {"f": 1e400}}' % FIRST.encode(),
            headers={"content-type": "application/json"},
        )
    else:
        response = await api.client.get("/graphql", params={"query": FIRST, "variables": '{"f": 1e400}'})
    assert response.status_code == 400, response.text
    assert _codes(response.json()) == ["BAD_REQUEST"]


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_json_deeper_than_the_parser_takes_is_a_bad_request(api: Api, method: str) -> None:
    """Past 1,024 levels orjson itself refuses the JSON: `BAD_REQUEST` saying so, still coded JSON."""
    status, body = await _ask(api, method, ORGANIZATION, f'{{"v": {nested(1100)}}}')
    assert status == 400, body
    assert _codes(body) == ["BAD_REQUEST"] and "not valid JSON" in body["errors"][0]["message"], body
