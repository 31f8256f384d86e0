"""`GET /export/knowledge-base.jsonl.gz`: the current release, one JSON object per line, gzipped.

Built once per release and database in each worker (in a thread of its own, off the event loop,
in one read snapshot: app/data/export.py) into a file of the worker's own temporary folder, then
served from it (a million-record export is a file, not memory): the ETag names the database and
the release, a matching `If-None-Match` is answered 304 without reading anything else, and
`Content-Disposition` names the version. The body is a gzip file (`application/gzip`), sent as
it is: what reaches the disk is the `.jsonl.gz` the name says.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from app.config import Settings
from app.data.export import gzipped_jsonl
from app.execution.outages import RETRY_AFTER_SECONDS, is_outage, unavailable
from app.http.etags import matching

EXPORT_PATH = "/export/knowledge-base.jsonl.gz"


def database_identity(database_url: str) -> str:
    """A short, stable name of the database (its URL without the password, hashed): ETags differ between databases."""
    rendered = make_url(database_url).render_as_string(hide_password=True)
    return hashlib.sha256(rendered.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Built:
    version: int
    path: Path | None = None

    def etag(self, identity: str) -> str:
        return f'"kb-export-{identity}-{self.version}"'


class Export:
    """The endpoint, with this worker's built export (the newest release it has built)."""

    def __init__(self, settings: Settings, executor: Any) -> None:
        self.settings = settings
        self.executor = executor
        self._url_identity = database_identity(settings.serving_database_url)
        self._built: Built | None = None
        self._previous: Built | None = None  # kept one release longer: a response may still be sending it
        self._lock = asyncio.Lock()
        self._folder: Path | None = None
        self.builds = 0  # how many times this worker built it (tests: once per release)

    @property
    def identity(self) -> str:
        """The database's own identity (migration 0015, read with the version), as /graphql's ETags name it;
        before the worker has read it, a hash of the database's address."""
        return str(self.executor.version.database or self._url_identity)

    async def current_version(self) -> int:
        return int(await self.executor.version.current(self.executor.engine, self.executor.sqlite_reader))

    async def built(self, version: int) -> Built:
        """The export of `version` or newer: built now unless this worker has it."""
        async with self._lock:
            found = self._built
            if found is None or found.version < version:
                if self._folder is None:
                    self._folder = Path(tempfile.mkdtemp(prefix="kb-export-"))
                path = self._folder / f"build-{self.builds + 1}.jsonl.gz"
                read_at = await asyncio.to_thread(gzipped_jsonl, self.settings.serving_database_url, path)
                if self._previous is not None and self._previous.path is not None:
                    self._previous.path.unlink(missing_ok=True)
                self._previous, found = found, Built(read_at, path)
                self._built = found
                self.builds += 1
                self.executor.version.observe(read_at)
            return found

    def close(self) -> None:
        """Remove the built files (the app's shutdown)."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        self._built = self._previous = None

    def _headers(self, built: Built) -> dict[str, str]:
        return {
            "ETag": built.etag(self.identity),
            "Cache-Control": "no-cache",
            "Content-Disposition": f'attachment; filename="knowledge-base-v{built.version}.jsonl.gz"',
        }

    async def __call__(self, request: Request) -> Response:
        try:
            version = await self.current_version()
            tag = Built(version).etag(self.identity)
            if_none_match = request.headers.get("if-none-match")
            if if_none_match and matching(if_none_match, tag, answered=True):
                return Response(status_code=304, headers={"ETag": tag, "Cache-Control": "no-cache"})
            built = await self.built(version)
        except Exception as error:
            if not is_outage(error):
                raise
            # The database cannot be reached: 503 with Retry-After, as /graphql answers (app/execution/outages.py).
            refusal = unavailable(error)
            return JSONResponse(
                {"error": refusal.message, "code": "SERVICE_UNAVAILABLE"},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        if if_none_match and matching(if_none_match, built.etag(self.identity), answered=True):
            return Response(status_code=304, headers={"ETag": built.etag(self.identity), "Cache-Control": "no-cache"})
        assert built.path is not None
        return FileResponse(built.path, media_type="application/gzip", headers=self._headers(built))
