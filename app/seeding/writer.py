"""Write a validated dataset to the database: upsert by natural keys, remove what is gone.

Runs inside one transaction opened by the caller, so a failure leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from app.data import models
from app.data.releases import RecordChange
from app.dates import PartialDate, single_date
from app.seeding.coverage import Coverage
from app.seeding.dataset import Dataset, date_columns, record_columns, sha256
from app.seeding.facts import EventRecurrence, Fact
from app.seeding.search_text import search_entries

Progress = Callable[[str], None]

REPORT_TYPES = (
    "documents",
    "countries",
    "places",
    "organizations",
    "memberships",
    "chairmanships",
    "events",
    "statistics",
    "citations",
    "mentions",
    "uncited sentences",
    "search entries",
    "conflicts",
)


@dataclass
class SeedReport:
    """What a seed did, per type: added, updated, removed, unchanged."""

    counts: dict[str, Counter[str]] = field(default_factory=lambda: {name: Counter() for name in REPORT_TYPES})
    data_version: int = 0
    changes: list[RecordChange] = field(default_factory=list)  # the release's changes (app/data/releases.py)

    @property
    def changed(self) -> bool:
        return any(c["added"] or c["updated"] or c["removed"] for c in self.counts.values())

    def table(self) -> str:
        columns = ("added", "updated", "removed", "unchanged")
        lines = [f"{'type':<16}" + "".join(f"{name:>11}" for name in columns)]
        for name in REPORT_TYPES:
            counter = self.counts[name]
            lines.append(f"{name:<16}" + "".join(f"{counter[column]:>11}" for column in columns))
        return "\n".join(lines)


class _Sync:
    def __init__(self, conn: Connection, report: SeedReport, progress: Progress) -> None:
        self.conn = conn
        self.report = report
        self.progress = progress
        self.removals: list[tuple[Table, list[int]]] = []
        self.status: dict[str, dict[Any, str]] = {name: {} for name in REPORT_TYPES}

    def touch(self, name: str, keys: Iterable[Any]) -> None:
        """Count records whose links or parent changed as updated, unless just added."""
        status = self.status[name]
        for key in keys:
            if status.get(key) == "unchanged":
                status[key] = "updated"

    def tally(self) -> None:
        for name, status in self.status.items():
            self.report.counts[name].update(status.values())

    def rows(
        self, name: str, table: Table, key_columns: tuple[str, ...], desired: dict[Any, dict[str, Any]]
    ) -> dict[Any, int]:
        """Upsert `desired` (natural key -> values) into `table`; the ids of every desired key.

        Rows whose keys are not desired are removed later, after their dependents have moved.
        """
        counter = self.report.counts[name]
        value_columns = sorted({column for values in desired.values() for column in values})
        key_of = (lambda row: row[0]) if len(key_columns) == 1 else (lambda row: tuple(row[: len(key_columns)]))
        selected = [table.c[column] for column in (*key_columns, *value_columns)]
        existing: dict[Any, tuple[int, dict[str, Any]]] = {}
        for row in self.conn.execute(select(*selected, table.c.id)):
            values = dict(zip(value_columns, row[len(key_columns) : -1], strict=True))
            existing[key_of(row)] = (row[-1], values)

        ids: dict[Any, int] = {}
        to_insert = []
        for key, values in desired.items():
            found = existing.get(key)
            if found is None:
                keys = (key,) if len(key_columns) == 1 else key
                to_insert.append({**dict(zip(key_columns, keys, strict=True)), **values})
                continue
            row_id, current = found
            ids[key] = row_id
            changed = {column: value for column, value in values.items() if not _same(current[column], value)}
            if changed:
                self.conn.execute(update(table).where(table.c.id == row_id).values(**changed))
            self.status[name][key] = "updated" if changed else "unchanged"
        for chunk in _chunks(to_insert, 500):
            inserted = self.conn.execute(
                insert(table).returning(table.c.id, *(table.c[c] for c in key_columns), sort_by_parameter_order=True),
                chunk,
            )
            for row in inserted:
                key = row[1] if len(key_columns) == 1 else tuple(row[1:])
                ids[key] = row[0]
                self.status[name][key] = "added"
        gone = [row_id for key, (row_id, _values) in existing.items() if key not in desired]
        counter["removed"] += len(gone)
        if gone:
            self.removals.append((table, gone))
        self.progress(f"{name}: {len(desired)} in the files, {len(to_insert)} added, {len(gone)} to remove")
        return ids

    def links(
        self,
        table: Table,
        owner_column: str,
        owner_ids: dict[Any, int],
        desired: dict[Any, set[tuple[Any, ...]]],
        columns: tuple[str, ...],
    ) -> set[Any]:
        """Make each owner's linked rows exactly `desired`; the owners whose links changed."""
        existing: dict[int, set[tuple[Any, ...]]] = {}
        for row in self.conn.execute(select(table.c[owner_column], *(table.c[c] for c in columns))):
            existing.setdefault(row[0], set()).add(tuple(row[1:]))
        changed = set()
        for key, owner_id in owner_ids.items():
            wanted = desired.get(key, set())
            if existing.get(owner_id, set()) == wanted:
                continue
            changed.add(key)
            self.conn.execute(delete(table).where(table.c[owner_column] == owner_id))
            if wanted:
                self.conn.execute(
                    insert(table),
                    [{owner_column: owner_id, **dict(zip(columns, item, strict=True))} for item in wanted],
                )
        return changed

    def remove_pending(self) -> None:
        for table, ids in reversed(self.removals):
            for chunk in _chunks(ids, 500):
                self.conn.execute(delete(table).where(table.c.id.in_(chunk)))


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, float) and isinstance(current, (int, float)):
        return float(current) == wanted
    return bool(current == wanted)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def reset_database(conn: Connection) -> None:
    """Delete every row, dependents first (for `seed --reset`); the version and the releases' history stay."""
    for table in reversed(models.Base.metadata.sorted_tables):
        if table.name not in ("dataset_state", "releases", "changes"):
            conn.execute(delete(table))


def write_dataset(conn: Connection, dataset: Dataset, progress: Progress) -> SeedReport:
    """Bring the database to exactly the dataset; report what changed."""
    report = SeedReport()
    sync = _Sync(conn, report, progress)
    facts = dataset.facts
    t = {table.name: table for table in models.Base.metadata.sorted_tables}

    published = {slug: published_date(doc.meta.published) for slug, doc in dataset.documents.items()}
    document_ids = sync.rows(
        "documents",
        t["documents"],
        ("slug",),
        {
            slug: {
                **record_columns(t["documents"], {**dict(doc.meta), "published": published[slug]}),
                "sha256": sha256(doc.text),
                "text": doc.text,
                **coverage_columns(dataset.coverage[slug]),
            }
            for slug, doc in dataset.documents.items()
        },
    )
    country_ids = sync.rows(
        "countries",
        t["countries"],
        ("code",),
        {code: record_columns(t["countries"], f.values) for code, f in facts["countries"].items()},
    )
    place_ids = sync.rows(
        "places",
        t["places"],
        ("folded",),
        {
            folded: {
                **record_columns(t["places"], f.values),
                "country_id": country_ids[f.values["country"]] if f.values["country"] else None,
                **search_alias_columns(f.values["search_aliases"]),
            }
            for folded, f in facts["places"].items()
        },
    )

    org_values = {
        slug: {
            **record_columns(t["organizations"], f.values),
            **search_alias_columns(f.values["search_aliases"]),
        }
        for slug, f in facts["organizations"].items()
    }
    existing_parents = dict(conn.execute(select(t["organizations"].c.slug, t["organizations"].c.parent_id)).all())
    org_ids = sync.rows("organizations", t["organizations"], ("slug",), org_values)
    reparented = set()
    for slug, fact in facts["organizations"].items():
        parent = fact.values.get("parent")
        parent_id = org_ids[parent] if parent else None
        if existing_parents.get(slug) != parent_id:
            conn.execute(
                update(t["organizations"]).where(t["organizations"].c.id == org_ids[slug]).values(parent_id=parent_id)
            )
            reparented.add(slug)
    sync.touch("organizations", reparented)

    membership_ids = sync.rows(
        "memberships",
        t["memberships"],
        ("slug",),
        {
            slug: {
                **record_columns(t["memberships"], f.values),
                "country_id": country_ids[f.values["member"]],
                "organization_id": org_ids[f.values["organization"]],
            }
            for slug, f in facts["memberships"].items()
        },
    )

    chair_ids = sync.rows(
        "chairmanships",
        t["chairmanships"],
        ("slug",),
        {
            slug: {
                **record_columns(t["chairmanships"], f.values),
                "organization_id": org_ids[f.values["organization"]],
                "chair_id": country_ids[f.values["chair"]],
                "predecessor_id": country_ids[f.values["predecessor"]] if f.values["predecessor"] else None,
            }
            for slug, f in facts["chairmanships"].items()
        },
    )
    changed = sync.links(
        t["chairmanship_co_chairs"],
        "chairmanship_id",
        chair_ids,
        {slug: {(country_ids[code],) for code in f.links["co_chairs"]} for slug, f in facts["chairmanships"].items()},
        ("country_id",),
    )
    sync.touch("chairmanships", changed)

    event_ids = sync.rows(
        "events",
        t["events"],
        ("slug",),
        {
            slug: {
                **record_columns(t["events"], f.values),
                # `location` is the linked place's own name (Event.location equals place { name }).
                "location": place_name(facts, f.values["location"]),
                "place_id": place_ids.get(f.values["location"].casefold()) if f.values["location"] else None,
                "organization_id": org_ids[f.values["organization"]] if f.values["organization"] else None,
                "chairmanship_id": chair_ids[f.values["chairmanship"]] if f.values["chairmanship"] else None,
                **recurrence_columns(f.values["recurrence"]),
                **sources_until_columns(f, published),
            }
            for slug, f in facts["events"].items()
        },
    )
    existing_occasions = dict(conn.execute(select(t["events"].c.slug, t["events"].c.occasion_id)).all())
    moved = set()
    for slug, fact in facts["events"].items():
        occasion = fact.values.get("occasion")
        occasion_id = event_ids[occasion] if occasion else None
        if existing_occasions.get(slug) != occasion_id:
            conn.execute(update(t["events"]).where(t["events"].c.id == event_ids[slug]).values(occasion_id=occasion_id))
            moved.add(slug)
    sync.touch("events", moved)
    changed = sync.links(
        t["event_participants"],
        "event_id",
        event_ids,
        {slug: participant_rows(f, country_ids) for slug, f in facts["events"].items()},
        ("country_id", "role", "role_kind", "basis", "basis_note"),
    )
    changed |= sync.links(
        t["event_partner_organizations"],
        "event_id",
        event_ids,
        {slug: {(org_ids[o],) for o in f.links["partner_organizations"]} for slug, f in facts["events"].items()},
        ("organization_id",),
    )
    sync.touch("events", changed)

    statistic_ids = sync.rows(
        "statistics",
        t["statistics"],
        ("slug",),
        {
            slug: {
                **record_columns(t["statistics"], f.values),
                "value": float(f.values["value"]),
                "organization_id": org_ids[f.values["organization"]] if f.values["organization"] else None,
                "country_id": country_ids[f.values["country"]] if f.values["country"] else None,
            }
            for slug, f in facts["statistics"].items()
        },
    )
    changed = sync.links(
        t["statistic_places"],
        "statistic_id",
        statistic_ids,
        {
            slug: {(place_ids[folded], position) for position, folded in f.links["places"]}
            for slug, f in facts["statistics"].items()
        },
        ("place_id", "position"),
    )
    sync.touch("statistics", changed)

    subject_ids = {
        "countries": ("country_id", country_ids),
        "organizations": ("organization_id", org_ids),
        "memberships": ("membership_id", membership_ids),
        "chairmanships": ("chairmanship_id", chair_ids),
        "events": ("event_id", event_ids),
        "statistics": ("statistic_id", statistic_ids),
    }
    citations: dict[Any, dict[str, Any]] = {}
    for section, (column, ids) in subject_ids.items():
        for key, fact in facts[section].items():
            for span in fact.citations:
                natural = (column, ids[key], document_ids[span.document], span.start, span.end)
                citations[natural] = {"quote": span.quote}
    _sync_citations(sync, t["citations"], citations)
    _sync_conflicts(sync, t, dataset, {section: ids for section, (_column, ids) in subject_ids.items()}, document_ids)

    sync.rows(
        "uncited sentences",
        t["uncited_sentences"],
        ("document_id", "start"),
        {
            (document_ids[slug], start): {"end": end, "text": dataset.documents[slug].text[start:end]}
            for slug, coverage in dataset.coverage.items()
            for start, end in coverage.uncited
        },
    )

    sync.rows(
        "mentions",
        t["mentions"],
        ("organization_id", "document_id", "start"),
        {
            (org_ids[org], document_ids[doc], start): {"end": end, "text": text, "context": context}
            for org, doc, start, end, text, context in dataset.mentions
        },
    )

    sync.rows(
        "search entries",
        t["search_entries"],
        ("entity_type", "entity_id", "start"),
        search_entries(
            dataset,
            {
                "document": document_ids,
                "country": country_ids,
                "organization": org_ids,
                "membership": membership_ids,
                "chairmanship": chair_ids,
                "event": event_ids,
                "statistic": statistic_ids,
            },
        ),
    )

    sync.remove_pending()
    sync.tally()
    report.data_version = _bump_version(conn, report.changed)
    return report


def place_name(facts: dict[str, dict[str, Fact]], written: str | None) -> str | None:
    """The name of the place an event's `place` names (any case), as the place record has it."""
    if written is None:
        return None
    place = facts["places"].get(written.casefold())
    return str(place.values["name"]) if place is not None else written


def published_date(raw: str | int | None) -> PartialDate | None:
    """A document's `published` date (validated by the dataset already)."""
    return None if raw is None else single_date(str(raw))


def sources_until_columns(fact: Fact, published: dict[str, PartialDate | None]) -> dict[str, Any]:
    """How far an event's sources reach: the last day of the newest `published` date among the
    documents citing it, or nothing when one of them is undated (its recurrence is then open)."""
    dates = [published.get(span.document) for span in fact.citations]
    if not dates or any(date is None for date in dates):
        return {"sources_until_year": None, "sources_until": None}
    last = max(date.latest for date in dates if date is not None)
    return {"sources_until_year": last.year, "sources_until": last}


def search_alias_columns(aliases: list[str]) -> dict[str, Any]:
    """The curator's search aliases, as listed and casefolded between bars for the filters."""
    folded = [alias.strip().casefold() for alias in aliases]
    return {"search_aliases": list(aliases), "search_names": "".join(f"|{name}|" for name in folded)}


def recurrence_columns(recurrence: EventRecurrence | None) -> dict[str, Any]:
    """An event's recurrence columns (all None for a one-off event)."""
    return {
        "recurrence": recurrence.frequency if recurrence else None,
        "recurrence_description": recurrence.description if recurrence else None,
        **date_columns("since", recurrence.since if recurrence else None),
        **date_columns("until", recurrence.until if recurrence else None),
    }


def coverage_columns(coverage: Coverage) -> dict[str, Any]:
    """A document's coverage columns."""
    return {
        "sentence_count": coverage.sentences,
        "cited_count": coverage.cited,
        "no_fact_count": coverage.no_fact,
    }


def participant_rows(fact: Fact, country_ids: dict[str, int]) -> set[tuple[Any, ...]]:
    """An event's participations: (country id, role, role kind, basis, basis note), one per country."""
    kinds = {code: (kind, basis, note) for code, kind, basis, note in sorted(fact.links["participant_kinds"], key=str)}
    return {(country_ids[code], role, *kinds[code]) for code, role in fact.links["participants"]}


def _sync_citations(sync: _Sync, table: Table, desired: dict[Any, dict[str, Any]]) -> None:
    """Citations are keyed by (subject, document, span); each subject column in turn."""
    counter = sync.report.counts["citations"]
    existing: dict[Any, tuple[int, str]] = {}
    for column in models.SUBJECT_COLUMNS:
        for row in sync.conn.execute(
            select(table.c.id, table.c[column], table.c.document_id, table.c.start, table.c.end, table.c.quote).where(
                table.c[column].is_not(None)
            )
        ):
            existing[(column, row[1], row[2], row[3], row[4])] = (row[0], row[5])
    to_insert = []
    for key, values in desired.items():
        found = existing.get(key)
        if found is None:
            column, subject_id, document_id, start, end = key
            to_insert.append(
                {
                    column: subject_id,
                    "document_id": document_id,
                    "start": start,
                    "end": end,
                    "quote": values["quote"],
                }
            )
        elif found[1] != values["quote"]:
            sync.conn.execute(update(table).where(table.c.id == found[0]).values(quote=values["quote"]))
            counter["updated"] += 1
        else:
            counter["unchanged"] += 1
    for column in models.SUBJECT_COLUMNS:
        rows = [
            {c: row.get(c) for c in ("document_id", "start", "end", "quote", *models.SUBJECT_COLUMNS)}
            for row in to_insert
            if column in row
        ]
        for chunk in _chunks(rows, 500):
            sync.conn.execute(insert(table), chunk)
    counter["added"] += len(to_insert)
    gone = [row_id for key, (row_id, _quote) in existing.items() if key not in desired]
    counter["removed"] += len(gone)
    for chunk in _chunks(gone, 500):
        sync.conn.execute(delete(table).where(table.c.id.in_(chunk)))


CONFLICT_SUBJECT = {
    "organizations": "organization",
    "memberships": "membership",
    "chairmanships": "chairmanship",
    "events": "event",
    "statistics": "statistic",
}


def _sync_conflicts(
    sync: _Sync,
    t: dict[str, Table],
    dataset: Dataset,
    subject_ids: dict[str, dict[str, int]],
    document_ids: dict[str, int],
) -> None:
    """Conflicts are keyed by (subject, field); a conflict whose values changed counts as updated."""
    keyed = {(CONFLICT_SUBJECT[c.type], subject_ids[c.type][c.key], c.field): c for c in dataset.conflicts}
    conflict_ids = sync.rows(
        "conflicts", t["conflicts"], ("entity_type", "entity_id", "field"), {key: {} for key in keyed}
    )
    values = {
        key: {
            (
                position,
                stated.text,
                document_ids[stated.citation.document],
                stated.citation.start,
                stated.citation.end,
                stated.citation.quote,
            )
            for position, stated in enumerate(conflict.values)
        }
        for key, conflict in keyed.items()
    }
    changed = sync.links(
        t["conflict_values"],
        "conflict_id",
        conflict_ids,
        values,
        ("position", "value", "document_id", "start", "end", "quote"),
    )
    sync.touch("conflicts", changed)


def _bump_version(conn: Connection, changed: bool) -> int:
    state: Table = models.DatasetState.__table__  # type: ignore[assignment]
    row = conn.execute(select(state.c.version)).scalar()
    if row is None:
        conn.execute(insert(state).values(id=1, version=1, seeded_at=dt.datetime.now(dt.UTC)))
        return 1
    if not changed:
        return int(row)
    conn.execute(
        update(state).values(
            version=row + 1,
            seeded_at=dt.datetime.now(dt.UTC),
            database_id=func.coalesce(state.c.database_id, models.new_database_id()),
        )
    )
    return int(row) + 1
