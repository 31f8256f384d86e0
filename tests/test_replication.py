"""The API on PostgreSQL streaming replication: a private primary, hot standbys made with
`pg_basebackup -R` (one replaying each commit 2 s late), the API reading a standby (READ_DATABASE_URL)
or a round-robin TCP pooler over two, and a re-seed on the primary while clients keep asking.

Each client behaves as an HTTP cache: it keeps its last answer and its ETag and revalidates with
`If-None-Match`, going to the API instances in turn (a load balancer in front of several). What must
hold: no answer whose body disagrees with its ETag's version, no client ever going back to older
data, no stale answer once every standby has replayed the re-seed plus 2 s (with Redis announcing
the re-seed and without), no LISTEN on a standby (no ERROR lines in its log), and /readyz failing on
a standby whose replay is paused or whose WAL receiver is not streaming.

Never the shared PostgreSQL on 5432: every server here is the test's own (tests/services.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from app.data.migrations import upgrade
from app.seeding import seed
from tests.conftest import Api, make_api
from tests.services import PrivatePostgres, PrivateRedis, RoundRobinPooler, free_port

pytestmark = pytest.mark.postgres

OLD = "A security organization."
NEW = "A security organization, re-seeded."
QUERIES = {
    "compiled": '{ organization(slug: "osce") { description } }',
    # `within` is Strawberry's: several statements, one REPEATABLE READ snapshot.
    "strawberry": '{ memberships(filter: {within: "osce"}) { nodes { organization { description } } } }',
}


def _description(query: str, data: dict[str, Any]) -> str:
    if query == "compiled":
        return str(data["organization"]["description"])
    return str(data["memberships"]["nodes"][0]["organization"]["description"])


def _version(tag: str) -> int:
    return int(tag.removeprefix("W/").strip('"').split("-")[0][1:])


@dataclass
class Cluster:
    primary: PrivatePostgres
    standbys: list[PrivatePostgres]
    seed_dir: Path
    version: int = 0  # the data version seeded first

    def close(self) -> None:
        for server in (*self.standbys, self.primary):
            server.close()


async def _version_at(url: str) -> int:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        return int(await conn.fetchval("SELECT version FROM dataset_state WHERE id = 1") or 0)
    finally:
        await conn.close()


def _make_cluster(seed_dir: Path, delays: list[str | None]) -> Cluster:
    primary = PrivatePostgres()
    cluster = Cluster(primary, [], seed_dir)
    try:
        primary.start()
        upgrade(primary.url)
        outcome = asyncio.run(seed(primary.url, seed_dir, redis_url=""))
        assert outcome.report is not None
        cluster.version = outcome.report.data_version
        for delay in delays:
            cluster.standbys.append(primary.standby(apply_delay=delay))
        for standby in cluster.standbys:  # a base backup is taken after the seed: each has it
            assert asyncio.run(_version_at(standby.url)) == cluster.version
    except BaseException:
        cluster.close()
        raise
    return cluster


@pytest.fixture
def one_standby(small_seed: Path) -> Iterator[Cluster]:
    cluster = _make_cluster(small_seed, [None])
    yield cluster
    cluster.close()


@pytest.fixture
def two_standbys(small_seed: Path) -> Iterator[Cluster]:
    """Two standbys, the second replaying each commit 2 s after it."""
    cluster = _make_cluster(small_seed, [None, "2s"])
    yield cluster
    cluster.close()


@pytest.fixture
def private_redis() -> Iterator[str]:
    redis = PrivateRedis()
    redis.start()
    yield redis.url
    redis.close()


@dataclass
class Seen:
    """One answer as a client (an HTTP cache) holds it."""

    sent: float
    query: str
    status: int
    version: int | None
    description: str | None


@dataclass
class Outcome:
    answers: list[Seen] = field(default_factory=list)
    committed: float = 0.0  # when the re-seed's transaction had committed (the seed returned)
    replayed: dict[int, float] = field(default_factory=dict)  # standby -> when it showed the new version
    visible: dict[str, float] = field(default_factory=dict)  # query -> first answer with the new data
    mismatches: list[Seen] = field(default_factory=list)  # a body that is not its ETag's version's
    backwards: list[tuple[Seen, Seen]] = field(default_factory=list)  # a client got older data than it had
    stale: list[Seen] = field(default_factory=list)  # old data asked for after every replay + 2 s

    def summary(self) -> str:
        replay = {index: round(at - self.committed, 2) for index, at in self.replayed.items()}
        visible = {query: round(at - self.committed, 2) for query, at in self.visible.items()}
        return (
            f"answers {len(self.answers)} (503: {sum(a.status == 503 for a in self.answers)}); "
            f"commit -> replayed {replay} s; commit -> new data {visible} s; mismatches {len(self.mismatches)}; "
            f"backwards {len(self.backwards)}; stale after replay + 2 s {len(self.stale)}"
        )


async def _client(apis: list[Api], query: str, old: int, outcome: Outcome, stop: asyncio.Event, offset: int) -> None:
    """An HTTP cache in front of the instances, asking each in turn, revalidating its copy."""
    held: Seen | None = None
    tag: str | None = None
    turn = offset
    while not stop.is_set():
        api = apis[turn % len(apis)]
        turn += 1
        headers = {"if-none-match": tag} if tag else {}
        sent = time.monotonic()
        response = await api.client.get("/graphql", params={"query": QUERIES[query]}, headers=headers)
        if response.status_code == 304:
            assert held is not None
            seen = Seen(sent, query, 304, held.version, held.description)
        elif response.status_code == 200:
            body = response.json()
            assert "errors" not in body, body
            version = _version(response.headers["etag"])
            seen = Seen(sent, query, 200, version, _description(query, body["data"]))
            expected = OLD if version == old else NEW
            if seen.description != expected:
                outcome.mismatches.append(seen)
            if held is not None and held.version is not None and version < held.version:
                outcome.backwards.append((held, seen))
            held, tag = seen, response.headers["etag"]
        else:
            assert response.status_code == 503, response.text  # behind the client's copy: retry
            assert response.headers["retry-after"]
            seen = Seen(sent, query, 503, None, None)
        outcome.answers.append(seen)
        if seen.description == NEW and query not in outcome.visible:
            outcome.visible[query] = time.monotonic()
        await asyncio.sleep(0.01)


async def _reseed_under_load(cluster: Cluster, apis: list[Api], redis_url: str = "") -> Outcome:
    outcome = Outcome()
    stop = asyncio.Event()
    clients = [
        asyncio.create_task(_client(apis, query, cluster.version, outcome, stop, offset))
        for query in QUERIES
        for offset in range(2)
    ]
    try:
        await asyncio.sleep(1.0)
        facts = cluster.seed_dir / "small.yaml"
        facts.write_text(facts.read_text().replace(OLD, NEW))
        await asyncio.to_thread(lambda: asyncio.run(seed(cluster.primary.url, cluster.seed_dir, redis_url=redis_url)))
        outcome.committed = time.monotonic()
        watching = [await asyncpg.connect(standby.url, timeout=5) for standby in cluster.standbys]
        try:
            while len(outcome.replayed) < len(watching) and time.monotonic() - outcome.committed < 30:
                for index, conn in enumerate(watching):
                    if index not in outcome.replayed:
                        version = await conn.fetchval("SELECT version FROM dataset_state WHERE id = 1")
                        if version > cluster.version:
                            outcome.replayed[index] = time.monotonic()
                await asyncio.sleep(0.02)
        finally:
            for conn in watching:
                await conn.close()
        assert len(outcome.replayed) == len(cluster.standbys), "a standby never replayed the re-seed"
        everywhere = max(outcome.replayed.values())
        await asyncio.sleep(max(0.0, everywhere + 4.0 - time.monotonic()))
    finally:
        stop.set()
        await asyncio.gather(*clients)
    outcome.stale = [seen for seen in outcome.answers if seen.sent > everywhere + 2.0 and seen.description != NEW]
    return outcome


async def _instances(cluster: Cluster, read_url: str | list[str], count: int, **settings: Any) -> Any:
    """`count` API instances (each a worker of its own) reading `read_url` (or one URL each), writing nothing."""
    opened = []
    for index in range(count):
        read = read_url if isinstance(read_url, str) else read_url[index]
        # EXECUTION=compiled: verify mode's second read is a second snapshot, which may differ mid re-seed.
        generator = make_api(cluster.primary.url, read_database_url=read, execution="compiled", **settings)
        opened.append((generator, await generator.__anext__()))
    return opened


async def _close(opened: list[Any]) -> None:
    for generator, _api in opened:
        await generator.aclose()


def _listen_errors(server: PrivatePostgres) -> list[str]:
    return [line for line in server.log_text().splitlines() if "LISTEN" in line or "ERROR" in line]


@pytest.mark.parametrize("announced", ["redis", "polling"])
async def test_a_standby_follows_a_reseed_without_stale_or_mismatched_answers(
    one_standby: Cluster, announced: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    redis_url = request.getfixturevalue("private_redis") if announced == "redis" else ""
    caplog.set_level(logging.INFO, logger="app.announce")
    standby = one_standby.standbys[0]
    opened = await _instances(one_standby, standby.url, 2, redis_url=redis_url or None)
    try:
        for _generator, api in opened:
            ready = await api.client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["standby"] is True, ready.text
        outcome = await _reseed_under_load(one_standby, [api for _generator, api in opened], redis_url)
    finally:
        await _close(opened)
    print(f"\none standby, {announced}: {outcome.summary()}")
    assert outcome.answers and set(outcome.visible) == set(QUERIES)
    assert outcome.mismatches == []
    assert outcome.backwards == []
    assert outcome.stale == []
    assert _listen_errors(standby) == []  # no LISTEN tried on the standby: no ERROR lines
    said = [record.getMessage() for record in caplog.records if record.name == "app.announce"]
    assert any("standby" in line and "not listening" in line for line in said), said
    assert not any("polling every" in line for line in said)


async def test_a_pooler_over_two_standbys_never_tags_a_body_with_another_version(
    two_standbys: Cluster, private_redis: str
) -> None:
    """Pooled connections of one worker read different standbys, one 2 s behind the other."""
    pooler = RoundRobinPooler([("127.0.0.1", standby.port) for standby in two_standbys.standbys])
    pooler.start()
    try:
        opened = await _instances(two_standbys, pooler.url(), 2, redis_url=private_redis)
        try:
            outcome = await _reseed_under_load(two_standbys, [api for _generator, api in opened], private_redis)
        finally:
            await _close(opened)
    finally:
        pooler.close()
    print(f"\npooler over two standbys (one 2 s late), redis: {outcome.summary()}")
    assert pooler.connections > 2
    assert outcome.answers and set(outcome.visible) == set(QUERIES)
    assert outcome.mismatches == []
    assert outcome.backwards == []
    assert outcome.stale == []
    for standby in two_standbys.standbys:
        assert _listen_errors(standby) == []


async def test_revalidation_never_goes_back_between_a_primary_and_a_late_standby(small_seed: Path) -> None:
    """A load balancer over an instance on the primary and one on a standby replaying 2 s late: a client
    that got the new answer from the first and revalidates on the second gets 503 (Retry-After),
    never the older body."""
    cluster = await asyncio.to_thread(_make_cluster, small_seed, ["2s"])
    try:
        opened = await _instances(cluster, [cluster.primary.url, cluster.standbys[0].url], 2)
        try:
            outcome = await _reseed_under_load(cluster, [api for _generator, api in opened])
        finally:
            await _close(opened)
    finally:
        cluster.close()
    print(f"\nprimary and a standby 2 s late behind one balancer: {outcome.summary()}")
    assert outcome.answers and set(outcome.visible) == set(QUERIES)
    assert any(seen.status == 503 for seen in outcome.answers)  # the late standby, asked for newer data
    assert outcome.mismatches == []
    assert outcome.backwards == []
    assert outcome.stale == []


async def test_readiness_fails_on_a_paused_or_cut_off_standby(one_standby: Cluster) -> None:
    standby = one_standby.standbys[0]
    opened = await _instances(one_standby, standby.url, 1, max_replica_lag_seconds=5)
    try:
        api = opened[0][1]
        ready = await api.client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert "kb_replica_lag_seconds 0.0" in (await api.client.get("/metrics")).text

        control = await asyncpg.connect(standby.url, timeout=5)
        try:
            await control.execute("SELECT pg_wal_replay_pause()")
            paused = await api.client.get("/readyz")
            assert paused.status_code == 503
            assert "paused" in paused.json()["reason"] and paused.json()["status"] == "unavailable"
            await control.execute("SELECT pg_wal_replay_resume()")
            assert (await api.client.get("/readyz")).status_code == 200
        finally:
            await control.close()

        one_standby.primary.stop()  # the WAL receiver loses its primary
        cut_off = await api.client.get("/readyz")
        for _ in range(100):
            if cut_off.status_code == 503:
                break
            await asyncio.sleep(0.1)  # the receiver notices the primary is gone
            cut_off = await api.client.get("/readyz")
        assert cut_off.status_code == 503 and "not streaming" in cut_off.json()["reason"], cut_off.text
        # The standby still answers queries (with the data it has): only readiness says it is cut off.
        assert (await api.client.get("/graphql", params={"query": QUERIES["compiled"]})).status_code == 200
    finally:
        await _close(opened)


@pytest.mark.nginx
async def test_nginx_over_a_primary_and_a_late_standby_never_goes_back(small_seed: Path, tmp_path: Path) -> None:
    """deploy/nginx.conf in front of two servers (`serve`): one reading the primary, one a standby replaying
    4 s late, `max-age` 1 s. Once any client has seen the new data, none sees the old again: a revalidation
    the late server cannot answer is a 503, and nginx serves its newer copy instead (`proxy_cache_use_stale`)."""
    from tests.live import LiveServer
    from tests.test_deploy import _config, _nginx

    nginx = _nginx()
    cluster = await asyncio.to_thread(_make_cluster, small_seed, ["4s"])
    env = {"HTTP_CACHE_MAX_AGE_SECONDS": "1", "DATABASE_URL": cluster.primary.url}
    servers = [
        LiveServer(cluster.primary.url, tmp_path / "primary.log", **env),
        LiveServer(cluster.primary.url, tmp_path / "standby.log", READ_DATABASE_URL=cluster.standbys[0].url, **env),
    ]
    proxy = None
    try:
        for server in servers:
            await asyncio.to_thread(server.__enter__)
        port = free_port()
        config = _config(tmp_path, servers[0].port, port)
        site = tmp_path / "kb.conf"
        first_upstream = f"server 127.0.0.1:{servers[0].port};"
        site.write_text(
            site.read_text().replace(first_upstream, f"{first_upstream}\n    server 127.0.0.1:{servers[1].port};")
        )
        main = config.read_text()
        access = f"access_log {tmp_path / 'access.log'};"
        config.write_text(
            main.replace(
                access,
                "log_format kb '$msec $upstream_addr $upstream_status $upstream_cache_status "
                "$http_if_none_match $sent_http_etag';\n"
                f"    access_log {tmp_path / 'access.log'} kb;",
            )
        )
        with (tmp_path / "nginx.stderr").open("wb") as stderr:
            proxy = subprocess.Popen([nginx, "-c", str(config), "-g", "daemon off;"], stderr=stderr)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(50):
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(base + "/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            seen: list[tuple[float, float, str]] = []  # (sent, received, description)
            stop = asyncio.Event()

            async def ask() -> None:
                while not stop.is_set():
                    sent = time.monotonic()
                    response = await client.get(base + "/graphql", params={"query": QUERIES["compiled"]})
                    assert response.status_code == 200, response.text
                    seen.append((sent, time.monotonic(), _description("compiled", response.json()["data"])))
                    await asyncio.sleep(0.02)

            askers = [asyncio.create_task(ask()) for _ in range(4)]
            try:
                await asyncio.sleep(1.5)
                facts = cluster.seed_dir / "small.yaml"
                facts.write_text(facts.read_text().replace(OLD, NEW))
                await asyncio.to_thread(lambda: asyncio.run(seed(cluster.primary.url, cluster.seed_dir, redis_url="")))
                committed = time.monotonic()
                while await _version_at(cluster.standbys[0].url) == cluster.version:
                    await asyncio.sleep(0.02)
                replayed = time.monotonic()
                await asyncio.sleep(4.0)
            finally:
                stop.set()
                await asyncio.gather(*askers)
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(10)
        for server in servers:
            server.stop()
        cluster.close()
    # Asked once some client had received the new data, yet old: the cache went back in time.
    first_new = min(received for _sent, received, description in seen if description == NEW)
    backwards = [sent for sent, _received, description in seen if sent > first_new and description == OLD]
    stale = [sent for sent, _received, description in seen if sent > replayed + 2 and description == OLD]
    lines = (tmp_path / "access.log").read_text().splitlines()
    upstream = [line.split()[2] for line in lines if line.count(" ") > 3 and line.split()[2] != "-"]
    print(
        f"\nnginx over a primary and a 4 s late standby: answers {len(seen)}; commit -> replayed "
        f"{replayed - committed:.2f} s; first new {first_new - committed:.2f} s; old after the first new "
        f"{len(backwards)}; stale after replay + 2 s {len(stale)}; upstream statuses {sorted(upstream)}"
    )
    assert backwards == []
    assert stale == []


async def test_readiness_fails_while_replay_lags_past_the_setting(small_seed: Path) -> None:
    """A standby replaying each commit 4 s late, MAX_REPLICA_LAG_SECONDS 1: after a commit on the primary,
    /readyz is 503 (and the gauge says the lag) until the standby has replayed it, then 200 again."""
    cluster = await asyncio.to_thread(_make_cluster, small_seed, ["4s"])
    try:
        opened = await _instances(cluster, cluster.standbys[0].url, 1, max_replica_lag_seconds=1)
        try:
            api = opened[0][1]
            assert (await api.client.get("/readyz")).status_code == 200
            await asyncio.sleep(1.5)  # the standby started (and replayed its last commit) longer ago than that
            primary = await asyncpg.connect(cluster.primary.url, timeout=5)
            try:
                await primary.execute("UPDATE dataset_state SET seeded_at = now()")
            finally:
                await primary.close()
            lagging = await api.client.get("/readyz")
            while lagging.status_code == 200:
                await asyncio.sleep(0.05)  # the commit reaches the standby (received, not replayed)
                lagging = await api.client.get("/readyz")
            assert lagging.status_code == 503, lagging.text
            assert "replay lag" in lagging.json()["reason"] and lagging.json()["replayLagSeconds"] > 1
            gauge = [
                line
                for line in (await api.client.get("/metrics")).text.splitlines()
                if line.startswith("kb_replica_lag")
            ]
            assert gauge and float(gauge[0].split()[-1]) > 1, gauge
            caught_up = await api.client.get("/readyz")
            while caught_up.status_code == 503:
                await asyncio.sleep(0.1)  # replayed once its 4 s have passed
                caught_up = await api.client.get("/readyz")
            assert caught_up.json() == {
                "status": "ready",
                "migration": caught_up.json()["migration"],
                "standby": True,
                "replayLagSeconds": 0,
            }
        finally:
            await _close(opened)
    finally:
        cluster.close()
