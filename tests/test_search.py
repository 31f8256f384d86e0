"""Full-text search: ranked, highlighted, paged, safe with any input, and the same on both engines."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from app.config import SEED_DIR
from app.data.migrations import upgrade
from app.seeding import seed
from app.seeding.locate import passages
from tests.conftest import Api, Databases, make_api

SEARCH = """query($q: String!, $first: Int, $after: String) {
  search(query: $q, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor score snippet start end node { __typename ... on Node { id }
      ... on Organization { slug } ... on Event { slug } ... on Document { slug text } } }
  }
}"""

QUERIES = ["peacekeeping", "Think Tank", "ESCAP session", "nuclear weapon free", "Community of Democracies", "FAO"]


async def hits(api: Api, query: str, first: int = 10, after: str | None = None) -> dict[str, Any]:
    return (await api.data(SEARCH, {"q": query, "first": first, "after": after}))["search"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("query", QUERIES)
async def test_search_finds_and_highlights(api: Api, query: str) -> None:
    found = await hits(api, query)
    assert found["totalCount"] > 0
    tiers = [int(edge["score"]) for edge in found["edges"]]
    assert tiers == sorted(tiers, reverse=True)
    for edge in found["edges"]:
        assert "<mark>" in edge["snippet"], edge
    first_words = {word.lower()[:4] for word in query.split()}
    marked = found["edges"][0]["snippet"].split("<mark>")[1].split("</mark>")[0].lower()
    assert marked[:4] in first_words


async def test_best_hit_for_an_acronym_is_the_organization(api: Api) -> None:
    top = (await hits(api, "OSCE"))["edges"][0]["node"]
    assert top == {"__typename": "Organization", "id": top["id"], "slug": "osce"}


async def test_passage_hits_point_into_the_document(api: Api) -> None:
    found = await hits(api, "peacekeepers served", first=20)
    passages = [
        edge for edge in found["edges"] if edge["node"]["__typename"] == "Document" and edge["start"] is not None
    ]
    assert passages
    for edge in passages:
        passage = edge["node"]["text"][edge["start"] : edge["end"]]
        assert "peacekeep" in passage and "serv" in passage  # stemmed: "peacekeeping", "serving" match too


async def test_search_pages_by_cursor(api: Api) -> None:
    everything = await hits(api, "Mongolia", first=100)
    assert everything["totalCount"] > 10
    ids = [(edge["node"]["__typename"], edge["cursor"]) for edge in everything["edges"]]
    seen: list[tuple[str, str]] = []
    cursor = None
    while True:
        page = await hits(api, "Mongolia", first=4, after=cursor)
        seen += [(edge["node"]["__typename"], edge["cursor"]) for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert seen[:100] == ids
    assert len(seen) == everything["totalCount"]


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "NEAR(a b)", "a OR b AND", "*", "-", "ESCAP:", "x' OR 1=1 --", "<script>", "\u00a0", ""],
)
async def test_any_input_is_safe(api: Api, query: str) -> None:
    found = await hits(api, query)
    assert found["totalCount"] == len(found["edges"]) or found["pageInfo"]["hasNextPage"]


async def test_snippets_escape_html(api: Api) -> None:
    found = await hits(api, "Mongolia", first=100)
    for edge in found["edges"]:
        stripped = edge["snippet"].replace("<mark>", "").replace("</mark>", "")
        assert "<" not in stripped and ">" not in stripped


async def test_search_cursor_of_another_query_is_refused(api: Api) -> None:
    cursor = (await hits(api, "Mongolia", first=1))["pageInfo"]["endCursor"]
    errors = await api.errors(SEARCH, {"q": "ESCAP", "after": cursor})
    assert errors[0]["extensions"]["code"] == "INVALID_CURSOR"


@pytest.fixture(scope="module")
def both_engines(databases: Databases) -> dict[str, str]:
    urls = {}
    for engine in ("sqlite", "postgresql"):
        url = databases.new(engine)
        upgrade(url)
        asyncio.run(seed(url, SEED_DIR))
        urls[engine] = url
    return urls


@pytest.mark.postgres
@pytest.mark.parametrize("query", QUERIES)
async def test_same_top_results_on_both_engines(both_engines: dict[str, str], query: str) -> None:
    tops = {}
    for engine, url in both_engines.items():
        async for api in make_api(url):
            found = await hits(api, query, first=3)
            tops[engine] = [(edge["node"]["__typename"], edge["node"].get("slug")) for edge in found["edges"]]
    assert tops["sqlite"][0] == tops["postgresql"][0]
    assert set(tops["sqlite"]) & set(tops["postgresql"])


PEACEKEEPERS = "Since 2002, more than 18,139 Mongolian peacekeepers have served in the UN missions around the world."


@pytest.mark.parametrize("query", ["18,139", "18139", "18,139 peacekeepers"])
async def test_a_number_is_searched_and_highlighted_whole_and_a_hit_points_at_its_sentence(
    api: Api, query: str
) -> None:
    found = await hits(api, query)
    assert found["totalCount"] == 2  # the statistic and the document's sentence
    [passage] = [edge for edge in found["edges"] if edge["start"] is not None]
    assert passage["node"]["text"][passage["start"] : passage["end"]] == PEACEKEEPERS
    for edge in found["edges"]:
        assert "<mark>18,139</mark>" in edge["snippet"], edge["snippet"]


async def test_every_passage_hit_is_one_sentence(api: Api) -> None:
    found = await hits(api, "Mongolia", first=100)
    passages = [edge for edge in found["edges"] if edge["start"] is not None]
    assert len(passages) > 20
    for edge in passages:
        sentence = edge["node"]["text"][edge["start"] : edge["end"]]
        assert "\n" not in sentence and len(sentence) < 600, sentence
        assert not re.search(r"[a-z]{3}[.!?] [A-Z]", sentence), sentence  # no second sentence inside


@pytest.mark.parametrize("query", [*QUERIES, "United Nations", "peacekeepers", "Mongolia", "Governing body"])
async def test_snippets_do_not_repeat_words(api: Api, query: str) -> None:
    """A name, an alias and a description saying the same words once each ("the UN the United Nations
    The United Nations, of which ..." was one snippet). Quotes of two sentences may share words."""
    for edge in (await hits(api, query, first=30))["edges"]:
        if edge["node"]["__typename"] not in ("Organization", "Country", "Event", "Document"):
            continue
        words = re.findall(r"\w+", edge["snippet"].replace("<mark>", "").replace("</mark>", "").lower())
        runs = [tuple(words[index : index + 3]) for index in range(len(words) - 2)]
        assert len(runs) == len(set(runs)), edge["snippet"]


def test_passages_are_sentences_whatever_separates_paragraphs() -> None:
    text = "Mongolia hosted it.\nThe conference met in 2013. It adopted a declaration (the Ulaanbaatar one).\n\nH.E. Mr. Smith spoke."
    assert [passage.text for passage in passages(text)] == [
        "Mongolia hosted it.",
        "The conference met in 2013.",
        "It adopted a declaration (the Ulaanbaatar one).",
        "H.E. Mr. Smith spoke.",
    ]
    assert all(text[passage.start : passage.end] == passage.text for passage in passages(text))
