"""Seeding: read the files under seed/, validate them whole, then write in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.config import get_settings
from app.data.engine import create_engine
from app.data.migrations import head_revision
from app.data.releases import diff, seeded_at_of, snapshot, write_release
from app.data.versions import announce_after_commit, announce_in_transaction
from app.seeding.dataset import Conflict, Dataset, load_dataset, sha256
from app.seeding.files import SeedError
from app.seeding.writer import SeedReport, reset_database, write_dataset


class SeedFailed(Exception):
    """The seed files are invalid or the database is not ready; nothing was written."""

    def __init__(self, errors: list[SeedError] | list[str]) -> None:
        self.errors = [str(error) for error in errors]
        super().__init__("\n".join(self.errors))


@dataclass
class SeedOutcome:
    dataset: Dataset
    report: SeedReport | None
    seconds: float
    conflicts: list[Conflict] = field(default_factory=list)


def validate(seed_dir: Path) -> Dataset:
    """The validated dataset, or SeedFailed with every error found."""
    dataset, errors = load_dataset(seed_dir)
    if errors or dataset is None:
        raise SeedFailed(errors)
    return dataset


async def seed(
    database_url: str,
    seed_dir: Path,
    *,
    reset: bool = False,
    progress: Callable[[str], None] = lambda _message: None,
    redis_url: str | None = None,
) -> SeedOutcome:
    """Validate every file, then bring the database to exactly what they state, all or nothing.

    A seed that changed something announces the new data version to the serving workers
    (app/data/versions.py): PostgreSQL NOTIFY at the commit, and on Redis at `redis_url` (default
    REDIS_URL) after it.
    """
    started = time.perf_counter()
    dataset = validate(seed_dir)
    engine = create_engine(database_url, pool=False)
    try:
        async with engine.begin() as conn:
            report = await conn.run_sync(_write, dataset, reset, progress)
            announcement = await announce_in_transaction(conn, report.data_version) if report.changed else None
    finally:
        await engine.dispose()
    if announcement is not None:
        await announce_after_commit(redis_url if redis_url is not None else get_settings().redis_url, announcement)
    return SeedOutcome(dataset, report, time.perf_counter() - started, dataset.conflicts)


def _write(conn: Connection, dataset: Dataset, reset: bool, progress: Callable[[str], None]) -> SeedReport:
    current = (
        conn.execute(text("SELECT version_num FROM alembic_version")).scalar() if _has_version_table(conn) else None
    )
    if current != head_revision():
        raise SeedFailed(
            [
                f"the database is at migration {current or 'none'}, not {head_revision()}: run `python -m app migrate` first"
            ]
        )
    progress("reading every record, to compare")
    before = snapshot(conn)
    if reset:
        reset_database(conn)
    report = write_dataset(conn, dataset, progress)
    if report.changed:
        progress("comparing every record: the release's changes")
        report.changes = diff(before, snapshot(conn))
        write_release(conn, report.data_version, seeded_at_of(conn), release_documents(dataset), report.changes)
    return report


def release_documents(dataset: Dataset) -> list[dict[str, Any]]:
    """The documents a release is built from: slug, sha256, and publication date where the metadata gives it."""
    return [
        {
            "slug": slug,
            "sha256": sha256(doc.text),
            "published": str(doc.meta.published) if doc.meta.published is not None else None,
        }
        for slug, doc in dataset.documents.items()
    ]


def _has_version_table(conn: Connection) -> bool:
    from sqlalchemy import inspect

    return inspect(conn).has_table("alembic_version")
