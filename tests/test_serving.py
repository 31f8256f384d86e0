"""Production serving: `python -m app serve --workers 2`; a stuck worker is replaced while the other serves."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

PROJECT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _wait(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def server(seeded_db: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": seeded_db,
        "WORKER_TIMEOUT_SECONDS": "4",
        "LOG_LEVEL": "warning",
        "RATE_LIMIT_POINTS": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(base + "/healthz", timeout=1).status_code == 200 and len(_children(process.pid)) == 2
        except httpx.HTTPError:
            return False

    try:
        assert _wait(ready, 20), "the server did not start"
        yield process, base
    finally:
        for child in _children(process.pid):
            os.kill(child, signal.SIGCONT)
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
def test_a_stuck_worker_is_replaced_while_the_other_serves(server: tuple[subprocess.Popen[bytes], str]) -> None:
    process, base = server
    time.sleep(3)  # both workers booted and sent a first heartbeat (gunicorn times out only after one)
    workers = _children(process.pid)
    stuck = min(workers)
    os.kill(stuck, signal.SIGSTOP)  # as a worker whose event loop never yields again: no heartbeat

    answered = []
    for _ in range(20):
        with httpx.Client(timeout=2) as client:  # a new connection each time
            response = client.post(base + "/graphql", json={"query": "{ __typename }"})
        answered.append(response.json())
    assert answered == [{"data": {"__typename": "Query"}}] * 20

    assert _wait(lambda: stuck not in _children(process.pid) and len(_children(process.pid)) == 2, 15)
    assert httpx.post(base + "/graphql", json={"query": "{ __typename }"}, timeout=2).status_code == 200

    process.send_signal(signal.SIGTERM)  # graceful shutdown: workers finish, the arbiter exits cleanly
    assert process.wait(15) == 0
