"""Per-client rate limits (app/http/budgets.py): a budget of cost points per window per client, reported
in `x-ratelimit-*` headers and `Query.rateLimit`, 429 + Retry-After + RATE_LIMITED past it; one
budget for every worker through Redis, and per process (with a warning) when Redis goes away."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.http.app import create_app
from tests.conftest import IN_CI
from tests.services import PrivateRedis

SHARED_REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")  # our own database number
QUERY = "{ organizations(first: 5) { nodes { id slug } } }"  # costs 1 + 5 = 6
RATE = "{ rateLimit { limit cost remaining resetAt used } }"


def _require_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        if IN_CI:
            pytest.fail(f"Redis at {url} is not answering ({error}); CI=true requires it")
        pytest.skip(f"Redis at {url} is not answering ({error})")


async def _app(url: str, peer: str = "127.0.0.1", **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings.setdefault("trusted_proxies", ["127.0.0.1"])
    app = create_app(Settings(database_url=url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(peer, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
async def limited(seeded_db: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _app(seeded_db, rate_limit_points=60, api_keys=["k-123"]):
        yield client


def _as(address: str) -> dict[str, str]:
    return {"x-forwarded-for": address}


async def _post(client: httpx.AsyncClient, query: str, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/graphql", json={"query": query}, headers=headers)


async def test_a_flood_from_one_client_is_refused_while_another_is_served(limited: httpx.AsyncClient) -> None:
    flood = _as("203.0.113.7")
    served = 0
    while True:
        response = await _post(limited, QUERY, flood)
        if response.status_code == 429:
            break
        assert response.status_code == 200 and "errors" not in response.json()
        served += 1
        assert served < 100, "never refused"
    assert served == 10  # 60 points at 6 a query
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["RATE_LIMITED"]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["x-ratelimit-remaining"] == "0" and response.headers["x-ratelimit-limit"] == "60"
    # another client is served meanwhile, by address and by API key
    other = await _post(limited, QUERY, _as("198.51.100.2"))
    assert other.status_code == 200 and other.headers["x-ratelimit-remaining"] == "54"
    keyed = await _post(limited, QUERY, {**flood, "x-api-key": "k-123"})
    assert keyed.status_code == 200 and keyed.headers["x-ratelimit-used"] == "6"
    # an unknown key is not a client of its own
    assert (await _post(limited, QUERY, {**flood, "x-api-key": "nope"})).status_code == 429


async def test_headers_and_rate_limit_field_report_the_budget(limited: httpx.AsyncClient) -> None:
    me = _as("192.0.2.10")
    first = await _post(limited, QUERY, me)
    assert (first.headers["x-ratelimit-used"], first.headers["x-ratelimit-remaining"]) == ("6", "54")
    reset = int(first.headers["x-ratelimit-reset"])
    answer = await _post(limited, RATE, me)
    rate = answer.json()["data"]["rateLimit"]
    assert rate["limit"] == 60 and rate["cost"] == 1  # `{ rateLimit }` itself costs the minimum, 1 point
    assert (rate["used"], rate["remaining"]) == (7, 53)
    assert (answer.headers["x-ratelimit-used"], answer.headers["x-ratelimit-remaining"]) == ("7", "53")
    assert rate["resetAt"].endswith("Z") and int(answer.headers["x-ratelimit-reset"]) == reset
    again = (await _post(limited, RATE, me)).json()["data"]["rateLimit"]  # never a cached answer
    assert again["used"] == 8


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(seeded_db: str) -> None:
    async for client in _app(seeded_db, rate_limit_points=12, trusted_proxies=[]):
        for address in ("203.0.113.1", "203.0.113.2"):
            assert (await _post(client, QUERY, _as(address))).status_code == 200
        # both were the proxy's own address: its budget (12 = 2 queries) is spent
        assert (await _post(client, QUERY, _as("203.0.113.3"))).status_code == 429


async def test_the_pages_never_count_and_every_request_to_graphql_does(limited: httpx.AsyncClient) -> None:
    explorer = await limited.get("/graphql", headers={**_as("203.0.113.98"), "accept": "text/html"})
    assert explorer.status_code == 200 and explorer.headers["x-ratelimit-used"] == "1"  # metered: one point
    flood = _as("203.0.113.99")
    while (await _post(limited, QUERY, flood)).status_code != 429:
        pass
    for path in ("/", "/healthz", "/schema.graphql"):
        response = await limited.get(path, headers={**flood, "accept": "text/html"})
        assert response.status_code == 200 and "x-ratelimit-limit" not in response.headers, path
    # /graphql, whatever its parameters say (a percent-encoded name included), is refused once the budget is spent.
    for url in (
        "/graphql",
        "/graphql?%71uery=%7B__typename%7D",
        "/graphql?%65xtensions=%7B%7D",
        "/graphql?query=x&query=y",
    ):
        response = await limited.get(url, headers={**flood, "accept": "text/html"})
        assert response.status_code == 429 and response.headers["x-ratelimit-remaining"] == "0", url


@pytest.fixture
def redis_prefix() -> str:
    return f"kb:test:{uuid.uuid4().hex[:12]}:"


async def test_two_workers_share_one_budget_through_redis(seeded_db: str, redis_prefix: str) -> None:
    _require_redis(SHARED_REDIS)
    settings = {"rate_limit_points": 60, "redis_url": SHARED_REDIS, "rate_limit_redis_prefix": redis_prefix}
    me = _as("203.0.113.50")
    async for one in _app(seeded_db, **settings):
        async for two in _app(seeded_db, **settings):
            statuses = [(await _post(one if turn % 2 else two, QUERY, me)).status_code for turn in range(14)]
            assert statuses == [200] * 10 + [429] * 4  # 10 queries in all, whichever worker served them
            used = [(await _post(worker, RATE, _as("203.0.113.51"))).json() for worker in (one, two)]
            assert [u["data"]["rateLimit"]["used"] for u in used] == [1, 2]


async def test_redis_stopped_mid_test_degrades_to_per_process_budgets(
    seeded_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    private = PrivateRedis()
    private.start()
    try:
        me = _as("203.0.113.60")
        async for client in _app(seeded_db, rate_limit_points=60, redis_url=private.url):
            for _ in range(5):
                assert (await _post(client, QUERY, me)).headers["x-ratelimit-used"] in {"6", "12", "18", "24", "30"}
            await asyncio.to_thread(private.stop)
            with caplog.at_level(logging.WARNING, logger="app.ratelimit"):
                statuses = [(await _post(client, QUERY, me)).status_code for _ in range(12)]
            # served, now counted in this process from zero: 10 more, then refused; never an outage
            assert statuses == [200] * 10 + [429] * 2
            warnings = [r for r in caplog.records if r.name == "app.ratelimit"]
            assert len(warnings) == 1 and "per process" in warnings[0].getMessage()
    finally:
        private.close()


def test_a_real_two_worker_server_keeps_one_budget_in_redis(seeded_db: str, redis_prefix: str, tmp_path: Any) -> None:
    """`serve --workers 2`: each request on a connection of its own, so both workers answer some."""
    from tests.live import LiveServer

    _require_redis(SHARED_REDIS)
    env = {
        "REDIS_URL": SHARED_REDIS,
        "RATE_LIMIT_POINTS": "60",
        "RATE_LIMIT_REDIS_PREFIX": redis_prefix,
        "LOG_LEVEL": "warning",
    }
    with LiveServer(seeded_db, tmp_path / "server.log", workers=2, **env) as server:
        statuses = [httpx.post(server.url, json={"query": QUERY}, timeout=10).status_code for _ in range(20)]
    assert statuses == [200] * 10 + [429] * 10


# Costs 901 (8 x 101 + 93): two of them do not fit in a 1,000-point budget.
COSTS_901 = (
    "{ "
    + " ".join(f"a{i}: organizations(first: 100) {{ nodes {{ id }} }}" for i in range(8))
    + " b: organizations(first: 92) { nodes { id } } }"
)


async def _budget_app(seeded_db: str, store: str, points: int) -> AsyncIterator[httpx.AsyncClient]:
    settings: dict[str, Any] = {"rate_limit_points": points}
    if store == "redis":
        _require_redis(SHARED_REDIS)
        settings |= {"redis_url": SHARED_REDIS, "rate_limit_redis_prefix": f"kb:test:{uuid.uuid4().hex[:12]}:"}
    async for client in _app(seeded_db, **settings):
        yield client


@pytest.mark.parametrize("store", ["process", "redis"])
async def test_simultaneous_requests_never_spend_more_than_the_budget(seeded_db: str, store: str) -> None:
    """Each request reserves its cost before it runs, in one atomic step: of 40 at once, one fits."""
    me = _as("203.0.113.80")
    async for client in _budget_app(seeded_db, store, 1_000):
        responses = await asyncio.gather(*(_post(client, COSTS_901, me) for _ in range(40)))
        served = [r for r in responses if r.status_code == 200]
        refused = [r for r in responses if r.status_code == 429]
        assert len(served) == 1 and len(refused) == 39
        assert served[0].json()["extensions"]["cost"]["requested"] == 901
        assert all(r.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED" for r in refused)
        assert "This query costs 901 points" in refused[-1].json()["errors"][0]["message"]
        assert max(int(r.headers["x-ratelimit-used"]) for r in responses) == 901
        # what was refused spent nothing: 99 points are left, and a small query is served
        after = await _post(client, QUERY, me)
        assert after.status_code == 200 and after.headers["x-ratelimit-used"] == "907"


@pytest.mark.parametrize("store", ["process", "redis"])
async def test_a_reservation_is_given_back_when_the_query_is_refused_before_it_runs(seeded_db: str, store: str) -> None:
    """Its cost is reserved (the document is valid), its variables are refused: it keeps a token point."""
    me = _as("203.0.113.81")
    query = "query ($n: Int!) { organizations(first: $n) { nodes { id } } }"
    async for client in _budget_app(seeded_db, store, 1_000):
        refused = await _post(client, query, me)
        assert refused.status_code == 200 and refused.json()["errors"][0]["extensions"]["code"] != "RATE_LIMITED"
        assert refused.headers["x-ratelimit-used"] == "1"
        served = await client.post("/graphql", json={"query": query, "variables": {"n": 100}}, headers=me)
        assert served.status_code == 200 and served.headers["x-ratelimit-used"] == "102"


@pytest.mark.parametrize("stored", ["-1000000", "-1", "1.5", "lots"])
async def test_what_redis_holds_never_lifts_the_limit(seeded_db: str, redis_prefix: str, stored: str) -> None:
    """A counter this server never writes (negative, fractional, text) is a spent budget, not a fresh one."""
    import redis

    _require_redis(SHARED_REDIS)
    me = _as("203.0.113.82")
    redis.Redis.from_url(SHARED_REDIS).set(f"{redis_prefix}ip:203.0.113.82", stored, ex=60)
    settings = {"rate_limit_points": 60, "redis_url": SHARED_REDIS, "rate_limit_redis_prefix": redis_prefix}
    async for client in _app(seeded_db, **settings):
        statuses = [(await _post(client, QUERY, me)).status_code for _ in range(12)]
        assert statuses == [429] * 12
        last = await _post(client, QUERY, me)
        assert last.headers["x-ratelimit-used"] == "60" and last.headers["x-ratelimit-remaining"] == "0"


def test_a_real_server_reads_forwarded_for_only_through_trusted_proxies(seeded_db: str, tmp_path: Any) -> None:
    """uvicorn and gunicorn trust 127.0.0.1's X-Forwarded-For by default; this server does not (TRUSTED_PROXIES=[])."""
    from tests.live import LiveServer

    with LiveServer(seeded_db, tmp_path / "server.log", RATE_LIMIT_POINTS="12", LOG_LEVEL="warning") as server:
        statuses = [
            httpx.post(server.url, json={"query": QUERY}, headers=_as(f"203.0.113.{n}"), timeout=10).status_code
            for n in range(1, 4)
        ]
    assert statuses == [200, 200, 429]  # one client, the peer: each header was not a fresh budget


async def test_forwarded_for_names_only_addresses(seeded_db: str, redis_prefix: str) -> None:
    """Garbage in X-Forwarded-For (even from a trusted proxy) names no budget and no Redis key: the proxy is the client."""
    import redis

    _require_redis(SHARED_REDIS)
    settings = {"rate_limit_points": 12, "redis_url": SHARED_REDIS, "rate_limit_redis_prefix": redis_prefix}
    garbage = ["x" * 4096, "not-an-address", "203.0.113.1:8080", "[2001:db8::1]", "203.0.113.1%eth0", "", "10.0.0.999"]
    async for client in _app(seeded_db, **settings):
        statuses = [(await _post(client, QUERY, _as(value))).status_code for value in garbage]
        assert statuses == [200, 200] + [429] * (len(garbage) - 2)  # all the proxy's own budget (12 = 2 queries)
        # an address left of the garbage is the client's own say: not believed either
        assert (await _post(client, QUERY, _as("203.0.113.2, garbage"))).status_code == 429
    keys = [key.decode() for key in redis.Redis.from_url(SHARED_REDIS).keys(f"{redis_prefix}*")]
    assert keys == [f"{redis_prefix}ip:127.0.0.1"]


async def test_ipv6_clients_are_counted_by_their_64(seeded_db: str) -> None:
    async for client in _app(seeded_db, rate_limit_points=12):
        same = [_as("2001:db8:1:2::1"), _as("2001:db8:1:2:ffff:ffff:ffff:ffff")]
        assert [(await _post(client, QUERY, me)).status_code for me in same] == [200, 200]
        assert (await _post(client, QUERY, _as("2001:db8:1:2::77"))).status_code == 429
        assert (await _post(client, QUERY, _as("2001:db8:1:3::1"))).status_code == 200  # another /64
        # an IPv4-mapped address is its IPv4 client
        assert (await _post(client, QUERY, _as("203.0.113.9"))).status_code == 200
        assert (await _post(client, QUERY, _as("::ffff:203.0.113.9"))).status_code == 200
        assert (await _post(client, QUERY, _as("203.0.113.9"))).status_code == 429
    async for client in _app(seeded_db, peer="2001:db8:9:9::5", rate_limit_points=12, trusted_proxies=[]):
        assert [(await _post(client, QUERY, {})).status_code for _ in range(3)] == [200, 200, 429]
        assert (await client.post("/graphql", json={"query": RATE})).headers["x-ratelimit-used"] == "12"


async def test_the_default_budget_lets_an_office_use_our_pages_in_one_minute(seeded_db: str) -> None:
    """Ten people behind one address, each loading the landing page's chart, opening GraphiQL (its introspection
    query) and running every example, in the same minute: all served (docs/limits-and-errors.md, the default budget)."""
    from pathlib import Path

    from graphql import get_introspection_query

    examples = sorted((Path(__file__).parent.parent / "app" / "examples").glob("*.graphql"))
    chart = (Path(__file__).parent.parent / "app" / "examples" / "timeline-chart.graphql").read_text()
    person = [chart, get_introspection_query(descriptions=True), *(path.read_text() for path in examples)]
    office = _as("203.0.113.90")
    async for client in _app(seeded_db):  # the default RATE_LIMIT_POINTS
        landing = await client.get("/")
        assert 'data-query="' in landing.text or "timeline" in landing.text
        statuses = [(await _post(client, query, office)).status_code for _ in range(10) for query in person]
        assert statuses == [200] * len(statuses)
        last = await _post(client, "{ __typename }", office)
        used, limit = int(last.headers["x-ratelimit-used"]), int(last.headers["x-ratelimit-limit"])
        assert 200_000 < used < limit == 250_000  # what ten people spent, within the budget


async def test_a_refund_after_its_window_ended_never_lifts_the_next(redis_prefix: str) -> None:
    """Settling gives back only within the reservation's window: no key is made negative, in Redis or in process."""
    import redis

    from app.http.budgets import LocalCounters, RateLimiter

    _require_redis(SHARED_REDIS)
    settings = Settings(rate_limit_points=60, redis_url=SHARED_REDIS, rate_limit_redis_prefix=redis_prefix)
    limiter = RateLimiter(settings)
    try:
        _budget, fits = await limiter.reserve("ip:203.0.113.95", 50)
        assert fits
        store = redis.Redis.from_url(SHARED_REDIS)
        store.delete(f"{redis_prefix}ip:203.0.113.95")  # the window ends before the request is settled
        after = await limiter.settle("ip:203.0.113.95", -49)
        assert after.used == 0 and store.get(f"{redis_prefix}ip:203.0.113.95") in (None, b"0")
        _budget, fits = await limiter.reserve("ip:203.0.113.95", 60)
        assert fits and _budget.used == 60  # the next window's budget is the whole 60, never 109
    finally:
        await limiter.close()
    local = LocalCounters(60)
    local.reserve("c", 50, 60, now=1_000.0)
    assert local.settle("c", -49, now=1_061.0) == (0, 1_121.0)  # a new window, nothing given back into it
    assert local.reserve("c", 61, 60, now=1_062.0)[2] is True and local.reserve("c", 1, 60, now=1_062.0)[2] is False


async def test_each_operation_of_a_batch_reserves_its_own_cost(seeded_db: str) -> None:
    """A batch's operations reserve one by one: the one that does not fit is RATE_LIMITED, the other answered."""
    me = _as("203.0.113.96")
    async for client in _app(seeded_db, rate_limit_points=1_000, max_batch_size=5):
        first = await _post(client, COSTS_901, me)
        assert first.status_code == 200  # 901 of 1,000 spent
        batch = await client.post("/graphql", json=[{"query": QUERY}, {"query": COSTS_901}], headers=me)
        assert batch.status_code == 200
        small, big = batch.json()
        assert small["data"]["organizations"]["nodes"] and "errors" not in small
        assert [e["extensions"]["code"] for e in big["errors"]] == ["RATE_LIMITED"]
        assert batch.headers["x-ratelimit-used"] == "907"  # 901 + 6: the refused one spent nothing


def test_a_real_two_worker_server_serves_one_of_40_simultaneous_901_point_queries(
    seeded_db: str, redis_prefix: str, tmp_path: Any
) -> None:
    """Over TCP, two workers, one budget in Redis: each reserves before it runs, so one 901-point query fits in 1,000."""
    from tests.live import LiveServer

    _require_redis(SHARED_REDIS)
    env = {
        "REDIS_URL": SHARED_REDIS,
        "RATE_LIMIT_POINTS": "1000",
        "RATE_LIMIT_REDIS_PREFIX": redis_prefix,
        "LOG_LEVEL": "warning",
    }

    async def flood(url: str) -> list[int]:
        limits = httpx.Limits(max_connections=40, max_keepalive_connections=0)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            answers = await asyncio.gather(*(client.post(url, json={"query": COSTS_901}) for _ in range(40)))
        return [answer.status_code for answer in answers]

    with LiveServer(seeded_db, tmp_path / "server.log", workers=2, **env) as server:
        statuses = asyncio.run(flood(server.url))
    assert sorted(statuses) == [200] + [429] * 39
