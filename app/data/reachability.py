"""Whether the database can be reached at all, and a failure to reach it said in one or two lines.

`migrate`, `seed` and `serve` name the address (its password hidden), what failed (the connection refused,
the host not found, no answer, the user or password refused, the database missing, a SQLite folder or file
missing) and what to try, instead of a traceback of a hundred lines; `serve` refuses to start when the
database cannot be reached at all (`probe`), rather than start workers that answer every request 503.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from app.data.engine import SQLitePathRefused, async_url, create_engine, ensure_sqlite_folder

PROBE_TIMEOUT_SECONDS = 10
SETTING = "DATABASE_URL (or --database-url)"


class DatabaseUnreachable(Exception):
    """The database cannot be used: what failed, where, and what to try (str() is one or two lines)."""


def shown(url: str | URL) -> str:
    """The address as it may be printed: its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an address SQLAlchemy cannot read is shown as given, minus credentials
        text_url = str(url)
        return text_url.split("@", 1)[-1] if "@" in text_url else text_url


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps (SQLAlchemy's `orig`, the causes), each once."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        item = pending.pop(0)
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        pending += [getattr(item, "orig", None), item.__cause__, item.__context__]


def problem(url: str | URL, error: BaseException) -> DatabaseUnreachable | None:
    """The failure to reach the database `error` shows, said for a person; None when it is not one."""
    if isinstance(error, DatabaseUnreachable):
        return error
    try:
        target = async_url(url)
    except Exception:  # noqa: BLE001 - not a URL we serve: nothing to say about reaching it
        return None
    where = shown(url)
    host = f"{target.host or 'localhost'}:{target.port or 5432}"
    for item in _chain(error):
        found = _said(item, target, where, host)
        if found is not None:
            return DatabaseUnreachable(f"{found[0]}\n  try: {found[1]}")
    return None


def _said(item: BaseException, target: URL, where: str, host: str) -> tuple[str, str] | None:
    """(what failed, what to try) for one error of the chain, or None."""
    state = getattr(item, "sqlstate", None)
    if isinstance(item, SQLitePathRefused):
        return f"cannot use the SQLite database {where}: {item}", f"{item.hint} in {SETTING}"
    if state == "3D000":
        return (
            f"cannot use {where}: the database {target.database!r} does not exist on {host}",
            f"create it (createdb -h {target.host or 'localhost'} -p {target.port or 5432} -U "
            f"{target.username or 'postgres'} {target.database}), or correct the database name in {SETTING}",
        )
    if state in ("28P01", "28000"):
        return (
            f"cannot use {where}: PostgreSQL at {host} refused user {target.username!r} ({_first_line(item)})",
            f"check the user and password in {SETTING}, and the server's pg_hba.conf",
        )
    if isinstance(item, socket.gaierror):
        return (
            f"cannot connect to {where}: the host {target.host!r} was not found ({item.strerror or item})",
            f"correct the host in {SETTING}",
        )
    if isinstance(item, ConnectionRefusedError):
        return (
            f"cannot connect to {where}: the connection to {host} was refused (nothing listens there)",
            f"start PostgreSQL on {host}, or correct the host and port in {SETTING}",
        )
    if isinstance(item, TimeoutError):
        return (
            f"cannot connect to {where}: {host} did not answer in time",
            f"check the host, the port and any firewall between, or correct {SETTING}",
        )
    if isinstance(item, sqlite3.OperationalError) and "unable to open" in str(item):
        return (
            f"cannot open the SQLite database {where}: {item}",
            f"check that the path in {SETTING} names a file you may write, not a folder",
        )
    if isinstance(item, OSError | ConnectionError) and target.get_backend_name() == "postgresql":
        return (
            f"cannot connect to {where}: {_first_line(item)}",
            f"check the host and port in {SETTING}, and that PostgreSQL runs there",
        )
    return None


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def check_sqlite_path(url: str | URL) -> None:
    """A SQLite path must name a file in a folder that exists (DatabaseUnreachable): checked before connecting,
    since a failed aiosqlite connect leaves a thread that prints its own traceback as the loop closes."""
    target = async_url(url)
    if target.get_backend_name() != "sqlite" or not target.database or target.database == ":memory:":
        return
    path = Path(target.database).expanduser().absolute()
    try:
        if path.is_dir():
            raise SQLitePathRefused(
                f"{path} is a folder", "name a file in it, as sqlite:///data/knowledge-base.sqlite3"
            )
        ensure_sqlite_folder(target)
    except SQLitePathRefused as refused:
        raise problem(url, refused) or DatabaseUnreachable(str(refused)) from None


async def probe(url: str | URL, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
    """Connect once and run `SELECT 1`; DatabaseUnreachable when that cannot be done. A SQLite file must exist
    (a server on a new empty file has nothing to serve, and the file would be made by the probe)."""
    target = async_url(url)
    if target.get_backend_name() == "sqlite" and target.database and target.database != ":memory:":
        check_sqlite_path(target)
        path = Path(target.database).expanduser().absolute()
        if not path.is_file():
            raise DatabaseUnreachable(
                f"cannot use the SQLite database {shown(url)}: the file {path} does not exist\n"
                f"  try: create it with `python -m app migrate` and `python -m app seed`, or correct the path in "
                f"{SETTING}"
            )
    engine = create_engine(url, pool=False)
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as error:
        found = problem(url, error)
        if found is None:
            raise
        raise found from None
    finally:
        await engine.dispose()
