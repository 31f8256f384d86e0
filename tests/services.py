"""Private database servers a test may stop and start: its own PostgreSQL cluster, its own Redis.

Never the shared servers (127.0.0.1:5432 and :6379): these run on free ports, in a temporary
folder, and are stopped and removed when the test ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import IN_CI


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is missing; CI=true requires it")
    pytest.skip(f"{what} is missing")


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb + pg_ctl), run as the `postgres` user when we are root.

    `standby()` makes a hot standby of it: `pg_basebackup -R` (streaming, `standby.signal` and
    `primary_conninfo` written) into a folder of its own, on a free port, optionally replaying
    each commit only `apply_delay` after it (`recovery_min_apply_delay`).
    """

    def __init__(self, *, primary: PrivatePostgres | None = None, settings: dict[str, str] | None = None) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            _missing("PostgreSQL's initdb (/usr/lib/postgresql/*/bin)")
        self.bin = Path(found[-1]).parent
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="kb-private-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.settings = dict(settings or {})
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root
            shutil.chown(self.folder, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        if primary is None:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        else:
            self._run(
                "pg_basebackup",
                *("-D", str(self.data), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
                *("-R", "-X", "stream", "-c", "fast", "--no-sync"),
            )
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        for name, value in self.settings.items():
            options += f" -c {name}={value}"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def standby(self, apply_delay: str | None = None) -> PrivatePostgres:
        """A hot standby of this (running) server, started, streaming from it."""
        settings = {"hot_standby": "on", "wal_receiver_status_interval": "1s"}
        if apply_delay:
            settings["recovery_min_apply_delay"] = apply_delay
        made = PrivatePostgres(primary=self, settings=settings)
        made.start()
        return made

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def close(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class RoundRobinPooler:
    """A TCP proxy on a free port sending each new connection to the next of its backends in turn.

    What a pooler (or a DNS name, or a load balancer) over several standbys does: two connections
    of one worker's pool may read two different servers. Runs its own event loop in a thread.
    """

    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self.port = free_port()
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.base_events.Server | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the pooler did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = self.backends[self.connections % len(self.backends)]
        self.connections += 1
        try:
            backend_reader, backend_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()
            return

        async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            try:
                while chunk := await source.read(65536):
                    target.write(chunk)
                    await target.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    target.close()

        await asyncio.gather(pipe(reader, backend_writer), pipe(backend_reader, writer))

    def close(self) -> None:
        async def shut() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(shut(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        if not self._loop.is_running():
            self._loop.close()


class PrivateRedis:
    """A redis-server of its own, on a free port, with nothing saved to disk."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            _missing("redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.binary is not None
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def close(self) -> None:
        self.stop()
