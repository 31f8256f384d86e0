"""Load check (not a test): do cheap requests stay fast while many clients send the heaviest allowed query?

    python scripts/load.py                          # serves DATABASE_URL with 2 workers on a free port
    python scripts/load.py --database-url postgresql://postgres@127.0.0.1/kb_load
    python scripts/load.py --url http://127.0.0.1:8000   # a server that is already running

16 clients send the heaviest query the default cost limit allows (9,902 of 10,000 objects:
100 organizations with 24 events each, through `edges`, every scalar and both dates) for 10 s,
each request a distinct document so no cache answers it; meanwhile a probe in its own
process asks `{ __typename }` every 50 ms. It prints the probe's median, 95th percentile and
worst latency, and the error counts of both. Requests go to loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

PROJECT = Path(__file__).resolve().parent.parent

HEAVIEST = """
query Heaviest{n} {{
  organizations(first: 100) {{
    pageInfo {{ hasNextPage endCursor }}
    edges {{ cursor node {{
      id slug name acronym kind description aliases
      events(first: 24) {{ edges {{ cursor node {{
        id slug title kind description location
        date {{ edtf precision year month day earliest latest }}
        endDate {{ edtf precision year month day earliest latest }}
      }} }} }}
    }} }}
  }}
}}
"""
PROBE = {"query": "{ __typename }"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(database_url: str, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "warning", "RATE_LIMIT_POINTS": "0"}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "serve",
                "--workers",
                str(workers),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=PROJECT,
            env=env,
            stdout=sink,
            stderr=sink,
            start_new_session=True,  # its own process group, so a failed start takes the workers down too
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                time.sleep(2)  # let every worker finish booting
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    raise SystemExit(f"the server did not become ready in 30 s (its log: {log})")


def probe(base: str, seconds: float, interval: float, results: Any) -> None:
    """Ask the cheap query every `interval` s; put (latencies, errors) on `results`."""
    latencies: list[float] = []
    errors = 0
    end = time.monotonic() + seconds
    with httpx.Client(base_url=base, timeout=10) as client:
        while time.monotonic() < end:
            started = time.perf_counter()
            try:
                response = client.post("/graphql", json=PROBE)
                if response.status_code != 200 or response.json() != {"data": {"__typename": "Query"}}:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - started)
            time.sleep(max(0.0, interval - (time.perf_counter() - started)))
    results.put((latencies, errors))


async def heavy_clients(base: str, clients: int, seconds: float) -> dict[str, Any]:
    counter = itertools.count()
    outcome: dict[str, Any] = {"requests": 0, "errors": 0, "codes": {}, "latencies": []}
    end = time.monotonic() + seconds

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while time.monotonic() < end:
                started = time.perf_counter()
                code = None
                try:
                    response = await http.post("/graphql", json={"query": HEAVIEST.format(n=next(counter))})
                    body = await response.aread()
                    if b'"errors"' in body[:200] or b'"errors"' in body[-2000:]:
                        code = response.json()["errors"][0].get("extensions", {}).get("code", "no code")
                    elif response.status_code != 200:
                        code = f"HTTP {response.status_code}"
                except httpx.HTTPError as error:
                    code = type(error).__name__
                failed = code is not None
                if code is not None:
                    outcome["codes"][code] = outcome["codes"].get(code, 0) + 1
                outcome["requests"] += 1
                outcome["errors"] += int(failed)
                outcome["latencies"].append(time.perf_counter() - started)

    await asyncio.gather(*(client() for _ in range(clients)))
    return outcome


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server to load (default: start one)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="for the server started")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--probe-interval", type=float, default=0.05)
    args = parser.parse_args()

    server = None
    base = args.url
    log = Path(tempfile.gettempdir()) / f"load-server-{os.getpid()}.log"
    if base is None:
        if not args.database_url:
            from app.config import get_settings

            args.database_url = get_settings().database_url
        server, base = start_server(args.database_url, args.workers, log)
    try:
        check = httpx.post(base + "/graphql", json={"query": HEAVIEST.format(n="Check")}, timeout=30)
        if b'"errors"' in check.content[:200]:
            raise SystemExit(f"the heaviest query is refused: {check.text[:300]}")
        results: Any = multiprocessing.get_context("spawn").Queue()
        prober = multiprocessing.get_context("spawn").Process(
            target=probe, args=(base, args.seconds, args.probe_interval, results)
        )
        prober.start()
        heavy = asyncio.run(heavy_clients(base, args.clients, args.seconds))
        latencies, probe_errors = results.get(timeout=60)
        prober.join(10)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(30)

    print(f"target: {args.url or args.database_url} ({args.workers} workers)" if server else f"target: {base}")
    print(f"heaviest query ({len(check.content):,} bytes a response), {args.clients} clients for {args.seconds:g} s:")
    print(
        f"  {heavy['requests']} requests, {heavy['errors']} errors {heavy['codes'] or ''}; "
        f"median {_ms(statistics.median(heavy['latencies']))}, worst {_ms(max(heavy['latencies']))}"
    )
    if server is not None:
        lines = log.read_text(errors="replace").splitlines()
        problems = [line for line in lines if '"level": "ERROR"' in line or "[CRITICAL]" in line or "[ERROR]" in line]
        print(f"server log: {len(problems)} error lines ({log})")
        for line in problems[-3:]:
            print(f"  {line[:300]}")
    print(f"probe {{ __typename }} every {args.probe_interval * 1000:.0f} ms:")
    print(
        f"  {len(latencies)} requests, {probe_errors} errors; median {_ms(statistics.median(latencies))}, "
        f"p95 {_ms(statistics.quantiles(latencies, n=20)[-1])}, worst {_ms(max(latencies))}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
