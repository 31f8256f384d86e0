"""A re-seed is announced at once to every worker, instead of each worker polling every second.

`seed` announces the new data version when it commits: on PostgreSQL with `NOTIFY kb_data_version`
inside its transaction (PostgreSQL delivers it at the commit, never for a rolled-back seed), and,
with `REDIS_URL`, on the Redis channel of the same name (how SQLite deployments hear of it). Each
worker listens (`VersionWatch`, started with the app) and, on an announcement, re-reads the data
version at its next request, so its result cache and ETags follow the new data at once.

Polling stays as the fallback: while a worker is listening it still re-reads the version every
`DATA_VERSION_FALLBACK_SECONDS` (30), and whenever it is not (no PostgreSQL and no Redis, or its
listening connection lost and not yet back) every `DATA_VERSION_CHECK_SECONDS` (1), as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.config import Settings
from app.data.models import DatasetState

logger = logging.getLogger("app.announce")

CHANNEL = "kb_data_version"
PING_SECONDS = 10.0  # how often a quiet listening connection is checked (a dead server says nothing)
MAX_RETRY_SECONDS = 30.0


async def announce_in_transaction(conn: AsyncConnection, version: int) -> None:
    """PostgreSQL: NOTIFY the new version, delivered when the seed's transaction commits."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_notify(:channel, :version)"), {"channel": CHANNEL, "version": str(version)})


async def announce_after_commit(redis_url: str | None, version: int) -> None:
    """Redis: PUBLISH the new version (best effort: the workers' polling is the fallback)."""
    if not redis_url:
        return
    from redis import asyncio as aioredis

    client = aioredis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.publish(CHANNEL, str(version))
    except Exception as error:  # noqa: BLE001 - the announcement is an optimisation; polling sees it anyway
        logger.warning(
            "could not announce data version %s on Redis (%s); workers will see it by polling", version, error
        )
    finally:
        await client.aclose()


class VersionWatch:
    """Listens for announcements and tells the data version (`app.execution.results.DataVersion`) to re-read."""

    def __init__(self, settings: Settings, version: Any) -> None:
        self.settings = settings
        self.version = version
        self._tasks: list[asyncio.Task[None]] = []
        self._listening: set[str] = set()

    def start(self) -> None:
        url = make_url(str(self.settings.database_url).replace("postgres://", "postgresql://", 1))
        if url.get_backend_name() == "postgresql":
            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._tasks.append(asyncio.create_task(self._keep(self._postgres, dsn)))
        if self.settings.redis_url:
            self._tasks.append(asyncio.create_task(self._keep(self._redis, self.settings.redis_url)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    def _heard(self, *_args: Any) -> None:
        self.version.expire()

    def _set_listening(self, source: str, listening: bool) -> None:
        (self._listening.add if listening else self._listening.discard)(source)
        self.version.listening = bool(self._listening)
        self.version.expire()  # what was announced while not listening is read now

    async def _keep(self, listen: Any, target: str) -> None:
        """Listen, and listen again after any failure, waiting longer each time (polling meanwhile)."""
        delay = 1.0
        warned = False
        while True:
            try:
                await listen(target)
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - any failure: poll, and try again later
                if not warned:
                    logger.warning(
                        "not listening for re-seed announcements (%s: %s); polling every %g s meanwhile",
                        type(error).__name__,
                        error,
                        self.settings.data_version_check_seconds,
                    )
                    warned = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)

    async def _postgres(self, dsn: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(dsn, timeout=5)
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        try:
            await conn.add_listener(CHANNEL, self._heard)
            self._set_listening("postgresql", True)
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), PING_SECONDS)
                if not lost.is_set():
                    await conn.execute("SELECT 1")  # raises if the server went away silently
        finally:
            self._set_listening("postgresql", False)
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def _redis(self, url: str) -> None:
        from redis import asyncio as aioredis

        client = aioredis.from_url(url, socket_connect_timeout=2, health_check_interval=PING_SECONDS)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(CHANNEL)
            self._set_listening("redis", True)
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=PING_SECONDS)
                if message is not None and message.get("type") == "message":
                    self._heard()
                elif message is None:
                    await pubsub.ping()  # raises if Redis went away
        finally:
            self._set_listening("redis", False)
            with contextlib.suppress(Exception):
                await pubsub.aclose()
                await client.aclose()


class DataVersion:
    """The data version, read from the database at most once per `ttl` seconds."""

    def __init__(self, ttl: float, fallback_ttl: float | None = None) -> None:
        self.ttl = ttl
        self.fallback_ttl = max(ttl, fallback_ttl if fallback_ttl is not None else ttl)
        self.listening = False  # re-seeds are announced (app.data.versions): poll only as a fallback
        self._value = -1
        self._checked = float("-inf")

    @property
    def current_value(self) -> int:
        """The version as last read or observed, without reading it (-1 before the first read)."""
        return self._value

    def observe(self, version: int) -> None:
        """A version an answer was just read at: the worker's moves forward to it, never back."""
        if version > self._value:
            self._value = version

    def expire(self) -> None:
        """Re-read at the next request (a re-seed was announced)."""
        self._checked = float("-inf")

    async def current(self, engine: AsyncEngine, sqlite_reader: Engine | None) -> int:
        now = time.monotonic()
        if now - self._checked < (self.fallback_ttl if self.listening else self.ttl):
            return self._value
        statement = select(DatasetState.version).where(DatasetState.id == 1)
        if sqlite_reader is not None:
            with sqlite_reader.connect() as conn:
                value = conn.execute(statement).scalar()
        else:
            async with engine.connect() as async_conn:
                value = (await async_conn.execute(statement)).scalar()
        self._value, self._checked = max(self._value, int(value or 0)), now
        return self._value
