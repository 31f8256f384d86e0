"""The landing page's timeline chart: served from this app alone, and drawn by a real browser with one mark per item."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from app.config import SEED_DIR
from tests.conftest import Api, make_api
from tests.test_graphiql import BROWSER, CHROMIUM, CHROMIUM_ARGS, PROJECT_ROOT, _require_chromium, _Server
from tests.test_timeline import fixture_items, key_of, selected

CHART_QUERY = PROJECT_ROOT / "app" / "examples" / "timeline-chart.graphql"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Api]:
    """The app over HTTP, for pages that need no data."""
    async for made in make_api(f"sqlite:///{tmp_path / 'unused.sqlite3'}"):
        yield made


async def test_the_page_carries_the_chart_query_and_loads_only_our_script(site: Api) -> None:
    response = await site.client.get("/", headers=BROWSER)
    assert re.findall(r"<script\b[^>]*>", response.text) == ['<script src="/static/timeline.js" defer>']
    figure = re.search(r'<figure id="timeline-chart" data-query="([^"]*)"', response.text)
    assert figure is not None
    assert html.unescape(figure.group(1)) == CHART_QUERY.read_text(encoding="utf-8")
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert (policy["default-src"], policy["script-src"], policy["connect-src"]) == ("'none'", "'self'", "'self'")

    script = await site.client.get("/static/timeline.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["x-content-type-options"] == "nosniff"
    assert "https://" not in script.text and "http://" not in script.text.replace("http://www.w3.org/2000/svg", "")
    assert (await site.client.get("/static/other.js")).status_code == 404


@pytest.fixture
def chart_server(seeded_db: str) -> Iterator[str]:
    """The app served over real HTTP against the seeded database."""
    with _Server(seeded_db) as base:
        yield base


@pytest.mark.browser
@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
def test_the_chart_draws_one_mark_per_engagement(chart_server: str, screenshots: Path) -> None:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    items = [item for item in fixture_items(SEED_DIR) if selected(item, {"country": "MNG"})]
    by_type = Counter(item.type.capitalize() for item in items)
    by_key = Counter(key_of(item, "YEAR") or "" for item in items)
    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))

            page.goto(chart_server + "/")
            chart = page.locator("#timeline-chart")
            page.locator('#timeline-chart[data-state="drawn"]').wait_for(timeout=30_000)
            marks = chart.locator("svg a.timeline-mark")
            assert marks.count() == len(items)
            assert Counter(marks.evaluate_all("marks => marks.map(m => m.dataset.type)")) == by_type
            assert Counter(marks.evaluate_all("marks => marks.map(m => m.dataset.key)")) == by_key
            assert by_key["198X"] == 1 and by_key[""] > 0  # a decade-only item; undated ones
            legend = chart.locator(".timeline-legend").all_text_contents()
            assert legend == [f"{by_type['Event']} events", f"{by_type['Membership']} memberships",
                              f"{by_type['Chairmanship']} chairmanships"]  # fmt: skip
            assert chart.locator("figcaption").inner_text().startswith(f"{len(items)} engagements")
            chart.locator("svg.timeline-chart").scroll_into_view_if_needed()
            page.locator("#timeline").screenshot(path=str(screenshots / "timeline.png"))

            # A mark opens its item in the explorer, with the node query (citations and conflicts) filled in.
            mark = chart.locator('a.timeline-mark[data-type="Event"][data-key="1961"]')
            tooltip = mark.locator("title").text_content() or ""
            assert tooltip.startswith(
                "1961-10-27 \u00b7 accession: Mongolia becomes a full member of the United Nations"
            )
            assert "\u201cSince its fully-fledged membership on 27 October 1961\u201d" in tooltip
            href = mark.get_attribute("href")
            assert href is not None
            query = parse_qs(urlsplit(href).query)["q"][0]
            assert "node(id: " in query and "citations {" in query and "conflicts {" in query
            mark.click()
            page.wait_for_url(lambda url: url.startswith(chart_server + "/graphql?q="))
            page.locator(".graphiql-execute-button").wait_for(timeout=30_000)
            with page.expect_response(
                lambda r: r.request.method == "POST" and "query Item" in (r.request.post_data or "")
            ) as answer:
                page.locator(".graphiql-execute-button").click()
            node = answer.value.json()["data"]["node"]
            assert node["title"] == "Mongolia becomes a full member of the United Nations"
            assert node["citations"][0]["quote"] == "Since its fully-fledged membership on 27 October 1961"
        finally:
            browser.close()

    assert not problems, problems
    outside = [url for url in requested if not url.startswith(chart_server + "/")]
    assert not outside, f"requests left {chart_server}: {outside}"


# The chart's parts, as the browser lays them out: the labels' rendered size, the count axis, the overflow.
_CHART = """() => {
  const chart = document.querySelector("#timeline-chart");
  const frame = chart.querySelector(".timeline-frame");
  const sizes = (selector) => Array.from(chart.querySelectorAll(selector)).map((n) => n.getBoundingClientRect().height);
  return {
    pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
    yearLabels: Array.from(chart.querySelectorAll("svg.timeline-chart > text")).map((n) => n.textContent),
    yearLabelHeights: sizes("svg.timeline-chart > text"),
    countLabels: Array.from(chart.querySelectorAll(".timeline-count-axis text")).map((n) => n.textContent),
    countLabelHeights: sizes(".timeline-count-axis text"),
    legendHeights: Array.from(chart.querySelectorAll(".timeline-legend")).map((n) => parseFloat(getComputedStyle(n).fontSize)),
    frameScrolls: frame.scrollWidth > frame.clientWidth,
    frameScrolledToEnd: frame.scrollLeft + frame.clientWidth >= frame.scrollWidth - 1,
  };
}"""


@pytest.mark.browser
@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_the_chart_has_a_count_axis_and_readable_labels(chart_server: str, screenshots: Path, width: int) -> None:
    """Labels drawn at 12 px whatever the screen (the chart is not scaled down), a count axis, and on a phone a
    plot that scrolls sideways inside the page, starting at the present."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    items = [item for item in fixture_items(SEED_DIR) if selected(item, {"country": "MNG"})]
    tallest = max(Counter(key_of(item, "YEAR") for item in items if key_of(item, "YEAR")).values())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(chart_server + "/")
            page.locator('#timeline-chart[data-state="drawn"]').wait_for(timeout=30_000)
            page.locator("#timeline-chart").scroll_into_view_if_needed()
            page.locator("#timeline").screenshot(path=str(screenshots / f"timeline-{width}.png"))
            chart = page.evaluate(_CHART)
        finally:
            browser.close()

    assert chart["pageOverflow"] <= 0, chart
    assert "2000" in chart["yearLabels"] and "undated" in chart["yearLabels"], chart
    assert chart["countLabels"][0] == "0" and int(chart["countLabels"][-2]) >= tallest - 2, chart
    assert "items a year" in chart["countLabels"], chart
    assert min(chart["yearLabelHeights"] + chart["countLabelHeights"]) >= 11, chart  # px, as rendered
    assert min(chart["legendHeights"]) >= 13, chart
    assert chart["frameScrolls"] == (width < 640), chart
    if chart["frameScrolls"]:
        assert chart["frameScrolledToEnd"], chart


@pytest.mark.browser
@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
def test_the_chart_asks_for_fewer_items_when_its_query_costs_too_much(seeded_db: str) -> None:
    """On a large knowledge base the chart's 100 items a year can cost more than MAX_QUERY_COST: the page asks
    again for fewer a year (the refusal names the cost and the limit) and says how many it shows. Here the
    limit is set below what the chart costs on the seed."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    items = [item for item in fixture_items(SEED_DIR) if selected(item, {"country": "MNG"})]
    answers: list[dict[str, object]] = []
    with _Server(seeded_db, max_query_cost=1_000) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on(
                "response",
                lambda r: r.url.endswith("/graphql") and r.request.method == "POST" and answers.append(r.json()),
            )
            page.goto(base + "/")
            chart = page.locator("#timeline-chart")
            page.locator('#timeline-chart[data-state="drawn"]').wait_for(timeout=30_000)
            shown = chart.locator("svg a.timeline-mark").count()
            caption = chart.locator("figcaption").inner_text()
        finally:
            browser.close()
    codes = [answer["errors"][0]["extensions"]["code"] for answer in answers if "errors" in answer]  # type: ignore[index]
    assert codes and set(codes) == {"QUERY_TOO_COMPLEX"}, answers
    assert "data" in answers[-1] and "errors" not in answers[-1]
    assert 0 < shown < len(items)
    assert caption.startswith(f"{len(items)} engagements") and f"({shown} shown)" in caption
