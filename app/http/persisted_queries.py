"""Automatic persisted queries: Apollo's APQ protocol, so clients can send a query's hash instead of its text.

A request carries `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`. With the hash
alone, the server runs the query it keeps under that hash, or answers `PersistedQueryNotFound`; the client
then sends the hash with the query, which the server checks against the hash, runs, and keeps. Hashed GET
requests are short and the same for every client, so HTTP caches can keep their answers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

from app.errors import InvalidPersistedQuery, PersistedQueryHashMismatch, PersistedQueryNotFound
from app.http.shared_store import SharedQueries
from app.lru import LRU
from app.request import Operation

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# As Apollo Server answers a miss: 200 (clients read the error from the body) and never cached, because
# the client registers the query next and the same URL must then succeed.
MISS_CACHE_CONTROL = "private, no-cache, must-revalidate"


class PersistedQueries:
    """The queries this process keeps by SHA-256 (hex), bounded by count and by bytes of text, the least
    recently used dropped first."""

    def __init__(self, max_entries: int, shared: SharedQueries | None = None, max_bytes: int | None = None) -> None:
        self.max_entries = max_entries
        self.shared = shared  # with REDIS_URL: every worker's queries (app/http/shared_store.py)
        self._queries = LRU(max_entries, max_bytes)

    def __len__(self) -> int:
        return len(self._queries)

    @property
    def bytes(self) -> int:
        """Bytes of query text kept."""
        return self._queries.weight

    def get(self, sha256_hash: str) -> str | None:
        found: str | None = self._queries.get(sha256_hash)
        return found

    def put(self, sha256_hash: str, query: str) -> None:
        self._queries.put(sha256_hash, query, len(query.encode()))

    async def resolve(self, operation: Operation) -> tuple[Operation, str | None]:
        """The operation with its query taken from the store, and the hash to keep its query under once
        answered (None: nothing to keep); an APQ error (ApiError) when the extension is wrong or unknown."""
        await self._from_shared(operation)
        return self._resolve(operation)

    async def keep(self, sha256_hash: str, query: str, client: str | None = None) -> None:
        """Keep a query that parsed and validated, as Apollo Server does, here and in the shared store (within
        its bytes for the day, and `client`'s share of them)."""
        self.put(sha256_hash, query)
        if self.shared is not None:
            await self.shared.put(sha256_hash, query, client)

    async def _from_shared(self, operation: Operation) -> None:
        """A hash this worker does not keep, looked up in the shared store (and kept here if found)."""
        if self.shared is None or operation.query is not None:
            return
        persisted = (operation.extensions or {}).get("persistedQuery")
        sha256_hash = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(sha256_hash, str) or not SHA256_HEX.fullmatch(sha256_hash) or self.get(sha256_hash):
            return
        found = await self.shared.get(sha256_hash)
        if found is not None and hashlib.sha256(found.encode()).hexdigest() == sha256_hash:
            self.put(sha256_hash, found)

    async def close(self) -> None:
        if self.shared is not None:
            await self.shared.close()

    def _resolve(self, operation: Operation) -> tuple[Operation, str | None]:
        """The operation with its query filled in from the store, and the hash to keep its query under."""
        persisted = (operation.extensions or {}).get("persistedQuery")
        if persisted is None:
            return operation, None
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise InvalidPersistedQuery("Unsupported persisted query version: send persistedQuery.version 1")
        sha256_hash = persisted.get("sha256Hash")
        if not isinstance(sha256_hash, str) or not SHA256_HEX.fullmatch(sha256_hash):
            raise InvalidPersistedQuery("persistedQuery.sha256Hash must be the query's SHA-256 in lowercase hex")
        if operation.query is None:
            query = self.get(sha256_hash)
            if query is None:
                raise PersistedQueryNotFound("PersistedQueryNotFound")
            return dataclasses.replace(operation, query=query), None
        if hashlib.sha256(operation.query.encode()).hexdigest() != sha256_hash:
            raise PersistedQueryHashMismatch("provided sha does not match query")
        return operation, sha256_hash
