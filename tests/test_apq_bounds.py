"""The persisted-query (APQ) stores are bounded in bytes: a worker's by APQ_CACHE_BYTES, Redis's by the bytes
registered per day (APQ_SHARED_BYTES, each client at most 1/16 of it) and a day's TTL; a registration past a
bound still runs (its worker keeps it), it is only not shared. An APQ miss logs a bounded operation name."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.http.app import create_app
from app.http.persisted_queries import PersistedQueries
from app.http.shared_store import APQ_TTL_SECONDS
from tests.services import PrivateRedis


async def _app(url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=url, rate_limit_points=0, trusted_proxies=["127.0.0.1"], **settings))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        yield client


def _query(index: int, padding: int = 0) -> str:
    return f"# {index} {'x' * padding}\n{{ organizations(first: 1) {{ nodes {{ slug }} }} }}"


def _extensions(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}


async def _register(client: httpx.AsyncClient, query: str, who: str = "203.0.113.1") -> None:
    response = await client.post(
        "/graphql", json={"query": query, "extensions": _extensions(query)}, headers={"x-forwarded-for": who}
    )
    assert response.status_code == 200 and response.json()["data"]["organizations"], response.text


async def _by_hash(client: httpx.AsyncClient, query: str) -> str:
    """`hit` or the error code of a request sending the hash alone."""
    response = await client.post("/graphql", json={"extensions": _extensions(query)})
    body = response.json()
    return "hit" if body.get("data") else str(body["errors"][0]["extensions"]["code"])


def test_a_workers_store_is_bounded_in_bytes() -> None:
    store = PersistedQueries(max_entries=1_000, max_bytes=10_000)
    for index in range(100):
        store.put(str(index), _query(index, 1_000))
    assert store.bytes <= 10_000 and len(store) < 10
    assert store.get("0") is None and store.get("99") == _query(99, 1_000)


async def test_a_worker_keeps_what_its_bytes_allow_over_http(seeded_db: str) -> None:
    async for client in _app(seeded_db, apq_cache_bytes=20_000):
        queries = [_query(index, 1_000) for index in range(60)]
        for query in queries:
            await _register(client, query)
        assert await _by_hash(client, queries[-1]) == "hit"
        assert await _by_hash(client, queries[0]) == "PERSISTED_QUERY_NOT_FOUND"  # 60 KB did not fit in 20 KB


async def test_redis_keeps_a_day_and_each_client_its_share(seeded_db: str) -> None:
    import redis

    private = PrivateRedis()
    private.start()
    try:
        settings = {"redis_url": private.url, "apq_shared_bytes": 32_000}  # each client: 2,000 bytes a day
        async for one in _app(seeded_db, **settings):
            async for two in _app(seeded_db, **settings):
                mine = [_query(index, 500) for index in range(6)]  # ~560 bytes each
                for query in mine:
                    await _register(one, query)  # every registration runs, on its worker
                assert [await _by_hash(one, query) for query in mine] == ["hit"] * 6
                # another worker knows the first three (1,680 bytes), not the rest (past the client's 2,000)
                known = [await _by_hash(two, query) for query in mine]
                assert known == ["hit"] * 3 + ["PERSISTED_QUERY_NOT_FOUND"] * 3
                # many clients: Redis never holds more than the day's bytes
                for index in range(200):
                    await _register(one, _query(1_000 + index, 500), who=f"198.51.100.{index}")
        store = redis.Redis.from_url(private.url)
        queries = [key for key in store.keys("kb:apq:*") if b"bytes" not in key]
        held = sum(len(store.get(key) or b"") for key in queries)
        assert 30_000 <= held <= 32_000, held
        assert all(0 < store.ttl(key) <= APQ_TTL_SECONDS for key in queries)
    finally:
        private.close()


async def test_an_apq_miss_logs_a_bounded_operation_name(seeded_db: str, caplog: pytest.LogCaptureFixture) -> None:
    name = "N" * 90_000
    async for client in _app(seeded_db):
        with caplog.at_level(logging.INFO, logger="app.access"):
            response = await client.post("/graphql", json={"extensions": _extensions(_query(1)), "operationName": name})
        assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        lines = [r for r in caplog.records if r.name == "app.access"]
        assert lines and all(len(json.dumps(r.event)) < 1_000 for r in lines)  # type: ignore[attr-defined]
