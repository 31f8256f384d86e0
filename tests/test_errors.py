"""Errors: a code on every one, nothing of an unexpected fault but an id that the log has; the access log."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy.exc import ProgrammingError

from app.data.session import RequestDatabase
from app.logs import JsonFormatter
from tests.conftest import Api, make_api

SECRET_SQL = "SELECT password FROM secrets WHERE id = 42"


@pytest.fixture
def failing_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every statement fails as a broken query would, with SQL in its message."""

    async def fail(self: RequestDatabase, *_args: Any, **_kwargs: Any) -> Any:
        raise ProgrammingError(SECRET_SQL, {}, Exception("relation secrets does not exist"))

    monkeypatch.setattr(RequestDatabase, "all", fail)


async def test_an_internal_error_leaks_nothing_and_its_id_is_in_the_log(
    api: Api, failing_database: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = await api.client.post("/graphql", json={"query": "query Orgs { organizations { nodes { id } } }"})
    assert response.status_code == 200
    error = response.json()["errors"][0]
    error_id = error["extensions"]["errorId"]
    assert error["extensions"] == {
        "requestId": error["extensions"]["requestId"],
        "code": "INTERNAL_SERVER_ERROR",
        "errorId": error_id,
    }
    assert error_id in error["message"]
    for secret in ("SELECT", "secrets", "Traceback", "ProgrammingError", "relation"):
        assert secret not in response.text

    logged = [r for r in caplog.records if r.name == "app.errors"]
    assert len(logged) == 1 and logged[0].levelno == logging.ERROR
    line = json.loads(JsonFormatter().format(logged[0]))
    assert line["errorId"] == error_id
    assert SECRET_SQL in line["traceback"] and "ProgrammingError" in line["traceback"]
    access = [r for r in caplog.records if r.name == "app.access"]
    assert access[-1].event["errorIds"] == [error_id]
    assert access[-1].event["operation"] == "Orgs"


async def test_every_error_has_a_code(api: Api) -> None:
    cases = {
        "{ organizations { nodes { id } ": "GRAPHQL_PARSE_FAILED",
        "{ organizationz { id } }": "GRAPHQL_VALIDATION_FAILED",
        "query($n: Int) { organizations(first: $n) { nodes { id } } }": "BAD_USER_INPUT",
        "{ organizations(first: 101) { nodes { id } } }": "PAGE_SIZE_EXCEEDED",
        '{ node(id: "nonsense") { id } }': "INVALID_ID",
    }
    for query, code in cases.items():
        variables = {"n": "ten"} if "$n" in query else None
        errors = await api.errors(query, variables)
        assert [e["extensions"]["code"] for e in errors] == [code], (query, errors)


async def test_validation_errors_are_not_masked_and_suggest_fields_in_development(api: Api) -> None:
    errors = await api.errors("{ organizationz { id } }")
    assert "Cannot query field 'organizationz'" in errors[0]["message"]
    assert "Did you mean" in errors[0]["message"]


async def test_production_mode_suggests_no_fields(seeded_db: str) -> None:
    async for api in make_api(seeded_db, production=True):
        for query in ("{ organizationz { id } }", "{ organizations(frist: 1) { nodes { id } } }"):
            errors = await api.errors(query)
            assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            assert "Did you mean" not in errors[0]["message"]


async def test_one_access_log_line_per_request(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    await api.data("query Three { organizations(first: 3) { nodes { id name } } }")
    await api.errors("{ organizations(first: 101) { nodes { id } } }")
    lines = [r.event for r in caplog.records if r.name == "app.access"]
    assert len(lines) == 2
    first, second = lines
    assert first["operation"] == "Three" and first["status"] == 200 and first["cost"] == 4
    assert first["sqlStatements"] >= 1 and first["durationMs"] > 0 and first["errorCodes"] == []
    assert second["errorCodes"] == ["PAGE_SIZE_EXCEEDED"] and second["errorIds"] == []
    formatted = json.loads(JsonFormatter().format(caplog.records[-1]))
    assert formatted["logger"] == "app.access" and formatted["path"] == "/graphql"
