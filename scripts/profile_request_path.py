"""Where a request's CPU goes, layer by layer, measured under load.

Serves the API (`python -m app serve`, 2 workers, result cache off, default logging) on a database,
loads it with wrk (-t2 -c16) with one query, and samples one worker with py-spy (`pip install
py-spy`) meanwhile. Each sample is charged to the innermost frame that belongs to a layer (the
standard library's generic modules are charged to their caller), and the layers' shares of the
worker's samples (those holding the GIL) are turned into CPU ms per request with the server's CPU per request over the
same window. The PostgreSQL backends' CPU per request is measured beside (app/tools/backend_cpu.py).

    .venv/bin/python scripts/profile_request_path.py --database-url postgresql://postgres@127.0.0.1:5432/kb \\
        --query small --seconds 20
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.data.engine import async_url
from app.tools.backend_cpu import BackendMonitor
from app.tools.bench import REFERENCE, SMALL, WRK_SCRIPT, BenchQuery, Server, parse_wrk
from app.tools.bench_compare import _processes, libpq_url, tree_cpu

QUERIES = {"typename": "{ __typename }", "small": SMALL, "reference": REFERENCE}
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
# Modules of the standard library that only serve their caller: their time is the caller's.
GENERIC = (
    "asyncio/",
    "<frozen",
    "typing.py",
    "enum.py",
    "dataclasses.py",
    "functools.py",
    "contextlib.py",
    "contextvars",
    "re/",
    "abc.py",
    "inspect.py",
    "weakref.py",
    "collections/",
    "copy.py",
    "uuid.py",
    "datetime.py",
    "threading.py",
)


def layer(function: str, path: str) -> str | None:
    """The layer a frame belongs to (py-spy names files by module path); None for a generic frame."""
    if function == "Runner.run" and path.startswith("asyncio/runners.py"):
        return NATIVE
    if any(part in path for part in GENERIC):
        return None
    if path.startswith("app/"):
        module = path.removeprefix("app/").removesuffix(".py").replace("/", ".")
        if module == "execution.compiler":
            return "app.execution.compiler.prepare" if function == "prepare" else "app.execution.compiler (other)"
        return f"app.{module}"
    for marker, name in (
        ("asyncpg/", "asyncpg (driver)"),
        ("sqlalchemy/", "SQLAlchemy"),
        ("strawberry/", "Strawberry"),
        ("graphql/", "graphql-core"),
        ("starlette/", "Starlette"),
        ("uvicorn/", "uvicorn"),
        ("uvicorn_worker/", "uvicorn"),
        ("httptools", "uvicorn"),
        ("prometheus_client/", "prometheus_client"),
        ("logging/", "logging (stdlib)"),
        ("json/", "json (stdlib)"),
        ("orjson", "json (orjson)"),
        ("pydantic", "pydantic"),
        ("gunicorn/", "gunicorn"),
        ("uvloop", "event loop"),
    ):
        if path.startswith(marker) or f"/{marker}" in path:
            return name
    return f"other: {path.split('/', 1)[0].removesuffix('.py')}"


# Inclusive views (a sample counts for every one of these its stack passes through): each middleware,
# Strawberry's view, the compiler, the request's connection and the pool.
INCLUSIVE = (
    ("the request (uvicorn's run_asgi and below)", "RequestResponseCycle.run_asgi (uvicorn/"),
    ("app.http.observability (the one middleware) and below", "Observe.__call__ (app/http/observability.py"),
    ("the access-log line", "log (app/http/access_log.py"),
    ("the pipeline (app.http.pipeline) and below", "GraphQLEndpoint.__call__ (app/http/pipeline.py"),
    ("reading the body", "Body.read (app/http/body_limits.py"),
    ("the executor (plans, result cache) and below", "Executor.execute (app/execution/executor.py"),
    ("Strawberry's execute and below", "Schema.execute (strawberry/"),
    ("encoding the answer", "GraphQLEndpoint._encode (app/http/pipeline.py"),
    ("compiler.prepare", "prepare (app/execution/compiler.py"),
    ("compiler.execute (the statement, through SQLAlchemy)", "execute (app/execution/compiler.py"),
    ("the request's connection: pool checkout (and BEGIN for a snapshot)", "AsyncConnection.start (sqlalchemy/"),
    ("opening a new connection (pool overflow)", "_ConnectionRecord.__connect (sqlalchemy/"),
    ("the request's connection: ROLLBACK and check-in", "RequestDatabase.close (app/data/session.py"),
    ("sending the response (Response.__call__ and the wrapped sends)", "Response.__call__ (starlette/"),
    ("the access-log line (logging)", "Logger._log (logging/"),
)
# Time in C under the event loop: uvloop's sockets, httptools, asyncpg's Cython protocol. py-spy
# shows it as the loop's own frame, or as SQLAlchemy's greenlet suspended where it awaits the driver
# (a stack rooted apart, ending where the greenlet switched out).
NATIVE = "native code under the event loop (uvloop, httptools, asyncpg's protocol)"


def inclusive(stacks: dict[str, int]) -> collections.Counter[str]:
    """Samples per inclusive view."""
    counted: collections.Counter[str] = collections.Counter()
    for stack, count in stacks.items():
        for label, marker in INCLUSIVE:
            if marker in stack:
                counted[label] += count
    return counted


def charge(stacks: dict[str, int]) -> collections.Counter[str]:
    """Samples per layer: each stack to its innermost frame's layer."""
    charged: collections.Counter[str] = collections.Counter()
    for stack, count in stacks.items():
        frames = stack.split(";")
        if not frames[0].startswith("_run_module_as_main"):
            charged[NATIVE] += count
            continue
        owner = NATIVE
        for frame in reversed(frames):
            match = _FRAME.match(frame.strip())
            if match is None:
                continue
            found = layer(match["function"], match["file"])
            if found is not None:
                owner = found
                break
        charged[owner] += count
    return charged


def read_raw(path: Path) -> dict[str, int]:
    stacks: dict[str, int] = {}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] = stacks.get(stack, 0) + int(count)
    return stacks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--query", choices=sorted(QUERIES), default="small")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second (default 250)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stacks", type=Path, help="also keep py-spy's raw stacks in this file")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("py-spy is not installed: .venv/bin/pip install py-spy", file=sys.stderr)
        return 2
    body = BenchQuery(args.query, QUERIES[args.query]).body()
    database = str(async_url(args.database_url).database)
    with tempfile.TemporaryDirectory(prefix="profile-") as folder:
        work = Path(folder)
        script = work / "post.lua"
        script.write_text(WRK_SCRIPT)
        server = Server(args.database_url, args.workers, {"RESULT_CACHE_SIZE": "0"}, work / "server.log")
        try:
            server.wait_ready()
            wrk = ["wrk", "-t2", "-c16", "--latency", "-s", str(script), server.url]
            env = {**os.environ, "BODY": body.decode()}
            subprocess.run([*wrk[:3], "-d2s", *wrk[3:]], env=env, capture_output=True, check=True)  # warm-up
            monitor = BackendMonitor(libpq_url(args.database_url), database)
            before = tree_cpu(server.process.pid, _processes())
            monitor.start()
            load = subprocess.Popen(
                [*wrk[:3], f"-d{args.seconds}s", *wrk[3:]], env=env, stdout=subprocess.PIPE, text=True
            )
            time.sleep(0.5)
            raw = work / "stacks.txt"
            worker = server.worker_pids()[0]
            record = ["record", "--gil", "--pid", str(worker), "--rate", str(args.rate), "--format", "raw"]
            subprocess.run(
                [spy, *record, "--duration", str(args.seconds - 1), "--output", str(raw)],
                capture_output=True,
                check=True,
            )
            output, _ = load.communicate()
            backends = monitor.stop()
            after = tree_cpu(server.process.pid, _processes())
        finally:
            server.stop()
        loaded = parse_wrk(output)
        server_ms = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items()) * 1000 / max(loaded.requests, 1)
        database_ms = backends.total * 1000 / max(loaded.requests, 1)
        stacks = read_raw(raw)
        charged, included = charge(stacks), inclusive(stacks)
        if args.stacks:
            shutil.copy(raw, args.stacks)
    total = sum(charged.values())
    print(
        f"{args.query}: {loaded.rps:,.0f} req/s under wrk -t2 -c16 with py-spy attached; CPU ms per request:"
        f" server {server_ms:.3f} + PostgreSQL {database_ms:.3f}; load average {os.getloadavg()[0]:.1f};"
        f" {total} samples of one worker"
    )
    print("| layer (own time, callees in other layers excluded) | share | ms per request |")
    print("|---|---|---|")
    for name, count in charged.most_common():
        if count / total < 0.005:
            continue
        print(f"| {name} | {count / total:.1%} | {count / total * server_ms:.3f} |")
    print()
    print("| inclusive (callees counted) | share | ms per request |")
    print("|---|---|---|")
    for name, _marker in INCLUSIVE:
        count = included[name]
        print(f"| {name} | {count / total:.1%} | {count / total * server_ms:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
