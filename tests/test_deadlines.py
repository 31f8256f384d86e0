"""Deadlines: a statement past statement_timeout is stopped on both engines; a request past its deadline too."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.data.engine import create_engine, is_sqlite
from app.data.session import RequestDatabase
from app.execution.faults import is_statement_timeout
from tests.conftest import make_api

PATHOLOGICAL = {
    "sqlite": "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r",
    "postgresql": "SELECT pg_sleep(30)",
}


def _pathological(url: str) -> str:
    return PATHOLOGICAL["sqlite" if is_sqlite(url) else "postgresql"]


async def test_a_statement_past_the_timeout_is_stopped_and_the_connection_still_works(seeded_db: str) -> None:
    engine = create_engine(seeded_db, statement_timeout_ms=200)
    try:
        async with engine.connect() as conn:
            started = time.perf_counter()
            with pytest.raises(DBAPIError) as stopped:
                await conn.execute(text(_pathological(seeded_db)))
            assert time.perf_counter() - started < 2
            assert is_statement_timeout(stopped.value)
            await conn.rollback()
            assert (await conn.execute(text("SELECT count(*) FROM organizations"))).scalar()
    finally:
        await engine.dispose()


async def test_a_statement_timeout_is_answered_timeout(seeded_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    original = RequestDatabase.all

    async def pathological(self: RequestDatabase, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return await original(self, text(_pathological(seeded_db)))

    monkeypatch.setattr(RequestDatabase, "all", pathological)
    async for api in make_api(seeded_db, statement_timeout_ms=200, result_cache_size=0):
        started = time.perf_counter()
        errors = await api.errors('{ country(code: "MNG") { name } }')
        assert time.perf_counter() - started < 2
        assert errors[0]["extensions"] == {
            "requestId": errors[0]["extensions"]["requestId"],
            "code": "TIMEOUT",
            "limit_ms": 200,
        }
        assert "200 ms" in errors[0]["message"]


async def test_a_request_past_its_deadline_is_answered_timeout_and_the_next_one_is_served(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = RequestDatabase.all
    stuck = {"on": True}

    async def slow(self: RequestDatabase, *args: Any, **kwargs: Any) -> Any:
        if stuck["on"]:
            await asyncio.sleep(30)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(RequestDatabase, "all", slow)
    async for api in make_api(seeded_db, request_timeout_seconds=0.3, result_cache_size=0):
        started = time.perf_counter()
        response = await api.post('{ country(code: "MNG") { name } }')
        assert time.perf_counter() - started < 1.5
        answer = response.json()
        request_id = response.headers["x-request-id"]
        assert answer == {
            "data": None,
            "errors": [
                {
                    "message": "The request ran past its deadline of 0.3 s and was stopped; ask for less "
                    "(smaller pages, fewer nested lists, a narrower filter).",
                    "extensions": {"code": "TIMEOUT", "limit_seconds": 0.3, "requestId": request_id},
                }
            ],
        }
        stuck["on"] = False
        assert await api.data('{ country(code: "MNG") { name } }') == {"country": {"name": "Mongolia"}}


async def test_a_connection_a_deadline_left_broken_is_dropped_not_raised(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(seeded_db)
    try:
        database = RequestDatabase(engine)
        await database.all(text("SELECT 1"))

        close = AsyncConnection.close
        calls = []

        async def broken_once(self: AsyncConnection) -> None:
            calls.append(self)
            if len(calls) == 1:  # the rollback of a connection whose statement was cancelled
                raise DBAPIError("ROLLBACK", {}, Exception("Cannot operate on a closed database."))
            await close(self)

        with monkeypatch.context() as patched:
            patched.setattr(AsyncConnection, "close", broken_once)
            await database.close()  # invalidated instead: the request still gets its TIMEOUT answer
        assert len(calls) == 2
        again = RequestDatabase(engine)
        assert await again.all(text("SELECT 1"))
        await again.close()
    finally:
        await engine.dispose()


async def test_a_statement_cancelled_by_the_deadline_never_reaches_the_next_request(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request's deadline cancels a statement while the database runs it; its connection, in an
    unknown state, must leave the pool rather than fail whoever checks it out next."""
    if is_sqlite(seeded_db):
        pytest.skip("SQLite reads run in the event loop's thread: the statement deadline stops them, nothing cancels")
    original = RequestDatabase.all
    stuck = {"on": True}

    async def pathological(self: RequestDatabase, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if stuck["on"]:
            return await original(self, text(_pathological(seeded_db)))
        return await original(self, statement, *args, **kwargs)

    monkeypatch.setattr(RequestDatabase, "all", pathological)
    # A deadline roomy enough for the pool to open fresh connections on a busy machine.
    async for api in make_api(seeded_db, request_timeout_seconds=1.0, statement_timeout_ms=20_000, result_cache_size=0):
        for _ in range(3):  # several connections of the pool, each cancelled mid-statement
            errors = await asyncio.gather(*(api.errors('{ country(code: "MNG") { name } }') for _ in range(3)))
            assert {error[0]["extensions"]["code"] for error in errors} == {"TIMEOUT"}
        stuck["on"] = False
        answers = await asyncio.gather(*(api.data('{ country(code: "MNG") { name } }') for _ in range(12)))
        assert answers == [{"country": {"name": "Mongolia"}}] * 12


async def test_a_pooled_connection_that_fails_its_ping_is_replaced(seeded_db: str) -> None:
    """A connection back in the pool inside a transaction nobody tracks (what a statement cancelled
    mid-way can leave) fails the request's first statement; the request drops it and reads on another,
    instead of failing (no ping precedes a request: it cost a round trip on every one)."""
    if is_sqlite(seeded_db):
        pytest.skip("SQLite connections are not pinged")
    engine = create_engine(seeded_db, pool_size=1)
    try:
        for single_statement in (False, True):  # Strawberry's snapshot, the compiler's one statement
            async with engine.connect() as conn:
                raw = await conn.get_raw_connection()
                await raw.driver_connection.execute("BEGIN")  # behind SQLAlchemy's back
            database = RequestDatabase(engine)
            database.single_statement = single_statement
            try:
                rows = await database.all(text("SELECT count(*) FROM organizations"))
            finally:
                await database.close()
            assert rows[0][0]
    finally:
        await engine.dispose()


async def test_a_statement_timeout_straight_from_asyncpg_is_timeout(seeded_db: str) -> None:
    """The compiler's statements run on asyncpg's own pool (app.data.engine.create_statement_pool): PostgreSQL's
    statement_timeout, raised by asyncpg itself rather than through SQLAlchemy, is still TIMEOUT."""
    if is_sqlite(seeded_db):
        pytest.skip("asyncpg's pool serves PostgreSQL only")
    from graphql import GraphQLError

    from app.config import Settings
    from app.data.engine import create_statement_pool
    from app.execution.faults import report_errors
    from app.schema.runtime import Context

    pool = await create_statement_pool(seeded_db, statement_timeout_ms=50, size=1)
    try:
        async with pool.acquire() as conn:
            with pytest.raises(Exception) as raised:
                await conn.fetch("SELECT pg_sleep(1)")
    finally:
        await pool.close()
    errors = [GraphQLError(str(raised.value), original_error=raised.value)]
    report_errors(errors, Context(db=None, settings=Settings(database_url=seeded_db)))  # type: ignore[arg-type]
    assert errors[0].extensions["code"] == "TIMEOUT"
