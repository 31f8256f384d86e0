"""Filters: each one against the same selection computed from the seed files (both engines)."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import SEED_DIR
from app.dates import PartialDate, parse_date
from app.seeding import validate
from app.seeding.dataset import Dataset
from app.seeding.facts import Fact
from tests.conftest import Api


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return validate(SEED_DIR)


async def slugs(api: Api, field: str, filter_: dict[str, Any], key: str = "slug") -> set[str]:
    query = f"query($f: {field[0].upper()}{field[1:-1]}Filter) {{ {field}(first: 100, filter: $f) {{ totalCount nodes {{ {key} }} }} }}"
    query = query.replace("StatisticFilter", "StatisticFilter").replace("CountrieFilter", "CountryFilter")
    connection = (await api.data(query, {"f": filter_}))[field]
    found = {node[key] for node in connection["nodes"]}
    assert connection["totalCount"] == len(found)
    return found


def org_slugs(dataset: Dataset, reference: str) -> str:
    for slug, fact in dataset.facts["organizations"].items():
        if reference.lower() in (slug, (fact.values["acronym"] or "").lower()):
            return slug
    raise KeyError(reference)


def sources_until(fact: Fact, dataset: Dataset) -> PartialDate | None:
    """The newest `published` date of the documents citing a fact; None when one is undated."""
    dates = [dataset.documents[span.document].meta.published for span in fact.citations]
    if not dates or any(date is None for date in dates):
        return None
    return max((parse_date(str(date)) for date in dates), key=lambda date: date.latest)


def recurs_within(fact: Fact, since: PartialDate | None, until: PartialDate | None, bound: PartialDate | None) -> bool:
    """A recurring event's occurrences reach [since, until]: every year from its `since` to its
    `until` (open-ended: to its newest source's date, `bound`), a biennial one every other year."""
    recurrence = fact.values["recurrence"]
    end = recurrence.until or bound
    if until is not None and recurrence.since.earliest > until.latest:
        return False
    if since is not None and end is not None and end.latest < since.earliest:
        return False
    low = max(recurrence.since.year, since.earliest.year if since else 0)
    high = min(end.year if end else 9999, until.latest.year if until else 9999)
    step = 2 if recurrence.frequency == "BIENNIAL" else 1
    return any(year >= low for year in range(recurrence.since.year, high + 1, step))


def overlaps(
    fact: Fact,
    start: str,
    end: str,
    since: PartialDate | None,
    until: PartialDate | None,
    bound: PartialDate | None = None,
) -> bool:
    if fact.values.get("recurrence") is not None:
        return recurs_within(fact, since, until, bound)
    first = fact.values[start]
    if first is None:
        return False
    last = fact.values[end] or first
    if fact.values.get("ongoing") and fact.values[end] is None:  # to its sources' date, if dated
        last = bound or PartialDate.of_year(9999)
    return (since is None or last.latest >= since.earliest) and (until is None or first.earliest <= until.latest)


@pytest.mark.parametrize("kind", ["UN_REGIONAL_COMMISSION", "WORKING_GROUP", "GROUP_OF_STATES"])
async def test_organizations_by_kind(api: Api, dataset: Dataset, kind: str) -> None:
    expected = {s for s, f in dataset.facts["organizations"].items() if f.values["kind"] == kind}
    assert expected
    assert await slugs(api, "organizations", {"kind": kind}) == expected


@pytest.mark.parametrize("parent", ["united-nations", "UN", "CD"])
async def test_organizations_by_parent(api: Api, dataset: Dataset, parent: str) -> None:
    slug = org_slugs(dataset, parent)
    expected = {s for s, f in dataset.facts["organizations"].items() if f.values["parent"] == slug}
    assert expected
    assert await slugs(api, "organizations", {"parent": parent}) == expected


async def test_organizations_top_level_and_by_name(api: Api, dataset: Dataset) -> None:
    top = {s for s, f in dataset.facts["organizations"].items() if f.values["parent"] is None}
    assert await slugs(api, "organizations", {"topLevel": True}) == top
    named = {
        s
        for s, f in dataset.facts["organizations"].items()
        if "democra" in f.values["name"].lower() or "democra" in (f.values["acronym"] or "").lower()
    }
    assert len(named) > 1
    assert await slugs(api, "organizations", {"name": "DEMOCRA"}) == named
    assert await slugs(api, "organizations", {"acronym": "osce"}) == {"osce"}
    assert await slugs(api, "organizations", {"name": "100%_"}) == set()


async def test_memberships_by_organization_and_member(api: Api, dataset: Dataset) -> None:
    expected = {s for s, f in dataset.facts["memberships"].items() if f.values["organization"] == "osce"}
    assert await slugs(api, "memberships", {"organization": "OSCE"}) == expected
    expected = {s for s, f in dataset.facts["memberships"].items() if f.values["member"] == "POL"}
    assert expected
    assert await slugs(api, "memberships", {"member": "pol"}) == expected


@pytest.mark.parametrize("day", ["1962", "2017-03", "2019-06-01", "2013"])
async def test_memberships_active_on(api: Api, dataset: Dataset, day: str) -> None:
    on = parse_date(day)

    def active(fact: Fact) -> bool:
        start, end = fact.values["start"], fact.values["end"]
        return (start is None or start.earliest <= on.latest) and (end is None or end.latest >= on.earliest)

    expected = {s for s, f in dataset.facts["memberships"].items() if active(f)}
    assert await slugs(api, "memberships", {"activeOn": day}) == expected


async def test_memberships_ended_in_a_range(api: Api, dataset: Dataset) -> None:
    found = await slugs(api, "memberships", {"status": "ENDED"})
    assert found == {s for s, f in dataset.facts["memberships"].items() if f.values["status"] == "ENDED"}
    human_rights = await slugs(api, "memberships", {"activeOn": "2017", "organization": "human-rights-council"})
    assert len(human_rights) == 1
    assert await slugs(api, "memberships", {"activeOn": "2019", "organization": "human-rights-council"}) == set()


async def test_chairmanships_by_organization_and_chair(api: Api, dataset: Dataset) -> None:
    expected = {s for s, f in dataset.facts["chairmanships"].items() if f.values["organization"] == "escap"}
    assert len(expected) == 3
    assert await slugs(api, "chairmanships", {"organization": "escap"}) == expected
    co_chaired = {s for s, f in dataset.facts["chairmanships"].items() if "POL" in f.links["co_chairs"]}
    assert co_chaired
    assert await slugs(api, "chairmanships", {"chair": "POL"}) == co_chaired
    poland = await api.data('{ country(code: "POL") { chairmanships { nodes { slug } } } }')
    assert {n["slug"] for n in poland["country"]["chairmanships"]["nodes"]} == co_chaired


@pytest.mark.parametrize("kind", ["SUMMIT", "RESOLUTION", "DECLARATION"])
async def test_events_by_kind(api: Api, dataset: Dataset, kind: str) -> None:
    expected = {s for s, f in dataset.facts["events"].items() if f.values["kind"] == kind}
    assert expected
    assert await slugs(api, "events", {"kind": kind}) == expected


async def test_events_by_kinds_organization_participant(api: Api, dataset: Dataset) -> None:
    events = dataset.facts["events"]
    expected = {s for s, f in events.items() if f.values["kind"] in ("SUMMIT", "CONFERENCE")}
    assert await slugs(api, "events", {"kinds": ["SUMMIT", "CONFERENCE"]}) == expected
    expected = {s for s, f in events.items() if f.values["organization"] == "asem"}
    assert expected
    assert await slugs(api, "events", {"organization": "ASEM"}) == expected
    expected = {s for s, f in events.items() if any(code == "POL" for code, _ in f.links["participants"])}
    assert expected
    assert await slugs(api, "events", {"participant": "POL"}) == expected
    both = {s for s, f in events.items() if f.values["organization"] == "asem" and f.values["kind"] == "SUMMIT"}
    assert await slugs(api, "events", {"organization": "asem", "kind": "SUMMIT"}) == both


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2019", "2019"),
        ("2019-05-28", None),
        (None, "1999"),
        ("2009-07", "2009-07"),
        ("198X", "198X"),
        ("2012", "2013-04"),
    ],
)
async def test_events_in_a_date_range_overlap_by_span(
    api: Api, dataset: Dataset, since: str | None, until: str | None
) -> None:
    bounds = (parse_date(since) if since else None, parse_date(until) if until else None)
    expected = {
        s for s, f in dataset.facts["events"].items() if overlaps(f, "date", "end", *bounds, sources_until(f, dataset))
    }
    assert expected
    filter_ = {k: v for k, v in (("from", since), ("to", until)) if v}
    assert await slugs(api, "events", filter_) == expected


async def test_a_year_overlaps_the_days_inside_it(api: Api, dataset: Dataset) -> None:
    may_2019 = await slugs(api, "events", {"from": "2019-05-27", "to": "2019-05-27"})
    day_events = {
        s for s, f in dataset.facts["events"].items() if f.values["date"] and f.values["date"].edtf == "2019-05-27"
    }
    year_events = {
        s for s, f in dataset.facts["events"].items() if f.values["date"] and f.values["date"].edtf == "2019"
    }
    assert day_events and year_events
    assert day_events | year_events <= may_2019


async def test_events_by_text(api: Api, dataset: Dataset) -> None:
    expected = {
        s
        for s, f in dataset.facts["events"].items()
        if "ulaanbaatar" in (f.values["title"] + " " + (f.values["description"] or "")).lower()
    }
    assert len(expected) > 1
    assert await slugs(api, "events", {"text": "ULAANBAATAR"}) == expected


async def test_statistics_by_organization(api: Api, dataset: Dataset) -> None:
    expected = {s for s, f in dataset.facts["statistics"].items() if f.values["organization"] == "united-nations"}
    assert expected
    assert await slugs(api, "statistics", {"organization": "UN"}) == expected


async def test_nested_filter(api: Api, dataset: Dataset) -> None:
    data = await api.data('{ country(code: "MNG") { events(first: 100, filter: {kind: SUMMIT}) { nodes { slug } } } }')
    expected = {
        s
        for s, f in dataset.facts["events"].items()
        if f.values["kind"] == "SUMMIT" and any(code == "MNG" for code, _ in f.links["participants"])
    }
    assert {node["slug"] for node in data["country"]["events"]["nodes"]} == expected


@pytest.mark.parametrize("bad", ["yesterday", "2019-13", "31 February 2019"])
async def test_bad_date_in_a_filter_is_a_clear_error(api: Api, bad: str) -> None:
    errors = await api.errors("query($d: String) { events(filter: {from: $d}) { nodes { slug } } }", {"d": bad})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["message"].startswith("`filter.from`:")


async def test_unknown_enum_in_a_filter_is_a_validation_error(api: Api) -> None:
    errors = await api.errors('{ events(filter: {kind: "PARTY"}) { nodes { slug } } }')
    assert "EventKind" in errors[0]["message"]
