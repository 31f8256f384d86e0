"""Which document wins: priority, then the most recent publication, then name order; the curators'
words stay with the document that defined a record first; a country and a place inside it agree.

Built on tests/fixtures/overlap-document/ (see tests/test_merging.py): it contradicts the seed
document on the year Mongolia assumed the Presidency of the Community of Democracies (2012 against
the seed's 2011).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.seeding import SeedFailed, seed, validate
from tests.conftest import make_api
from tests.test_merging import (
    PRESIDENCY_OVERLAP_QUOTE,
    PRESIDENCY_SEED_QUOTE,
    SEED_DOCUMENT,
    by_slug,
    rows,
    with_overlap,
)
from tests.test_seeding import edit, seeded, snapshot

PRESIDENCY = "cd-presidency-assumption-2011"
CONFERENCE = "cd-7th-ministerial-conference-2013"


def meta(seed_dir: Path, document: str, extra: str) -> None:
    path = seed_dir / "documents" / f"{document}.yaml"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + extra + "\n", encoding="utf-8")


def copy_document(seed_dir: Path, source: str, target: str) -> Path:
    """Another document with `source`'s text and facts, under the slug `target`; its facts file."""
    documents = seed_dir / "documents"
    shutil.copy(documents / f"{source}.txt", documents / f"{target}.txt")
    shutil.copy(documents / f"{source}.yaml", documents / f"{target}.yaml")
    facts = seed_dir / f"{target}.yaml"
    facts.write_text(
        (seed_dir / f"{source}.yaml")
        .read_text(encoding="utf-8")
        .replace(f"document: {source}\n", f"document: {target}\n"),
        encoding="utf-8",
    )
    return facts


def kept_and_listed(seed_dir: Path) -> tuple[str, list[tuple[str, str]]]:
    dataset = validate(seed_dir)
    [conflict] = [c for c in dataset.conflicts if c.key == PRESIDENCY]
    return dataset.facts["events"][PRESIDENCY].values["date"].edtf, [
        (v.text, v.citation.document) for v in conflict.values
    ]


@pytest.fixture
def overlap_seed(tmp_path: Path) -> Path:
    return with_overlap(tmp_path / "seed")


def test_without_metadata_name_order_decides(overlap_seed: Path) -> None:
    assert kept_and_listed(overlap_seed) == ("2011", [("2011", SEED_DOCUMENT), ("2012", "overlap")])


def test_the_higher_priority_decides(overlap_seed: Path) -> None:
    meta(overlap_seed, "overlap", "priority: 1")
    assert kept_and_listed(overlap_seed) == ("2012", [("2012", "overlap"), ("2011", SEED_DOCUMENT)])
    meta(overlap_seed, SEED_DOCUMENT, "priority: 2")
    assert kept_and_listed(overlap_seed)[0] == "2011"


def test_the_more_recent_publication_decides_at_equal_priority(overlap_seed: Path) -> None:
    # The seed's document says it was published in 2020 (its metadata, inferred from its text).
    assert "\npublished: 2020\n" in (overlap_seed / "documents" / f"{SEED_DOCUMENT}.yaml").read_text(encoding="utf-8")
    meta(overlap_seed, "overlap", "published: March 2021")
    assert kept_and_listed(overlap_seed)[0] == "2012"
    edit(overlap_seed / "documents" / "overlap.yaml", "published: March 2021", "published: 2019")
    assert kept_and_listed(overlap_seed)[0] == "2011"
    # A dated document goes before an undated one.
    edit(overlap_seed / "documents" / f"{SEED_DOCUMENT}.yaml", "\npublished: 2020\n", "\n")
    assert kept_and_listed(overlap_seed)[0] == "2012"


def test_every_document_stating_the_field_is_listed_agreeing_ones_too(overlap_seed: Path) -> None:
    copy_document(overlap_seed, "overlap", "overlap-again")
    meta(overlap_seed, "overlap", "published: 2024")
    assert kept_and_listed(overlap_seed) == (
        "2012",
        [("2012", "overlap"), ("2012", "overlap-again"), ("2011", SEED_DOCUMENT)],
    )


def test_a_publication_range_is_refused_as_a_single_date(overlap_seed: Path) -> None:
    meta(overlap_seed, "overlap", "published: 27-29 April 2013")
    with pytest.raises(SeedFailed) as failure:
        validate(overlap_seed)
    assert failure.value.errors == [
        "seed/documents/overlap.yaml: published: date does not parse: '27-29 April 2013' is a range "
        "(2013-04-27 to 2013-04-29); this field takes a single date (e.g. '2013-04-27'), and a record "
        "with a span has start and end fields for it"
    ]


def test_removing_a_document_recomputes_the_kept_value(migrated_db: str, overlap_seed: Path) -> None:
    """Three documents: the seed (2011), the overlap (2012, priority 1), a recent one (2012)."""
    copy_document(overlap_seed, "overlap", "recent-report")
    meta(overlap_seed, "overlap", "priority: 1")
    meta(overlap_seed, "recent-report", "published: 2025")
    seeded(migrated_db, overlap_seed)
    tables = snapshot(migrated_db)
    event = by_slug(tables, "events")[PRESIDENCY]
    assert event["date_edtf"] == "2012"
    values = sorted(rows(tables, "conflict_values"), key=lambda row: row["position"])
    documents = {row["id"]: row["slug"] for row in rows(tables, "documents")}
    assert [(row["value"], documents[row["document_id"]]) for row in values] == [
        ("2012", "overlap"),
        ("2012", "recent-report"),
        ("2011", SEED_DOCUMENT),
    ]

    for path in (overlap_seed / "overlap.yaml", overlap_seed / "documents" / "overlap.txt"):
        path.unlink()
    (overlap_seed / "documents" / "overlap.yaml").unlink()
    seeded(migrated_db, overlap_seed)
    tables = snapshot(migrated_db)
    # The recent report still states 2012 and is more recent than the undated seed document.
    assert by_slug(tables, "events")[PRESIDENCY]["date_edtf"] == "2012"
    values = sorted(rows(tables, "conflict_values"), key=lambda row: row["position"])
    documents = {row["id"]: row["slug"] for row in rows(tables, "documents")}
    assert [(row["value"], documents[row["document_id"]], row["quote"]) for row in values] == [
        ("2012", "recent-report", PRESIDENCY_OVERLAP_QUOTE),
        ("2011", SEED_DOCUMENT, PRESIDENCY_SEED_QUOTE),
    ]

    for path in (overlap_seed / "recent-report.yaml", overlap_seed / "documents" / "recent-report.txt"):
        path.unlink()
    (overlap_seed / "documents" / "recent-report.yaml").unlink()
    seeded(migrated_db, overlap_seed)
    tables = snapshot(migrated_db)
    assert by_slug(tables, "events")[PRESIDENCY]["date_edtf"] == "2011"
    assert tables["conflicts"] == []


def test_a_new_document_sorting_first_keeps_the_curators_words(overlap_seed: Path) -> None:
    facts = copy_document(overlap_seed, "overlap", "a-chronicle")
    for path in (overlap_seed / "overlap.yaml", overlap_seed / "documents" / "overlap.txt"):
        path.unlink()
    (overlap_seed / "documents" / "overlap.yaml").unlink()
    edit(facts, "title: 7th Ministerial Conference of the Community of Democracies", "title: The CD meets")
    meta(overlap_seed, "a-chronicle", "added: 2026-12-01")
    dataset = validate(overlap_seed)
    assert (
        dataset.facts["events"][CONFERENCE].values["title"]
        == "7th Ministerial Conference of the Community of Democracies"
    )
    # The seed document's slugs stand for organizations the new file names under its own slugs.
    assert "community-of-democracies" in dataset.facts["organizations"]
    assert "community-democracies" not in dataset.facts["organizations"]

    edit(facts, "document: a-chronicle\n", "document: a-chronicle\noverride: true\n")
    assert validate(overlap_seed).facts["events"][CONFERENCE].values["title"] == "The CD meets"


def test_a_country_and_a_city_in_it_agree_keeping_the_city(migrated_db: str, overlap_seed: Path) -> None:
    # The seed document says the conference was in "Mongolia"; the overlap names the city.
    edit(
        overlap_seed / "overlap.yaml",
        "    date: 27-29 April 2013\n",
        "    date: 27-29 April 2013\n    place: Ulaanbaatar\n",
    )
    dataset = validate(overlap_seed)
    assert [c.key for c in dataset.conflicts] == [PRESIDENCY]
    seeded(migrated_db, overlap_seed)
    assert by_slug(snapshot(migrated_db), "events")[CONFERENCE]["location"] == "Ulaanbaatar"
    # Another city is a conflict.
    edit(overlap_seed / "overlap.yaml", "place: Ulaanbaatar", "place: Havana")
    assert sorted(c.key for c in validate(overlap_seed).conflicts) == [CONFERENCE, PRESIDENCY]


def test_the_issue_s_curator_errors(overlap_seed: Path) -> None:
    """The two mistakes a new curator made: a plural name and a date written as the sentence writes it."""
    edit(
        overlap_seed / "overlap.yaml",
        "organization: CD Ministerial Conference",
        "organization: CD Ministerial Conferences",
    )
    edit(overlap_seed / "overlap.yaml", "date: 27-29 April 2013", "date: April 27")
    with pytest.raises(SeedFailed) as failure:
        validate(overlap_seed)
    label = "seed/overlap.yaml: events[3] (slug 'cd-7th-ministerial-conference-2013')"
    assert sorted(failure.value.errors) == [
        f"{label}: date: date does not parse: 'April 27' is not a date form we read (e.g. '27 October 1961', "
        "'June 10 2020', 'April, 2013', '2006', 'the 1980s', '1961-10-27', '198X'); it has no year: the document "
        "gives 2013 nearby (\u201c\u2026in Ulaanbaatar on 27-29 April 2013.\u201d), so "
        "write '27 April 2013' if that is the year meant (a date is never completed silently)",
        f"{label}: organization: unknown organization 'CD Ministerial Conferences'; did you mean "
        "'CD Ministerial Conference' (cd-ministerial-conference) or 'OSCE Ministerial Council' "
        "(osce-ministerial-council)?",
    ]


async def test_the_api_lists_every_stating_document_and_marks_the_kept_ones(
    migrated_db: str, overlap_seed: Path
) -> None:
    copy_document(overlap_seed, "overlap", "overlap-again")
    meta(overlap_seed, "overlap", "priority: 1")
    await seed(migrated_db, overlap_seed)
    async for api in make_api(migrated_db):
        data = await api.data(
            "{ conflicts { nodes { subject { ... on Event { slug date { edtf } } } "
            "values { value kept citation { document { slug } } } } } }"
        )
    [conflict] = data["conflicts"]["nodes"]
    assert conflict["subject"] == {"slug": PRESIDENCY, "date": {"edtf": "2012"}}
    assert [(v["value"], v["kept"], v["citation"]["document"]["slug"]) for v in conflict["values"]] == [
        ("2012", True, "overlap"),
        ("2012", True, "overlap-again"),
        ("2011", False, SEED_DOCUMENT),
    ]
