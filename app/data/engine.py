"""Database engines: URL forms, the SQLite transactional-DDL recipe, per-connection settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from app.config import PROJECT_ROOT
from app.data.ids import encode_id
from app.data.paging import encode_cursor

SQLITE_PROGRESS_STEPS = 10_000  # how often (VM steps) SQLite asks whether the deadline has passed
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(url: str | URL) -> URL:
    """Turn any accepted URL form into its async-driver form.

    `sqlite:///x`, `sqlite+pysqlite:///x`, `postgres://`, `postgresql://`,
    `postgresql+psycopg2://` and the async forms themselves are all accepted.
    """
    parsed = make_url(str(url).replace("postgres://", "postgresql://", 1)) if isinstance(url, str) else url
    backend = parsed.get_backend_name()
    if backend not in ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use a sqlite:// or postgresql:// URL")
    return parsed.set(drivername=ASYNC_DRIVERS[backend])


def libpq_url(url: str | URL) -> str:
    """The database URL as libpq, node-postgres and asyncpg read it (no SQLAlchemy driver name)."""
    return async_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def is_sqlite(url: str | URL) -> bool:
    return async_url(url).get_backend_name() == "sqlite"


class SQLitePathRefused(Exception):
    """A SQLite path whose folder is missing (a mistyped path: no folder is made for it), or, for the command
    line (app.data.reachability), one naming a folder. `hint` says what to do."""

    def __init__(self, reason: str, hint: str) -> None:
        super().__init__(reason)
        self.hint = hint


def ensure_sqlite_folder(url: URL) -> None:
    """The folder of a SQLite file must exist; the project's own `data/` is made, so a fresh checkout can migrate
    at once. Any other missing folder is refused (SQLitePathRefused): a mistyped path made folders silently."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    folder = Path(url.database).expanduser().absolute().parent
    if folder.is_dir():
        return
    if folder.resolve() == (PROJECT_ROOT / "data").resolve():
        folder.mkdir(parents=True, exist_ok=True)
        return
    raise SQLitePathRefused(
        f"the folder {folder} does not exist, and no folder is made for a path that may be mistyped",
        f"create it (mkdir -p {folder}) or correct the path",
    )


def create_engine(
    url: str | URL,
    *,
    statement_timeout_ms: int | None = None,
    pool: bool = True,
    pool_size: int | None = None,
    echo: bool = False,
    foreign_keys: bool = True,
) -> AsyncEngine:
    """An async engine with our per-connection settings.

    On SQLite, pysqlite's own transaction handling is switched off and BEGIN is emitted by
    SQLAlchemy (the documented recipe), so DDL and savepoints are transactional and a failed
    migrate or seed leaves the file as it was. Foreign keys are enforced and WAL lets several
    workers read while a seed writes.

    `foreign_keys=False` is for migrations only: SQLite's ALTER TABLE procedure (a batch
    migration copies a table and drops the old one) must run with enforcement off, and the
    migration checks the keys itself before it commits (`PRAGMA foreign_key_check`).
    """
    target = async_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if not pool:
        kwargs["poolclass"] = NullPool
    if target.get_backend_name() == "postgresql":
        if statement_timeout_ms:
            kwargs["connect_args"] = {"server_settings": {"statement_timeout": str(statement_timeout_ms)}}
        if pool and pool_size is not None:
            # As many connections as requests in flight: a pool smaller than the concurrency opens and
            # closes overflow connections all the time (a backend fork and ~4 ms of client CPU each).
            kwargs.update(pool_size=pool_size, max_overflow=pool_size)
        # No ping on checkout (a round trip, with a BEGIN/ROLLBACK pair around it, on every request):
        # a connection the server dropped fails its first statement, which app.data.session retries.
        return create_async_engine(target, **kwargs)

    ensure_sqlite_folder(target)
    kwargs["connect_args"] = {"timeout": 30}
    engine = create_async_engine(target, **kwargs)
    _install_sqlite_recipe(engine, statement_timeout_ms, foreign_keys)
    return engine


def _install_sqlite_recipe(engine: AsyncEngine, statement_timeout_ms: int | None, foreign_keys: bool) -> None:
    sync_engine = engine.sync_engine
    enforcement = "foreign_keys = ON" if foreign_keys else "foreign_keys = OFF"

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        _set_pragmas(
            dbapi_connection, enforcement, "journal_mode = WAL", "synchronous = NORMAL", "busy_timeout = 30000"
        )
        if statement_timeout_ms:
            install_sqlite_deadline(dbapi_connection, statement_timeout_ms)

        async def install_functions(connection: Any) -> None:  # an aiosqlite.Connection
            for name, arity, function in sql_functions():
                await connection.create_function(name, arity, function, deterministic=True)

        dbapi_connection.run_async(install_functions)

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


def sql_functions() -> list[tuple[str, int, Callable[..., Any]]]:
    """The functions the compiled statements call on SQLite (app/execution/compiler.py): a Relay global
    ID and a cursor, byte for byte as app.data.ids and app.data.paging make them. PostgreSQL builds both in SQL."""

    def kb_id(type_name: str, pk: int) -> str:
        return encode_id(type_name, pk)

    def kb_cursor(tag: str, *values: Any) -> str:
        return encode_cursor(tag, values)

    return [("kb_id", 2, kb_id), ("kb_cursor", -1, kb_cursor)]


def _deadline_callbacks(timeout_ms: int) -> tuple[Callable[[str], None], Callable[[], int]]:
    """SQLite's equivalent of statement_timeout: a trace callback and a progress handler.

    The trace callback marks when each statement starts; every 10,000 virtual-machine steps the
    progress handler compares the clock with the deadline and, past it, makes SQLite abort the
    statement ("interrupted").
    """
    started = [time.monotonic()]
    limit = timeout_ms / 1000

    def _trace(_statement: str) -> None:
        started[0] = time.monotonic()

    def _progress() -> int:
        return 1 if time.monotonic() - started[0] > limit else 0

    return _trace, _progress


def install_sqlite_deadline(dbapi_connection: Any, timeout_ms: int) -> None:
    """The statement deadline on an aiosqlite connection.

    Both callbacks are installed through aiosqlite, in the thread that owns the sqlite3
    connection, and they run there too.
    """
    trace, progress = _deadline_callbacks(timeout_ms)

    async def install(connection: Any) -> None:  # an aiosqlite.Connection
        await connection.set_trace_callback(trace)
        await connection.set_progress_handler(progress, SQLITE_PROGRESS_STEPS)

    dbapi_connection.run_async(install)


def _set_pragmas(dbapi_connection: Any, *pragmas: str) -> None:
    """Leave transactions to SQLAlchemy (the transactional-DDL recipe) and set the connection's pragmas."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in pragmas:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


async def create_statement_pool(url: str | URL, *, statement_timeout_ms: int | None, size: int) -> Any:
    """For PostgreSQL, an asyncpg pool for the compiler's single statements; None for other databases.

    A compiled answer is one statement in autocommit: run straight on asyncpg it costs about 0.3 ms of
    the server's CPU, through SQLAlchemy's connection, events and result objects about 0.8 ms (measured
    on the small query). Its connections are opened as needed, up to `size`, and closed when idle.
    """
    target = async_url(url)
    if target.get_backend_name() != "postgresql":
        return None
    import asyncpg

    dsn = libpq_url(target)
    settings = {"statement_timeout": str(statement_timeout_ms)} if statement_timeout_ms else {}
    return await asyncpg.create_pool(
        dsn,
        min_size=0,
        max_size=size,
        server_settings=settings,
        max_inactive_connection_lifetime=60,
        reset=_nothing_to_reset,
    )


async def _nothing_to_reset(_connection: Any) -> None:
    """What the statement pool sends a connection it takes back: nothing.

    asyncpg's default resets the session with a round trip of its own on every release
    (`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`), as much server CPU as
    the answer's statement. The compiler's statements are single read-only SELECTs in autocommit:
    they leave no lock, cursor, listener or setting behind. asyncpg still clears its own side of the
    connection, and waits out a cancelled statement, before it calls this.
    """


def create_sqlite_reader(url: str | URL, *, statement_timeout_ms: int | None = None) -> Engine | None:
    """For SQLite, a synchronous engine the request path reads through; None for other databases.

    Reads of a local SQLite file take microseconds, so the event loop's thread runs them itself
    instead of hopping to aiosqlite's worker thread and back for every statement. Connections
    are read-only (`query_only`), with the same deadline as the async engine's.
    """
    target = async_url(url)
    if target.get_backend_name() != "sqlite":
        return None
    # A request keeps its connection (and snapshot) across awaits, so waiting for a free one would
    # block the event loop that would free it: the pool grows instead (SQLite connections are cheap).
    engine = create_sync_engine(
        target.set(drivername="sqlite+pysqlite"), connect_args={"timeout": 30}, pool_size=16, max_overflow=-1
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        _set_pragmas(dbapi_connection, "foreign_keys = ON", "query_only = ON", "busy_timeout = 30000")
        if statement_timeout_ms:
            _install_progress_deadline(dbapi_connection, statement_timeout_ms)
        for name, arity, function in sql_functions():
            dbapi_connection.create_function(name, arity, function, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.connection.driver_connection.execute("BEGIN")  # the driver's own call: no statement overhead

    return engine


def _install_progress_deadline(raw: Any, timeout_ms: int) -> None:
    """The statement deadline on a plain sqlite3 connection."""
    trace, progress = _deadline_callbacks(timeout_ms)
    raw.set_trace_callback(trace)
    raw.set_progress_handler(progress, SQLITE_PROGRESS_STEPS)
