"""GraphiQL served whole by this app: its scripts and stylesheets, and a page that opens on our example queries.

Strawberry's page loads seven files from a CDN and stays blank offline. The same files, at the versions
and hashes that page names, live in app/http/static/graphiql/ (scripts/refresh_graphiql_assets.py refreshes
them and their manifest), and are served under /graphiql/ by path, version included, so they can be
cached for good.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import html
import json
from dataclasses import dataclass
from pathlib import Path
from string import Template

from graphql import OperationDefinitionNode, parse, value_from_ast_untyped
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

HERE = Path(__file__).resolve().parent
ASSETS_DIR = HERE / "static" / "graphiql"
TEMPLATES_DIR = HERE / "templates"
EXAMPLES_DIR = HERE.parent / "examples"
ASSET_PREFIX = "/graphiql/"
TITLE = "Mongolia's multilateral cooperation"
SHORT_TITLE = "Mongolia KB"  # GraphiQL's header on a narrow screen
# The README's order: the first opens, and shows nested relations and citations.
EXAMPLE_ORDER = ("organization", "timeline", "chairmanships", "search", "nested")
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    """One served file of the manifest."""

    kind: str  # "script" or "stylesheet"
    path: str  # under ASSETS_DIR and ASSET_PREFIX: "<package>@<version>/<file>"
    integrity: str
    body: bytes

    @functools.cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.body, compresslevel=9, mtime=0)

    @property
    def url(self) -> str:
        return ASSET_PREFIX + self.path


@functools.cache
def assets() -> dict[str, Asset]:
    """The manifest's files by path, in the order the page loads them, read once per process."""
    manifest = json.loads((ASSETS_DIR / "manifest.json").read_text(encoding="utf-8"))
    return {
        entry["path"]: Asset(
            entry["kind"], entry["path"], entry["integrity"], (ASSETS_DIR / entry["path"]).read_bytes()
        )
        for entry in manifest["assets"]
    }


def examples() -> list[dict[str, str]]:
    """The example queries (app/examples/*.graphql), in the README's order, then any others by name.

    Each comes with its variables' default values as JSON, so the variables pane shows what to change.
    """
    files = sorted(EXAMPLES_DIR.glob("*.graphql"), key=lambda path: (_order(path.stem), path.stem))
    found = []
    for path in files:
        query = path.read_text(encoding="utf-8")
        defaults = {
            definition.variable.name.value: value_from_ast_untyped(definition.default_value)
            for operation in parse(query).definitions
            if isinstance(operation, OperationDefinitionNode)
            for definition in operation.variable_definitions or ()
            if definition.default_value is not None
        }
        found.append(
            {"name": path.stem, "query": query, "variables": json.dumps(defaults, indent=2) if defaults else ""}
        )
    return found


def _order(name: str) -> int:
    return EXAMPLE_ORDER.index(name) if name in EXAMPLE_ORDER else len(EXAMPLE_ORDER)


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.lower().split(","):
        name, _, params = part.partition(";")
        if name.strip() == "gzip":
            quality = params.replace(" ", "").removeprefix("q=")
            return quality == "" or quality.strip("0.") != ""  # only q=0 (0.0, 0.000) refuses it
    return False


async def asset(request: Request) -> Response:
    """GET /graphiql/<package>@<version>/<file>: one of the manifest's files, cacheable for good."""
    found = assets().get(request.path_params["path"])
    if found is None:
        return PlainTextResponse("Not Found", status_code=404)
    headers = {
        "Cache-Control": IMMUTABLE,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    media_type = MEDIA_TYPES[Path(found.path).suffix]
    if _accepts_gzip(request.headers.get("accept-encoding", "")):
        return Response(found.gzipped, media_type=media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(found.body, media_type=media_type, headers=headers)


@dataclass(frozen=True)
class Page:
    """The GraphiQL page and the Content-Security-Policy that lets it load nothing but this server."""

    html: str
    content_security_policy: str


@functools.cache
def page() -> Page:
    """The page, built once: the manifest's files with their integrity hashes, the examples as tabs."""
    tags: dict[str, list[str]] = {"script": [], "stylesheet": []}
    for item in assets().values():
        url, integrity = html.escape(item.url), html.escape(item.integrity)
        if item.kind == "script":
            tags["script"].append(f'    <script src="{url}" integrity="{integrity}" crossorigin="anonymous"></script>')
        else:
            tags["stylesheet"].append(
                f'    <link rel="stylesheet" href="{url}" integrity="{integrity}" crossorigin="anonymous" />'
            )
    # Inside <script>, "</" would end the element: JSON's "\/" keeps the text the same.
    config = json.dumps(
        {"title": TITLE, "shortTitle": SHORT_TITLE, "examples": examples()}, ensure_ascii=False
    ).replace("</", "<\\/")
    script = (TEMPLATES_DIR / "graphiql.js").read_text(encoding="utf-8")
    text = Template((TEMPLATES_DIR / "graphiql.html").read_text(encoding="utf-8")).substitute(
        title=html.escape(TITLE),
        stylesheets="\n".join(tags["stylesheet"]),
        scripts="\n".join(tags["script"]),
        config=config,
        inline_script=script,
    )
    # The template puts the script between its tags as it is, so this hash matches what the browser hashes.
    script_hash = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' 'sha256-{script_hash}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return Page(text, policy)


def ide_response() -> Response:
    """The GraphiQL page, as GET /graphql answers a browser."""
    built = page()
    return HTMLResponse(
        built.html,
        headers={"Content-Security-Policy": built.content_security_policy, "Cache-Control": "no-cache"},
    )
