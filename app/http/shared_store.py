"""State shared by every worker through Redis (`REDIS_URL`), each use of it optional.

`SharedQueries` keeps the persisted queries (APQ) of all workers: a hash registered on one worker
is known to all, and after a restart. Redis failing never fails a request: the worker goes on with
what it keeps itself (the client then registers its query once more, as APQ intends), logs one
warning, and tries Redis again after `RETRY_SECONDS`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

logger = logging.getLogger("app.shared")

RETRY_SECONDS = 5.0
TIMEOUT_SECONDS = 0.25
APQ_TTL_SECONDS = 7 * 24 * 3600  # a persisted query unused for a week is forgotten (and re-registered if asked)


def redis_client(url: str) -> Any:
    """An asyncio Redis client that fails fast (a quarter of a second) rather than hold a request."""
    from redis import asyncio as aioredis

    return aioredis.from_url(
        url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS, retry_on_timeout=False
    )


class Breaker:
    """Skips Redis for RETRY_SECONDS after a failure, with one warning per failure streak."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._down_until = 0.0
        self._warned = False

    @property
    def closed(self) -> bool:
        return time.monotonic() >= self._down_until

    def failed(self, error: BaseException) -> None:
        if not self._warned:
            logger.warning(
                "Redis is not answering (%s: %s); %s until it does (retried every %g s)",
                type(error).__name__,
                error,
                self.what,
                RETRY_SECONDS,
                extra={"event": {"redis": type(error).__name__}},
            )
            self._warned = True
        self._down_until = time.monotonic() + RETRY_SECONDS

    def succeeded(self) -> None:
        if self._warned:
            logger.warning("Redis answers again; %s no more", self.what)
        self._warned = False


class SharedQueries:
    """Persisted queries in Redis, by SHA-256 (hex)."""

    def __init__(self, url: str, prefix: str = "kb:apq:") -> None:
        self.redis = redis_client(url)
        self.prefix = prefix
        self.breaker = Breaker("persisted queries are kept per worker")

    async def get(self, sha256_hash: str) -> str | None:
        if not self.breaker.closed:
            return None
        try:
            found = await self.redis.get(self.prefix + sha256_hash)
        except Exception as error:  # noqa: BLE001 - any Redis failure: this worker's own store serves
            self.breaker.failed(error)
            return None
        self.breaker.succeeded()
        return found.decode() if isinstance(found, bytes) else found

    async def put(self, sha256_hash: str, query: str) -> None:
        if not self.breaker.closed:
            return
        try:
            await self.redis.set(self.prefix + sha256_hash, query, ex=APQ_TTL_SECONDS)
        except Exception as error:  # noqa: BLE001 - any Redis failure: kept in this worker only
            self.breaker.failed(error)
            return
        self.breaker.succeeded()

    async def close(self) -> None:
        await self.redis.aclose()
