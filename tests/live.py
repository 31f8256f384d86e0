"""The real server and the real npm clients, for the tests that drive them over TCP.

`LiveServer` runs `python -m app serve` on a free port of 127.0.0.1 (gunicorn, uvicorn workers).
`clients_dir()` lays the TypeScript project of `clients/` into a cache folder outside the
repository (`KB_CLIENTS_CACHE`, default `~/.cache/kb/clients`) and runs `npm ci` there when
package-lock.json changed, so node_modules never enters the repository.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.logs import FLUSH_SECONDS
from tests.conftest import IN_CI

PROJECT = Path(__file__).resolve().parent.parent
CLIENTS = PROJECT / "clients"
CLIENTS_CACHE = Path(os.environ.get("KB_CLIENTS_CACHE", Path.home() / ".cache" / "kb" / "clients"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """`python -m app serve` on its own port; its stderr (JSON log lines) kept in a file."""

    def __init__(self, database_url: str, log_path: Path, workers: int = 1, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + "/graphql"
        self.log_path = log_path
        self.workers = workers
        self.env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "info", "RATE_LIMIT_POINTS": "0", **env}
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LiveServer:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--workers", str(self.workers), "--port", str(self.port)],
                cwd=PROJECT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"the server did not start:\n{self.log()}")

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        """The log's lines once it has settled: INFO lines are written in batches (app.logs.BatchingHandler)."""
        if self.process is not None and self.process.poll() is None:
            size, settled = -1, time.monotonic() + 5
            while time.monotonic() < settled:
                current = self.log_path.stat().st_size
                if current == size:
                    break
                size = current
                time.sleep(3 * FLUSH_SECONDS)
        return [json.loads(line) for line in self.log().splitlines() if line.strip()]


def _require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        if IN_CI:
            pytest.fail(f"{tool} is not on PATH; CI needs it (.ci/run)")
        pytest.skip(f"{tool} is not on PATH")
    return found


def clients_dir() -> Path:
    """The client project, installed in its cache folder (npm ci only when the lock file changed)."""
    _require("node")
    npm = _require("npm")
    CLIENTS_CACHE.mkdir(parents=True, exist_ok=True)
    lock = (CLIENTS / "package-lock.json").read_bytes()
    stamp = CLIENTS_CACHE / ".lock-sha256"
    wanted = hashlib.sha256(lock).hexdigest()
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(CLIENTS / name, CLIENTS_CACHE / name)
    if not (stamp.exists() and stamp.read_text() == wanted and (CLIENTS_CACHE / "node_modules").is_dir()):
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=CLIENTS_CACHE,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
        stamp.write_text(wanted)
    # The sources: copied afresh each time (generated files are made in the cache, never in the repo).
    for item in CLIENTS.iterdir():
        if item.name in ("package.json", "package-lock.json", "node_modules", "README.md"):
            continue
        target = CLIENTS_CACHE / item.name
        if item.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(item, target)
        else:
            shutil.copy2(item, target)
    return CLIENTS_CACHE


def node(script: str, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a script of the client project with node (TypeScript through tsx)."""
    runner = [str(cwd / "node_modules" / ".bin" / "tsx")] if script.endswith(".ts") else ["node"]
    return subprocess.run([*runner, script, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
