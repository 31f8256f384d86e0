"""The landing page at `/`: what this API is, and links to the explorer, the SDL, health and the examples.

The page is one self-contained template (app/templates/landing.html: no CDN, no script); a new part is a
new <section> there, with any values it needs added to `render`.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from string import Template
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from app.config import Settings
from app.graphiql import TEMPLATES_DIR, TITLE, examples

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def render(settings: Settings) -> str:
    """The page's HTML for `settings`."""
    items = []
    for example in examples():
        summary = example["query"].splitlines()[0].removeprefix("#").strip()
        link = "/graphql?" + urlencode({"q": example["query"]}, quote_via=quote)
        items.append(
            f'        <li><a href="{html.escape(link)}"><code>{html.escape(example["name"])}.graphql</code></a>: '
            f"{html.escape(summary)}</li>"
        )
    return Template((TEMPLATES_DIR / "landing.html").read_text(encoding="utf-8")).substitute(
        title=html.escape(TITLE),
        examples="\n".join(items),
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
