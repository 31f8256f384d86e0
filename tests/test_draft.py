"""`python -m app draft`: proposals with verbatim quotes and exact offsets, pending until reviewed.

tests/fixtures/second-document/draft/ is a short text written for these tests: it restates facts
of the seed document in other words ("the VII Ministerial Conference", "April 27-29, 2013", a
date without its year, the ASEM by its full name) and adds a figure ("More than 1,215").
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import SEED_DIR
from app.curation.draft import draft_document
from app.curation.draft_measure import measure
from app.seeding import SeedFailed, validate
from tests.conftest import FIXTURES
from tests.test_merging import by_slug, cited_by
from tests.test_seeding import run_cli, snapshot

DRAFT_FIXTURE = FIXTURES / "second-document" / "draft"
SLUG = "cd-ministerial-2013"


@pytest.fixture
def draft_seed(tmp_path: Path) -> Path:
    """The project's seed folder with the new document's text and metadata, not yet drafted."""
    target = tmp_path / "seed"
    shutil.copytree(SEED_DIR, target)
    for path in (DRAFT_FIXTURE / "documents").iterdir():
        shutil.copy(path, target / "documents" / path.name)
    return target


def drafted(seed_dir: Path) -> tuple[dict[str, Any], str]:
    result = draft_document(seed_dir / "documents" / f"{SLUG}.txt")
    assert result.path == seed_dir / f"{SLUG}.draft.yaml"
    data = yaml.safe_load(result.path.read_text(encoding="utf-8"))
    return data, (seed_dir / "documents" / f"{SLUG}.txt").read_text(encoding="utf-8")


def records(data: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    return {record.get("slug") or record["code"]: record for record in data.get(section, [])}


def test_the_draft_splits_sentences_with_exact_offsets_and_quotes(draft_seed: Path) -> None:
    data, text = drafted(draft_seed)
    sentences = data["sentences"]
    assert [s["text"] for s in sentences] == [
        "Ulaanbaatar hosts the Community of Democracies",
        "Mongolia assumed the Presidency of the Community of Democracies in July 2011, taking over from Lithuania.",
        "The VII Ministerial Conference of the Community of Democracies was held in Ulaanbaatar on April 27-29, 2013.",
        "More than 1,215 participants from over 100 countries attended the conference, which adopted the "
        "Ulaanbaatar Declaration on April 29.",
        "Mongolia joined the Asia-Europe Meeting (ASEM) in 2006.",
    ]
    for sentence in sentences:
        assert text[sentence["start"] : sentence["end"]] == sentence["text"]
    # Every proposal: pending, its quotes verbatim in the text, and listed under the sentence it cites.
    listed = {proposal for sentence in sentences for proposal in sentence["proposals"]}
    for section in ("countries", "memberships", "chairmanships", "events", "statistics"):
        for key, record in records(data, section).items():
            assert record["review"] == "pending"
            assert f"{section}/{key}" in listed
            for quote in record["citations"]:
                assert isinstance(quote, str) and quote in text
                [sentence] = [s for s in sentences if s["text"] == quote or quote in s["text"]]
                assert text[sentence["start"] : sentence["end"]].find(quote) >= 0


def test_the_draft_proposes_the_records_restating_the_knowledge_base(draft_seed: Path) -> None:
    data, _text = drafted(draft_seed)
    events = records(data, "events")
    conference = events["cd-7th-ministerial-conference-2013"]  # "the VII Ministerial Conference"
    assert conference["note"] == "restates the existing record 'cd-7th-ministerial-conference-2013'"
    assert (conference["kind"], conference["date"], conference["place"]) == (
        "CONFERENCE",
        "April 27-29, 2013",
        "Ulaanbaatar",
    )
    assert conference["organization"] == "cd-ministerial-conference"
    assert conference["citations"] == [
        "The VII Ministerial Conference of the Community of Democracies was held in Ulaanbaatar on April 27-29, 2013."
    ]
    assert events["cd-presidency-assumption-2011"]["kind"] == "PRESIDENCY"
    assert events["mongolia-joins-asem-2006"]["organization"] == "asem"  # "the Asia-Europe Meeting (ASEM)"
    # A date without its year: completed from the document, and said so.
    declaration = events["ulaanbaatar-declaration-2013"]
    assert (declaration["kind"], declaration["date"]) == ("DECLARATION", "29 April 2013")
    assert declaration["basis"] == "inferred"
    assert declaration["basis_note"].startswith("date '29 April 2013' completed with the year the document gives")

    chair = records(data, "chairmanships")["mongolia-presidency-community-of-democracies"]
    assert (chair["organization"], chair["chair"], chair["start"]) == ("community-of-democracies", "MNG", "July 2011")
    membership = records(data, "memberships")["mongolia-in-asem"]
    assert (membership["member"], membership["organization"], membership["start"]) == ("MNG", "asem", "2006")
    figure = records(data, "statistics")["participants-1-215"]
    assert (figure["value"], figure["qualifier"], figure["unit"]) == (1215, "more than", "participants")
    assert set(records(data, "countries")) == {"MNG", "LTU"}


def test_seed_refuses_pending_proposals_naming_each(migrated_db: str, draft_seed: Path) -> None:
    data, _text = drafted(draft_seed)
    result = run_cli("seed", "--database-url", migrated_db, "--seed-dir", str(draft_seed))
    assert result.returncode == 1, result.stderr
    pending = [line for line in result.stderr.splitlines() if "still pending review" in line]
    expected = sum(len(data.get(section, [])) for section in ("countries", "memberships", "chairmanships", "events"))
    expected += len(data.get("statistics", []))
    assert len(pending) == expected
    assert (
        f"seed/{SLUG}.draft.yaml: events[1] (slug 'cd-7th-ministerial-conference-2013'): review: a draft's proposal "
        "still pending review: check it against the document, then delete `review: pending` to accept it, or "
        "delete the proposal" in result.stderr
    )
    assert snapshot(migrated_db)["documents"] == []

    # The curator reviews: drops the figure of countries, accepts the rest.
    draft = draft_seed / f"{SLUG}.draft.yaml"
    reviewed = yaml.safe_load(draft.read_text(encoding="utf-8"))
    reviewed["statistics"] = [s for s in reviewed["statistics"] if s["slug"] != "countries-100"]
    for section in ("countries", "memberships", "chairmanships", "events", "statistics"):
        for record in reviewed.get(section, []):
            del record["review"]
    draft.write_text(yaml.safe_dump(reviewed, sort_keys=False, allow_unicode=True), encoding="utf-8")
    result = run_cli("seed", "--database-url", migrated_db, "--seed-dir", str(draft_seed))
    assert result.returncode == 0, result.stderr
    tables = snapshot(migrated_db)
    conference = by_slug(tables, "events")["cd-7th-ministerial-conference-2013"]
    assert cited_by(tables, "event_id", conference["id"]) == {"mongolia-multilateral-cooperation", SLUG}
    assert (conference["date_edtf"], conference["end_edtf"]) == ("2013-04-27", "2013-04-29")
    # The seed document defined the record first: its title stands.
    assert conference["title"] == "7th Ministerial Conference of the Community of Democracies"


def test_a_pending_proposal_fails_validation_too(draft_seed: Path) -> None:
    drafted(draft_seed)
    with pytest.raises(SeedFailed, match="still pending review"):
        validate(draft_seed)


def test_the_cli_writes_the_draft_and_the_metadata(tmp_path: Path) -> None:
    seed_dir = tmp_path / "seed"
    shutil.copytree(SEED_DIR, seed_dir)
    shutil.copy(DRAFT_FIXTURE / "documents" / f"{SLUG}.txt", seed_dir / "documents" / f"{SLUG}.txt")
    result = run_cli("draft", str(seed_dir / "documents" / f"{SLUG}.txt"))
    assert result.returncode == 0, result.stderr
    assert f"wrote {seed_dir / 'documents' / (SLUG + '.yaml')}" in result.stdout
    assert f"wrote {seed_dir / (SLUG + '.draft.yaml')}: 5 sentences, " in result.stdout
    metadata = yaml.safe_load((seed_dir / "documents" / f"{SLUG}.yaml").read_text(encoding="utf-8"))
    assert metadata["title"] == "Ulaanbaatar hosts the Community of Democracies" and metadata["added"]
    assert run_cli("draft", str(seed_dir / "nothing.txt")).returncode == 2


def test_the_draft_of_the_seed_document_as_if_new() -> None:
    """The figures the README reports (the draft is deterministic: they change only with the rules)."""
    found, _draft = measure(SEED_DIR, "mongolia-multilateral-cooperation")
    assert found.curated == 107
    assert (found.recalled, found.precise, found.proposals) == (55, 50, 85)  # the README's figures


def test_a_title_that_names_its_kind_proposes_it(tmp_path: Path) -> None:
    """Issue 20: "hosted" proposed MEETING for "The 11th ASEM Summit", which conflicted with the curated SUMMIT."""
    seed_dir = tmp_path / "seed"
    shutil.copytree(SEED_DIR, seed_dir)
    text = seed_dir / "documents" / "asem-2016.txt"
    text.write_text("In 2016, Mongolia hosted the 11th ASEM Summit in Ulaanbaatar.\n", encoding="utf-8")
    result = draft_document(text)
    data = yaml.safe_load(result.path.read_text(encoding="utf-8"))
    summits = [event for event in data.get("events", []) if "Summit" in event["title"]]
    assert summits, data.get("events")
    assert all(event["kind"] == "SUMMIT" for event in summits)
