"""The benchmark harness: `python -m app bench` serves the API on a database and loads it with wrk.

For each query of a fixed mix it reports requests per second, p50/p99 latency, SQL statements
per request (the Server-Timing header), response bytes, and the ratio to `{ __typename }` on
the same server in the same run, so a figure from a noisy machine still compares. It runs the
mix cold (RESULT_CACHE_SIZE=0) and warm (the default cache), prints a table and writes a JSON
report. Every query is sent once before it is measured and must answer 200 without `errors`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.config import PROJECT_ROOT, Settings
from app.data import models
from app.data.engine import async_url, create_engine
from app.data.paging import encode_cursor
from app.progress import Progress

EXAMPLES = PROJECT_ROOT / "app" / "examples"
MODES = {"cold": 0, "warm": int(Settings.model_fields["result_cache_size"].default)}
# wrk sends the same POST body on every request; the body comes from the environment.
WRK_SCRIPT = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.body = os.getenv("BODY")
"""
_STATEMENTS = re.compile(r'desc="(\d+) SQL statements"')
_LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}

EVENT_FIELDS = "id title kind date { edtf precision earliest } location organization { acronym name }"
EVENTS_PAGE = f"""query EventsPage($after: String) {{
  events(first: 20, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {EVENT_FIELDS} }}
  }}
}}"""
# The shape the performance targets were measured with: 20 organizations with 10 memberships and
# 20 events each, no citations (620 objects and about 1,900 fields on full pages; with 10,000
# synthetic organizations 577 objects, 1,813 fields and 48 KB, our IDs being longer).
REFERENCE = """query Reference {
  organizations(first: 20) {
    nodes {
      id name acronym
      memberships(first: 10) { nodes { id role status } }
      events(first: 20) { nodes { id title kind } }
    }
  }
}"""
# The small query: one organization by slug, its first events; its cost is mostly our fixed cost per request.
SMALL = """query Small {
  organization(slug: "escap") {
    id name acronym
    events(first: 5) { nodes { id title kind } }
  }
}"""
EVENTS_FILTERED = f"""query SummitsOfTheDecade {{
  events(first: 20, filter: {{ kind: SUMMIT, from: "2000", to: "2009" }}) {{
    totalCount
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {EVENT_FIELDS} }}
  }}
}}"""


@dataclass(frozen=True)
class BenchQuery:
    """One query of the mix: a GraphQL document and its variables."""

    name: str
    document: str
    variables: dict[str, Any] | None = None
    about: str = ""

    def body(self) -> bytes:
        payload: dict[str, Any] = {"query": self.document}
        if self.variables is not None:
            payload["variables"] = self.variables
        return json.dumps(payload).encode()


@dataclass
class Dataset:
    """What the benchmarked database holds, and the deep cursor its paging query starts from."""

    engine: str
    name: str
    organizations: int
    events: int
    data_version: int | None
    deep_offset: int
    deep_cursor: str | None


@dataclass
class Measurement:
    """One query under load: throughput, latency, and what one request costs."""

    name: str
    about: str
    rps: float = 0.0
    requests: int = 0
    p50_ms: float | None = None
    p75_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    ratio: float | None = None
    statements: int | None = None
    statements_repeat: int | None = None
    bytes: int = 0
    non_2xx: int = 0
    socket_errors: int = 0
    error: str | None = None
    loadavg: list[float] = field(default_factory=list)


@dataclass
class Run:
    """The mix against one server: cold (no result cache) or warm."""

    mode: str
    result_cache_size: int
    typename_rps: float = 0.0
    rss_mb: list[float] = field(default_factory=list)
    queries: list[Measurement] = field(default_factory=list)
    server_log_tail: str | None = None  # kept when a query failed


@dataclass
class Options:
    database_url: str
    workers: int = 2
    duration: int = 5
    warmup: int = 1
    connections: int = 16
    threads: int = 2
    queries: list[str] | None = None
    modes: tuple[str, ...] = ("cold", "warm")
    json_path: Path | None = None
    # --compare postgraphile (app.tools.bench_compare): interleaved rounds, where npm installs PostGraphile.
    compare: str | None = None
    rounds: int = 2
    single_connection: int = 2  # seconds of one-connection load per query, for its latency (0: none)
    sqlite_url: str | None = None  # also ours cold on this SQLite database (the same data)
    cache_dir: Path | None = None
    artifacts: Path = PROJECT_ROOT / "artifacts"


def query_mix(dataset: Dataset) -> list[BenchQuery]:
    """The fixed mix: the baseline, the README's examples, a first and a deep page, a filtered count."""

    def example(name: str, about: str) -> BenchQuery:
        return BenchQuery(name, (EXAMPLES / f"{name}.graphql").read_text(encoding="utf-8"), None, about)

    return [
        BenchQuery("typename", "{ __typename }", None, "the baseline: parse, validate, no data"),
        BenchQuery(
            "reference", REFERENCE, None, "20 organizations, 10 memberships and 20 events each: the targets' shape"
        ),
        BenchQuery("small", SMALL, None, "one organization by slug with its first 5 events"),
        example("nested", "20 organizations, 10 memberships and 20 events each, with citations"),
        example("organization", "one organization with its lists (README example)"),
        example("timeline", "Mongolia's events, oldest first (README example)"),
        example("chairmanships", "chairmanships with co-chairs and events (README example)"),
        example("search", "full-text search, 10 hits with snippets (README example)"),
        example("aggregate", "Mongolia's events by year and kind: one grouped statement (README example)"),
        BenchQuery("events_first", EVENTS_PAGE, {"after": None}, "first page of all events by date"),
        BenchQuery(
            "events_deep",
            EVENTS_PAGE,
            {"after": dataset.deep_cursor},
            f"page of all events by date after the {dataset.deep_offset:,}th (the middle)",
        ),
        BenchQuery("events_filtered", EVENTS_FILTERED, None, "summits of 2000-2009: a filtered page with totalCount"),
    ]


# -- the database ------------------------------------------------------------------------------


async def describe_dataset(database_url: str) -> Dataset:
    """Counts, the data version, and a cursor from the middle of the events ordered by date."""
    events: Any = models.Event.__table__
    state: Any = models.DatasetState.__table__
    engine = create_engine(database_url, pool=False)
    try:
        async with engine.connect() as conn:
            organizations = (await conn.execute(select(func.count()).select_from(models.Organization))).scalar_one()
            total = (await conn.execute(select(func.count()).select_from(events))).scalar_one()
            version = (await conn.execute(select(state.c.version))).scalar()
            offset = total // 2
            cursor = None
            if total:
                # The API's default event order: earliest day, latest day, id; unknown dates last.
                row = (
                    await conn.execute(
                        select(events.c.date_earliest, events.c.date_latest, events.c.id)
                        .order_by(
                            events.c.date_earliest.is_(None), events.c.date_earliest, events.c.date_latest, events.c.id
                        )
                        .offset(offset)
                        .limit(1)
                    )
                ).one()
                cursor = encode_cursor("Event:DATE:ASC", list(row))
    finally:
        await engine.dispose()
    url = async_url(database_url)
    name = Path(url.database or "memory").stem if url.get_backend_name() == "sqlite" else str(url.database)
    return Dataset(url.get_backend_name(), name, organizations, total, version, offset, cursor)


# -- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


SERVE = ("app", "serve")


class Server:
    """`python -m app serve` (or another module taking the same arguments) in a subprocess, on a free port.

    The server logs as it does by default (the access log at `info`, one line per request):
    what production pays is what is measured.
    """

    def __init__(
        self,
        database_url: str,
        workers: int,
        environment: dict[str, str],
        log: Path,
        module: Sequence[str] = SERVE,
    ) -> None:
        self.port = free_port()
        self.log_path = log
        # wrk is one client flooding on purpose: no rate limit (app/http/budgets.py) in the way of the measurement
        env = {**os.environ, "DATABASE_URL": database_url, "RATE_LIMIT_POINTS": "0", **environment}
        command = [sys.executable, "-m", *module, "--host", "127.0.0.1", "--port", str(self.port)]
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [*command, "--workers", str(workers)],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers = workers

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until /readyz answers 200 and every worker process is up."""
        deadline = time.monotonic() + timeout
        answer = b"no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                status, _headers, answer = request(self.port, "GET", "/readyz", None, timeout=2)
            except OSError:
                status = 0
            if status == 200 and len(self.worker_pids()) >= self.workers:
                return
            time.sleep(0.2)
        raise RuntimeError(
            f"the server was not ready after {timeout:.0f} s; /readyz: {answer.decode(errors='replace')}"
        )

    def worker_pids(self) -> list[int]:
        """The worker processes: the server's children (itself when it serves alone)."""
        children = [pid for pid, cmdline in child_processes(self.process.pid) if b"resource_tracker" not in cmdline]
        return sorted(children) or [self.process.pid]

    def rss_mb(self) -> list[float]:
        """Resident memory of each worker, in MiB (VmRSS)."""
        sizes = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                sizes.append(round(int(match.group(1)) / 1024, 1))
        return sizes

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def child_processes(parent: int) -> list[tuple[int, bytes]]:
    """The processes whose parent is `parent`, each with its command line (from /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            children.append((int(entry.name), cmdline))
    return children


@contextmanager
def serving(database_url: str, workers: int, environment: dict[str, str], log: Path) -> Iterator[Server]:
    server = Server(database_url, workers, environment, log)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def request(
    port: int, method: str, path: str, body: bytes | None, timeout: float = 60
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json", "Accept": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@dataclass
class Probe:
    """One request's answer: checked for errors, with its SQL statement count and size."""

    statements: int | None
    bytes: int
    error: str | None


def probe(port: int, query: BenchQuery) -> Probe:
    try:
        status, headers, body = request(port, "POST", "/graphql", query.body())
    except (OSError, http.client.HTTPException) as failure:  # a worker killed mid-request, a timeout
        return Probe(None, 0, f"no answer: {failure!r}")
    match = _STATEMENTS.search(headers.get("server-timing", ""))
    statements = int(match.group(1)) if match else None
    error = None
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if status != 200 or not isinstance(answer, dict):
        error = f"HTTP {status}: {body[:300]!r}"
    elif answer.get("errors"):
        error = "; ".join(str(item.get("message")) for item in answer["errors"])[:500]
    return Probe(statements, len(body), error)


# -- the load generator ------------------------------------------------------------------------


@dataclass
class WrkResult:
    rps: float
    requests: int
    latency_ms: dict[str, float]
    non_2xx: int
    socket_errors: int


def parse_wrk(output: str) -> WrkResult:
    """wrk's --latency report: requests/s, the latency percentiles, errors."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    latency = {f"p{p}": round(float(value) * _UNIT_MS[unit], 3) for p, value, unit in _LATENCY.findall(output)}
    if rps is None or total is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    if int(total.group(1)) == 0:
        latency = {}  # wrk prints zeros when no request finished
    return WrkResult(
        rps=float(rps.group(1)),
        requests=int(total.group(1)),
        latency_ms=latency,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def run_wrk(url: str, body: bytes, seconds: int, options: Options, script: Path) -> WrkResult:
    command = [
        "wrk",
        f"-t{min(options.threads, options.connections)}",
        f"-c{options.connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    env = {**os.environ, "BODY": body.decode()}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


# -- the run -----------------------------------------------------------------------------------


def measure(server: Server, query: BenchQuery, options: Options, script: Path, baseline: float | None) -> Measurement:
    result = Measurement(query.name, query.about)
    first = probe(server.port, query)
    result.statements, result.bytes, result.error = first.statements, first.bytes, first.error
    if first.error:
        return result
    if options.warmup:
        run_wrk(server.url, query.body(), options.warmup, options, script)
    loaded = run_wrk(server.url, query.body(), options.duration, options, script)
    result.rps, result.requests = loaded.rps, loaded.requests
    result.p50_ms, result.p75_ms = loaded.latency_ms.get("p50"), loaded.latency_ms.get("p75")
    result.p90_ms, result.p99_ms = loaded.latency_ms.get("p90"), loaded.latency_ms.get("p99")
    result.non_2xx, result.socket_errors = loaded.non_2xx, loaded.socket_errors
    result.loadavg = [round(value, 2) for value in os.getloadavg()]
    after = probe(server.port, query)
    result.statements_repeat = after.statements
    if after.error:
        result.error = f"after the load: {after.error}"
    result.ratio = round(result.rps / baseline, 4) if baseline else 1.0
    return result


def run_mode(
    mode: str,
    mix: Sequence[BenchQuery],
    options: Options,
    workdir: Path,
    say: Callable[[str], None],
    progress: Progress | None = None,
) -> Run:
    run = Run(mode, MODES[mode])
    script = workdir / "post.lua"
    script.write_text(WRK_SCRIPT)
    environment = {"RESULT_CACHE_SIZE": str(MODES[mode])}
    say(f"\n{_title(run)}")
    say(HEADER)
    with serving(options.database_url, options.workers, environment, workdir / f"server-{mode}.log") as server:
        for query in mix:
            if progress is not None:
                progress.stage(f"{mode}: {query.name}")
            baseline = None if query.name == "typename" else run.typename_rps
            measured = measure(server, query, options, script, baseline)
            if query.name == "typename":
                run.typename_rps = measured.rps
            run.queries.append(measured)
            say(_line(measured))
            if progress is not None:
                progress.advance()
        run.rss_mb = server.rss_mb()
        if any(query.error for query in run.queries):
            run.server_log_tail = server.log_tail(40)
    return run


def benchmark(options: Options, say: Callable[[str], None] = print, progress: Progress | None = None) -> dict[str, Any]:
    """Run the mix in each mode; the report (also written as JSON).

    `say` gets each line as it is measured (each mode's title and column header first); `progress` is
    told the number of measurements and advanced after each.
    """
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    dataset = asyncio.run(describe_dataset(options.database_url))
    if dataset.organizations == 0:
        raise RuntimeError("the database holds no organizations: seed it first (python -m app seed [--synthetic N])")
    mix = query_mix(dataset)
    if options.queries:
        unknown = set(options.queries) - {query.name for query in mix}
        if unknown:
            raise RuntimeError(f"unknown queries {sorted(unknown)}; the mix has {[q.name for q in mix]}")
        mix = [query for query in mix if query.name == "typename" or query.name in options.queries]
    if progress is not None:
        progress.start(len(mix) * len(options.modes))
    started = dt.datetime.now(dt.UTC)
    say(
        f"{dataset.engine} {dataset.name}: {dataset.organizations:,} organizations, {dataset.events:,} events;"
        f" {options.workers} workers, wrk -t{options.threads} -c{options.connections}, {options.warmup} s warm-up"
        f" + {options.duration} s per query"
    )
    report: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "git": _git_state(),
        "machine": {"cpus": os.cpu_count(), "loadavg_start": [round(v, 2) for v in os.getloadavg()]},
        "database": {**asdict(dataset), "url": _redacted(options.database_url)},
        "settings": {
            "workers": options.workers,
            "connections": options.connections,
            "threads": options.threads,
            "duration_s": options.duration,
            "warmup_s": options.warmup,
        },
        "runs": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        for mode in options.modes:
            run = run_mode(mode, mix, options, Path(workdir), say, progress)
            report["runs"].append(asdict(run))
    report["machine"]["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    report["seconds"] = round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1)
    path = (
        options.json_path
        or PROJECT_ROOT / "artifacts" / f"bench-{dataset.engine}-{dataset.name}-{started:%Y%m%d-%H%M%S}.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    report["path"] = str(path)
    return report


def table(report: dict[str, Any]) -> str:
    """The report as a readable table, one block per mode."""
    lines = []
    for run in report["runs"]:
        rss = ", ".join(f"{size:.0f}" for size in run["rss_mb"])
        lines.append(f"\n{_title(run)}; RSS per worker after the run: {rss} MiB")
        lines.append(HEADER)
        lines.extend(_line(Measurement(**query)) for query in run["queries"])
    return "\n".join(lines)


HEADER = (
    f"{'query':<17}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'SQL':>5}{'again':>6}{'bytes':>9}{'×typename':>11}{'load':>6}"
)


def _title(run: Run | dict[str, Any]) -> str:
    mode, size = (run.mode, run.result_cache_size) if isinstance(run, Run) else (run["mode"], run["result_cache_size"])
    return f"{mode} (RESULT_CACHE_SIZE={size})"


def _line(m: Measurement) -> str:
    if m.error:
        return f"{m.name:<17} ERROR {m.error}"
    statements = "-" if m.statements is None else str(m.statements)
    again = "-" if m.statements_repeat is None else str(m.statements_repeat)
    ratio = "" if m.ratio is None else f"{m.ratio:.3f}"
    load = f"{m.loadavg[0]:.1f}" if m.loadavg else "-"
    trouble = f"  ({m.non_2xx} non-2xx, {m.socket_errors} socket errors)" if m.non_2xx or m.socket_errors else ""
    if m.requests == 0:
        trouble += "  (no request finished within the run)"
    return (
        f"{m.name:<17}{m.rps:>9,.1f}{_ms(m.p50_ms):>9}{_ms(m.p99_ms):>9}{statements:>5}{again:>6}{m.bytes:>9,}"
        f"{ratio:>11}{load:>6}{trouble}"
    )


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
