"""`GET /export/knowledge-base.jsonl.gz`: the current release, one JSON object per line, gzipped.

Built once per release and database in each worker (in a thread of its own, off the event loop,
in one read snapshot: app/data/export.py), then served from memory: the ETag names the database
and the release, a matching `If-None-Match` is answered 304 without reading anything else, and
`Content-Disposition` names the version. The body is a gzip file (`application/gzip`), sent as
it is: what reaches the disk is the `.jsonl.gz` the name says.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import Response

from app.config import Settings
from app.data.export import gzipped_jsonl

EXPORT_PATH = "/export/knowledge-base.jsonl.gz"


def database_identity(database_url: str) -> str:
    """A short, stable name of the database (its URL without the password, hashed): ETags differ between databases."""
    rendered = make_url(database_url).render_as_string(hide_password=True)
    return hashlib.sha256(rendered.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Built:
    version: int
    body: bytes

    def etag(self, identity: str) -> str:
        return f'"kb-export-{identity}-{self.version}"'


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110's weak comparison: W/"x" matches "x"; * matches anything."""
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


class Export:
    """The endpoint, with this worker's one built export (the newest release it has built)."""

    def __init__(self, settings: Settings, executor: Any) -> None:
        self.settings = settings
        self.executor = executor
        self.identity = database_identity(str(settings.database_url))
        self._built: Built | None = None
        self._lock = asyncio.Lock()
        self.builds = 0  # how many times this worker built it (tests: once per release)

    async def current_version(self) -> int:
        return int(await self.executor.version.current(self.executor.engine, self.executor.sqlite_reader))

    async def built(self, version: int) -> Built:
        """The export of `version` or newer: built now unless this worker has it."""
        async with self._lock:
            found = self._built
            if found is None or found.version < version:
                read_at, body = await asyncio.to_thread(gzipped_jsonl, str(self.settings.database_url))
                found = self._built = Built(read_at, body)
                self.builds += 1
                self.executor.version.observe(read_at)
            return found

    def _headers(self, built: Built) -> dict[str, str]:
        return {
            "ETag": built.etag(self.identity),
            "Cache-Control": "no-cache",
            "Content-Disposition": f'attachment; filename="knowledge-base-v{built.version}.jsonl.gz"',
        }

    async def __call__(self, request: Request) -> Response:
        version = await self.current_version()
        tag = Built(version, b"").etag(self.identity)
        if_none_match = request.headers.get("if-none-match")
        if if_none_match and _matches(if_none_match, tag):
            return Response(status_code=304, headers={"ETag": tag, "Cache-Control": "no-cache"})
        built = await self.built(version)
        if if_none_match and _matches(if_none_match, built.etag(self.identity)):
            return Response(status_code=304, headers={"ETag": built.etag(self.identity), "Cache-Control": "no-cache"})
        return Response(built.body, media_type="application/gzip", headers=self._headers(built))
