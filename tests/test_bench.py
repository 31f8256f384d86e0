"""The benchmark harness: wrk's report is read right, a one-second run writes a complete report, the
backends' CPU is counted (those that exit too), and the side-by-side run compares like with like."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.data.engine import async_url
from app.data.migrations import upgrade
from app.tools.backend_cpu import Backend, BackendMonitor, account, title_database
from app.tools.bench import HEADER, SMALL, Options, Server, benchmark, child_processes, parse_wrk, request, table
from app.tools.bench_compare import (
    DEFAULT_CACHE,
    NotInstalled,
    _processes,
    compare,
    compare_answers,
    count_objects,
    install_postgraphile,
    libpq_url,
    tree_cpu,
)
from app.tools.synthetic import seed_synthetic
from tests.conftest import Databases

WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:8000/graphql
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.10ms    1.20ms  20.00ms   90.00%
    Req/Sec     2.50k   100.00     2.70k    80.00%
  Latency Distribution
     50%  812.00us
     75%    3.50ms
     90%    4.20ms
     99%    1.20s
  5000 requests in 1.00s, 1.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 3
Requests/sec:   4999.50
Transfer/sec:      1.00MB
"""


def test_wrk_report_is_read_with_its_units() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert result.rps == 4999.5
    assert result.requests == 5000
    assert result.latency_ms == {"p50": 0.812, "p75": 3.5, "p90": 4.2, "p99": 1200.0}
    assert (result.non_2xx, result.socket_errors) == (3, 3)


@pytest.mark.bench
def test_a_one_second_run_writes_the_report(databases: Databases, tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    url = databases.new("sqlite")
    upgrade(url)
    asyncio.run(seed_synthetic(url, 3))
    path = tmp_path / "report.json"
    options = Options(
        url, workers=1, duration=1, warmup=0, connections=2, threads=1, queries=["nested"], json_path=path
    )
    options.modes = ("cold",)
    said: list[str] = []
    report = benchmark(options, say=said.append)
    # What a person watches: the run's title and the column header come before its first row.
    title, header = said.index("\ncold (RESULT_CACHE_SIZE=0)"), said.index(HEADER)
    first_row = next(index for index, line in enumerate(said) if line.startswith("typename "))
    assert title < header < first_row

    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["database"]["engine"] == "sqlite"
    assert written["database"]["organizations"] == 3
    assert written["settings"]["workers"] == 1
    [run] = written["runs"]
    assert run["mode"] == "cold" and run["result_cache_size"] == 0
    assert run["typename_rps"] > 0 and run["rss_mb"]
    assert [query["name"] for query in run["queries"]] == ["typename", "nested"]
    for query in run["queries"]:
        assert query["error"] is None, query["error"]
        assert query["rps"] > 0 and query["requests"] > 0
        assert query["p50_ms"] is not None and query["p99_ms"] is not None
        assert query["bytes"] > 0 and query["ratio"] > 0
    nested = run["queries"][1]
    assert nested["statements"] == 1  # the compiler's one statement, from the first request on
    assert "nested" in table(report)


def _servers_of(parent: int) -> list[int]:
    """The `app serve` processes started by a process."""
    return [pid for pid, cmdline in child_processes(parent) if b"serve" in cmdline]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.bench
def test_a_terminated_run_stops_its_server(databases: Databases) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    url = databases.new("sqlite")
    upgrade(url)
    asyncio.run(seed_synthetic(url, 3))
    command = [sys.executable, "-m", "app", "bench", "--database-url", url, "--workers", "1"]
    bench = subprocess.Popen([*command, "--duration", "60", "--queries", "nested", "--mode", "cold"])
    try:
        deadline = time.monotonic() + 60
        while not (servers := _servers_of(bench.pid)):
            assert bench.poll() is None and time.monotonic() < deadline, "the bench started no server"
            time.sleep(0.2)
        [server] = servers
        bench.send_signal(signal.SIGTERM)
        assert bench.wait(timeout=30) == 128 + signal.SIGTERM
        assert not _alive(server), "the server outlived its bench"
    finally:
        if bench.poll() is None:
            bench.kill()


# -- --compare postgraphile ---------------------------------------------------------------------

OURS = {
    "data": {
        "organizations": {
            "nodes": [
                {
                    "id": "T3JnYW5pemF0aW9uOjEy",  # Organization:12
                    "name": "Asia-Europe Meeting",
                    "acronym": "ASEM",
                    "memberships": {"nodes": [{"id": "TWVtYmVyc2hpcDoz", "role": "member", "status": "UNKNOWN"}]},
                    "events": {"nodes": []},
                }
            ]
        }
    }
}
THEIRS = {
    "data": {
        "allOrganizations": {
            "nodes": [
                {
                    "id": 12,
                    "name": "Asia-Europe Meeting",
                    "acronym": "ASEM",
                    "membershipsByOrganizationId": {"nodes": [{"id": 3, "role": "member", "status": "UNKNOWN"}]},
                    "eventsByOrganizationId": {"nodes": []},
                }
            ]
        }
    }
}


def test_answers_compare_by_items_and_order() -> None:
    assert compare_answers(OURS, THEIRS) is None
    assert count_objects(OURS) == 2
    assert compare_answers({"data": {"__typename": "Query"}}, {"data": {"__typename": "Query"}}) is None

    other = copy.deepcopy(THEIRS)
    other["data"]["allOrganizations"]["nodes"][0]["membershipsByOrganizationId"]["nodes"][0]["id"] = 4
    assert compare_answers(OURS, other) == "data[0][3][0][0]: 3 here, 4 there"
    longer = copy.deepcopy(THEIRS)
    longer["data"]["allOrganizations"]["nodes"].append(longer["data"]["allOrganizations"]["nodes"][0])
    assert compare_answers(OURS, longer) == "data: 1 items here, 2 there"
    failed = compare_answers(OURS, {"errors": [{"message": "Cannot query field"}]})
    assert failed is not None and "not a successful answer" in failed


def test_without_npm_postgraphile_is_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NotInstalled, match="npm is not installed"):
        install_postgraphile(tmp_path / "cache", say=lambda _line: None)
    assert not (tmp_path / "cache").exists()


def test_process_cpu_is_read_from_proc() -> None:
    table = _processes()
    burn = time.process_time() + 0.05
    while time.process_time() < burn:
        pass
    after = _processes()
    mine = tree_cpu(os.getpid(), after)
    assert mine[os.getpid()] >= table[os.getpid()][1] + 0.04


@pytest.mark.bench
@pytest.mark.postgres
def test_compare_without_npm_runs_ours_alone(
    databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    url = databases.new("postgresql")
    upgrade(url)
    asyncio.run(seed_synthetic(url, 3))
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name in {"npm", "node"} else which(name))
    options = Options(url, workers=1, duration=1, warmup=0, connections=2, threads=1, json_path=tmp_path / "r.json")
    options.modes, options.rounds, options.cache_dir, options.single_connection = ("cold",), 1, tmp_path / "cache", 0
    report = compare(options, say=lambda _line: None)

    assert [server["key"] for server in report["servers"]] == ["ours-cold", "bare"]
    assert "npm is not installed" in report["markdown"]
    measured = {(entry["server"], entry["query"]) for entry in report["entries"]}
    assert measured == {
        ("ours-cold", "reference"),
        ("ours-cold", "small"),
        ("ours-cold", "typename"),
        ("bare", "typename"),  # the bare ASGI app answers `{ __typename }` only
    }
    for entry in report["entries"]:
        assert entry["error"] is None
        [sample] = entry["samples"]
        assert sample["rps"] > 0 and sample["server_cpu_ms"] > 0
        on_postgresql = entry["server"] != "bare"
        assert (sample["database_cpu_ms"] is not None) == on_postgresql, entry
        assert (sample["backends_started"] is not None) == on_postgresql, entry
    assert report["answers"]["typename/bare"] is None  # the same answer as ours
    assert report["answers"]["small/objects"] == 5  # ESCAP's first five events
    assert "share of the bare ASGI app's req/s" in report["markdown"]
    assert not (tmp_path / "cache").exists()


@pytest.mark.bench
@pytest.mark.postgres
@pytest.mark.npm
def test_compare_with_postgraphile(databases: Databases, tmp_path: Path) -> None:
    """A tiny side-by-side run: npm installs PostGraphile (once, into the cache), answers agree."""
    if shutil.which("wrk") is None or shutil.which("npm") is None:
        pytest.skip("needs wrk and npm (apt-get install -y wrk npm)")
    try:  # once per machine: into ~/.cache/kb/postgraphile, outside the checkout
        install_postgraphile(DEFAULT_CACHE, say=lambda _line: None)
    except NotInstalled as problem:
        pytest.skip(f"the npm registry did not serve PostGraphile: {problem}")
    url = databases.new("postgresql")
    upgrade(url)
    asyncio.run(seed_synthetic(url, 3))
    sqlite = databases.new("sqlite")  # the same synthetic data on SQLite: one more server, compared too
    upgrade(sqlite)
    asyncio.run(seed_synthetic(sqlite, 3))
    options = Options(url, workers=1, duration=1, warmup=0, connections=2, threads=1, json_path=tmp_path / "r.json")
    options.modes, options.rounds, options.single_connection, options.sqlite_url = ("cold",), 1, 1, sqlite
    report = compare(options, say=lambda _line: None)

    assert [server["key"] for server in report["servers"]] == ["ours-cold", "ours-sqlite", "bare", "v5", "v4"]
    for peer in ("ours-sqlite", "v5", "v4"):
        for query in ("reference", "small", "typename"):
            assert report["answers"][f"{query}/{peer}"] is None, report["answers"]
    assert report["answers"]["reference/objects"] > 3
    assert report["answers"]["small/objects"] == 5
    for entry in report["entries"]:
        assert entry["error"] is None, entry
        [sample] = entry["samples"]
        assert sample["rps"] > 0 and sample["server_cpu_ms"] > 0 and sample["p50_single_ms"] > 0
        if entry["query"] == "reference" and entry["server"] not in ("ours-sqlite", "bare"):
            assert sample["database_cpu_ms"] is not None, entry  # the backends serving the database are read
    # ...and counted: in a one-second run a peer's backends may use less than one clock tick (10 ms),
    # ours (a statement that builds the JSON) always more.
    [ours] = [e for e in report["entries"] if e["query"] == "reference" and e["server"] == "ours-cold"]
    assert ours["samples"][0]["database_cpu_ms"] > 0, ours
    assert set(report["rss_mb"]) == {"ours-cold", "ours-sqlite", "bare", "v5", "v4"}
    markdown = report["markdown"]
    assert "| `small` |" in markdown and "| ours cold / PostGraphile" in markdown  # the summary table
    assert "| ours cold (1 workers, RESULT_CACHE_SIZE=0) |" in markdown
    assert "| ours cold on SQLite (1 workers, RESULT_CACHE_SIZE=0) |" in markdown
    assert "objects in the same order: ours cold on SQLite, PostGraphile 5" in markdown


def test_a_single_object_compares_by_its_items() -> None:
    ours = {"data": {"organization": {"id": "T3JnYW5pemF0aW9uOjEy", "name": "ESCAP", "events": {"nodes": []}}}}
    theirs = {"data": {"organizationBySlug": {"id": 12, "name": "ESCAP", "eventsByOrganizationId": {"nodes": []}}}}
    assert compare_answers(ours, theirs) is None
    theirs["data"]["organizationBySlug"]["name"] = "UNESCAP"
    assert compare_answers(ours, theirs) == "data[1]: 'escap' here, 'unescap' there"


# -- the backends' CPU ---------------------------------------------------------------------------


def test_backend_titles_name_their_database() -> None:
    assert title_database(os.getpid()) is None  # not a backend


def test_exited_backends_count_whole_when_no_other_database_connected() -> None:
    backends = {
        1: Backend("kb", first_cpu=1.0, last_cpu=1.5),  # alive at both ends: 0.5
        2: Backend("kb", first_cpu=0.0, last_cpu=0.2),  # started and exited during the run, read at 0.2
        3: Backend(None, first_cpu=0.0, last_cpu=0.0),  # exited before its title was read
        4: Backend(None, first_cpu=5.0, last_cpu=5.1),  # the checkpointer: not the database's
    }
    # The postmaster reaped 2 (0.25 in all) and 3 (0.1): 0.15 of it was never read.
    used = account(
        backends, alive={1, 4}, database="kb", reaped=0.35, sessions_before={"kb": 3}, sessions_after={"kb": 5}
    )
    assert (used.live, used.exited_read) == (0.5, 0.2)
    assert round(used.exited_unread, 6) == 0.15 and not used.estimated
    assert round(used.total, 6) == 0.85 and used.backends_started == 2


def test_exited_backends_are_shared_by_sessions_when_other_databases_connected() -> None:
    backends = {2: Backend("kb", 0.0, 0.2), 5: Backend("other", 0.0, 1.0)}
    used = account(
        backends,
        alive=set(),
        database="kb",
        reaped=1.6,  # 0.4 never read
        sessions_before={"kb": 0, "other": 0},
        sessions_after={"kb": 1, "other": 3},
    )
    assert used.exited_read == 0.2 and used.estimated
    assert round(used.exited_unread, 6) == 0.1  # a quarter of the sessions started were ours


async def _burn(url: str) -> None:
    """One connection that spends CPU in its backend, then disconnects (its backend exits)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.fetchval("SELECT count(*) FROM generate_series(1, 3000000)")
    finally:
        await conn.close()


@pytest.mark.postgres
@pytest.mark.parametrize("interval", [0.01, 3600.0], ids=["sampled", "never-sampled"])
def test_a_backend_that_exits_during_the_run_is_counted(databases: Databases, interval: float) -> None:
    """Read before and after, a backend born and gone in between was invisible; now its CPU counts,
    read by the sampler or, when it never was, from what the postmaster reaped."""
    url = databases.new("postgresql")
    monitor = BackendMonitor(libpq_url(url), str(async_url(url).database), interval=interval)
    monitor.start()
    try:
        asyncio.run(_burn(libpq_url(url)))
        time.sleep(0.05)  # until the postmaster has reaped it
    finally:
        used = monitor.stop()
    assert used.backends_started is not None and used.backends_started >= 1
    assert used.exited_read + used.exited_unread > 0, used
    if interval > 1:
        assert used.exited_read == 0 and used.exited_unread > 0, used


@pytest.mark.bench
def test_the_bench_serves_ours_with_its_default_logging(
    databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No quieter than production: the access log writes its line per request during the bench."""
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    url = databases.new("sqlite")
    upgrade(url)
    asyncio.run(seed_synthetic(url, 3))
    log = tmp_path / "server.log"
    server = Server(url, 1, {}, log)
    try:
        server.wait_ready()
        status, _headers, _body = request(server.port, "POST", "/graphql", json.dumps({"query": SMALL}).encode())
        assert status == 200
    finally:
        server.stop()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "app.access"]
    assert any(line["level"] == "INFO" and '"POST"' in json.dumps(line) for line in access), access


@pytest.mark.bench
def test_the_bare_asgi_app_is_served_like_ours(databases: Databases, tmp_path: Path) -> None:
    server = Server("sqlite:///unused.sqlite3", 1, {}, tmp_path / "bare.log", module=("app.tools.bare_asgi",))
    try:
        server.wait_ready()
        status, headers, body = request(server.port, "POST", "/graphql", b'{"query": "{ __typename }"}')
        assert len(server.worker_pids()) == 1  # gunicorn's arbiter with its worker, as `serve` runs
    finally:
        server.stop()
    assert (status, headers["content-type"], json.loads(body)) == (
        200,
        "application/json",
        {"data": {"__typename": "Query"}},
    )
