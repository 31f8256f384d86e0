"""The landing page at `/`: what this API is, and links to the explorer, the SDL, health and the examples.

The page is one template (app/http/templates/landing.html, no CDN); a new part is a new <section> there, with any
values it needs added to `render`. Its one script, app/http/static/timeline.js, draws the timeline chart from the
query of app/examples/timeline-chart.graphql, which the page carries.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Awaitable, Callable
from string import Template
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from app.config import Settings
from app.http.graphiql import EXAMPLES_DIR, HERE, TEMPLATES_DIR, TITLE, examples

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
TIMELINE_SCRIPT = HERE / "static" / "timeline.js"
TIMELINE_SCRIPT_URL = "/static/timeline.js"
TIMELINE_QUERY = EXAMPLES_DIR / "timeline-chart.graphql"


def render(settings: Settings) -> str:
    """The page's HTML for `settings`."""
    items = []
    for example in examples():
        summary = example["query"].splitlines()[0].removeprefix("#").strip()
        name = f"<code>{html.escape(example['name'])}.graphql</code>"
        if settings.graphiql:
            link = "/graphql?" + urlencode({"q": example["query"]}, quote_via=quote)
            name = f'<a href="{html.escape(link)}">{name}</a>'
        items.append(f"        <li>{name}: {html.escape(summary)}</li>")
    if settings.graphiql:
        explorer = '          <li><a class="primary" href="/graphql">Open the explorer (GraphiQL)</a></li>'
        examples_lead = "Each opens in the explorer, ready to run (they are also its tabs)."
    else:  # production mode turned the explorer off: link nothing that would only refuse
        explorer = "          <li>The explorer (GraphiQL) is off in this deployment.</li>"
        examples_lead = "The explorer is off in this deployment; the queries are in <code>app/examples/</code>."
    return Template((TEMPLATES_DIR / "landing.html").read_text(encoding="utf-8")).substitute(
        title=html.escape(TITLE),
        examples="\n".join(items),
        explorer=explorer,
        examples_lead=examples_lead,
        timeline_query=html.escape(TIMELINE_QUERY.read_text(encoding="utf-8")),
        timeline_script=TIMELINE_SCRIPT_URL,
        default_page_size=settings.default_page_size,
        max_page_size=settings.max_page_size,
    )


def endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """GET /: the landing page, rendered once."""
    page = render(settings)

    async def landing(_request: Request) -> Response:
        return HTMLResponse(
            page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}
        )

    return landing


@functools.cache
def _timeline_script() -> bytes:
    return TIMELINE_SCRIPT.read_bytes()


async def timeline_script(_request: Request) -> Response:
    """GET /static/timeline.js: the script that draws the landing page's timeline chart."""
    return Response(
        _timeline_script(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
