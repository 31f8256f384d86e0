"""GraphiQL served whole by the app: local assets with their hashes, the landing page, and a real browser."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pytest
import uvicorn

from app.config import Settings
from app.http.app import create_app
from tests.conftest import IN_CI, Api, make_api

if TYPE_CHECKING:
    from playwright.sync_api import Response

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
EXAMPLE_TABS = ["Organization", "MongoliaTimeline", "Chairmanships", "Search", "Nested"]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Api]:
    """The app over HTTP, for pages that need no data (its database is never opened)."""
    async for made in make_api(f"sqlite:///{tmp_path / 'unused.sqlite3'}"):
        yield made


def _local_references(html: str) -> list[tuple[str, str]]:
    """(url, integrity) of every script and stylesheet the page loads."""
    found = []
    for tag in re.findall(r"<(?:script|link)\b[^>]*>", html):
        url = re.search(r'(?:src|href)="([^"]+)"', tag)
        if url is None or url.group(1).startswith("data:"):
            continue
        integrity = re.search(r'integrity="([^"]+)"', tag)
        found.append((url.group(1), integrity.group(1) if integrity else ""))
    return found


async def test_the_ide_page_loads_only_files_this_server_serves(site: Api) -> None:
    response = await site.client.get("/graphql", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "unpkg.com" not in response.text and "https://" not in response.text.split("<body>")[1]
    references = _local_references(response.text)
    assert len(references) == 7  # react, react-dom, js-cookie, GraphiQL's JS and CSS, the explorer's JS and CSS
    for url, integrity in references:
        assert url.startswith("/graphiql/"), url
        asset = await site.client.get(url, headers={"Accept-Encoding": "identity"})
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        expected_type = "text/javascript" if url.endswith(".js") else "text/css"
        assert asset.headers["content-type"].split(";")[0] == expected_type
        assert integrity == "sha384-" + base64.b64encode(hashlib.sha384(asset.content).digest()).decode()


async def test_the_ide_page_forbids_every_other_origin(site: Api) -> None:
    response = await site.client.get("/graphql", headers=BROWSER)
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self'"
    inline = re.search(r"<script>(.*?)</script>", response.text, re.S)
    assert inline is not None
    digest = base64.b64encode(hashlib.sha256(inline.group(1).encode()).digest()).decode()
    assert policy["script-src"] == f"'self' 'sha256-{digest}'"


async def test_the_ide_opens_on_the_examples_organization_first(site: Api) -> None:
    response = await site.client.get("/graphql", headers=BROWSER)
    config = re.search(r'<script type="application/json" id="graphiql-config">(.*?)</script>', response.text, re.S)
    assert config is not None
    examples = json.loads(config.group(1))["examples"]
    assert [e["name"] for e in examples][:5] == ["organization", "timeline", "chairmanships", "search", "nested"]
    assert "citations" in examples[0]["query"] and "memberships" in examples[0]["query"]
    assert json.loads(examples[0]["variables"]) == {"slug": "escap"}


async def test_assets_are_gzipped_for_clients_that_accept_it(site: Api) -> None:
    url = "/graphiql/graphiql@3.8.3/graphiql.min.js"
    plain = await site.client.get(url, headers={"Accept-Encoding": "identity"})
    # httpx decodes gzip itself: compare the decoded body and read the header.
    zipped = await site.client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.content == plain.content
    assert int(zipped.headers["content-length"]) < len(plain.content) / 2
    refused = await site.client.get(url, headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


@pytest.mark.parametrize(
    "path",
    [
        "/graphiql/manifest.json",
        "/graphiql/react@18.2.0/LICENSE",
        "/graphiql/react@18.2.0/umd/react.development.js",
        "/graphiql/../config.py",
        "/graphiql/%2e%2e/config.py",
    ],
)
async def test_only_the_manifests_assets_are_served(site: Api, path: str) -> None:
    response = await site.client.get(path)
    assert response.status_code == 404


def test_committed_assets_match_strawberrys_page_and_their_hashes() -> None:
    """Upgrading Strawberry to a page with other versions fails here until the refresh script runs."""
    done = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "refresh_graphiql_assets.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_every_package_ships_with_its_licence() -> None:
    manifest = json.loads((PROJECT_ROOT / "app" / "http" / "static" / "graphiql" / "manifest.json").read_text())
    names = {package["name"] for package in manifest["packages"]}
    assert {asset["package"] for asset in manifest["assets"]} <= names
    for package in manifest["packages"]:
        text = (PROJECT_ROOT / "app" / "http" / "static" / "graphiql" / package["license_file"]).read_text()
        assert package["license"] == "MIT" and "Permission is hereby granted" in text, package["name"]
        assert package["tarball"].startswith("https://registry.npmjs.org/")


async def test_the_landing_page_links_the_explorer_sdl_health_and_the_guide(site: Api) -> None:
    response = await site.client.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    links = re.findall(r'href="([^"]+)"', response.text)
    for target in ("/graphql", "/schema.graphql", "/healthz", "/readyz", "#for-frontend-developers"):
        assert target in links
    assert 'id="for-frontend-developers"' in response.text
    sources = re.findall(r'src="([^"]+)"', response.text)
    assert not [url for url in links + sources if url.startswith(("http:", "https:", "//"))]
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_each_example_link_on_the_landing_page_opens_the_explorer(site: Api) -> None:
    response = await site.client.get("/")
    example_links = re.findall(r'href="(/graphql\?q=[^"]+)"', response.text)
    assert len(example_links) == len(list((PROJECT_ROOT / "app" / "examples").glob("*.graphql")))
    for link in example_links:
        page = await site.client.get(link.replace("&amp;", "&"), headers=BROWSER)
        assert page.status_code == 200 and 'id="graphiql"' in page.text


async def test_in_production_the_landing_page_links_no_explorer(tmp_path: Path) -> None:
    """GraphiQL is off in production mode: the page says so instead of linking pages that refuse."""
    async for quiet in make_api(f"sqlite:///{tmp_path / 'unused.sqlite3'}", production=True):
        response = await quiet.client.get("/", headers=BROWSER)
        assert response.status_code == 200
        links = re.findall(r'href="([^"]+)"', response.text)
        assert not [link for link in links if link.startswith("/graphql")], links
        assert "The explorer (GraphiQL) is off in this deployment." in response.text
        assert (await quiet.client.get("/graphql", headers=BROWSER)).status_code != 200
        assert "/schema.graphql" in links and "<code>nested.graphql</code>" in response.text


# A real browser against a real server -------------------------------------------------------------------


class _Server:
    """uvicorn serving the app on 127.0.0.1 in a thread of its own (its own event loop)."""

    def __init__(self, database_url: str, **settings: Any) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(
            create_app(Settings(database_url=database_url, **settings)),
            log_level="warning",
            ws="none",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return f"http://127.0.0.1:{self.port}"
            self.thread.join(0.05)
        raise RuntimeError("uvicorn did not start")

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()


@pytest.fixture
def browser_server(seeded_db: str) -> Iterator[str]:
    """The base URL of the app served over real HTTP against the seeded SQLite database."""
    with _Server(seeded_db) as base:
        yield base


def _answer_to(operation: str) -> Callable[[Response], bool]:
    """Matches the POST /graphql that sends the query named `operation`."""

    def matches(response: Response) -> bool:
        request = response.request
        return request.method == "POST" and f"query {operation}(" in (request.post_data or "")

    return matches


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)"
    if IN_CI:
        pytest.fail(f"{reason}; CI=true requires it")
    pytest.skip(reason)


@pytest.mark.browser
@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
def test_graphiql_runs_the_example_in_chromium_offline(browser_server: str, screenshots: Path) -> None:
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))

            page.goto(browser_server + "/", wait_until="networkidle")
            page.screenshot(path=str(screenshots / "landing.png"), full_page=True)
            page.get_by_role("link", name="Open the explorer (GraphiQL)").click()
            page.wait_for_url(browser_server + "/graphql")
            page.locator(".graphiql-execute-button").wait_for(timeout=30_000)
            assert page.locator(".graphiql-tab").all_inner_texts()[:5] == EXAMPLE_TABS

            with page.expect_response(_answer_to("Organization")) as answer:
                page.locator(".graphiql-execute-button").click()
            organization = answer.value.json()["data"]["organization"]
            assert organization["events"]["nodes"][0]["citations"][0]["quote"]
            result = page.locator(".result-window")
            result.get_by_text("Economic and Social Commission for Asia and the Pacific").wait_for(timeout=30_000)
            page.screenshot(path=str(screenshots / "graphiql.png"))

            page.get_by_role("button", name="Show Documentation Explorer").click()
            page.locator(".graphiql-doc-explorer").get_by_text("Root Types").wait_for()
            page.get_by_role("button", name="Show GraphiQL Explorer").click()
            page.locator(".graphiql-explorer-root").get_by_text("organizations").first.wait_for()

            page.locator(".graphiql-tab", has_text="Search").click()
            expect(page.locator(".graphiql-tab-active")).to_contain_text("Search")
            # GraphiQL learns the tab's operation name 100 ms after the switch (a debounce), in the same
            # handler that calls our onEditQuery, which writes the query to the address bar: wait for that.
            page.wait_for_url(lambda url: "query Search" in unquote(url))
            with page.expect_response(_answer_to("Search")) as answer:
                page.locator(".graphiql-execute-button").click()
            assert answer.value.json()["data"]["search"]["edges"]
            result.get_by_text('"snippet"').first.wait_for(timeout=30_000)
            page.screenshot(path=str(screenshots / "graphiql-explorer-search.png"))
        finally:
            browser.close()

    assert not problems, problems
    assert requested, "the browser made no requests"
    outside = [url for url in requested if not url.startswith(browser_server + "/")]
    assert not outside, f"requests left {browser_server}: {outside}"


# What a person sees, on a laptop and on a phone ------------------------------------------------------------

# How much of the page each check reads, in the browser: the header's parts, the query editor, the result.
_LAYOUT = """() => {
  const box = (selector) => {
    const found = document.querySelector(selector);
    if (!found) return null;
    const r = found.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height };
  };
  const tabs = document.querySelector(".graphiql-session-header > .graphiql-tabs");
  const editor = document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror;
  const scroller = editor.getScrollerElement();
  return {
    pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
    logo: box(".graphiql-logo"),
    logoLineHeight: parseFloat(getComputedStyle(document.querySelector(".graphiql-logo")).fontSize) * 1.6,
    tabs: box(".graphiql-session-header > .graphiql-tabs"),
    tabsScroll: tabs.scrollWidth > tabs.clientWidth ? getComputedStyle(tabs).overflowX : "fits",
    activeTab: box(".graphiql-tab-active"),
    editors: box(".graphiql-editors"),
    result: box(".graphiql-response"),
    editorColumns: Math.floor(editor.display.lineDiv.clientWidth / editor.defaultCharWidth()),
    editorOverflow: scroller.scrollWidth - scroller.clientWidth,
  };
}"""


@pytest.mark.browser
@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_graphiql_fits_the_screen(browser_server: str, screenshots: Path, width: int) -> None:
    """The title on one line, the tabs within the header (scrolling sideways when they do not fit), every
    example's lines inside the editor, and at 1280 px an editor as wide as the examples' longest line."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    longest = max(
        len(line)
        for path in (PROJECT_ROOT / "app" / "examples").glob("*.graphql")
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.goto(browser_server + "/graphql")
            page.locator(".graphiql-execute-button").wait_for(timeout=30_000)
            with page.expect_response(_answer_to("Organization")):
                page.locator(".graphiql-execute-button").click()
            page.locator(".result-window").get_by_text("Economic and Social Commission").first.wait_for()
            page.screenshot(path=str(screenshots / f"graphiql-{width}.png"))
            layout = page.evaluate(_LAYOUT)

            assert layout["pageOverflow"] <= 0, layout
            logo, tabs = layout["logo"], layout["tabs"]
            assert logo["height"] <= layout["logoLineHeight"] + 16, f"the title wraps: {layout}"  # 16: its padding
            assert logo["right"] <= width and tabs["right"] <= logo["left"] + 1, layout
            assert layout["tabsScroll"] in ("fits", "auto", "scroll"), layout
            if width >= 1280:
                assert layout["editorColumns"] >= longest, layout
                assert layout["result"]["left"] >= layout["editors"]["right"], layout  # side by side
            else:
                assert layout["result"]["top"] >= layout["editors"]["bottom"], layout  # the result below

            # Every example, in its tab: the active tab is in view, and no line runs past the editor's edge.
            for index in range(page.locator(".graphiql-tab").count()):
                page.locator(".graphiql-tab").nth(index).locator("button.graphiql-tab-button").click()
                page.wait_for_timeout(150)
                seen = page.evaluate(_LAYOUT)
                assert seen["editorOverflow"] <= 1, (index, seen)
                active = seen["activeTab"]
                assert tabs["left"] - 1 <= active["left"] and active["right"] <= tabs["right"] + 1, (index, seen)
            page.screenshot(path=str(screenshots / f"graphiql-{width}-last-tab.png"))
        finally:
            browser.close()
