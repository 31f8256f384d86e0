"""CORS for /graphql: Starlette's middleware, with refusals that say what to change.

A browser hides a refused preflight's body from the page, but shows it in the developer tools,
where the person who can fix it looks: the answer names the origin, method or headers refused
and the setting that allows them (`CORS_ORIGINS`, `CORS_ALLOW_HEADERS`).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

# What Apollo Client, urql, Apollo's CSRF prevention and tracing (W3C Trace Context, Sentry) send.
DEFAULT_ALLOW_HEADERS = (
    "content-type",
    "accept",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "graphql-client-name",
    "graphql-client-version",
    "traceparent",
    "tracestate",
    "sentry-trace",
    "baggage",
    "x-request-id",
)
# What a page may read of an answer: its tag and request ID, timings, and the budget (a 429's Retry-After too).
EXPOSE_HEADERS = (
    "ETag",
    "X-Request-Id",
    "Server-Timing",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Used",
)
ALLOW_METHODS = ("GET", "POST")


class Cors(CORSMiddleware):
    """Starlette's CORS, explaining refused preflights; with no origin listed, it only explains."""

    def __init__(self, app: ASGIApp, *, origins: list[str], extra_headers: list[str]) -> None:
        headers = sorted({*DEFAULT_ALLOW_HEADERS, *(h.strip().lower() for h in extra_headers if h.strip())})
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=ALLOW_METHODS,
            allow_headers=headers,
            expose_headers=EXPOSE_HEADERS,
            max_age=600,
        )
        self.origins = origins
        self.listed_headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.origins and (scope["type"] != "http" or scope["method"] != "OPTIONS"):
            await self.app(scope, receive, send)  # CORS is off: nothing to add to any answer
            return
        await super().__call__(scope, receive, send)

    async def preflight(self, scope: Scope, receive: Receive, send: Send) -> None:
        """OPTIONS /graphql: a CORS preflight answered (or refused, saying why); any other OPTIONS is 405."""
        headers = Headers(scope=scope)
        if "origin" in headers and "access-control-request-method" in headers:
            response = self.preflight_response(request_headers=headers)
        else:
            response = JSONResponse(
                {
                    "errors": [
                        {
                            "message": "OPTIONS /graphql answers CORS preflights only (send Origin and "
                            "Access-Control-Request-Method).",
                            "extensions": {"code": "METHOD_NOT_ALLOWED"},
                        }
                    ]
                },
                status_code=405,
                headers={"Allow": "GET, POST, HEAD, OPTIONS"},
            )
        await response(scope, receive, send)

    def answer_headers(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        """The CORS headers of an answer to a request from `origin` (None: not a cross-origin request)."""
        if not self.origins:
            return []
        if origin is None or not self.is_allowed_origin(origin):
            return [(b"vary", b"Origin")]
        headers = [(name.lower().encode(), value.encode()) for name, value in self.simple_headers.items()]
        if not self.allow_all_origins or self.allow_credentials:
            headers = [(name, value) for name, value in headers if name != b"access-control-allow-origin"]
            headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
        return [*headers, (b"vary", b"Origin")]

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        origin = request_headers["origin"]
        method = request_headers["access-control-request-method"]
        asked = [h.strip().lower() for h in request_headers.get("access-control-request-headers", "").split(",")]
        reasons = []
        if not self.is_allowed_origin(origin):
            if self.origins:
                reasons.append(f"the origin {origin} is not in CORS_ORIGINS ({', '.join(self.origins)})")
            else:
                reasons.append(
                    f"CORS is off: no origin is listed; to let pages of {origin} call this API, "
                    f"set CORS_ORIGINS='[\"{origin}\"]'"
                )
        if method not in self.allow_methods:
            reasons.append(f"the method {method} is not allowed (only {', '.join(ALLOW_METHODS)})")
        refused = [h for h in asked if h and h not in self.allow_headers]
        if refused:
            reasons.append(
                f"the header(s) {', '.join(refused)} are not allowed; allowed: {', '.join(self.listed_headers)}; "
                "add others with CORS_ALLOW_HEADERS (a JSON list)"
            )
        if request_headers.get("access-control-request-private-network") is not None:
            reasons.append("private network access is not allowed")
        message = "CORS preflight refused: " + "; ".join(reasons) + "."
        headers = {k: v for k, v in response.headers.items() if k.lower().startswith(("access-control", "vary"))}
        return JSONResponse(
            {"errors": [{"message": message, "extensions": {"code": "CORS_REFUSED"}}]}, status_code=403, headers=headers
        )
