"""`aggregate`: the timeline's items grouped by one to three keys, checked on both engines against the lists,
`timeline`, and counts computed here from the seed files themselves; one statement on either path, costed by
its groups."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.config import SEED_DIR
from tests.conftest import Api, make_api
from tests.test_timeline import Item, fixture_items, key_of, selected

GROUPS = """query($g: [AggregateKey!]!, $f: TimelineFilter, $of: [TimelineItemType!], $h: AggregateHaving, $n: Int) {
  aggregate(groupBy: $g, filter: $f, of: $of, having: $h, first: $n) { keys count events memberships chairmanships }
}"""


@pytest.fixture
async def uncached_api(seeded_db: str) -> AsyncIterator[Api]:
    """No result cache: every request executes (Strawberry first, then the compiler)."""
    async for made in make_api(seeded_db, result_cache_size=0):
        yield made


@pytest.fixture(scope="module")
def seed_items() -> list[Item]:
    return fixture_items(SEED_DIR)


def keys_of(item: Item, key: str) -> list[str | None]:
    """The item's values of one key: one, or for COUNTRY each of its countries (none: null)."""
    if key == "COUNTRY":
        return sorted(item.countries) or [None]
    return [key_of(item, key)]


def expected_groups(
    items: list[Item], group_by: list[str], filter_: dict[str, Any]
) -> dict[tuple[Any, ...], Counter[str]]:
    """Each group's count by type, from the seed files: a recurring event is an item of each year it recurs
    in with a time key, else one item."""
    timed = bool({"YEAR", "DECADE"} & set(group_by))
    found: dict[tuple[Any, ...], Counter[str]] = {}
    seen: set[tuple[str, str]] = set()
    for item in items:
        if not selected(item, filter_):
            continue
        if item.occurrence is not None and not timed:
            if (item.type, item.slug) in seen:
                continue
            seen.add((item.type, item.slug))
        combinations: list[tuple[Any, ...]] = [()]
        for key in group_by:
            combinations = [(*done, value) for done in combinations for value in keys_of(item, key)]
        for combination in combinations:
            found.setdefault(combination, Counter())[item.type] += 1
    return found


def served(groups: list[dict[str, Any]]) -> dict[tuple[Any, ...], Counter[str]]:
    found = {}
    for group in groups:
        counts = Counter({t: group[t.lower() + "s"] for t in ("EVENT", "MEMBERSHIP", "CHAIRMANSHIP")})
        assert group["count"] == sum(counts.values())
        found[tuple(group["keys"])] = +counts
    return found


def order_key(group_by: list[str], keys: list[str | None]) -> tuple[Any, ...]:
    """Keys in order: years in time order (a decade-only "198X" just after 1980), text by code point, null last."""
    parts: list[Any] = []
    for key, value in zip(group_by, keys, strict=True):
        if value is None:
            parts.append((1,))
        elif key in ("YEAR", "DECADE"):
            parts.append((0, value.replace("X", "0"), value.endswith("X")))
        else:
            parts.append((0, value))
    return tuple(parts)


CASES = [
    (["YEAR", "KIND"], {"country": "MNG"}),
    (["YEAR"], {}),
    (["DECADE", "TYPE"], {}),
    (["COUNTRY"], {}),
    (["COUNTRY", "TYPE"], {"from": "2000", "to": "2015"}),
    (["ORGANIZATION", "DECADE"], {"kinds": ["MEETING", "SUMMIT", "CONFERENCE"]}),
    (["TYPE", "COUNTRY", "YEAR"], {"organization": "escap"}),
    (["KIND"], {"country": "MNG", "from": "198X", "to": "2006"}),
]


@pytest.mark.parametrize(("group_by", "filter_"), CASES, ids=lambda case: str(case))
async def test_groups_match_the_seed_files(
    api: Api, seed_items: list[Item], group_by: list[str], filter_: dict[str, Any]
) -> None:
    data = await api.data(GROUPS, {"g": group_by, "f": filter_ or None})
    expected = expected_groups(seed_items, group_by, filter_)
    assert len(expected) > 1, "the case selects too little to prove much"
    assert served(data["aggregate"]) == expected
    keys = [group["keys"] for group in data["aggregate"]]
    assert keys == sorted(keys, key=lambda found: order_key(group_by, found))


async def test_year_and_kind_add_up_to_the_timeline(api: Api) -> None:
    """Done when: by [YEAR, KIND], Mongolia's events add up to `timeline(groupBy: YEAR)`, year by year."""
    data = await api.data(
        """{ aggregate(of: [EVENT], groupBy: [YEAR, KIND], filter: {country: "MNG"}) { keys count events }
             timeline(of: [EVENT], groupBy: YEAR, filter: {country: "MNG"}) { totalCount buckets { key count } } }"""
    )
    by_year: Counter[str | None] = Counter()
    for group in data["aggregate"]:
        by_year[group["keys"][0]] += group["count"]
        assert group["events"] == group["count"]
    assert sum(by_year.values()) == data["timeline"]["totalCount"] > 20
    assert dict(by_year) == {bucket["key"]: bucket["count"] for bucket in data["timeline"]["buckets"]}
    # the recurring ones in each year they recur in; "the 1980's" in its decade's own group, in no year
    years = {group["keys"][0] for group in data["aggregate"]}
    assert {"2014", "2015", "2016", "2017"} <= years and "198X" in years
    assert not [year for year in years if year and year.startswith("198") and not year.endswith("X")]


async def test_mongolias_country_group_counts_its_events(api: Api) -> None:
    """Done when: by [COUNTRY], Mongolia's count is its events' totalCount (each event once, recurring or not)."""
    data = await api.data(
        """{ aggregate(of: [EVENT], groupBy: [COUNTRY]) { keys count events }
             events(filter: {participant: "MNG", hasOccasion: false}) { totalCount }
             country(code: "MNG") { events(filter: {hasOccasion: false}) { totalCount } } }"""
    )
    counts = {group["keys"][0]: group["count"] for group in data["aggregate"]}
    assert counts["MNG"] == data["events"]["totalCount"] == data["country"]["events"]["totalCount"] > 20
    assert len(counts) > 5


async def test_a_countrys_role_is_its_part_in_each_item(api: Api) -> None:
    """COUNTRY with ROLE is one country's part: Mongolia as HOST counts the events it hosted; a membership is
    MEMBER, a chairmanship's chair CHAIR; by ROLE alone an event with eleven invitees is one INVITEE item."""
    data = await api.data(
        """{ pairs: aggregate(groupBy: [COUNTRY, ROLE]) { keys count events memberships chairmanships }
             roles: aggregate(groupBy: [ROLE]) { keys count }
             hosted: events(filter: {participant: "MNG", participantRole: HOST, hasOccasion: false}) { totalCount }
             memberships(filter: {member: "MNG"}) { totalCount }
             chairmanships(filter: {chair: "MNG"}) { totalCount } }"""
    )
    pairs = {tuple(group["keys"]): group for group in data["pairs"]}
    assert pairs[("MNG", "HOST")]["count"] == data["hosted"]["totalCount"] > 3
    assert pairs[("MNG", "MEMBER")]["memberships"] == data["memberships"]["totalCount"] > 3
    chaired = (
        pairs[("MNG", "CHAIR")]["chairmanships"] + pairs.get(("MNG", "CO_CHAIR"), {"chairmanships": 0})["chairmanships"]
    )
    assert chaired == data["chairmanships"]["totalCount"] > 1
    invitees = sum(group["count"] for keys, group in pairs.items() if keys[1] == "INVITEE")
    roles = {group["keys"][0]: group["count"] for group in data["roles"]}
    assert invitees > roles["INVITEE"] >= 1


async def test_place_groups_are_the_events_at_each_place(api: Api) -> None:
    data = await api.data(
        """{ aggregate(groupBy: [PLACE, TYPE]) { keys count }
             events(filter: {place: "Ulaanbaatar", hasOccasion: false}) { totalCount } }"""
    )
    groups = {tuple(group["keys"]): group["count"] for group in data["aggregate"]}
    assert groups[("Ulaanbaatar", "EVENT")] == data["events"]["totalCount"] > 1
    assert {keys[1] for keys in groups if keys[0] is None} == {"EVENT", "MEMBERSHIP", "CHAIRMANSHIP"}
    assert list(groups)[-3:] == [(None, "CHAIRMANSHIP"), (None, "EVENT"), (None, "MEMBERSHIP")]  # null last


async def test_having_and_first_keep_the_first_groups_with_enough_items(api: Api) -> None:
    every = (await api.data(GROUPS, {"g": ["ORGANIZATION"]}))["aggregate"]
    some = (await api.data(GROUPS, {"g": ["ORGANIZATION"], "h": {"minCount": 3}}))["aggregate"]
    assert some == [group for group in every if group["count"] >= 3] and 1 < len(some) < len(every)
    assert (await api.data(GROUPS, {"g": ["ORGANIZATION"], "h": {"minCount": 3}, "n": 2}))["aggregate"] == some[:2]
    assert (await api.data(GROUPS, {"g": ["ORGANIZATION"], "h": {"minCount": 100_000}}))["aggregate"] == []
    assert (await api.data(GROUPS, {"g": ["TYPE"], "of": []}))["aggregate"] == []


async def test_aggregate_is_one_statement_on_either_path(uncached_api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """The compiler answers, one statement each time; verify mode runs Strawberry's resolver beside it, which must
    give the same answer (and runs the same one statement, app/data/aggregates.py)."""
    counts = []
    with caplog.at_level(logging.INFO, logger="app.access"):
        for size in (5, 1000, 5, 7):
            data = await uncached_api.data(GROUPS, {"g": ["YEAR", "COUNTRY", "PLACE"], "n": size})
            assert 1 < len(data["aggregate"]) <= size
            counts.append(uncached_api.last_statements)
    assert counts == [1, 1, 1, 1]
    served = [r.event["servedBy"] for r in caplog.records if r.name == "app.access"]  # type: ignore[attr-defined]
    assert served == ["executor"] * 4
    response = await uncached_api.post(GROUPS, {"g": ["ROLE"]})
    assert response.json()["extensions"]["cost"]["requested"] == 10  # the roles and null: its declared bound


@pytest.mark.parametrize(
    ("variables", "cost"),
    [
        ({"g": ["TYPE"]}, 3),
        ({"g": ["TYPE", "ROLE"]}, 30),
        ({"g": ["KIND"], "n": 5}, 5),
        ({"g": ["YEAR", "KIND"]}, 1000),
        ({"g": ["COUNTRY"], "n": 120}, 120),
    ],
)
async def test_cost_is_the_most_groups_it_can_return(api: Api, variables: dict[str, Any], cost: int) -> None:
    response = await api.post(GROUPS, variables)
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    assert response.json()["extensions"]["cost"]["requested"] == cost


async def test_a_cost_limit_refuses_too_many_groups(seeded_db: str) -> None:
    async for api in make_api(seeded_db, max_query_cost=500):
        [error] = await api.errors(GROUPS, {"g": ["YEAR", "KIND"]})
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert len((await api.data(GROUPS, {"g": ["YEAR", "KIND"], "n": 400}))["aggregate"]) > 10


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"g": []}, "BAD_USER_INPUT"),
        ({"g": ["YEAR", "KIND", "TYPE", "ROLE"]}, "BAD_USER_INPUT"),
        ({"g": ["YEAR", "YEAR"]}, "BAD_USER_INPUT"),
        ({"g": ["YEAR"], "n": 0}, "INVALID_PAGE_SIZE"),
        ({"g": ["YEAR"], "n": 1001}, "PAGE_SIZE_EXCEEDED"),
        ({"g": ["YEAR"], "h": {"minCount": -1}}, "BAD_USER_INPUT"),
        ({"g": ["YEAR"], "f": {"from": "someday"}}, "BAD_USER_INPUT"),
        ({"g": ["CENTURY"]}, "BAD_USER_INPUT"),
    ],
)
async def test_bad_arguments_are_refused_clearly(api: Api, variables: dict[str, Any], code: str) -> None:
    for _ in range(2):  # Strawberry's answer, then the same once the document is hot
        [error] = await api.errors(GROUPS, variables)
        assert error["extensions"]["code"] == code, error


async def test_strawberrys_resolver_runs_one_statement(seeded_db: str) -> None:
    """Strawberry's path alone (what verify mode checks the compiler against): one statement too."""
    from app.config import Settings
    from app.data.engine import create_engine
    from app.data.session import RequestDatabase
    from app.execution.executable import schema
    from app.schema.runtime import Context

    engine = create_engine(seeded_db)
    context = Context(db=RequestDatabase(engine), settings=Settings(database_url=seeded_db))
    try:
        result = await schema.execute(
            GROUPS, variable_values={"g": ["COUNTRY", "ROLE", "PLACE"]}, context_value=context
        )
    finally:
        await context.db.close()
        await engine.dispose()
    assert result.errors is None and result.data is not None and len(result.data["aggregate"]) > 10
    assert context.db.statements == 1
