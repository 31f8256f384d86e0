"""The benchmark harness: wrk's report is read right, and a one-second run writes a complete report."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.bench import Options, benchmark, child_processes, parse_wrk, table
from app.migrations import upgrade
from app.seeding.synthetic import seed_synthetic
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
    report = benchmark(options, say=lambda _line: None)

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
    assert nested["statements"] == 5
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
