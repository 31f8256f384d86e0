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
APQ_TTL_SECONDS = 24 * 3600  # a persisted query unused for a day is forgotten (and re-registered if asked)
APQ_CLIENT_SHARE = 16  # one client registers at most 1/16 of the shared bytes of a day

# KEYS: the query's key, the day's bytes, the client's bytes of the day. ARGV: the query, its TTL, its bytes, the
# day's cap, the client's cap, the counters' TTL. A query already kept is kept longer; a new one only within both
# caps. Bytes registered per day (fixed days) bound what Redis holds: at most two days' worth (TTL one day).
# Returns 1 when the query is kept, 0 when a cap refused it.
KEEP_SCRIPT = """
if redis.call('EXPIRE', KEYS[1], ARGV[2]) == 1 then
  return 1
end
local size = tonumber(ARGV[3])
local day = tonumber(redis.call('GET', KEYS[2])) or 0
local mine = tonumber(redis.call('GET', KEYS[3])) or 0
if day + size > tonumber(ARGV[4]) or mine + size > tonumber(ARGV[5]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('INCRBY', KEYS[2], size)
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('INCRBY', KEYS[3], size)
redis.call('EXPIRE', KEYS[3], ARGV[6])
return 1
"""


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
    """Persisted queries in Redis, by SHA-256 (hex), for a day since last registered or used; the bytes
    registered per day bounded in all (`max_bytes`) and per client (1/16 of it)."""

    def __init__(self, url: str, prefix: str = "kb:apq:", max_bytes: int = 16_000_000) -> None:
        self.redis = redis_client(url)
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.breaker = Breaker("persisted queries are kept per worker")
        self._keep = self.redis.register_script(KEEP_SCRIPT)
        self.refused = 0  # registrations a cap refused (kept by their worker only)

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

    async def put(self, sha256_hash: str, query: str, client: str | None = None) -> None:
        if not self.breaker.closed:
            return
        day = int(time.time() // APQ_TTL_SECONDS)
        size = len(query.encode())
        keys = [
            self.prefix + sha256_hash,
            f"{self.prefix}bytes:{day}",
            f"{self.prefix}bytes:{day}:{client or 'unknown'}",
        ]
        args = [query, APQ_TTL_SECONDS, size, self.max_bytes, self.max_bytes // APQ_CLIENT_SHARE, 2 * APQ_TTL_SECONDS]
        try:
            kept = await self._keep(keys=keys, args=args)
        except Exception as error:  # noqa: BLE001 - any Redis failure: kept in this worker only
            self.breaker.failed(error)
            return
        self.breaker.succeeded()
        if kept != 1:
            self.refused += 1

    async def close(self) -> None:
        await self.redis.aclose()
