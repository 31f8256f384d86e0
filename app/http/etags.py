"""HTTP caching of GET /graphql: one ETag per (operation, variables, data version), and RFC 9110's If-None-Match.

The ETag names the document by the SHA-256 of its text, which is also its APQ hash, so a query
sent in full and the same query sent by hash get the same tag. `If-None-Match` compares weakly
(`W/"x"` matches `"x"`: nginx's gzip makes tags weak), ignores the coding suffix that
`app.http.compression` adds (`"x-gzip"` matches `"x"`), and `*` matches any current answer.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any

import orjson

CODING_SUFFIXES = ("-br", "-gzip")


@lru_cache(maxsize=1024)
def document_id(query: str) -> str:
    """The query's SHA-256 in hex: its APQ hash."""
    return hashlib.sha256(query.encode()).hexdigest()


def etag(version: int, document: str, operation_name: str | None, variables: Any, *, media_type: str) -> str:
    """The strong ETag of a successful GET answer: one per representation (its media type), version and request."""
    canonical = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(
        b"%s\0%s\0%s\0%s" % (document.encode(), (operation_name or "").encode(), canonical, media_type.encode())
    )
    return f'"v{version}-{digest.hexdigest()[:32]}"'


_VERSIONED = re.compile(r'(?:W/)?"v(\d{1,18})-[0-9a-f]{32}(?:-[a-z]+)?"')


def newest_version(if_none_match: str) -> int | None:
    """The newest data version an If-None-Match names (of tags this server made), or None."""
    versions = [int(found.group(1)) for found in _VERSIONED.finditer(if_none_match)]
    return max(versions) if versions else None


def _opaque(tag: str) -> str:
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    if tag.endswith('"'):
        for suffix in CODING_SUFFIXES:
            if tag.endswith(suffix + '"'):
                return tag[: -len(suffix) - 1] + '"'
    return tag


def matching(if_none_match: str, tag: str, *, answered: bool) -> str | None:
    """The candidate of `If-None-Match` that matches `tag` (weak comparison), or None.

    `*` matches only once the request has been `answered` with success: before, it is not
    known that the query has a current representation at all.
    """
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            if answered:
                return tag
        elif _opaque(candidate) == tag:
            return candidate
    return None
