"""Seeding: validation errors abort everything, writes are all-or-nothing, re-runs are idempotent."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from app.config import PROJECT_ROOT, SEED_DIR
from app.data import models
from app.data.engine import create_engine
from app.seeding import SeedFailed, seed, validate
from tests.conftest import FIXTURES


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered, to compare a database before and after."""

    async def read() -> dict[str, list[tuple[Any, ...]]]:
        engine = create_engine(url, pool=False)
        try:
            async with engine.connect() as conn:
                tables = {}
                for table in models.Base.metadata.sorted_tables:
                    rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
                    tables[table.name] = [tuple(row) for row in rows]
                version = await conn.execute(text("SELECT version_num FROM alembic_version"))
                tables["alembic_version"] = [tuple(row) for row in version]
                return tables
        finally:
            await engine.dispose()

    return asyncio.run(read())


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert old in content, f"{old!r} not in {path}"
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


def seeded(url: str, seed_dir: Path) -> dict[str, dict[str, int]]:
    outcome = asyncio.run(seed(url, seed_dir))
    assert outcome.report is not None
    return {name: {k: v for k, v in counter.items() if v} for name, counter in outcome.report.counts.items()}


def test_project_seed_files_are_valid() -> None:
    dataset = validate(SEED_DIR)
    counts = dataset.counts()
    assert counts["documents"] >= 1
    for section in ("countries", "organizations", "memberships", "chairmanships", "events", "statistics"):
        assert counts[section] > 0, section
    assert dataset.conflicts == []


def test_seed_stores_every_record_and_citation(migrated_db: str) -> None:
    dataset = validate(SEED_DIR)
    counts = seeded(migrated_db, SEED_DIR)
    for name, expected in dataset.counts().items():
        assert counts[name]["added"] == expected, name
    tables = snapshot(migrated_db)
    assert len(tables["citations"]) == dataset.counts()["citations"]
    document_text = {row[0]: row[6] for row in tables["documents"]}
    for row in tables["citations"]:
        citation_id, document_id, start, end, quote = row[:5]
        assert document_text[document_id][start:end] == quote, citation_id


def test_second_seed_changes_nothing(migrated_db: str, small_seed: Path) -> None:
    seeded(migrated_db, small_seed)
    before = snapshot(migrated_db)
    counts = seeded(migrated_db, small_seed)
    assert all(
        counter.get("added", 0) == counter.get("updated", 0) == counter.get("removed", 0) == 0
        for counter in counts.values()
    ), counts
    assert counts["events"]["unchanged"] == 3
    assert snapshot(migrated_db) == before


def test_cli_reports_nothing_changed_on_second_run(migrated_db: str, small_seed: Path) -> None:
    first = run_cli("seed", "--database-url", migrated_db, "--seed-dir", str(small_seed))
    assert first.returncode == 0, first.stderr
    assert "changes written" in first.stdout
    second = run_cli("seed", "--database-url", migrated_db, "--seed-dir", str(small_seed))
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout
    assert "events                    0          0          0          3" in second.stdout


def test_changed_fact_is_updated_in_place(migrated_db: str, small_seed: Path) -> None:
    seeded(migrated_db, small_seed)
    before = {row[1]: row for row in snapshot(migrated_db)["events"]}
    edit(small_seed / "small.yaml", "title: ESCAP meeting", "title: ESCAP ministerial meeting")
    edit(
        small_seed / "small.yaml",
        "participants: [MNG, {country: FJI, role: predecessor, kind: OTHER}]",
        "participants: [MNG]",
    )
    counts = seeded(migrated_db, small_seed)
    assert counts["events"] == {"updated": 1, "unchanged": 2}
    after = {row[1]: row for row in snapshot(migrated_db)["events"]}
    assert after["escap-meeting"][0] == before["escap-meeting"][0]  # same id
    assert after["escap-meeting"][2] == "ESCAP ministerial meeting"
    participants = snapshot(migrated_db)["event_participants"]
    assert [row for row in participants if row[0] == before["escap-meeting"][0]] == [
        (before["escap-meeting"][0], 1, "participant", "PARTICIPANT", "STATED", None)
    ]


def test_link_change_alone_counts_as_update(migrated_db: str, small_seed: Path) -> None:
    seeded(migrated_db, small_seed)
    edit(small_seed / "small.yaml", "partner_organizations: [osce]", "partner_organizations: []")
    counts = seeded(migrated_db, small_seed)
    assert counts["events"] == {"updated": 1, "unchanged": 2}


def test_removed_fact_is_removed(migrated_db: str, small_seed: Path) -> None:
    seeded(migrated_db, small_seed)
    content = (small_seed / "small.yaml").read_text(encoding="utf-8")
    start = content.index("  - slug: conference-hosted")
    end = content.index("statistics:")
    (small_seed / "small.yaml").write_text(content[:start] + content[end:], encoding="utf-8")
    counts = seeded(migrated_db, small_seed)
    assert counts["events"] == {"removed": 1, "unchanged": 2}
    assert counts["citations"]["removed"] == 1
    slugs = {row[1] for row in snapshot(migrated_db)["events"]}
    assert slugs == {"escap-meeting", "dialogue-pursued"}


def test_reset_reloads_from_scratch(migrated_db: str, small_seed: Path) -> None:
    seeded(migrated_db, small_seed)
    result = run_cli("seed", "--reset", "--database-url", migrated_db, "--seed-dir", str(small_seed))
    assert result.returncode == 0, result.stderr
    assert "events                    3          0          0          0" in result.stdout


def test_check_validates_without_writing(migrated_db: str, small_seed: Path) -> None:
    before = snapshot(migrated_db)
    result = run_cli("seed", "--check", "--database-url", migrated_db, "--seed-dir", str(small_seed))
    assert result.returncode == 0, result.stderr
    assert "seed files are valid" in result.stdout
    assert snapshot(migrated_db) == before


def test_seed_before_migrate_says_what_to_do(empty_db: str, small_seed: Path) -> None:
    with pytest.raises(SeedFailed, match="run `python -m app migrate` first"):
        asyncio.run(seed(empty_db, small_seed))


BROKEN = {
    "broken quote": (
        "small.yaml",
        'citations: ["Mongolia joined the OSCE in 2012"]\n  - slug: united-nations',
        'citations: ["Mongolia joined the OSCE in 2013"]\n  - slug: united-nations',
        "seed-small/small.yaml: organizations[0] (slug 'osce'): citations[0]: quote not found verbatim "
        "in document 'small': 'Mongolia joined the OSCE in 2013'",
    ),
    "dangling reference": (
        "small.yaml",
        "organization: escap\n    chairmanship",
        "organization: unesco\n    chairmanship",
        "seed-small/small.yaml: events[0] (slug 'escap-meeting'): organization: unknown organization 'unesco'",
    ),
    "duplicate slug": (
        "small.yaml",
        "slug: conference-hosted",
        "slug: dialogue-pursued",
        "seed-small/small.yaml: events[2] (slug 'dialogue-pursued'): slug: duplicate key 'dialogue-pursued'",
    ),
    "unparseable date": (
        "small.yaml",
        "date: April, 2013",
        "date: Aprill 2013",
        "seed-small/small.yaml: events[2] (slug 'conference-hosted'): date: date does not parse: "
        "'Aprill 2013': unknown month 'Aprill'",
    ),
    "quote with a straight apostrophe": (
        "small.yaml",
        'citations: ["Since the 1980’s Mongolia has pursued a dialogue"]',
        'citations: ["Since the 1980\'s Mongolia has pursued a dialogue"]',
        "seed-small/small.yaml: events[1] (slug 'dialogue-pursued'): citations[0]: quote not found verbatim in "
        "document 'small': \"Since the 1980's Mongolia has pursued a dialogue\"; the document has 'Since the 1980’s "
        "Mongolia has pursued a dialogue' at [200:248], which differs only in quote marks (’ in the document, ' in "
        "the quote)",
    ),
    "quote with a double space, a dash and another case": (
        "small.yaml",
        'citations: ["Mongolia chaired ESCAP on 27-28 May 2019"]',
        'citations: ["mongolia chaired ESCAP on 27–28  May 2019"]',
        "seed-small/small.yaml: events[0] (slug 'escap-meeting'): citations[0]: quote not found verbatim in "
        "document 'small': 'mongolia chaired ESCAP on 27–28  May 2019'; the document has 'Mongolia chaired ESCAP on "
        "27-28 May 2019' at [104:144], which differs only in dashes (- in the document, – in the quote); spaces (a "
        "double space in the quote); case",
    ),
    "quote in other words": (
        "small.yaml",
        'citations: ["More than 200 delegates attended as of September 2020."]',
        'citations: ["More than 200 delegates were present as of September 2020."]',
        "seed-small/small.yaml: statistics[0] (slug 'delegates'): citations[0]: quote not found verbatim in "
        "document 'small': 'More than 200 delegates were present as of September 2020.'; the nearest passage is "
        "'More than 200 delegates attended as of September 2020.' at [289:343]",
    ),
    "reference near a known name": (
        "small.yaml",
        "organization: escap\n    chairmanship",
        "organization: Economic and Social Commission for Asia and Pacific\n    chairmanship",
        "seed-small/small.yaml: events[0] (slug 'escap-meeting'): organization: unknown organization 'Economic and "
        "Social Commission for Asia and Pacific'; did you mean 'Economic and Social Commission for Asia and the "
        "Pacific' (escap)?",
    ),
    "country code near a known one": (
        "small.yaml",
        "predecessor: FJI",
        "predecessor: FIJ",
        # A code ISO 3166-1 does not assign is refused before references are resolved.
        "seed-small/small.yaml: chairmanships[0] (slug 'mongolia-chairs-escap'): predecessor: 'FIJ' is not an "
        "ISO 3166-1 alpha-3 country code; the closest codes are FIN (Finland), FJI (Fiji)",
    ),
    "chairmanship near a known one": (
        "small.yaml",
        "chairmanship: mongolia-chairs-escap",
        "chairmanship: mongolia-chair-escap",
        "seed-small/small.yaml: events[0] (slug 'escap-meeting'): chairmanship: unknown chairmanship "
        "'mongolia-chair-escap'; did you mean 'mongolia-chairs-escap'?",
    ),
    "range for a single date": (
        "small.yaml",
        "as_of: September 2020",
        "as_of: between 2019 and 2020",
        "seed-small/small.yaml: statistics[0] (slug 'delegates'): as_of: date does not parse: 'between 2019 and "
        "2020' is a range (2019 to 2020); this field takes a single date (e.g. '2019')",
    ),
    "date without a year": (
        "small.yaml",
        "date: 27-28 May 2019\n    organization: escap",
        "date: May 27\n    organization: escap",
        "seed-small/small.yaml: events[0] (slug 'escap-meeting'): date: date does not parse: 'May 27' is not a date "
        "form we read (e.g. '27 October 1961', 'June 10 2020', 'April, 2013', '2006', 'the 1980s', '1961-10-27', "
        "'198X'); it has no year: the document gives 2019 nearby (“…Mongolia chaired ESCAP on 27-28 May 2019, succeeding”), "
        "so write '27 May 2019' if that is the year meant (a date is never completed silently)",
    ),
    "malformed YAML": (
        "small.yaml",
        "events:\n",
        "events:\n  - slug: [unclosed\n",
        "seed-small/small.yaml: not valid YAML",
    ),
    "wrong field type": (
        "small.yaml",
        "value: 200",
        "value: two hundred",
        "seed-small/small.yaml: statistics[0] (slug 'delegates'): value: Input should be a valid number",
    ),
    "unknown field": (
        "small.yaml",
        "unit: delegates",
        "units: delegates",
        "seed-small/small.yaml: statistics[0] (slug 'delegates'): units: Extra inputs are not permitted",
    ),
    "unknown kind": (
        "small.yaml",
        "kind: CONFERENCE",
        "kind: CONFERENSE",
        "seed-small/small.yaml: events[2] (slug 'conference-hosted'): kind: unknown EventKind 'CONFERENSE'",
    ),
    "missing citations": (
        "small.yaml",
        '    citations: ["succeeding Fiji"]\n',
        "",
        "seed-small/small.yaml: countries[1] (code 'FJI'): citations: Field required",
    ),
    "unknown document": (
        "small.yaml",
        "document: small",
        "document: smal",
        "seed-small/small.yaml: document: unknown document 'smal': no documents/smal.txt",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_seed_fails_clearly_and_changes_nothing(migrated_db: str, small_seed: Path, case: str) -> None:
    seeded(migrated_db, small_seed)
    edit(small_seed / "small.yaml", "title: ESCAP meeting", "title: ESCAP meeting, renamed")
    file, old, new, message = BROKEN[case]
    edit(small_seed / file, old, new)
    before = snapshot(migrated_db)
    result = run_cli("seed", "--database-url", migrated_db, "--seed-dir", str(small_seed))
    assert result.returncode == 1
    assert "seed failed, nothing was written" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(migrated_db) == before


def test_every_error_is_reported_at_once(small_seed: Path) -> None:
    edit(small_seed / "small.yaml", "date: April, 2013", "date: Aprill 2013")
    edit(
        small_seed / "small.yaml",
        "organization: escap\n    chairmanship",
        "organization: unesco\n    chairmanship",
    )
    edit(small_seed / "small.yaml", "attended as of", "attended as at")
    with pytest.raises(SeedFailed) as failure:
        validate(small_seed)
    assert len(failure.value.errors) == 3


def test_failure_while_writing_rolls_everything_back(
    migrated_db: str, small_seed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(migrated_db, small_seed)
    before = snapshot(migrated_db)
    edit(small_seed / "small.yaml", "title: ESCAP meeting", "title: ESCAP meeting, renamed")
    edit(small_seed / "small.yaml", "label: Delegates attending", "label: Delegates present")

    from app.seeding import writer

    real = writer._Sync.remove_pending

    def fail_late(self: Any) -> None:
        real(self)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(writer._Sync, "remove_pending", fail_late)
    with pytest.raises(RuntimeError, match="the disk is full"):
        asyncio.run(seed(migrated_db, small_seed))
    assert snapshot(migrated_db) == before


def test_adding_a_document(migrated_db: str, seed_copy: Path) -> None:
    seeded(migrated_db, seed_copy)
    for path in (FIXTURES / "second-document").rglob("*.*"):
        if "draft" in path.relative_to(FIXTURES / "second-document").parts:
            continue  # the draft's own fixture (tests/test_draft.py)
        target = seed_copy / path.relative_to(FIXTURES / "second-document")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    counts = seeded(migrated_db, seed_copy)
    assert counts["documents"]["added"] == 1
    assert counts["countries"]["added"] == 1
    assert counts["organizations"]["added"] == 1
    assert counts["chairmanships"]["added"] == 1
    assert counts["events"]["added"] == 1
    assert counts["mentions"]["added"] == 2  # the new text names the OSCE twice: full name, acronym
    tables = snapshot(migrated_db)
    organizations = {row[1]: row for row in tables["organizations"]}
    council = organizations["osce-ministerial-council"]
    assert council[7] == organizations["osce"][0]  # parent resolved by the OSCE's full name
    assert seeded(migrated_db, seed_copy)["documents"] == {"unchanged": 2}
