"""Alembic environment: the URL comes from settings (or the caller), the metadata from app.data.models."""

from __future__ import annotations

import asyncio
import warnings
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from app.config import get_settings
from app.data.engine import create_engine
from app.data.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# Engine-specific full-text objects made by migrations, outside the models: SQLite's FTS5
# table and its shadow tables; PostgreSQL's stored tsvector column and its GIN index.
FULL_TEXT_OBJECTS = ("search_fts", "ix_search_entries_fts", "search_vector")
# SQLAlchemy cannot reflect SQLite's indexes on expressions (lower(acronym)), so Alembic compares
# them on PostgreSQL only, saying so in two warnings; tests/test_lookup_indexes.py shows SQLite's in use.
EXPRESSION_INDEX_WARNINGS = (
    "Skipped unsupported reflection of expression-based index",
    "autogenerate skipping metadata-specified expression-based index",
)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (name or "").startswith(FULL_TEXT_OBJECTS)


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=False,
    )
    with context.begin_transaction(), warnings.catch_warnings():
        if connection.dialect.name == "sqlite":
            for message in EXPRESSION_INDEX_WARNINGS:
                warnings.filterwarnings("ignore", message=message)
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            # Batch migrations copy tables with enforcement off (SQLite's documented ALTER TABLE
            # procedure); the keys are checked here, inside the transaction, before anything commits.
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                table, rowid, parent, _fk = broken[0]
                raise RuntimeError(
                    f"migration left {len(broken)} row(s) whose foreign key points nowhere "
                    f"(first: {table} row {rowid} -> {parent}); nothing was changed"
                )


async def run_async_migrations(url: str) -> None:
    engine = create_engine(url, pool=False, foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    url = config.attributes.get("database_url") or get_settings().database_url
    asyncio.run(run_async_migrations(url))


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
