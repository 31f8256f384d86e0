"""GraphQL over HTTP, as the GraphQL Foundation's spec says: media types, status codes, the spec's own audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Api
from tests.live import LiveServer, clients_dir, node

GRAPHQL_RESPONSE = "application/graphql-response+json"
ACCEPT = {"accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}


async def test_graphql_response_json_is_answered_in_kind(api: Api) -> None:
    response = await api.client.post("/graphql", json={"query": "{ __typename }"}, headers=ACCEPT)
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{", None, "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query ($slug: String!) { organization(slug: $slug) { id } }", {"slug": 1}, "BAD_USER_INPUT"),
        ("query ($slug: String!) { organization(slug: $slug) { id } }", {}, "BAD_USER_INPUT"),
    ],
)
async def test_request_errors_are_400_without_data(
    api: Api, query: str, variables: dict[str, object] | None, code: str
) -> None:
    body = {"query": query, "variables": variables}
    response = await api.client.post("/graphql", json=body, headers=ACCEPT)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    answer = response.json()
    assert "data" not in answer
    assert answer["errors"][0]["extensions"]["code"] == code
    # The same request from a client that asks for JSON: 200 and `data: null`, as before the spec's media type.
    legacy = await api.client.post("/graphql", json=body, headers={"accept": "application/json"})
    assert legacy.status_code == 200 and legacy.headers["content-type"] == "application/json"
    assert legacy.json()["data"] is None


async def test_a_limit_refusal_is_a_request_error(api: Api) -> None:
    deep = "{ organizations(first: 100) { nodes { children(first: 100) { nodes { id } } } } }"
    response = await api.client.post("/graphql", json={"query": deep}, headers=ACCEPT)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_a_field_error_keeps_data_and_200(api: Api) -> None:
    response = await api.client.post(
        "/graphql",
        json={"query": '{ organization(slug: "escap") { events(first: 1000) { totalCount } } }'},
        headers=ACCEPT,
    )
    answer = response.json()
    assert response.status_code == 200, answer
    assert "data" in answer and answer["errors"][0]["path"]


@pytest.mark.parametrize("body", [{"query": "{ __typename }", "operationName": 1}, {"query": 1}, {"query": ["{ a }"]}])
@pytest.mark.parametrize("accept", [ACCEPT, {"accept": "application/json"}])
async def test_non_string_query_or_operation_name_is_a_400(
    api: Api, body: dict[str, object], accept: dict[str, str]
) -> None:
    response = await api.client.post("/graphql", json=body, headers=accept)
    assert response.status_code == 400
    assert response.headers["content-type"] == accept["accept"].split(",")[0]
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("accept", ["*/*", "application/json", None, f"application/json, {GRAPHQL_RESPONSE};q=0.5"])
async def test_other_accepts_get_json(api: Api, accept: str | None) -> None:
    headers = {"accept": accept} if accept else {}
    response = await api.client.post("/graphql", json={"query": "{"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
@pytest.mark.npm
def test_the_graphql_http_audit_passes_every_check(seeded_db: str, tmp_path: Path) -> None:
    project = clients_dir()
    with LiveServer(seeded_db, tmp_path / "server.log") as server:
        done = node("src/audit.mjs", server.url, cwd=project)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    print("graphql-http serverAudits:", report["counts"])
    assert report["notOk"] == []
    assert report["counts"]["ok"] >= 60
