"""Production mode's rule for GET /graphql: only persisted queries (APQ hashes) may be sent by GET.

A GET that runs any query is a cross-site request a page on any origin can make (graphql-cop:
"GET Method Query Support", MEDIUM), and a URL that any query fits in. With `PRODUCTION=true`
a GET must carry `extensions.persistedQuery.sha256Hash`, which is what Apollo Client's
`useGETForHashedQueries` and urql's `preferGetForPersistedQueries` send, so those flows keep
working (and stay cacheable); anything else is refused 400 `BAD_REQUEST`, saying to POST. With
`GRAPHIQL=true` the explorer's page itself (a GET with no query) is still served.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import orjson
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import BadRequest
from app.request import request_record


def has_persisted_query_hash(query_string: bytes) -> bool:
    """Whether a URL query carries extensions.persistedQuery.sha256Hash (a string)."""
    values = parse_qs(query_string.decode("latin-1")).get("extensions")
    if not values:
        return False
    try:
        extensions = orjson.loads(values[0])
    except orjson.JSONDecodeError:
        return False
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    return isinstance(persisted, dict) and isinstance(persisted.get("sha256Hash"), str)


def _asks_for_no_query(query_string: bytes) -> bool:
    """GraphiQL's own page (GRAPHIQL=true): /graphql, or /graphql?q=<a query to open in a tab>."""
    return not ({"query", "extensions", "variables", "operationName"} & parse_qs(query_string.decode("latin-1")).keys())


class PersistedGetOnly:
    """ASGI middleware: in production, GET /graphql only with a persisted query's hash."""

    def __init__(self, app: ASGIApp, *, path: str, graphiql: bool) -> None:
        self.app = app
        self.path = path
        self.graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and scope["path"] == self.path
            and not has_persisted_query_hash(scope.get("query_string", b""))
            and not (self.graphiql and _asks_for_no_query(scope.get("query_string", b"")))
        ):
            request_record(scope).error_codes.append(BadRequest.code)
            message = (
                "This server takes GET /graphql only for persisted queries (extensions.persistedQuery.sha256Hash, "
                "as Apollo's and urql's APQ send); POST other queries as JSON."
            )
            response = JSONResponse(
                {"errors": [{"message": message, "extensions": {"code": BadRequest.code}}]},
                status_code=400,
                headers={"Cache-Control": "no-store"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
