"""Data releases and their changes: written by a seed in its own transaction, read by the API.

A seed reads every record (`app.data.records`) before it writes and again after, in its
transaction; the difference is its list of changes: each record added, updated or removed, with
each changed field's value before and after as JSON text. A seed that changed anything writes a
release row (its data version, when, the documents it was built from, records per type) and its
changes, so the history survives the records it describes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection

from app.data import models
from app.data.records import TYPES, count_by_type, records

releases: Table = models.Release.__table__  # type: ignore[assignment]
changes: Table = models.Change.__table__  # type: ignore[assignment]

UNCOMPARED = ("type", "id", "slug")
"""Not compared field by field: the record's identity (the change names its type and slug)."""


def json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(frozen=True)
class FieldDelta:
    field: str
    before: str | None  # JSON text; None: no value (added)
    after: str | None  # JSON text; None: no value (removed)


@dataclass(frozen=True)
class RecordChange:
    action: str  # ADDED, UPDATED, REMOVED
    type: str
    slug: str
    fields: tuple[FieldDelta, ...]

    def line(self, width: int = 60) -> str:
        """One line for `seed`'s output: the action, the record, and for an update each field before -> after."""
        head = f"{self.action:<8} {self.type} {self.slug}"
        if self.action != "UPDATED":
            return head
        return (
            head
            + ": "
            + "; ".join(f"{d.field} {_short(d.before, width)} -> {_short(d.after, width)}" for d in self.fields)
        )


def _short(value: str | None, width: int) -> str:
    text = "null" if value is None else value
    return text if len(text) <= width else text[: width - 1] + "…"


Snapshot = dict[tuple[str, str], dict[str, Any]]


def snapshot(conn: Connection) -> Snapshot:
    """Every record, keyed by (type, slug), as the changes compare them (a document's text by its sha256)."""
    return {
        (record["type"], record["slug"]): {k: v for k, v in record.items() if k not in UNCOMPARED}
        for record in records(conn, TYPES, text=False)
    }


def diff(before: Snapshot, after: Snapshot) -> list[RecordChange]:
    """What changed from `before` to `after`: in type order, then by slug."""
    found: list[RecordChange] = []
    order = {name: index for index, name in enumerate(TYPES)}
    for key in sorted(before.keys() | after.keys(), key=lambda k: (order[k[0]], k[1])):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None:
            assert new is not None
            deltas = tuple(FieldDelta(name, None, json_text(value)) for name, value in new.items())
            found.append(RecordChange("ADDED", key[0], key[1], deltas))
        elif new is None:
            deltas = tuple(FieldDelta(name, json_text(value), None) for name, value in old.items())
            found.append(RecordChange("REMOVED", key[0], key[1], deltas))
        else:
            deltas = tuple(
                FieldDelta(
                    name, json_text(old[name]) if name in old else None, json_text(new[name]) if name in new else None
                )
                for name in sorted(old.keys() | new.keys())
                if old.get(name) != new.get(name)
            )
            found.append(RecordChange("UPDATED", key[0], key[1], deltas))
    return found


def write_release(
    conn: Connection,
    version: int,
    seeded_at: dt.datetime,
    documents: Iterable[dict[str, Any]],
    found: list[RecordChange],
) -> None:
    """The release row and its changes, in the caller's transaction."""
    conn.execute(
        insert(releases).values(
            version=version,
            seeded_at=seeded_at,
            documents=json_text(sorted(documents, key=lambda d: d["slug"])),
            counts=json_text(count_by_type(conn)),
        )
    )
    rows = [
        {
            "release": version,
            "action": change.action,
            "entity_type": change.type,
            "slug": change.slug,
            "fields": json_text([[d.field, d.before, d.after] for d in change.fields]),
        }
        for change in found
    ]
    for start in range(0, len(rows), 500):
        conn.execute(insert(changes), rows[start : start + 500])


def documents_in_database(conn: Connection) -> list[dict[str, Any]]:
    """The documents a release is built from, as the database has them (no publication date)."""
    table: Table = models.Document.__table__  # type: ignore[assignment]
    return [
        {"slug": slug, "sha256": digest, "published": None}
        for slug, digest in conn.execute(select(table.c.slug, table.c.sha256).order_by(table.c.slug))
    ]


def seeded_at_of(conn: Connection) -> dt.datetime:
    state: Table = models.DatasetState.__table__  # type: ignore[assignment]
    value = conn.execute(select(state.c.seeded_at)).scalar()
    return value if value is not None else dt.datetime.now(dt.UTC)
