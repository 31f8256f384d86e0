"""Many documents, one knowledge base: facts merged across documents, dates refined, conflicts reported.

tests/fixtures/overlap-document/ was written for these tests: it restates facts of the project's seed
document under the same natural keys or under other slugs of the same organizations, states the OSCE
accession to the day (the seed says "in 2012") and the 7th CD Ministerial Conference as 27-29 April
2013 (the seed says "April, 2013"), and contradicts the seed on the year Mongolia assumed the
Presidency of the Community of Democracies (2012; the seed says 2011).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.config import SEED_DIR
from app.data import models
from app.data.migrations import upgrade
from app.dates import PartialDate, parse_date
from app.seeding import SeedFailed, seed, validate
from app.seeding.facts import CitationSpan, Fact
from app.seeding.merging import Merger, Statement, place_refines
from tests.conftest import ENGINES, FIXTURES, Api, Databases, make_api
from tests.test_seeding import edit, run_cli, seeded, snapshot

OVERLAP = FIXTURES / "overlap-document"
SEED_DOCUMENT = "mongolia-multilateral-cooperation"
PRESIDENCY_SEED_QUOTE = "In 2011, Mongolia assumed the Presidency of the CD from Lithuania"
PRESIDENCY_OVERLAP_QUOTE = "Mongolia took over the Presidency of the Community of Democracies from Lithuania in 2012."


def with_overlap(target: Path) -> Path:
    """A copy of the project's seed folder with the overlapping document added."""
    shutil.copytree(SEED_DIR, target)
    for path in OVERLAP.rglob("*.*"):
        destination = target / path.relative_to(OVERLAP)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, destination)
    return target


@pytest.fixture
def overlap_seed(tmp_path: Path) -> Path:
    return with_overlap(tmp_path / "seed")


@pytest.fixture(scope="module", params=ENGINES)
def overlap_db(request: pytest.FixtureRequest, databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database seeded from the project's seed and the overlapping document, shared by the API tests."""
    url = databases.new(str(request.param))
    upgrade(url)
    asyncio.run(seed(url, with_overlap(tmp_path_factory.mktemp("overlap") / "seed")))
    return url


@pytest.fixture
async def overlap_api(overlap_db: str) -> AsyncIterator[Api]:
    async for made in make_api(overlap_db):
        yield made


Tables = dict[str, list[tuple[Any, ...]]]


def rows(tables: Tables, table: str) -> list[dict[str, Any]]:
    """A snapshot's rows of `table` as dicts by column name."""
    names = [column.name for column in models.Base.metadata.tables[table].columns]
    return [dict(zip(names, row, strict=True)) for row in tables[table]]


def by_slug(tables: Tables, table: str) -> dict[str, dict[str, Any]]:
    return {row["slug"]: row for row in rows(tables, table)}


def cited_by(tables: Tables, column: str, subject_id: int) -> set[str]:
    """The slugs of the documents citing one subject."""
    documents = {row["id"]: row["slug"] for row in rows(tables, "documents")}
    return {documents[row["document_id"]] for row in rows(tables, "citations") if row[column] == subject_id}


# -- merging -------------------------------------------------------------------------------------


def test_the_overlap_adds_only_what_is_new(overlap_seed: Path) -> None:
    alone, merged = validate(SEED_DIR).counts(), validate(overlap_seed).counts()
    assert merged["documents"] == alone["documents"] + 1
    assert merged["countries"] == alone["countries"]  # MNG and LTU again
    assert merged["organizations"] == alone["organizations"] + 1  # the OSCE Ministerial Council
    assert merged["memberships"] == alone["memberships"]
    assert merged["events"] == alone["events"] + 1  # the Ministerial Council in Dublin


def test_one_fact_stated_twice_is_one_record_citing_both(migrated_db: str, overlap_seed: Path) -> None:
    seeded(migrated_db, overlap_seed)
    tables = snapshot(migrated_db)
    [membership] = [row for row in rows(tables, "memberships") if row["slug"] == "mongolia-in-osce"]
    assert cited_by(tables, "membership_id", membership["id"]) == {SEED_DOCUMENT, "overlap"}
    event = by_slug(tables, "events")["mongolia-joins-osce-2012"]
    assert cited_by(tables, "event_id", event["id"]) == {SEED_DOCUMENT, "overlap"}


def test_an_organization_under_another_slug_is_the_same_organization(migrated_db: str, overlap_seed: Path) -> None:
    seeded(migrated_db, overlap_seed)
    tables = snapshot(migrated_db)
    organizations = by_slug(tables, "organizations")
    assert "community-democracies" not in organizations  # the overlap's slug for the CD
    assert "organization-for-security-and-co-operation-in-europe" not in organizations
    community = organizations["community-of-democracies"]
    assert community["acronym"] == "CD"
    assert community["aliases"] == ["the Community of Democracies"]  # a name the overlap uses, now an alias
    assert cited_by(tables, "organization_id", community["id"]) == {SEED_DOCUMENT, "overlap"}
    # References by the overlap's slugs resolve to the seed's records.
    events = by_slug(tables, "events")
    assert events["cd-presidency-assumption-2011"]["organization_id"] == community["id"]
    assert organizations["osce-ministerial-council"]["parent_id"] == organizations["osce"]["id"]


def test_the_more_precise_date_is_kept(migrated_db: str, overlap_seed: Path) -> None:
    seeded(migrated_db, overlap_seed)
    tables = snapshot(migrated_db)
    membership = by_slug(tables, "memberships")["mongolia-in-osce"]
    assert (membership["start_edtf"], membership["start_precision"]) == ("2012-11-21", "DAY")  # the seed: "in 2012"
    assert (membership["start_earliest"], membership["start_latest"]) == (dt.date(2012, 11, 21),) * 2
    assert cited_by(tables, "membership_id", membership["id"]) == {SEED_DOCUMENT, "overlap"}
    conference = by_slug(tables, "events")["cd-7th-ministerial-conference-2013"]
    assert (conference["date_edtf"], conference["end_edtf"]) == ("2013-04-27", "2013-04-29")  # the seed: "April, 2013"
    assert cited_by(tables, "event_id", conference["id"]) == {SEED_DOCUMENT, "overlap"}


def test_a_contradiction_keeps_the_first_stated_value(overlap_seed: Path) -> None:
    dataset = validate(overlap_seed)
    assert dataset.facts["events"]["cd-presidency-assumption-2011"].values["date"] == PartialDate.of_year(2011)
    [conflict] = dataset.conflicts
    assert (conflict.type, conflict.key, conflict.field) == ("events", "cd-presidency-assumption-2011", "date")
    assert [(v.text, v.citation.document, v.citation.quote) for v in conflict.values] == [
        ("2011", SEED_DOCUMENT, PRESIDENCY_SEED_QUOTE),
        ("2012", "overlap", PRESIDENCY_OVERLAP_QUOTE),
    ]


# -- the command line ----------------------------------------------------------------------------


def test_check_reports_the_conflict_with_both_quotes(overlap_seed: Path) -> None:
    result = run_cli("seed", "--check", "--seed-dir", str(overlap_seed))
    assert result.returncode == 3, result.stderr
    assert "conflict: events 'cd-presidency-assumption-2011': date: the documents disagree" in result.stderr
    assert f"2011 in {SEED_DOCUMENT} [" in result.stderr and f"\u201c{PRESIDENCY_SEED_QUOTE}\u201d" in result.stderr
    assert "2012 in overlap [" in result.stderr and f"\u201c{PRESIDENCY_OVERLAP_QUOTE}\u201d" in result.stderr
    assert "1 conflict between documents" in result.stderr
    assert "Traceback" not in result.stderr


def test_seed_writes_and_warns_of_the_conflict(migrated_db: str, overlap_seed: Path) -> None:
    result = run_cli("seed", "--database-url", migrated_db, "--seed-dir", str(overlap_seed))
    assert result.returncode == 0, result.stderr
    assert "warning: conflict: events 'cd-presidency-assumption-2011': date" in result.stderr
    assert PRESIDENCY_OVERLAP_QUOTE in result.stderr
    assert "conflicts                 1          0          0          0" in result.stdout
    tables = snapshot(migrated_db)
    event = by_slug(tables, "events")["cd-presidency-assumption-2011"]
    assert event["date_edtf"] == "2011"  # the first-stated value
    [conflict] = rows(tables, "conflicts")
    assert (conflict["entity_type"], conflict["entity_id"], conflict["field"]) == ("event", event["id"], "date")
    values = sorted(rows(tables, "conflict_values"), key=lambda row: row["position"])
    assert [(row["position"], row["value"], row["quote"]) for row in values] == [
        (0, "2011", PRESIDENCY_SEED_QUOTE),
        (1, "2012", PRESIDENCY_OVERLAP_QUOTE),
    ]
    texts = {row["id"]: row["text"] for row in rows(tables, "documents")}
    assert all(texts[row["document_id"]][row["start"] : row["end"]] == row["quote"] for row in values)


def test_second_seed_with_conflicts_changes_nothing(migrated_db: str, overlap_seed: Path) -> None:
    seeded(migrated_db, overlap_seed)
    before = snapshot(migrated_db)
    counts = seeded(migrated_db, overlap_seed)
    assert all(set(counter) == {"unchanged"} for counter in counts.values() if counter), counts
    assert counts["conflicts"] == {"unchanged": 1}
    assert snapshot(migrated_db) == before


def test_fixing_the_conflict_removes_it(migrated_db: str, overlap_seed: Path) -> None:
    seeded(migrated_db, overlap_seed)
    edit(overlap_seed / "overlap.yaml", "kind: PRESIDENCY\n    date: 2012", "kind: PRESIDENCY\n    date: 2011")
    counts = seeded(migrated_db, overlap_seed)
    assert counts.pop("conflicts") == {"removed": 1}
    assert all(set(counter) == {"unchanged"} for counter in counts.values() if counter), counts
    tables = snapshot(migrated_db)
    assert tables["conflicts"] == [] and tables["conflict_values"] == []


def test_a_third_value_joins_the_conflict_and_a_changed_one_updates_it(migrated_db: str, overlap_seed: Path) -> None:
    seeded(migrated_db, overlap_seed)
    edit(overlap_seed / "overlap.yaml", "kind: PRESIDENCY\n    date: 2012", "kind: PRESIDENCY\n    date: 2010")
    counts = seeded(migrated_db, overlap_seed)
    assert counts["conflicts"] == {"updated": 1}
    assert sorted(row["value"] for row in rows(snapshot(migrated_db), "conflict_values")) == ["2010", "2011"]


def test_a_removed_document_takes_its_conflicts_and_citations_along(migrated_db: str, overlap_seed: Path) -> None:
    seeded(migrated_db, overlap_seed)
    for path in (overlap_seed / "overlap.yaml", overlap_seed / "documents" / "overlap.txt"):
        path.unlink()
    (overlap_seed / "documents" / "overlap.yaml").unlink()
    counts = seeded(migrated_db, overlap_seed)
    assert counts["conflicts"] == {"removed": 1}
    assert counts["organizations"]["removed"] == 1  # the OSCE Ministerial Council
    membership = by_slug(snapshot(migrated_db), "memberships")["mongolia-in-osce"]
    assert (membership["start_edtf"], membership["start_precision"]) == ("2012", "YEAR")  # the seed's precision


# -- identity errors -----------------------------------------------------------------------------

ANOTHER_CD = """
  - slug: conference-on-disarmament
    name: Conference on Disarmament
    acronym: CD
    kind: FORUM
    citations: ["the Community of Democracies"]
"""


def test_another_organization_sharing_only_an_acronym_is_an_error(overlap_seed: Path) -> None:
    edit(overlap_seed / "overlap.yaml", "\nmemberships:", ANOTHER_CD + "\nmemberships:")
    with pytest.raises(SeedFailed) as failure:
        validate(overlap_seed)
    [error] = failure.value.errors
    assert error.startswith(
        "seed/overlap.yaml: organizations[3] (slug 'conference-on-disarmament'): acronym: 'CD' already names "
        "organization 'community-of-democracies' (seed/mongolia-multilateral-cooperation.yaml)"
    )
    assert "use its slug 'community-of-democracies' or its full name; if not, leave 'CD' to one of them" in error


def test_an_acronym_naming_two_organizations_in_one_file_is_an_error(small_seed: Path) -> None:
    edit(small_seed / "small.yaml", "acronym: UN\n", "acronym: UN\n    aliases: [OSCE]\n")
    edit(small_seed / "small.yaml", "    aliases: [the United Nations]\n", "")
    with pytest.raises(SeedFailed) as failure:
        validate(small_seed)
    [error] = failure.value.errors
    assert error.startswith(
        "seed-small/small.yaml: organizations[1] (slug 'united-nations'): aliases[0]: 'OSCE' already names "
        "organization 'osce' (in this file), whose names are 'osce', 'Organization for Security and Co-operation "
        "in Europe'."
    )


def test_a_duplicate_key_within_one_file_is_still_an_error(overlap_seed: Path) -> None:
    edit(overlap_seed / "overlap.yaml", "slug: osce-ministerial-council-dublin-2012", "slug: mongolia-joins-osce-2012")
    with pytest.raises(SeedFailed, match="slug: duplicate key 'mongolia-joins-osce-2012'"):
        validate(overlap_seed)


# -- the merge rules, one by one -----------------------------------------------------------------


def span(document: str, quote: str) -> CitationSpan:
    return CitationSpan(document, 0, len(quote), quote)


def fact(section: str, document: str, quote: str, links: dict[str, Any] | None = None, **values: Any) -> Fact:
    return Fact(section, "k", values, dict(links or {}), [span(document, quote)], [document])


def merged(*facts: Fact, override: tuple[str, ...] = ()) -> tuple[Fact, Merger]:
    """The record the facts make, each stated by its own document; earlier ones have precedence and seniority."""
    merger = Merger()
    statements = [
        Statement(f, f.sources[0], (index,), (index,), f.sources[0] in override) for index, f in enumerate(facts)
    ]
    return merger.merge(statements), merger


def test_unstated_values_never_conflict() -> None:
    first, merger = merged(
        fact("memberships", "a", "joined in 2012", status="ONGOING", role=None, start=parse_date("2012")),
        fact("memberships", "b", "a member", status="UNKNOWN", role="member", start=None),
    )
    assert first.values == {"status": "ONGOING", "role": "member", "start": parse_date("2012")}
    assert merger.conflicts == {}


def test_names_become_aliases_and_editorial_words_stay() -> None:
    senior = fact("organizations", "a", "the CD", name="Community of Democracies", acronym="CD", aliases=[])
    senior.values["description"] = "A coalition."
    other = fact(
        "organizations", "b", "CoD", name="the Community", acronym="CoD", aliases=["cd"], description="Other words."
    )
    first, merger = merged(senior, other)
    assert first.values["aliases"] == ["the Community", "CoD"]
    assert first.values["description"] == "A coalition."
    assert merger.conflicts == {}


def test_an_overriding_file_replaces_the_editorial_words() -> None:
    senior = fact("events", "a", "the conference", title="Conference", description="Old words.")
    newer = fact("events", "b", "the 7th conference", title="7th Conference", description=None)
    record, _merger = merged(senior, newer, override=("b",))
    assert (record.values["title"], record.values["description"]) == ("7th Conference", "Old words.")


def test_participants_unite_a_specific_role_wins_two_specific_roles_conflict() -> None:
    first, merger = merged(
        fact("events", "a", "Mongolia hosted", links={"participants": frozenset({("MNG", "participant")})}),
        fact("events", "b", "hosted by Mongolia", links={"participants": frozenset({("MNG", "host")})}),
        fact(
            "events",
            "c",
            "chaired by Mongolia",
            links={"participants": frozenset({("MNG", "chair"), ("POL", "guest")})},
        ),
    )
    assert first.links["participants"] == frozenset({("MNG", "host"), ("POL", "guest")})
    [conflict] = merger.conflicts.values()
    assert conflict.field == "participants[MNG]"
    assert [(v.text, v.citation.document) for v in conflict.values] == [("host", "b"), ("chair", "c")]


def test_a_refinement_becomes_the_kept_value_and_every_document_is_listed() -> None:
    first, merger = merged(
        fact("events", "a", "in 2012", date=parse_date("2012")),
        fact("events", "b", "in 2013", date=parse_date("2013")),
        fact("events", "c", "on 21 November 2012", date=parse_date("21 November 2012")),
        fact("events", "d", "in 2013 too", date=parse_date("2013")),
    )
    [conflict] = merger.conflicts.values()
    # The kept value first, then the document agreeing with it less precisely, then the others.
    assert [(v.text, v.citation.document) for v in conflict.values] == [
        ("2012-11-21", "c"),
        ("2012", "a"),
        ("2013", "b"),
        ("2013", "d"),
    ]
    assert first.values["date"].earliest == dt.date(2012, 11, 21)


def test_the_quote_stating_the_value_is_chosen() -> None:
    first = Fact(
        "statistics",
        "k",
        {"value": 200.0},
        {},
        [span("a", "Each Conference"), span("a", "more than 200 delegates")],
        ["a"],
    )
    _record, merger = merged(first, fact("statistics", "b", "some 1,250 delegates", value=1250.0))
    [conflict] = merger.conflicts.values()
    assert [(v.text, v.citation.quote) for v in conflict.values] == [
        ("200", "more than 200 delegates"),
        ("1250", "some 1,250 delegates"),
    ]


def test_a_country_and_a_place_inside_it_agree_two_places_do_not() -> None:
    names = {"MNG": {"mng", "mongolia"}, "THA": {"tha", "thailand"}}.__getitem__
    assert place_refines(("Mongolia", "MNG"), ("Ulaanbaatar", "MNG"), names)
    assert not place_refines(("Ulaanbaatar", "MNG"), ("Mongolia", "MNG"), names)
    assert place_refines(("Ulaanbaatar", "MNG"), ("Ulaanbaatar", "MNG"), names)
    assert place_refines(("Ulaanbaatar", None), ("ulaanbaatar", "MNG"), names)
    assert not place_refines(("Ulaanbaatar", "MNG"), ("Darkhan", "MNG"), names)
    assert not place_refines(("Mongolia", "MNG"), ("Bangkok", "THA"), names)
    assert not place_refines(("Thailand", "THA"), ("Ulaanbaatar", "MNG"), names)


# -- the API ---------------------------------------------------------------------------------------

CONFLICT_FIELDS = """
  field seedField
  subject { __typename id ... on Event { slug date { edtf } } }
  values { value kept date { edtf precision } citation { quote start end document { slug } } }
"""


async def test_records_expose_their_conflicts(overlap_api: Api, tmp_path: Path) -> None:
    listed = await overlap_api.data(
        "{ events(first: 100) { nodes { slug conflicts { field } } } "
        "memberships(first: 100) { nodes { conflicts { field } } } "
        "chairmanships(first: 100) { nodes { conflicts { field } } } }"
    )
    with_conflicts = [node["slug"] for node in listed["events"]["nodes"] if node["conflicts"]]
    assert with_conflicts == ["cd-presidency-assumption-2011"]
    more = await overlap_api.data(
        "{ statistics(first: 100) { nodes { conflicts { field } } } "
        "organizations(first: 100) { nodes { conflicts { field } } } }"
    )
    for connection in (listed["memberships"], listed["chairmanships"], more["statistics"], more["organizations"]):
        assert all(node["conflicts"] == [] for node in connection["nodes"])

    data = await overlap_api.data(
        f"""{{ events(first: 5, filter: {{kinds: [PRESIDENCY], organization: "CD"}}) {{
              nodes {{ slug conflicts {{ {CONFLICT_FIELDS} }} }} }} }}"""
    )
    [event] = data["events"]["nodes"]
    [conflict] = event["conflicts"]
    assert (conflict["field"], conflict["seedField"]) == ("date", "date")
    assert conflict["subject"]["date"] == {"edtf": "2011"}  # the record keeps the first-stated year
    assert [(v["value"], v["kept"], v["date"]["precision"]) for v in conflict["values"]] == [
        ("2011", True, "YEAR"),
        ("2012", False, "YEAR"),
    ]
    texts = {slug: document.text for slug, document in validate(with_overlap(tmp_path / "seed")).documents.items()}
    for value in conflict["values"]:
        citation = value["citation"]
        assert texts[citation["document"]["slug"]][citation["start"] : citation["end"]] == citation["quote"]
    assert [v["citation"]["quote"] for v in conflict["values"]] == [PRESIDENCY_SEED_QUOTE, PRESIDENCY_OVERLAP_QUOTE]


async def test_the_root_lists_every_conflict(overlap_api: Api) -> None:
    data = await overlap_api.data(f"{{ conflicts {{ totalCount edges {{ cursor node {{ {CONFLICT_FIELDS} }} }} }} }}")
    assert data["conflicts"]["totalCount"] == 1
    [edge] = data["conflicts"]["edges"]
    assert edge["node"]["subject"] == {
        "__typename": "Event",
        "id": edge["node"]["subject"]["id"],
        "slug": "cd-presidency-assumption-2011",
        "date": {"edtf": "2011"},
    }
    after = await overlap_api.data(
        "query($a: String) { conflicts(after: $a) { nodes { field } } }", {"a": edge["cursor"]}
    )
    assert after["conflicts"]["nodes"] == []


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({"subjectType": "EVENT"}, 1),
        ({"subjectType": "MEMBERSHIP"}, 0),
        ({"document": "overlap"}, 1),
        ({"document": "Overlap", "subjectType": "EVENT"}, 1),
        ({"document": "no-such-document"}, 0),
    ],
)
async def test_conflicts_filter(overlap_api: Api, filter_: dict[str, Any], expected: int) -> None:
    query = "query($f: ConflictFilter) { conflicts(filter: $f) { totalCount nodes { field } } }"
    data = await overlap_api.data(query, {"f": filter_})
    assert data["conflicts"]["totalCount"] == len(data["conflicts"]["nodes"]) == expected


async def test_the_merged_records_through_the_api(overlap_api: Api) -> None:
    data = await overlap_api.data(
        """{ memberships(filter: {organization: "OSCE"}) { nodes { slug startDate { edtf precision }
               citations { document { slug } } } }
             organization(slug: "CD") { slug aliases citations { document { slug } } } }"""
    )
    [membership] = data["memberships"]["nodes"]
    assert membership["startDate"] == {"edtf": "2012-11-21", "precision": "DAY"}
    assert {c["document"]["slug"] for c in membership["citations"]} == {SEED_DOCUMENT, "overlap"}
    organization = data["organization"]
    assert (
        organization["slug"] == "community-of-democracies" and "the Community of Democracies" in organization["aliases"]
    )
    assert {c["document"]["slug"] for c in organization["citations"]} == {SEED_DOCUMENT, "overlap"}


async def test_conflicts_cost_a_statement_per_level_not_per_record(overlap_api: Api) -> None:
    # The newest events up to 2011 come first, after the two undated recurrences (the UN conferences
    # and the CD Ministerial Conferences since 2000): the conflicting one (2011) is on every page.
    query = """{ events(first: %d, filter: {to: "2011"}, orderBy: {field: DATE, direction: DESC}) { nodes {
                 conflicts { field values { value citation { document { slug } } } subject { id } } } } }"""
    for size in (3, 8):
        data = await overlap_api.data(query % size)
        assert [node for node in data["events"]["nodes"] if node["conflicts"]]
        # events; their conflicts; the conflicts' values; the values' documents; the subjects (events).
        assert overlap_api.last_statements == 5
