"""The timeline aggregate: counts by year, decade, kind, type and organization, checked on both engines
against counts computed here from the seed files themselves (YAML read directly, not through the seeder).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import SEED_DIR
from app.data.migrations import upgrade
from app.dates import DatePrecision, PartialDate, parse_date, parse_span
from app.seeding import seed
from tests.conftest import ENGINES, Api, Databases, make_api
from tests.test_merging import with_overlap

TYPES = ("EVENT", "MEMBERSHIP", "CHAIRMANSHIP")


@dataclass
class Item:
    """An event, membership or chairmanship as the seed files state it."""

    type: str
    slug: str
    kind: str
    organization: str | None
    start: PartialDate | None
    end: PartialDate | None
    countries: set[str] = field(default_factory=set)  # participants; the member; the chair and co-chairs
    occurrence: int | None = None  # a recurring event's year: an item of every year it recurs in


def _span(start: Any, end: Any) -> tuple[PartialDate | None, PartialDate | None]:
    if start is None:
        return None, None
    first, last = parse_span(str(start))
    return first, last if last is not None else (parse_date(str(end)) if end is not None else None)


def fixture_items(seed_dir: Path) -> list[Item]:
    """Every item of the seed files; a slug stated by several files is one item (the first file's, countries united)."""
    names: dict[str, str] = {}
    files = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(seed_dir.glob("*.yaml"))]
    for data in files:
        for org in data.get("organizations", []):
            slug = names.get(org["name"].casefold(), org["slug"])  # the same full name: the same organization
            for name in (org["slug"], org["name"], org.get("acronym"), *org.get("aliases", [])):
                if name:
                    names.setdefault(name.casefold(), slug)
    items: dict[tuple[str, str], Item] = {}
    # How far each event's sources reach: the newest `published` year of the documents citing it
    # (an undated one: no bound, this year), as far as a recurrence with no `until` is projected.
    published: dict[str, int | None] = {}
    for data in files:
        meta_path = seed_dir / "documents" / f"{data['document']}.yaml"
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        year = parse_date(str(meta["published"])).latest.year if meta.get("published") is not None else None
        for raw in data.get("events", []):
            seen = published.get(raw["slug"], 0)
            published[raw["slug"]] = None if seen is None or year is None else max(seen, year)

    def add(item: Item) -> None:
        found = items.setdefault((item.type, item.slug, item.occurrence), item)
        found.countries |= item.countries

    for data in files:
        for raw in data.get("events", []):
            if raw.get("occasion"):  # counted with the event it happened at
                continue
            countries = {p if isinstance(p, str) else p["country"] for p in raw.get("participants", [])}
            org = names[raw["organization"].casefold()] if raw.get("organization") else None
            recurrence = raw.get("recurrence")
            if recurrence is None:
                start, end = _span(raw.get("date"), raw.get("end_date"))
                if raw.get("ongoing"):  # spans to its sources' date (open when one is undated)
                    end = PartialDate.of_year(published[raw["slug"]] or 9999)
                add(Item("EVENT", raw["slug"], raw["kind"], org, start, end, countries))
                continue
            first = parse_date(str(recurrence["since"])).year
            until = recurrence.get("until")
            last = parse_date(str(until)).year if until else published[raw["slug"]] or dt.date.today().year
            for year in range(first, last + 1, 2 if recurrence["frequency"] == "BIENNIAL" else 1):
                when = PartialDate.of_year(year)
                add(Item("EVENT", raw["slug"], raw["kind"], org, when, None, countries, occurrence=year))
        for raw in data.get("memberships", []):
            org = names[raw["organization"].casefold()]
            start, end = _span(raw.get("start"), raw.get("end"))
            if start is None and raw.get("end") is not None:
                end = parse_date(str(raw["end"]))
            add(Item("MEMBERSHIP", raw["slug"], "MEMBERSHIP", org, start, end, {raw["member"]}))
        for raw in data.get("chairmanships", []):
            org = names[raw["organization"].casefold()]
            holders = {raw["chair"], *raw.get("co_chairs", [])}
            add(
                Item(
                    "CHAIRMANSHIP", raw["slug"], "CHAIRMANSHIP", org, *_span(raw.get("start"), raw.get("end")), holders
                )
            )
    return list(items.values())


def selected(item: Item, filter_: dict[str, Any]) -> bool:
    """Whether the lists' filters (`events`, `memberships`, `chairmanships`) keep the item."""
    if "kinds" in filter_ and (item.type != "EVENT" or item.kind not in filter_["kinds"]):
        return False
    if "country" in filter_ and filter_["country"] not in item.countries:
        return False
    if "organization" in filter_ and item.organization != filter_["organization"]:
        return False
    since = parse_date(filter_["from"]) if "from" in filter_ else None
    until = parse_date(filter_["to"]) if "to" in filter_ else None
    if item.type == "MEMBERSHIP":  # tenure reaches `from`; begun by `to`
        if since is not None and item.end is not None and item.end.latest < since.earliest:
            return False
        return until is None or (item.start is not None and item.start.earliest <= until.latest)
    if since is None and until is None:
        return True
    if item.start is None:
        return False
    last = item.end or item.start
    return (since is None or last.latest >= since.earliest) and (until is None or item.start.earliest <= until.latest)


def key_of(item: Item, group_by: str) -> str | None:
    if group_by in ("YEAR", "DECADE"):
        if item.start is None:
            return None
        if group_by == "DECADE" or item.start.precision is DatePrecision.DECADE:
            return f"{item.start.year // 10:03d}X"
        return f"{item.start.year:04d}"
    return {"KIND": item.kind, "TYPE": item.type, "ORGANIZATION": item.organization}[group_by]


def expected_buckets(items: list[Item], group_by: str, filter_: dict[str, Any]) -> dict[str | None, dict[str, int]]:
    found: dict[str | None, Counter[str]] = {}
    for item in items:
        if selected(item, filter_):
            found.setdefault(key_of(item, group_by), Counter())[item.type] += 1
    return {key: {"count": sum(c.values()), **{t.lower() + "s": c[t] for t in TYPES}} for key, c in found.items()}


BUCKETS = """query($g: TimelineGrouping!, $f: TimelineFilter, $of: [TimelineItemType!]) {
  timeline(groupBy: $g, filter: $f, of: $of) {
    groupBy totalCount
    buckets { key label count events memberships chairmanships precision earliest latest organization { slug name } }
  }
}"""

CASES = [
    ("YEAR", {}),
    ("DECADE", {}),
    ("KIND", {}),
    ("TYPE", {}),
    ("ORGANIZATION", {}),
    ("YEAR", {"country": "MNG"}),
    ("YEAR", {"country": "POL"}),
    ("DECADE", {"from": "2000", "to": "2015"}),
    ("TYPE", {"from": "2019-05", "to": "2019"}),
    ("KIND", {"organization": "escap"}),
    ("ORGANIZATION", {"kinds": ["MEETING", "SUMMIT", "CONFERENCE"]}),
    ("YEAR", {"country": "MNG", "from": "198X", "to": "2006"}),
]


@pytest.fixture(scope="module")
def seed_items() -> list[Item]:
    return fixture_items(SEED_DIR)


def check_buckets(timeline: dict[str, Any], expected: dict[str | None, dict[str, int]], group_by: str) -> None:
    buckets = timeline["buckets"]
    served = {b["key"]: {k: b[k] for k in ("count", "events", "memberships", "chairmanships")} for b in buckets}
    assert served == expected
    assert timeline["totalCount"] == sum(bucket["count"] for bucket in expected.values())
    keys = [bucket["key"] for bucket in buckets]
    if group_by in ("YEAR", "DECADE"):  # in time order, the decade-only bucket after its first year, undated last
        dated = [key for key in keys if key is not None]
        assert dated == sorted(dated, key=lambda key: (key.replace("X", "0"), key.endswith("X")))
        assert None not in keys or keys[-1] is None
    else:  # largest first, then by key, null last
        order = [(-bucket["count"], bucket["key"] is None, bucket["key"] or "") for bucket in buckets]
        assert order == sorted(order)


@pytest.mark.parametrize(("group_by", "filter_"), CASES, ids=lambda case: str(case))
async def test_counts_match_the_seed_files(
    api: Api, seed_items: list[Item], group_by: str, filter_: dict[str, Any]
) -> None:
    data = await api.data(BUCKETS, {"g": group_by, "f": filter_ or None})
    expected = expected_buckets(seed_items, group_by, filter_)
    assert expected, "the case selects nothing: it would prove little"
    check_buckets(data["timeline"], expected, group_by)
    assert data["timeline"]["groupBy"] == group_by


async def test_buckets_describe_themselves(api: Api) -> None:
    year = (await api.data(BUCKETS, {"g": "YEAR"}))["timeline"]["buckets"]
    by_key = {bucket["key"]: bucket for bucket in year}
    assert (by_key["1961"]["label"], by_key["1961"]["precision"]) == ("1961", "YEAR")
    assert (by_key["1961"]["earliest"], by_key["1961"]["latest"]) == ("1961-01-01", "1961-12-31")
    # "Since the 1980's": known only to its decade, it is counted in no year.
    decade = by_key["198X"]
    assert (decade["label"], decade["precision"], decade["earliest"], decade["latest"]) == (
        "the 1980s",
        "DECADE",
        "1980-01-01",
        "1989-12-31",
    )
    assert not [key for key in by_key if key and key.startswith("198") and not key.endswith("X")]
    undated = year[-1]
    assert (undated["key"], undated["label"], undated["precision"], undated["earliest"]) == (
        None,
        "Undated",
        None,
        None,
    )

    organizations = (await api.data(BUCKETS, {"g": "ORGANIZATION"}))["timeline"]["buckets"]
    for bucket in organizations:
        if bucket["key"] is None:
            assert (bucket["organization"], bucket["label"]) == (None, "No organization")
        else:
            assert bucket["organization"]["slug"] == bucket["key"] and bucket["label"] == bucket["organization"]["name"]
    kinds = (await api.data(BUCKETS, {"g": "KIND"}))["timeline"]["buckets"]
    assert {"MEMBERSHIP", "CHAIRMANSHIP", "MEETING"} <= {bucket["key"] for bucket in kinds}
    assert next(b["label"] for b in kinds if b["key"] == "MEETING") == "Meeting"


async def test_of_counts_only_the_types_asked_for(api: Api, seed_items: list[Item]) -> None:
    data = await api.data(BUCKETS, {"g": "DECADE", "of": ["EVENT", "CHAIRMANSHIP"]})
    expected = expected_buckets([item for item in seed_items if item.type != "MEMBERSHIP"], "DECADE", {})
    check_buckets(data["timeline"], expected, "DECADE")
    nothing = await api.data(BUCKETS, {"g": "YEAR", "of": []})
    assert nothing["timeline"] == {"groupBy": "YEAR", "totalCount": 0, "buckets": []}


async def test_the_counts_are_what_the_lists_return(api: Api) -> None:
    """A bucket counts what `events`, `memberships` and `chairmanships` return with the same filter (events
    that happened at another, `hasOccasion: true`, are counted with it)."""
    data = await api.data(
        """{ timeline(groupBy: TYPE, filter: {country: "MNG", from: "2000", organization: "ESCAP"}) {
               buckets { key count } }
             events(filter: {participant: "MNG", from: "2000", organization: "ESCAP", hasOccasion: false}) {
               totalCount }
             memberships(filter: {member: "MNG", from: "2000", organization: "ESCAP"}) { totalCount }
             chairmanships(filter: {chair: "MNG", from: "2000", organization: "ESCAP"}) { totalCount } }"""
    )
    counts = {bucket["key"]: bucket["count"] for bucket in data["timeline"]["buckets"]}
    assert counts == {
        name.upper()[:-1]: data[name]["totalCount"]
        for name in ("events", "memberships", "chairmanships")
        if data[name]["totalCount"]
    }
    assert sum(counts.values()) > 2


ITEMS = """{ timeline(groupBy: YEAR, filter: {country: "MNG"}) { buckets { key count
  items(first: %d) { __typename
    ... on Event { slug date { earliest latest } }
    ... on Membership { slug startDate { earliest latest } }
    ... on Chairmanship { slug startDate { earliest latest } } } } } }"""


@pytest.mark.parametrize("size", [2, 50])
async def test_items_are_each_buckets_first_in_time_order(api: Api, seed_items: list[Item], size: int) -> None:
    data = await api.data(ITEMS % size)
    # the buckets' counts; every bucket's first items (one statement); events, memberships, chairmanships.
    assert api.last_statements == 5
    expected: dict[str | None, set[tuple[str, str]]] = {}
    for item in seed_items:
        if selected(item, {"country": "MNG"}):
            expected.setdefault(key_of(item, "YEAR"), set()).add((item.type.capitalize(), item.slug))
    for bucket in data["timeline"]["buckets"]:
        items = bucket["items"]
        assert len(items) == min(size, bucket["count"])
        listed = {(item["__typename"], item["slug"]) for item in items}
        assert listed <= expected[bucket["key"]]
        if size >= bucket["count"]:
            assert listed == expected[bucket["key"]]
        spans = [
            tuple((item.get("date") or item.get("startDate") or {"earliest": "9999", "latest": "9999"}).values())
            for item in items
        ]
        assert spans == sorted(spans)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ timeline(groupBy: YEAR) { buckets { items(first: 101) { __typename } } } }", "PAGE_SIZE_EXCEEDED"),
        ("{ timeline(groupBy: YEAR) { buckets { items(first: 0) { __typename } } } }", "INVALID_PAGE_SIZE"),
        ('{ timeline(groupBy: YEAR, filter: {from: "someday"}) { totalCount } }', "BAD_USER_INPUT"),
    ],
)
async def test_bad_arguments_are_refused_clearly(api: Api, query: str, code: str) -> None:
    [error] = await api.errors(query)
    assert error["extensions"]["code"] == code


# -- many documents ------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=ENGINES)
def overlap_timeline_db(
    request: pytest.FixtureRequest, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> str:
    url = databases.new(str(request.param))
    upgrade(url)
    asyncio.run(seed(url, with_overlap(tmp_path_factory.mktemp("timeline") / "seed")))
    return url


@pytest.fixture
async def overlap_api(overlap_timeline_db: str) -> AsyncIterator[Api]:
    async for made in make_api(overlap_timeline_db):
        yield made


@pytest.mark.parametrize("group_by", ["YEAR", "TYPE", "ORGANIZATION"])
async def test_merged_facts_are_counted_once(overlap_api: Api, tmp_path: Path, group_by: str) -> None:
    items = fixture_items(with_overlap(tmp_path / "seed"))
    data = await overlap_api.data(BUCKETS, {"g": group_by, "f": {"country": "MNG"}})
    check_buckets(data["timeline"], expected_buckets(items, group_by, {"country": "MNG"}), group_by)
    alone = expected_buckets(fixture_items(SEED_DIR), "TYPE", {"country": "MNG"})
    if group_by == "TYPE":  # the overlap adds one event (Dublin); the rest it restates
        served = {bucket["key"]: bucket["count"] for bucket in data["timeline"]["buckets"]}
        assert served == {key: bucket["count"] + (key == "EVENT") for key, bucket in alone.items()}
