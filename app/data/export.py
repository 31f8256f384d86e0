"""The whole knowledge base in one file: JSON Lines (one record a line) or CSV (one file per type).

Both are written from `app.data.records` as the rows are read, in one read snapshot, so an
export is one release's data and its memory stays bounded. `python -m app export` writes them;
the server's `GET /export/knowledge-base.jsonl.gz` (app/http/export.py) serves the JSONL gzipped.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson
from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from app.data import models
from app.data.engine import create_engine
from app.data.records import TYPES, count_by_type, records

Advance = Callable[[int], None]


class Writable(Protocol):
    def write(self, data: bytes, /) -> Any: ...


CSV_CITATIONS = ("type", "slug", "document", "quote", "start", "end")


@dataclass
class ExportReport:
    version: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # records written per type
    citations: int = 0
    bytes: int = 0


def data_version(conn: Connection) -> int:
    state: Table = models.DatasetState.__table__  # type: ignore[assignment]
    return int(conn.execute(select(state.c.version)).scalar() or 0)


def total_records(conn: Connection) -> int:
    return sum(count_by_type(conn).values())


def write_jsonl(conn: Connection, out: Writable, advance: Advance = lambda _n: None) -> ExportReport:
    """One JSON object per line, every record of every type (app/data/records.py says what a line holds)."""
    report = ExportReport(version=data_version(conn))
    for record in records(conn):
        line = orjson.dumps(record) + b"\n"
        out.write(line)
        report.bytes += len(line)
        report.counts[record["type"]] = report.counts.get(record["type"], 0) + 1
        report.citations += len(record["citations"])
        advance(1)
    return report


def _cell(value: Any) -> Any:
    """A CSV cell: lists and objects as JSON text, null as empty."""
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return value


def write_csv(conn: Connection, folder: Path, advance: Advance = lambda _n: None) -> ExportReport:
    """One CSV per type (`event.csv`, ...: a header of the record's fields, lists and objects as JSON text)
    and `citations.csv` (type, slug, document, quote, start, end)."""
    report = ExportReport(version=data_version(conn))
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "citations.csv").open("w", newline="", encoding="utf-8") as cited_file:
        cited = csv.writer(cited_file)
        cited.writerow(CSV_CITATIONS)
        for type_name in TYPES:
            with (folder / f"{type_name.lower()}.csv").open("w", newline="", encoding="utf-8") as out:
                writer: Any = None
                for record in records(conn, (type_name,)):
                    citations = record.pop("citations")
                    if writer is None:
                        writer = csv.DictWriter(out, fieldnames=list(record))
                        writer.writeheader()
                    writer.writerow({key: _cell(value) for key, value in record.items()})
                    for citation in citations:
                        cited.writerow([type_name, record["slug"], *(citation[k] for k in CSV_CITATIONS[2:])])
                    report.counts[type_name] = report.counts.get(type_name, 0) + 1
                    report.citations += len(citations)
                    advance(1)
    report.bytes = sum(path.stat().st_size for path in folder.glob("*.csv"))
    return report


async def export(
    database_url: str,
    write: Callable[[Connection], ExportReport],
    start: Callable[[int], None] = lambda _total: None,
) -> ExportReport:
    """Run `write` in one read-only snapshot of the database (REPEATABLE READ on PostgreSQL)."""
    engine = create_engine(database_url, pool=False)
    reader = engine
    if engine.dialect.name == "postgresql":
        reader = engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    try:
        async with reader.begin() as conn:

            def run(sync: Connection) -> ExportReport:
                start(total_records(sync))
                return write(sync)

            return await conn.run_sync(run)
    finally:
        await engine.dispose()


def gzipped_jsonl(database_url: str, path: Path) -> int:
    """Write the JSONL export, gzipped, to `path`; the data version it was read at (run in a thread of its own)."""

    def write(conn: Connection) -> ExportReport:
        # The name inside the gzip header is the download's, not the worker's file's.
        with (
            path.open("wb") as raw,
            gzip.GzipFile("knowledge-base.jsonl.gz", mode="wb", compresslevel=6, fileobj=raw, mtime=0) as zipped,
        ):
            return write_jsonl(conn, zipped)

    return asyncio.run(export(database_url, write)).version
