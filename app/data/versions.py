"""A re-seed is announced at once to every worker, instead of each worker polling every second.

`seed` announces the new data version, with the database's identity (`"<version> <database_id>"`),
when it commits: on PostgreSQL with `NOTIFY kb_data_version` inside its transaction (PostgreSQL
delivers it at the commit, never for a rolled-back seed), and, with `REDIS_URL`, on the Redis
channel of the same name (how SQLite deployments, and workers reading a standby, hear of it). Each
worker listens (`VersionWatch`, started with the app).

A worker never adopts an announced version it cannot read: it re-reads the version from its own
database at its next request, and, while that still shows less than announced (a standby that has
not replayed the seed yet), again every second (`AWAIT_SECONDS`) until it shows at least as much;
then the answers, the result cache and the ETags follow the new data.

On a standby (`pg_is_in_recovery()`) a worker does not LISTEN: PostgreSQL refuses it during
recovery, and the primary's NOTIFY never reaches a standby anyway. It hears re-seeds through Redis
when it has it, and re-reads every `DATA_VERSION_CHECK_SECONDS` (1) when it has not; every 30 s it
checks whether the server was promoted, and listens once it has been.

Polling stays as the fallback: while a worker is listening it still re-reads the version every
`DATA_VERSION_FALLBACK_SECONDS` (30), and whenever it is not (no PostgreSQL primary and no Redis,
or its listening connection lost and not yet back) every `DATA_VERSION_CHECK_SECONDS` (1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.config import Settings
from app.data.engine import async_url, libpq_url
from app.data.session import VERSION_SELECT

logger = logging.getLogger("app.announce")

CHANNEL = "kb_data_version"
PING_SECONDS = 10.0  # how often a quiet listening connection is checked (a dead server says nothing)
MAX_RETRY_SECONDS = 30.0
STANDBY_CHECK_SECONDS = 30.0  # on a standby: how often a worker checks whether it was promoted
AWAIT_SECONDS = 1.0  # an announced version not yet readable here (replay behind): re-read this often


async def announce_in_transaction(conn: AsyncConnection, version: int) -> str:
    """The announcement of `version` (`"<version> <database_id>"`); on PostgreSQL, NOTIFY it at the commit."""
    database = (await conn.execute(text("SELECT database_id FROM dataset_state WHERE id = 1"))).scalar()
    announcement = f"{version} {database or ''}".strip()
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_notify(:channel, :message)"), {"channel": CHANNEL, "message": announcement})
    return announcement


async def announce_after_commit(redis_url: str | None, announcement: str) -> None:
    """Redis: PUBLISH the announcement (best effort: the workers' polling is the fallback)."""
    if not redis_url:
        return
    from redis import asyncio as aioredis

    client = aioredis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.publish(CHANNEL, announcement)
    except Exception as error:  # noqa: BLE001 - the announcement is an optimisation; polling sees it anyway
        logger.warning(
            "could not announce data version %s on Redis (%s); workers will see it by polling", announcement, error
        )
    finally:
        await client.aclose()


def parse_announcement(payload: str | bytes | None) -> tuple[int | None, str | None]:
    """(version, database identity) of an announcement; None for what it does not say (an older seed's)."""
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", "replace")
    parts = (payload or "").split()
    version = int(parts[0]) if parts and parts[0].isascii() and parts[0].isdigit() else None
    return version, (parts[1] if len(parts) > 1 else None)


class Standby(Exception):
    """The database is a standby in recovery: no LISTEN there."""


class VersionWatch:
    """Listens for announcements and tells the data version (`DataVersion`) what was announced."""

    def __init__(self, settings: Settings, version: Any) -> None:
        self.settings = settings
        self.version = version
        self._tasks: list[asyncio.Task[None]] = []
        self._listening: set[str] = set()
        self._sources: list[str] = []  # what it listens on: postgresql (a primary), redis (REDIS_URL)
        self.standby = False  # the database was in recovery when last checked

    def start(self) -> None:
        url = async_url(self.settings.serving_database_url)
        if url.get_backend_name() == "postgresql":
            dsn = libpq_url(url)
            self._sources.append("postgresql")
            self._tasks.append(asyncio.create_task(self._keep("postgresql", self._postgres, dsn)))
        if self.settings.redis_url:
            self._sources.append("redis")
            self._tasks.append(asyncio.create_task(self._keep("redis", self._redis, self.settings.redis_url)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    def _heard(self, payload: str | bytes | None) -> None:
        version, database = parse_announcement(payload)
        self.version.announced(version, database)

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._heard(payload)

    def _set_listening(self, source: str, listening: bool) -> None:
        (self._listening.add if listening else self._listening.discard)(source)
        self.version.listening = bool(self._listening)
        self.version.expire()  # what was announced while not listening is read now

    def _meanwhile(self, source: str) -> str:
        """What this worker does to see re-seeds while `source` is not listening (as configured: both
        sources connect on their own, in either order)."""
        others = [name for name in self._sources if name != source]
        if others:
            return (
                f"hearing re-seeds through {', '.join(others)} instead (re-reading the data version every "
                f"{self.version.fallback_ttl:g} s while connected, every {self.version.ttl:g} s when not)"
            )
        return f"re-reading the data version every {self.version.ttl:g} s"

    async def _keep(self, source: str, listen: Any, target: str) -> None:
        """Listen, and listen again after any failure, waiting longer each time (polling meanwhile)."""
        delay = 1.0
        warned = False
        while True:
            try:
                await listen(target)
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except Standby:
                if not self.standby:
                    self.standby = True
                    logger.info(
                        "the database is a standby (in recovery): not listening for re-seed announcements there "
                        "(a standby cannot LISTEN); %s; an announced version is adopted once replayed here",
                        self._meanwhile("postgresql"),
                    )
                await asyncio.sleep(STANDBY_CHECK_SECONDS)
                continue
            except Exception as error:  # noqa: BLE001 - any failure: poll, and try again later
                if not warned:
                    logger.warning(
                        "not listening for re-seed announcements on %s (%s: %s); %s meanwhile",
                        source,
                        type(error).__name__,
                        error,
                        self._meanwhile(source),
                    )
                    warned = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)

    async def _postgres(self, dsn: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(dsn, timeout=5)
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        listening = False
        try:
            if await conn.fetchval("SELECT pg_is_in_recovery()"):
                raise Standby()
            if self.standby:
                self.standby = False
                logger.info("the database is no longer a standby (promoted): listening for re-seed announcements")
            await conn.add_listener(CHANNEL, self._notified)
            listening = True
            self._set_listening("postgresql", True)
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), PING_SECONDS)
                if not lost.is_set():
                    await conn.execute("SELECT 1")  # raises if the server went away silently
        finally:
            if listening:
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
                    self._heard(message.get("data"))
                elif message is None:
                    await pubsub.ping()  # raises if Redis went away
        finally:
            self._set_listening("redis", False)
            with contextlib.suppress(Exception):
                await pubsub.aclose()
                await client.aclose()


class DataVersion:
    """The data version, read from the database at most once per `ttl` seconds, with the database's identity.

    Versions count seeds of one database (`database`, its `DatasetState.database_id`); a version
    read from another database (a switch to a new one) replaces the old outright, as it cannot be
    compared with it. Within one database the version only moves forward.
    """

    def __init__(self, ttl: float, fallback_ttl: float | None = None) -> None:
        self.ttl = ttl
        self.fallback_ttl = max(ttl, fallback_ttl if fallback_ttl is not None else ttl)
        self.listening = False  # re-seeds are announced (app.data.versions): poll only as a fallback
        self.database = ""  # the identity of the database the version counts seeds of
        self._value = -1
        self._awaited = -1  # the newest version announced and not yet read here
        self._checked = float("-inf")

    @property
    def current_value(self) -> int:
        """The version as last read or observed, without reading it (-1 before the first read)."""
        return self._value

    def observe(self, version: int, database: str | None = None) -> None:
        """A version an answer was just read at: the worker's moves forward to it, never back (same database)."""
        if database is not None and database != self.database:
            self.database, self._value = database, version
        elif version > self._value:
            self._value = version

    def expire(self) -> None:
        """Re-read at the next request."""
        self._checked = float("-inf")

    def announced(self, version: int | None, database: str | None) -> None:
        """A re-seed was announced: re-read at the next request, and, until this database shows at least
        `version`, every `AWAIT_SECONDS` (never trusting an older read for the fallback period)."""
        same_database = not database or not self.database or database == self.database
        if version is not None and same_database and version > self._value:
            self._awaited = max(self._awaited, version)
        self.expire()

    @property
    def interval(self) -> float:
        """How long a read of the version is trusted: briefly while an announced one is awaited."""
        if self.awaiting:
            return min(self.ttl, AWAIT_SECONDS)
        return self.fallback_ttl if self.listening else self.ttl

    @property
    def awaiting(self) -> bool:
        """An announced version this database does not show yet (a standby behind its primary)."""
        return self._awaited > self._value

    async def read(self, engine: AsyncEngine, sqlite_reader: Engine | None) -> tuple[int, str]:
        """The version and the database's identity, as the database has them now."""
        if sqlite_reader is not None:
            with sqlite_reader.connect() as conn:
                row = conn.execute(VERSION_SELECT).first()
        else:
            async with engine.connect() as async_conn:
                row = (await async_conn.execute(VERSION_SELECT)).first()
        return (0, "") if row is None else (int(row[0] or 0), str(row[1] or ""))

    async def current(self, engine: AsyncEngine, sqlite_reader: Engine | None) -> int:
        now = time.monotonic()
        if now - self._checked < self.interval:
            return self._value
        version, database = await self.read(engine, sqlite_reader)
        self.observe(version, database)
        self._checked = now
        return self._value
