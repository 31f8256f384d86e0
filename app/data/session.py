"""The request's database session: one connection per request, one snapshot, one statement at a time.

Every answer is read from one snapshot, and the data version it is tagged and cached under is
read in that same snapshot (`version`), so an answer never mixes two seeds and never carries the
tag of data it was not read from, on one server, a replica, or a pooler over several replicas:

- **One statement** (`single_statement`, the compiler's answers): the statement itself selects
  the version beside the data, so it runs in autocommit, one round trip, no BEGIN or ROLLBACK.
- **Several statements** (Strawberry's answers): on PostgreSQL one read-only REPEATABLE READ
  transaction on one connection; on SQLite one read transaction (WAL: a snapshot from the first
  read). The version is read in it once the answer is complete.

On SQLite, reads go through a synchronous pysqlite connection in the event loop's own thread when
one is given: a local file read takes microseconds, while aiosqlite's hop to its worker thread
costs ~0.6 ms a statement (measured: 5 statements, 3.05 ms vs 0.37 ms).

No pool ping precedes a request (it cost a round trip, and a BEGIN/ROLLBACK pair around it): a
connection the server dropped fails the request's first statement, which is then retried once on
a new connection; nothing was read from the dropped one.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import weakref
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import TextClause

from app.data.models import DatasetState
from app.lru import LRU

VERSION_SELECT = select(DatasetState.version, DatasetState.database_id).where(DatasetState.id == 1)
"""The data version and the database's identity (`DatasetState.database_id`), read together."""

_VARIANTS: weakref.WeakKeyDictionary[AsyncEngine, tuple[AsyncEngine, AsyncEngine]] = weakref.WeakKeyDictionary()


def _variants(engine: AsyncEngine) -> tuple[AsyncEngine, AsyncEngine]:
    """(the engine for snapshots, the engine for single statements), sharing `engine`'s pool."""
    found = _VARIANTS.get(engine)
    if found is None:
        if engine.dialect.name == "postgresql":
            snapshot = engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            single = engine.execution_options(isolation_level="AUTOCOMMIT")
        else:
            snapshot = single = engine
        found = _VARIANTS[engine] = (snapshot, single)
    return found


# SQLAlchemy's own pattern for a text statement's `:name` parameters (sqlalchemy.sql.elements.TextClause).
_BIND = re.compile(r"(?<![:\w\x5c]):(\w+)(?![:\w])", re.UNICODE)
_POSITIONAL = LRU(1024)
# asyncpg's errors for a connection the server closed (restarted) while the pool kept it; a connection
# caught half-way through the server's shutdown says InternalClientError ("cannot switch to state").
_DROPPED = frozenset({"ConnectionDoesNotExistError", "ConnectionResetError", "InterfaceError", "InternalClientError"})


def _positional(sql: str) -> tuple[str, list[str]]:
    """A text statement with asyncpg's `$n` for its `:name` parameters, and the names in `$n` order."""
    found = _POSITIONAL.get(sql)
    if found is None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        found = (_BIND.sub(number, sql), names)
        _POSITIONAL.put(sql, found)
    return found


_CLOSING: set[asyncio.Task[None]] = set()


def _return_to_pool(checkout: asyncio.Future[AsyncConnection]) -> None:
    """Close a connection whose request was cancelled while it was checked out."""
    if checkout.cancelled() or checkout.exception() is not None:
        return
    closing = asyncio.ensure_future(checkout.result().close())
    _CLOSING.add(closing)
    closing.add_done_callback(_CLOSING.discard)


def _unusable(error: DBAPIError) -> bool:
    """Whether a pooled connection failed its first statement for its own state, not the statement's."""
    return error.connection_invalidated or type(error.orig).__name__ == "InterfaceError"


class RequestDatabase:
    """One connection per request, shared by its loaders, one statement at a time.

    Strawberry resolves sibling fields concurrently and a connection runs one statement at a
    time, hence the lock. The connection (and its snapshot) is taken at the first read.
    """

    def __init__(self, engine: AsyncEngine, sync_engine: Engine | None = None, statement_pool: Any = None) -> None:
        self.engine = engine
        self.sync_engine = sync_engine
        self.statement_pool = statement_pool  # PostgreSQL: asyncpg's pool, for single statements
        self.single_statement = False  # set before the first read: one statement, in autocommit
        self.statement_version: int | None = None  # the version a single statement selected beside its data
        self.database: str | None = None  # the database's identity, read with the version (`version()`)
        self._conn: AsyncConnection | None = None
        self._sync_conn: Connection | None = None
        self._lock = asyncio.Lock()
        self._broken = False
        self._busy = 0  # statements running or waiting for the connection
        self._idle = asyncio.Event()
        self._idle.set()
        self.statements = 0
        self.seconds = 0.0

    @property
    def read_anything(self) -> bool:
        """Whether any statement has run (a snapshot is open)."""
        return self.statements > 0

    async def all(self, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
        if self.sync_engine is not None:
            return self._all_sync(statement, params)
        if self.single_statement and self.statement_pool is not None and isinstance(statement, TextClause):
            return await self._pooled(statement, params or {})
        self._busy += 1
        self._idle.clear()
        try:
            return await self._all_async(statement, params)
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    async def _pooled(self, statement: TextClause, params: dict[str, Any]) -> list[Any]:
        """One statement on asyncpg's pool, in autocommit; a connection the server dropped is retried once."""
        sql, names = _positional(statement.text)
        values = [params[name] for name in names]
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                async with self.statement_pool.acquire() as conn:
                    rows = await conn.fetch(sql, *values)
                break
            except Exception as error:
                if type(error).__name__ not in _DROPPED:
                    raise
                if attempt == 2:  # a fresh connection failed the same way: the server is going or gone
                    raise ConnectionResetError(f"{type(error).__name__}: {error}") from error
        self.statements += 1
        self.seconds += time.perf_counter() - started
        return rows

    async def _connect(self) -> AsyncConnection:
        """A connection of the pool; a request cancelled meanwhile (its deadline) returns it once it arrives.

        A checkout cancelled half-way would otherwise leave the connection checked out for good, for
        the garbage collector to find outside any event loop.
        """
        snapshot, single = _variants(self.engine)
        checkout = asyncio.ensure_future((single if self.single_statement else snapshot).connect())
        try:
            return await asyncio.shield(checkout)
        except asyncio.CancelledError:
            checkout.add_done_callback(_return_to_pool)
            raise

    async def _all_async(self, statement: Any, params: dict[str, Any] | None) -> list[Row[Any]]:
        async with self._lock:
            fresh = self._conn is None
            if self._conn is None:
                self._conn = await self._connect()
            started = time.perf_counter()
            try:
                rows = await self._execute(statement, params)
            except DBAPIError as error:
                if not (fresh and _unusable(error)):
                    self._broken = True
                    raise
                # The pooled connection was dead (the server restarted) or in a state nobody tracks (a
                # transaction begun behind the pool's back): nothing was read from it; drop it, use another.
                dead, self._conn = self._conn, None
                with contextlib.suppress(DBAPIError):
                    await dead.invalidate()
                    await dead.close()
                self._conn = await self._connect()
                try:
                    rows = await self._execute(statement, params)
                except BaseException:
                    self._broken = True
                    raise
            except BaseException:
                self._broken = True  # failed or cancelled mid-way: the connection's state is unknown
                raise
            self.statements += 1
            self.seconds += time.perf_counter() - started
            return rows

    async def _execute(self, statement: Any, params: dict[str, Any] | None) -> list[Row[Any]]:
        assert self._conn is not None
        result = await self._conn.execute(statement, params)
        return list(result.all())

    async def idle(self) -> None:
        """Until no statement of this request is running or waiting for the connection.

        A batched load that waits for this before it collects its keys also gathers the keys its
        siblings ask for as their own statements return, so a query's statement count does not
        depend on which of them the database answers first. Waiting never holds the connection's
        lock, so any number of loads can wait at once.
        """
        while True:
            await self._idle.wait()
            await asyncio.sleep(0)  # rows just returned are handed on; siblings reach the database
            if self._busy == 0:
                return

    def _all_sync(self, statement: Any, params: dict[str, Any] | None) -> list[Row[Any]]:
        assert self.sync_engine is not None
        if self._sync_conn is None:
            self._sync_conn = self.sync_engine.connect()
        started = time.perf_counter()
        rows = list(self._sync_conn.execute(statement, params).all())
        self.statements += 1
        self.seconds += time.perf_counter() - started
        return rows

    async def version(self) -> int | None:
        """The data version in this request's snapshot: None when nothing was read (no snapshot to speak of).

        Read in the same transaction as the answer's statements, so it is the version the answer
        was read at; not counted among the request's statements. The database's identity is read
        with it (`database`; a single statement selects both beside its data).
        """
        if self.single_statement:
            return self.statement_version
        if not self.read_anything or self._broken:
            return None
        if self._sync_conn is not None:
            row = self._sync_conn.execute(VERSION_SELECT).first()
        else:
            async with self._lock:
                if self._conn is None:
                    return None
                row = (await self._conn.execute(VERSION_SELECT)).first()
        if row is None:
            return 0
        self.database = row[1] or ""
        return int(row[0] or 0)

    async def close(self) -> None:
        if self._sync_conn is not None:
            sync_conn, self._sync_conn = self._sync_conn, None
            sync_conn.close()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            if self._broken:
                # A statement failed or was cancelled (the request's deadline) mid-way: rather than
                # roll back a connection in an unknown state and pool it again, drop it.
                await conn.invalidate()
            try:
                await conn.close()
            except DBAPIError:
                # The rollback failed ("Cannot operate on a closed database"): drop it from the pool.
                if not conn.closed:
                    await conn.invalidate()
                    await conn.close()
