"""GraphQL over HTTP (the GraphQL Foundation's spec): media types and status codes.

- A client that accepts `application/graphql-response+json` (Apollo Client, urql and graphql-http
  send it first) gets that media type, and a **request error** (the document does not parse or
  validate, a limit refuses it, a variable does not coerce, the operation is not found) is
  `400` with no `data` entry. Field errors during execution stay `200` with `data`.
- Any other client (`application/json`, `*/*`, no `Accept`) gets `application/json` and `200`,
  as before the spec's media type existed (the spec's legacy rule).
"""

from __future__ import annotations

from functools import lru_cache

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


@lru_cache(maxsize=256)
def prefers_graphql_response(accept: str | None) -> bool:
    """Whether an `Accept` header asks for graphql-response+json at least as much as for JSON."""
    if not accept or GRAPHQL_RESPONSE not in accept:
        return False
    best_graphql, best_json = 0.0, 0.0
    for item in accept.split(","):
        media_type, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media_type = media_type.lower()
        if media_type == GRAPHQL_RESPONSE:
            best_graphql = max(best_graphql, quality)
        elif media_type in (JSON, "application/*", "*/*"):
            best_json = max(best_json, quality)
    return best_graphql > 0 and best_graphql >= best_json


def choose(accept: str | None) -> str:
    """The media type an answer to a client sending `accept` has."""
    return GRAPHQL_RESPONSE if prefers_graphql_response(accept) else JSON
