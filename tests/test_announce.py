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
from redis import asyncio as aioredis

from app.config import Settings
from app.data.engine import create_engine
from app.data.versions import CHANNEL, DataVersion, parse_announcement
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


async def test_an_announced_version_is_adopted_only_once_the_database_shows_it(
    migrated_db: str, small_seed: Path
) -> None:
    """The announcement can arrive before the worker's database has the version (a standby that has not
    replayed the seed yet): the worker re-reads every second until it shows it, instead of trusting the
    older read for DATA_VERSION_FALLBACK_SECONDS (60 here)."""
    _require_redis(SHARED_REDIS)
    await seed(migrated_db, small_seed, redis_url="")
    engine = create_engine(migrated_db, pool=False)
    try:
        async with engine.connect() as conn:
            database = (await conn.exec_driver_sql("SELECT database_id FROM dataset_state")).scalar()
        async for worker in _worker(migrated_db, redis_url=SHARED_REDIS):
            params = {"query": QUERY}
            assert (await worker.get("/graphql", params=params)).headers["etag"].startswith('"v1-')
            await asyncio.sleep(0.3)  # listening by now
            client = aioredis.from_url(SHARED_REDIS)
            try:
                await client.publish(CHANNEL, f"2 {database}")  # ahead of the database
            finally:
                await client.aclose()
            await asyncio.sleep(0.3)
            # Not adopted on hearsay: the database still says 1.
            assert (await worker.get("/graphql", params=params)).headers["etag"].startswith('"v1-')
            async with engine.begin() as conn:  # the version arrives, unannounced (as replay brings it)
                await conn.exec_driver_sql("UPDATE dataset_state SET version = 2")
            arrived = time.monotonic()
            tag = ""
            while not tag.startswith('"v2-') and time.monotonic() - arrived < 10:
                await asyncio.sleep(0.1)
                tag = (await worker.get("/graphql", params=params)).headers["etag"]
            assert tag.startswith('"v2-')  # within about a second; the fallback period is 60 s
    finally:
        await engine.dispose()


def test_announcements_name_the_version_and_the_database() -> None:
    assert parse_announcement(b"7 0a1b2c3d4e5f") == (7, "0a1b2c3d4e5f")
    assert parse_announcement("7") == (7, None)  # a seed of an older release
    assert parse_announcement("") == (None, None)
    assert parse_announcement("x y") == (None, "y")
    version = DataVersion(1.0, 30.0)
    version.observe(3, "aaa")
    version.announced(5, "bbb")  # another database's re-seed: not awaited here
    assert not version.awaiting
    version.announced(5, "aaa")
    assert version.awaiting and version.interval == 1.0
    version.observe(5, "aaa")
    assert not version.awaiting
