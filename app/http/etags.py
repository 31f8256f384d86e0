"""HTTP caching of GET /graphql: one ETag per (operation, variables, database, data version), and If-None-Match.

A tag reads `"v<version>-<database>-<digest>"`: the data version, the database's identity (random,
written once: `DatasetState.database_id`), so two databases, each counting its seeds from 1, never
share a tag, and a digest of the request and the answer's media type.

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


def etag(
    version: int, document: str, operation_name: str | None, variables: Any, *, media_type: str, database: str
) -> str:
    """The strong ETag of a successful GET answer: one per representation (its media type), database, version
    and request."""
    canonical = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(
        b"%s\0%s\0%s\0%s" % (document.encode(), (operation_name or "").encode(), canonical, media_type.encode())
    )
    return f'"v{version}-{_database_part(database)}-{digest.hexdigest()[:32]}"'


def _database_part(database: str) -> str:
    """The identity as a tag shows it: lower-case hex, `0` for a database seeded before it had one."""
    return database.lower() if _DATABASE.fullmatch(database or "") else "0"


_DATABASE = re.compile(r"[0-9a-fA-F]{1,32}")
_VERSIONED = re.compile(r'(?:W/)?"v(\d{1,18})-([0-9a-f]{1,32})-[0-9a-f]{32}(?:-[a-z]+)?"')


def newest_version(if_none_match: str, database: str) -> int | None:
    """The newest data version an If-None-Match names among tags of this database, or None.

    A tag of another database says nothing of this one's versions: it is simply not matched.
    """
    ours = _database_part(database)
    versions = [int(found.group(1)) for found in _VERSIONED.finditer(if_none_match) if found.group(2) == ours]
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
