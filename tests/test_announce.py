"""A re-seed is announced to every worker at once (app/data/versions.py): PostgreSQL LISTEN/NOTIFY, or
Redis pub/sub for SQLite, so workers need not poll every second. The workers here poll only every
60 s: the new data within a second can only be the announcement."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from app.config import Settings
from app.http.app import create_app
from app.seeding import seed
from tests.test_rate_limits import SHARED_REDIS, _require_redis

QUERY = '{ organization(slug: "osce") { description } }'


async def _worker(url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = {
        "data_version_check_seconds": 60,
        "data_version_fallback_seconds": 60,
        "rate_limit_points": 0,
        **settings,
    }
    app = create_app(Settings(database_url=url, **settings))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        yield client


async def _description(client: httpx.AsyncClient) -> str:
    response = await client.post("/graphql", json={"query": QUERY})
    return str(response.json()["data"]["organization"]["description"])


async def test_a_reseed_is_seen_by_every_worker_at_once(migrated_db: str, small_seed: Path) -> None:
    redis_url = None
    if migrated_db.startswith("sqlite"):
        _require_redis(SHARED_REDIS)
        redis_url = SHARED_REDIS  # SQLite has no LISTEN: the announcement goes through Redis
    await seed(migrated_db, small_seed, redis_url=redis_url or "")
    options = {"redis_url": redis_url} if redis_url else {}
    async for one in _worker(migrated_db, **options):
        async for two in _worker(migrated_db, **options):
            assert [await _description(one), await _description(two)] == ["A security organization."] * 2
            await asyncio.sleep(0.3)  # both are listening by now
            facts = small_seed / "small.yaml"
            facts.write_text(
                facts.read_text().replace("A security organization.", "A security organization, re-seeded.")
            )
            await seed(migrated_db, small_seed, redis_url=redis_url or "")
            seeded = time.monotonic()
            seen: dict[int, float] = {}
            while len(seen) < 2 and time.monotonic() - seeded < 5:
                for index, worker in enumerate((one, two)):
                    if index not in seen and await _description(worker) == "A security organization, re-seeded.":
                        seen[index] = time.monotonic() - seeded
                await asyncio.sleep(0.02)
            assert len(seen) == 2 and max(seen.values()) < 1.0, seen
