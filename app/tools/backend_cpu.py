"""The CPU that a database's PostgreSQL backends spend over a measured run, the backends that exit included.

A backend's CPU is utime + stime in `/proc/<pid>/stat`, so PostgreSQL must run on this machine.
Reading the backends before and after a run misses the ones that start and exit during it (a
pool that opens and closes connections under load forks a backend for each). So a thread reads
every child of the postmaster every few milliseconds and keeps each one's last reading and its
database (from its process title, "postgres: user database host(port) state", or from
`pg_stat_activity`). What a backend spends between its last reading and its exit, and the
backends too short-lived to be read at all, are in the postmaster's `cutime + cstime` (the CPU
of the children it has reaped, every database's): that remainder is ours when no other database
started a session during the run (`pg_stat_database.sessions`), and otherwise our share of it by
sessions started, marked as estimated.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
INTERVAL_S = 0.01
# The title a backend gives itself once it knows its user and database (`update_process_title`),
# after an optional cluster name: "postgres: 15/main: postgres kb 127.0.0.1(50442) idle".
_TITLE = re.compile(rb"^postgres: (?:.*?: )?(\S+) (\S+) (?:\S+\(\d+\)|\[local\])")


def read_stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, CPU seconds of the process, CPU seconds of the children it has reaped), or None once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    own = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    reaped = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
    return int(fields[1]), own, reaped


def title_database(pid: int) -> str | None:
    """The database a backend serves, from its process title; None before it has set one, or for a helper."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    match = _TITLE.match(title)
    return match.group(2).decode(errors="replace") if match else None


def children(parent: int) -> list[int]:
    """The child processes of `parent` (the kernel's list, or a scan of /proc where it has none)."""
    try:
        return [int(pid) for pid in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]
    except OSError:
        pass
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = read_stat(int(entry.name))
            if stat is not None and stat[0] == parent:
                found.append(int(entry.name))
    return found


@dataclass
class Backend:
    """A postmaster child as last read: its database (None for a helper process, or not yet known) and CPU."""

    database: str | None
    first_cpu: float  # at the start of the run; 0 for one started during it
    last_cpu: float


@dataclass
class BackendCpu:
    """What the backends of one database spent over a run, in CPU seconds."""

    live: float  # backends alive at the end: their CPU since the start (or since they started)
    exited_read: float  # backends that exited: up to their last reading
    exited_unread: float  # our part of what the postmaster reaped beyond the last readings
    backends_started: int | None  # sessions of the database started during the run (pg_stat_database)
    estimated: bool  # other databases started sessions too: `exited_unread` is our share by sessions

    @property
    def total(self) -> float:
        return self.live + self.exited_read + self.exited_unread


@dataclass
class _Sampler:
    postmaster: int
    monitor_pid: int
    backends: dict[int, Backend] = field(default_factory=dict)

    def read(self, known: dict[int, str] | None = None, starting: bool = False) -> set[int]:
        """Read every child of the postmaster once; the pids alive now."""
        alive = set()
        for pid in children(self.postmaster):
            if pid == self.monitor_pid:
                continue
            stat = read_stat(pid)
            if stat is None:
                continue
            alive.add(pid)
            backend = self.backends.get(pid)
            if backend is None:
                backend = self.backends[pid] = Backend(None, stat[1] if starting else 0.0, stat[1])
            backend.last_cpu = stat[1]
            if backend.database is None:
                backend.database = (known or {}).get(pid) or title_database(pid)
        return alive


class BackendMonitor:
    """Measures one database's backends around a run: `start()`, the load, `stop()` -> BackendCpu."""

    def __init__(self, database_url: str, database: str, interval: float = INTERVAL_S) -> None:
        self.database_url = database_url
        self.database = database
        self.interval = interval
        self._loop = asyncio.new_event_loop()
        self._connection: Any = None
        self._sampler: _Sampler | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._reaped = 0.0
        self._sessions: dict[str, int] = {}

    def _run(self, coroutine: Any) -> Any:
        return self._loop.run_until_complete(coroutine)

    def _activity(self) -> dict[int, str]:
        rows = self._run(self._connection.fetch("SELECT pid, datname FROM pg_stat_activity WHERE datname IS NOT NULL"))
        return {int(row["pid"]): str(row["datname"]) for row in rows}

    def _sessions_now(self) -> dict[str, int]:
        rows = self._run(
            self._connection.fetch("SELECT datname, sessions FROM pg_stat_database WHERE datname IS NOT NULL")
        )
        return {str(row["datname"]): int(row["sessions"] or 0) for row in rows}

    def start(self) -> None:
        """Open the monitor's own connection, read every backend, and sample them until `stop()`."""
        self._connection = self._run(asyncpg.connect(self.database_url))
        monitor_pid = int(self._run(self._connection.fetchval("SELECT pg_backend_pid()")))
        parent = read_stat(monitor_pid)
        if parent is None:
            raise RuntimeError("the PostgreSQL backends are not visible in /proc: is PostgreSQL on this machine?")
        self._sampler = _Sampler(postmaster=parent[0], monitor_pid=monitor_pid)
        self._sessions = self._sessions_now()
        postmaster = read_stat(self._sampler.postmaster)
        self._reaped = postmaster[2] if postmaster else 0.0
        self._sampler.read(self._activity(), starting=True)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._sample, name="backend-cpu", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        assert self._sampler is not None
        while not self._stopping.wait(self.interval):
            self._sampler.read()

    def stop(self) -> BackendCpu:
        """Stop sampling; what our database's backends spent since `start()`."""
        assert self._sampler is not None and self._thread is not None
        self._stopping.set()
        self._thread.join()
        try:
            alive = self._sampler.read(self._activity())
            postmaster = read_stat(self._sampler.postmaster)
            reaped = (postmaster[2] if postmaster else self._reaped) - self._reaped
            sessions = self._sessions_now()
        finally:
            self._run(self._connection.close())
            self._loop.close()
        return account(self._sampler.backends, alive, self.database, reaped, self._sessions, sessions)


def account(
    backends: dict[int, Backend],
    alive: Iterable[int],
    database: str,
    reaped: float,
    sessions_before: dict[str, int],
    sessions_after: dict[str, int],
) -> BackendCpu:
    """Our database's CPU from the readings, the postmaster's reaped CPU and the sessions started."""
    alive = set(alive)
    live = exited_read = exited_known = 0.0
    other_exited = False
    for pid, backend in backends.items():
        spent = backend.last_cpu - backend.first_cpu
        if pid in alive:
            if backend.database == database:
                live += spent
            continue
        # Reaped during the run: its whole life is in the postmaster's count, read or not.
        whole = backend.last_cpu
        if backend.database is None:
            continue  # never identified: left in the remainder
        exited_known += whole
        if backend.database == database:
            exited_read += spent
        else:
            other_exited = True
    # The postmaster's count holds each reaped child's whole life; the part of the known ones that
    # fell before the start was read at the start, so it is taken out with them.
    unread = max(0.0, reaped - exited_known)
    started = {name: sessions_after.get(name, 0) - sessions_before.get(name, 0) for name in sessions_after}
    ours = max(started.get(database, 0), 0)
    others = sum(max(count, 0) for name, count in started.items() if name != database)
    estimated = bool(others) or other_exited
    if estimated:
        unread = unread * ours / (ours + others) if ours + others else 0.0
    return BackendCpu(live, exited_read, unread, ours if database in sessions_after else None, estimated)
