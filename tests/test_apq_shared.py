"""With REDIS_URL, the persisted queries (APQ) are one store for every worker: a hash registered on
one worker is known to all. Without Redis, or when it stops answering, each worker keeps its own
and the client registers once more, as APQ intends; never an error."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.http.app import create_app
from tests.services import free_port
from tests.test_rate_limits import SHARED_REDIS, _require_redis


async def _worker(url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=url, rate_limit_points=0, **settings))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        yield client


def _hashed(query: str) -> dict[str, str]:
    digest = hashlib.sha256(query.encode()).hexdigest()
    return {"extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})}


def _query() -> str:
    # a query no other run has registered: the store is shared by every run on this Redis
    return f"# {uuid.uuid4().hex}\n{{ organizations(first: 2) {{ nodes {{ slug }} }} }}"


async def test_a_hash_registered_on_one_worker_is_known_to_all(seeded_db: str) -> None:
    _require_redis(SHARED_REDIS)
    query = _query()
    async for one in _worker(seeded_db, redis_url=SHARED_REDIS):
        async for two in _worker(seeded_db, redis_url=SHARED_REDIS):
            miss = await two.get("/graphql", params=_hashed(query))
            assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
            registered = await one.get("/graphql", params={**_hashed(query), "query": query})
            assert registered.status_code == 200 and "errors" not in registered.json()
            hit = await two.get("/graphql", params=_hashed(query))
            assert hit.status_code == 200 and hit.json() == registered.json()
    async for restarted in _worker(seeded_db, redis_url=SHARED_REDIS):  # and after a restart
        assert (await restarted.get("/graphql", params=_hashed(query))).json() == registered.json()


async def test_without_redis_each_worker_keeps_its_own(seeded_db: str) -> None:
    query = _query()
    async for one in _worker(seeded_db):
        async for two in _worker(seeded_db):
            assert (await one.get("/graphql", params={**_hashed(query), "query": query})).status_code == 200
            miss = await two.get("/graphql", params=_hashed(query))
            assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_redis_not_answering_is_no_error(seeded_db: str, caplog: pytest.LogCaptureFixture) -> None:
    query = _query()
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    with caplog.at_level(logging.WARNING, logger="app.shared"):
        async for worker in _worker(seeded_db, redis_url=nowhere):
            miss = await worker.get("/graphql", params=_hashed(query))
            assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
            assert (await worker.get("/graphql", params={**_hashed(query), "query": query})).status_code == 200
            hit = await worker.get("/graphql", params=_hashed(query))
            assert hit.status_code == 200 and "errors" not in hit.json()
    warnings = [r for r in caplog.records if r.name == "app.shared"]
    assert len(warnings) == 1 and "kept per worker" in warnings[0].getMessage()
