"""Keyset paging: forwards and backwards across page boundaries, ties in the sort key, bad arguments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import Api

EVENTS = """query($first: Int, $after: String, $last: Int, $before: String, $order: EventOrder) {
  events(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { slug date { earliest latest } } }
    nodes { slug }
  }
}"""


async def page_through(api: Api, size: int, order: dict[str, str] | None, backwards: bool) -> list[str]:
    """Every slug, one page at a time, following the cursors; checks pageInfo on the way."""
    seen: list[str] = []
    cursor = None
    while True:
        variables: dict[str, Any] = {"order": order}
        if backwards:
            variables.update(last=size, before=cursor)
        else:
            variables.update(first=size, after=cursor)
        connection = (await api.data(EVENTS, variables))["events"]
        slugs = [edge["node"]["slug"] for edge in connection["edges"]]
        assert slugs == [node["slug"] for node in connection["nodes"]]
        info = connection["pageInfo"]
        if slugs:
            assert info["startCursor"] == connection["edges"][0]["cursor"]
            assert info["endCursor"] == connection["edges"][-1]["cursor"]
        seen = slugs + seen if backwards else seen + slugs
        more = info["hasPreviousPage"] if backwards else info["hasNextPage"]
        if not more:
            return seen
        assert len(slugs) == size
        assert (info["hasNextPage"] if backwards else info["hasPreviousPage"]) is (cursor is not None)
        cursor = info["startCursor"] if backwards else info["endCursor"]


async def one_page(api: Api, order: dict[str, str] | None) -> list[dict[str, Any]]:
    connection = (await api.data(EVENTS, {"first": 100, "order": order}))["events"]
    assert connection["totalCount"] <= 100
    return [edge["node"] for edge in connection["edges"]]


def _key(node: dict[str, Any]) -> tuple[bool, dt.date, dt.date]:
    date = node["date"]
    if date is None:
        return (True, dt.date.max, dt.date.max)
    return (False, dt.date.fromisoformat(date["earliest"]), dt.date.fromisoformat(date["latest"]))


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_date_order_follows_spans_with_unknown_dates_last(api: Api, direction: str) -> None:
    nodes = await one_page(api, {"field": "DATE", "direction": direction})
    keys = [_key(node) for node in nodes]
    known = [k for k in keys if not k[0]]
    assert known == sorted(known, reverse=direction == "DESC")
    unknown_positions = [i for i, k in enumerate(keys) if k[0]]
    assert unknown_positions, "the seed has undated events"
    if direction == "ASC":
        assert unknown_positions == list(range(len(keys) - len(unknown_positions), len(keys)))
    else:
        assert unknown_positions == list(range(len(unknown_positions)))
    ties = len(keys) - len(set(keys))
    assert ties > 0, "the seed has events sharing a date, which paging must not lose or repeat"


@pytest.mark.parametrize("size", [1, 2, 3, 7])
@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize(
    "order", [None, {"field": "DATE", "direction": "DESC"}, {"field": "TITLE", "direction": "ASC"}]
)
async def test_paging_visits_every_item_once_in_order(
    api: Api, size: int, backwards: bool, order: dict[str, str] | None
) -> None:
    expected = [node["slug"] for node in await one_page(api, order)]
    assert await page_through(api, size, order, backwards) == expected


async def test_paging_backwards_from_a_middle_cursor(api: Api) -> None:
    nodes = await one_page(api, None)
    connection = (await api.data(EVENTS, {"first": 10}))["events"]
    middle = connection["edges"][6]["cursor"]
    before = (await api.data(EVENTS, {"last": 4, "before": middle}))["events"]
    assert [e["node"]["slug"] for e in before["edges"]] == [n["slug"] for n in nodes[2:6]]
    assert before["pageInfo"]["hasPreviousPage"] is True
    assert before["pageInfo"]["hasNextPage"] is True
    between = await api.data(EVENTS, {"first": 100, "after": connection["edges"][1]["cursor"], "before": middle})
    assert [e["node"]["slug"] for e in between["events"]["edges"]] == [n["slug"] for n in nodes[2:6]]


async def test_nested_connections_page_per_parent(api: Api) -> None:
    query = """query($after: String) { organizations(first: 100) { nodes { slug
        events(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { slug } } } } }"""
    organizations = (await api.data(query))["organizations"]["nodes"]
    busiest = max(organizations, key=lambda org: org["events"]["totalCount"])
    assert busiest["events"]["totalCount"] > 2
    full = await api.data(
        "query($slug: String!) { organization(slug: $slug) { events(first: 100) { nodes { slug } } } }",
        {"slug": busiest["slug"]},
    )
    expected = [node["slug"] for node in full["organization"]["events"]["nodes"]]
    seen = [node["slug"] for node in busiest["events"]["nodes"]]
    cursor = busiest["events"]["pageInfo"]["endCursor"]
    while True:
        page = await api.data(
            "query($slug: String!, $after: String) { organization(slug: $slug) { events(first: 2, after: $after) "
            "{ pageInfo { hasNextPage endCursor } nodes { slug } } } }",
            {"slug": busiest["slug"], "after": cursor},
        )
        events = page["organization"]["events"]
        seen += [node["slug"] for node in events["nodes"]]
        if not events["pageInfo"]["hasNextPage"]:
            break
        cursor = events["pageInfo"]["endCursor"]
    assert seen == expected


async def test_default_page_size_is_twenty(api: Api) -> None:
    connection = (await api.data("{ events { totalCount nodes { slug } pageInfo { hasNextPage } } }"))["events"]
    assert connection["totalCount"] > 20
    assert len(connection["nodes"]) == 20
    assert connection["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ("first: 101", "PAGE_SIZE_EXCEEDED"),
        ("last: 101", "PAGE_SIZE_EXCEEDED"),
        ("first: 0", "INVALID_PAGE_SIZE"),
        ("first: -1", "INVALID_PAGE_SIZE"),
        ("last: 0", "INVALID_PAGE_SIZE"),
        ("first: 2, last: 2", "INVALID_PAGINATION"),
        ('after: "nonsense"', "INVALID_CURSOR"),
        ('before: "W10"', "INVALID_CURSOR"),
    ],
)
async def test_bad_paging_arguments_are_refused(api: Api, arguments: str, code: str) -> None:
    errors = await api.errors(f"{{ events({arguments}) {{ nodes {{ slug }} }} }}")
    assert errors[0]["extensions"]["code"] == code
    assert errors[0]["path"] == ["events"]


@pytest.mark.parametrize(("size", "code"), [(100, None), (101, "PAGE_SIZE_EXCEEDED"), (0, "INVALID_PAGE_SIZE")])
async def test_page_size_through_variables(api: Api, size: int, code: str | None) -> None:
    query = "query($n: Int) { organizations(first: 1) { nodes { events(first: $n) { nodes { slug } } } } }"
    response = (await api.post(query, {"n": size})).json()
    if code is None:
        assert "errors" not in response
    else:
        assert response["errors"][0]["extensions"]["code"] == code
        assert "100" in response["errors"][0]["message"]


async def test_cursor_of_another_order_is_refused(api: Api) -> None:
    by_date = (await api.data(EVENTS, {"first": 1}))["events"]["pageInfo"]["endCursor"]
    errors = await api.errors(EVENTS, {"first": 1, "after": by_date, "order": {"field": "TITLE", "direction": "ASC"}})
    assert errors[0]["extensions"]["code"] == "INVALID_CURSOR"
    assert "not a cursor of this list in this order" in errors[0]["message"]


async def test_total_count_is_only_computed_when_asked(strawberry_api: Api) -> None:
    api = strawberry_api  # the compiler reads the count inside its one statement, when selected
    await api.data("{ events(first: 5) { nodes { slug } } }")
    without = api.last_statements
    await api.data("{ events(first: 5) { totalCount nodes { slug } } }")
    assert api.last_statements == without + 1


FORWARD = """query($o: EventOrder, $after: String) { country(code: "MNG") {
    events(first: 3, after: $after, orderBy: $o) { pageInfo { hasNextPage endCursor } nodes { slug } } } }"""
BACKWARD = """query($o: EventOrder, $before: String) { country(code: "MNG") {
    events(last: 3, before: $before, orderBy: $o) { pageInfo { hasPreviousPage startCursor } nodes { slug } } } }"""


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "backwards"])
async def test_one_parents_pages_match_the_pages_numbered_for_many(api: Api, direction: str, backwards: bool) -> None:
    """One parent's page is read by ORDER BY ... LIMIT, several parents' by numbering: same rows, same order."""
    order = {"field": "DATE", "direction": direction}
    many = await api.data(
        "query($o: EventOrder) { countries(first: 50) { nodes { code events(first: 100, orderBy: $o) { nodes { slug } } } } }",
        {"o": order},
    )
    expected = [n["slug"] for c in many["countries"]["nodes"] if c["code"] == "MNG" for n in c["events"]["nodes"]]
    assert len(expected) > 9, "Mongolia takes part in many events, undated ones among them"
    seen: list[str] = []
    cursor = None
    while True:
        if backwards:
            events = (await api.data(BACKWARD, {"o": order, "before": cursor}))["country"]["events"]
            seen = [n["slug"] for n in events["nodes"]] + seen
            more, cursor = events["pageInfo"]["hasPreviousPage"], events["pageInfo"]["startCursor"]
        else:
            events = (await api.data(FORWARD, {"o": order, "after": cursor}))["country"]["events"]
            seen += [n["slug"] for n in events["nodes"]]
            more, cursor = events["pageInfo"]["hasNextPage"], events["pageInfo"]["endCursor"]
        if not more:
            break
    assert seen == expected
