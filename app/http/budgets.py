"""Per-client rate limits, like GitHub's: a budget of cost points per window, for each client.

- **Who**: a client is its IP address; behind a proxy listed in `TRUSTED_PROXIES`, the address
  that proxy names in `X-Forwarded-For` (the right-most one not itself a trusted proxy); or,
  with an `X-API-Key` header listed in `API_KEYS`, that key (its SHA-256, never the key itself).
- **What it spends**: each GraphQL request spends its computed cost (`app/execution/query_limits.py`;
  at least 1 point), reserved in one atomic step before it runs and settled after it: a request
  whose cost does not fit in what is left is refused (429, `Retry-After`, `RATE_LIMITED`), so
  simultaneous requests never spend more than the budget; a query refused before it ran (it does
  not parse or validate, or passes the cost or depth limit) keeps a token point and is given the
  rest back. A window's first request is served whatever it costs.
- **What it is told**: `x-ratelimit-limit`, `-remaining`, `-reset` (epoch seconds when the window
  ends) and `-used` on every GraphQL answer, and `Query.rateLimit { limit cost remaining resetAt
  used }` in GraphQL.
- **Where it is kept**: with `REDIS_URL`, in Redis, one budget for every worker and machine,
  each reservation an atomic Lua script (INCRBY, compare, give back if over); what Redis returns is
  clamped (never a negative count). Without it, per process:
  each worker keeps its own budget. If Redis stops answering, requests are still served and the
  budget is counted per process, with one warning; Redis is tried again every few seconds.

Every request to /graphql counts (GraphiQL's page, a GET naming no operation, a token point); the landing
page, GraphiQL's files, `/healthz` and the SDL never do.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.types import Scope

from app.config import Settings

logger = logging.getLogger("app.ratelimit")

REDIS_RETRY_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.25
LOCAL_CLIENTS = 100_000  # clients a process remembers (least recently seen forgotten first)

# KEYS[1]: the client's counter for this window; ARGV: points to reserve, window length in seconds, the limit.
# One INCRBY, then the comparison: over the limit, the same points are given back at once (a window's first
# request is always served, whatever it costs). A value this server never writes (negative, fractional, text:
# a stray write, a bad restore) is a spent budget, never more points. Returns {used, seconds left, served}.
RESERVE_SCRIPT = """
local raw = redis.call('GET', KEYS[1])
if raw and not string.match(raw, '^%d+$') then
  redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[2])
end
local points = tonumber(ARGV[1])
local used = redis.call('INCRBY', KEYS[1], points)
local left = redis.call('TTL', KEYS[1])
if left < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
if points > 0 and used > tonumber(ARGV[3]) and used > points then
  used = redis.call('DECRBY', KEYS[1], points)
  return {used, left, 0}
end
return {used, left, 1}
"""

# KEYS[1]: the counter; ARGV: points to add (a refund is negative), window length in seconds. Settles a
# reservation: never below 0, and never in a window that has ended meanwhile (its key is gone: nothing to
# settle, {0, -2}); a counter this server never writes is left as it is ({0, -3}). Returns {used, seconds left}.
SETTLE_SCRIPT = """
local raw = redis.call('GET', KEYS[1])
if not raw then
  return {0, -2}
end
if not string.match(raw, '^%d+$') then
  return {0, -3}
end
local used = tonumber(raw) + tonumber(ARGV[1])
if used < 0 then
  used = 0
end
redis.call('SET', KEYS[1], used, 'KEEPTTL')
local left = redis.call('TTL', KEYS[1])
if left < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
return {used, left}
"""


class UnexpectedReply(Exception):
    """Redis answered something this server's scripts never return: its budgets are counted in process instead."""


def _count(value: Any) -> int:
    """A count Redis returned, clamped: an integer, never negative (a negative `used` would lift the limit)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnexpectedReply(f"not an integer: {str(value)[:40]!r}")
    return max(0, value)


@dataclass
class Budget:
    """A client's budget in the current window, as last seen (what the headers and `rateLimit` say)."""

    limit: int
    used: int
    reset_at: float  # epoch seconds when the window ends
    cost: int = 0  # this request's points, once charged

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(math.ceil(self.reset_at)).encode()),
            (b"x-ratelimit-used", str(self.used).encode()),
        ]


class LocalCounters:
    """Fixed windows per client, in this process (bounded: the least recently seen forgotten first).

    Each method runs without awaiting anything: under the event loop, a reservation's check and its
    addition are one step, as Redis's script is.
    """

    def __init__(self, window: int) -> None:
        self.window = window
        self._counters: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def _current(self, client: str, now: float) -> tuple[float, int]:
        found = self._counters.get(client)
        if found is None or found[0] <= now:
            found = (now + self.window, 0)
        self._counters[client] = found
        self._counters.move_to_end(client)
        while len(self._counters) > LOCAL_CLIENTS:
            self._counters.popitem(last=False)
        return found

    def peek(self, client: str, now: float) -> tuple[int, float]:
        reset_at, used = self._current(client, now)
        return used, reset_at

    def reserve(self, client: str, points: int, limit: int, now: float) -> tuple[int, float, bool]:
        """Add `points` unless that passes `limit` (a window's first request always fits)."""
        reset_at, used = self._current(client, now)
        if points > 0 and used > 0 and used + points > limit:
            return used, reset_at, False
        self._counters[client] = (reset_at, used + points)
        return used + points, reset_at, True

    def settle(self, client: str, points: int, now: float) -> tuple[int, float]:
        """Add `points` (negative: a refund) to the current window, never below 0; an ended window is left be."""
        found = self._counters.get(client)
        if found is None or found[0] <= now:
            used, reset_at, _fits = self.reserve(client, max(0, points), 0, now)  # a new window: always fits
            return used, reset_at
        reset_at, used = found
        self._counters[client] = (reset_at, max(0, used + points))
        return max(0, used + points), reset_at


class RateLimiter:
    """The budgets: in Redis when configured and answering, else in this process.

    A request reserves its computed cost before it runs (`reserve`: atomic, refused past the limit)
    and settles after it (`settle`: what it did not spend is given back, e.g. a query refused before
    it ran keeps a token point).
    """

    def __init__(self, settings: Settings) -> None:
        self.limit = settings.rate_limit_points
        self.window = settings.rate_limit_window_seconds
        self.local = LocalCounters(self.window)
        self.prefix = settings.rate_limit_redis_prefix
        self.redis: Any = None
        self._reserve: Any = None
        self._settle: Any = None
        self._redis_down_until = 0.0
        if settings.redis_url:
            from redis import asyncio as aioredis

            self.redis = aioredis.from_url(
                settings.redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                retry_on_timeout=False,
            )
            self._reserve = self.redis.register_script(RESERVE_SCRIPT)
            self._settle = self.redis.register_script(SETTLE_SCRIPT)

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def _key(self, client: str) -> str:
        return f"{self.prefix}{client}"

    def _redis_usable(self) -> bool:
        return self.redis is not None and time.monotonic() >= self._redis_down_until

    def _redis_failed(self, error: BaseException) -> None:
        if time.monotonic() >= self._redis_down_until:
            logger.warning(
                "Redis is not answering (%s: %s); rate limits are counted per process until it does (retried "
                "every %g s)",
                type(error).__name__,
                error,
                REDIS_RETRY_SECONDS,
                extra={"event": {"redis": type(error).__name__}},
            )
        self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS

    async def peek(self, client: str) -> Budget:
        """The client's budget now, without spending any of it."""
        budget, _served = await self.reserve(client, 0)
        return budget

    async def reserve(self, client: str, points: int) -> tuple[Budget, bool]:
        """Reserve `points` of the client's budget in one atomic step: (the budget after, whether it fit).

        Refused (nothing reserved) when the points would pass the limit, unless the window is new.
        """
        now = time.time()
        if self._redis_usable():
            try:
                reply = await self._reserve(keys=[self._key(client)], args=[points, self.window, self.limit])
                used, left, served = (_count(value) for value in reply)
                return Budget(self.limit, used, now + left, cost=points if served == 1 else 0), served == 1
            except Exception as error:  # noqa: BLE001 - any Redis failure: count in this process instead
                self._redis_failed(error)
        used, reset_at, fits = self.local.reserve(client, points, self.limit, now)
        return Budget(self.limit, used, reset_at, cost=points if fits else 0), fits

    async def settle(self, client: str, points: int) -> Budget:
        """Add `points` to what the client has spent (negative: give back what a reservation did not use)."""
        now = time.time()
        if self._redis_usable():
            try:
                used, left = await self._settle(keys=[self._key(client)], args=[points, self.window])
                if left == -3:
                    raise UnexpectedReply("the counter is not a count")
                if left >= 0:
                    return Budget(self.limit, _count(used), now + _count(left))
                # The window ended meanwhile: nothing to give back; points to add open the next one.
                budget, _fits = await self.reserve(client, max(0, points))
                return budget
            except Exception as error:  # noqa: BLE001 - any Redis failure: count in this process instead
                self._redis_failed(error)
        used, reset_at = self.local.settle(client, points, now)
        return Budget(self.limit, used, reset_at)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def _networks(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


IPV6_CLIENT_PREFIX = 64  # one IPv6 client is a /64: a home or an office gets at least that many addresses


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address, or None for anything else (a name, a port, garbage); an IPv4-mapped IPv6 one as IPv4."""
    if len(text) > 45:  # the longest address's text (IPv6 with an embedded IPv4); anything longer is not one
        return None
    try:
        found = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address):
        if found.ipv4_mapped is not None:
            return found.ipv4_mapped
        if found.scope_id is not None:
            return None
    return found


def _client_of(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> str:
    """The budget's name for an address: IPv4 as it is, IPv6 by its /64, anything else `unknown`."""
    if address is None:
        return "ip:unknown"
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network(
            (int(address) >> (128 - IPV6_CLIENT_PREFIX) << (128 - IPV6_CLIENT_PREFIX), IPV6_CLIENT_PREFIX)
        )
        return f"ip:{network}"
    return f"ip:{address}"


@functools.lru_cache(maxsize=4096)
def _peer_client(text: str) -> str:
    """`_client_of(_address(text))`, remembered: a connection's peer is parsed once, not per request."""
    return _client_of(_address(text))


class ClientIdentity:
    """Who a request comes from: an API key, or an address (through trusted proxies).

    `X-Forwarded-For` is read only from a peer listed in `TRUSTED_PROXIES` (loopback included: the
    server never lets uvicorn or gunicorn rewrite the peer's address from it), right to left, past
    the trusted proxies, to the first address; an entry that is not an address stops the walk (the
    last trusted hop is the client), so garbage never names a budget or a Redis key. IPv6 clients
    are grouped by /64.
    """

    def __init__(self, settings: Settings) -> None:
        self.proxies = _networks(settings.trusted_proxies)
        self.keys = {hashlib.sha256(key.encode()).hexdigest()[:32] for key in settings.api_keys}

    def _trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in self.proxies)

    def of(self, scope: Scope) -> str:
        client = scope.get("client")
        if not self.keys and not self.proxies:  # the common case: the peer's address, no header read
            return _peer_client(str(client[0]) if client else "")
        peer = _address(str(client[0])) if client else None
        headers = Headers(scope=scope)
        key = headers.get("x-api-key")
        if key and self.keys:
            digest = hashlib.sha256(key.encode()).hexdigest()[:32]
            if digest in self.keys:
                return f"key:{digest}"
        address = peer
        if self.proxies and self._trusted(peer):
            forwarded = ",".join(headers.getlist("x-forwarded-for")).split(",")
            for hop in reversed(forwarded):
                found = _address(hop.strip())
                if found is None:
                    break  # not an address: what is left of it is the client's own say
                address = found
                if not self._trusted(found):
                    break
        return _client_of(address)
