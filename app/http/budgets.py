"""Per-client rate limits, like GitHub's: a budget of cost points per window, for each client.

- **Who**: a client is its IP address; behind a proxy listed in `TRUSTED_PROXIES`, the address
  that proxy names in `X-Forwarded-For` (the right-most one not itself a trusted proxy); or,
  with an `X-API-Key` header listed in `API_KEYS`, that key (its SHA-256, never the key itself).
- **What it spends**: each GraphQL request spends its computed cost (`app/execution/query_limits.py`;
  at least 1 point), charged when it is answered. A request is refused while the client's
  budget for the current window is spent: 429, `Retry-After`, `RATE_LIMITED`; the request that
  spends the last points is served in full.
- **What it is told**: `x-ratelimit-limit`, `-remaining`, `-reset` (epoch seconds when the window
  ends) and `-used` on every GraphQL answer, and `Query.rateLimit { limit cost remaining resetAt
  used }` in GraphQL.
- **Where it is kept**: with `REDIS_URL`, in Redis, one budget for every worker and machine,
  each charge an atomic Lua script (INCRBY and EXPIRE in one step). Without it, per process:
  each worker keeps its own budget. If Redis stops answering, requests are still served and the
  budget is counted per process, with one warning; Redis is tried again every few seconds.

Only operations count: GraphiQL's page and files, the landing page, `/healthz` and the SDL never do.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.request import request_record

logger = logging.getLogger("app.ratelimit")

REDIS_RETRY_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.25
LOCAL_CLIENTS = 100_000  # clients a process remembers (least recently seen forgotten first)

# KEYS[1]: the client's counter for this window; ARGV: points to add, window length in seconds.
# Returns the points used in the window after the charge, and the window's seconds left.
CHARGE_SCRIPT = """
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
if used == tonumber(ARGV[1]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
local left = redis.call('TTL', KEYS[1])
if left < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
return {used, left}
"""


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
    """Fixed windows per client, in this process (bounded: the least recently seen forgotten first)."""

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

    def charge(self, client: str, points: int, now: float) -> tuple[int, float]:
        reset_at, used = self._current(client, now)
        self._counters[client] = (reset_at, used + points)
        return used + points, reset_at


class RateLimiter:
    """The budgets: in Redis when configured and answering, else in this process."""

    def __init__(self, settings: Settings) -> None:
        self.limit = settings.rate_limit_points
        self.window = settings.rate_limit_window_seconds
        self.local = LocalCounters(self.window)
        self.prefix = settings.rate_limit_redis_prefix
        self.redis: Any = None
        self._script: Any = None
        self._redis_down_until = 0.0
        if settings.redis_url:
            from redis import asyncio as aioredis

            self.redis = aioredis.from_url(
                settings.redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                retry_on_timeout=False,
            )
            self._script = self.redis.register_script(CHARGE_SCRIPT)

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
        now = time.time()
        if self._redis_usable():
            try:
                used, left = await self._script(keys=[self._key(client)], args=[0, self.window])
                return Budget(self.limit, int(used), now + int(left))
            except Exception as error:  # noqa: BLE001 - any Redis failure: count in this process instead
                self._redis_failed(error)
        used, reset_at = self.local.peek(client, now)
        return Budget(self.limit, used, reset_at)

    async def charge(self, client: str, points: int) -> Budget:
        """Spend `points` of the client's budget; the budget after it."""
        now = time.time()
        if self._redis_usable():
            try:
                used, left = await self._script(keys=[self._key(client)], args=[points, self.window])
                return Budget(self.limit, int(used), now + int(left), cost=points)
            except Exception as error:  # noqa: BLE001 - any Redis failure: count in this process instead
                self._redis_failed(error)
        used, reset_at = self.local.charge(client, points, now)
        return Budget(self.limit, used, reset_at, cost=points)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def _networks(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


class ClientIdentity:
    """Who a request comes from: an API key, or an address (through trusted proxies)."""

    def __init__(self, settings: Settings) -> None:
        self.proxies = _networks(settings.trusted_proxies)
        self.keys = {hashlib.sha256(key.encode()).hexdigest()[:32] for key in settings.api_keys}

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)

    def of(self, scope: Scope) -> str:
        if not self.keys and not self.proxies:  # the common case: the peer's address, no header read
            client = scope.get("client")
            return f"ip:{client[0] if client else 'unknown'}"
        headers = Headers(scope=scope)
        key = headers.get("x-api-key")
        if key and self.keys:
            digest = hashlib.sha256(key.encode()).hexdigest()[:32]
            if digest in self.keys:
                return f"key:{digest}"
        client = scope.get("client")
        address = client[0] if client else "unknown"
        if self.proxies and self._trusted(address):
            forwarded = [
                part.strip() for part in ",".join(headers.getlist("x-forwarded-for")).split(",") if part.strip()
            ]
            for hop in reversed(forwarded):
                if not self._trusted(hop):
                    address = hop
                    break
        return f"ip:{address}"


def is_operation(scope: Scope) -> bool:
    """Whether a request to /graphql runs an operation (GraphiQL's page, a GET with no query, does not)."""
    if scope["method"] == "POST":
        return True
    if scope["method"] != "GET":
        return False
    query_string = scope.get("query_string", b"")
    return b"query=" in query_string or b"extensions=" in query_string


class RateLimits:
    """ASGI middleware: refuse a client whose budget is spent; charge each operation its cost."""

    def __init__(self, app: ASGIApp, *, path: str, limiter: RateLimiter, identity: ClientIdentity) -> None:
        self.app = app
        self.path = path
        self.limiter = limiter
        self.identity = identity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or not is_operation(scope):
            await self.app(scope, receive, send)
            return
        client = self.identity.of(scope)
        budget = await self.limiter.peek(client)
        if budget.remaining <= 0:
            await _refuse(scope, send, budget)
            return
        record = request_record(scope)
        record.rate = budget

        async def charged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                spent = await self.limiter.charge(client, max(1, record.cost))
                message = {**message, "headers": [*message.get("headers", []), *spent.headers()]}
            await send(message)

        await self.app(scope, receive, charged_send)


async def _refuse(scope: Scope, send: Send, budget: Budget) -> None:
    retry_after = max(1, math.ceil(budget.reset_at - time.time()))
    request_record(scope).error_codes.append("RATE_LIMITED")
    body = orjson.dumps(
        {
            "errors": [
                {
                    "message": f"This client has spent its {budget.limit:,} points for this window; it is "
                    f"refilled in {retry_after} s (see Retry-After and x-ratelimit-reset). Ask for less "
                    "per query (its cost is the objects it may return) or cache answers.",
                    "extensions": {
                        "code": "RATE_LIMITED",
                        "limit": budget.limit,
                        "used": budget.used,
                        "resetAt": _iso(budget.reset_at),
                    },
                }
            ]
        }
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode()),
        (b"cache-control", b"no-store"),
        *budget.headers(),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(math.ceil(epoch)))
