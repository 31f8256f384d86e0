"""Soak check (not a test): ordinary and hostile clients together for minutes; is every answer coded JSON?

    python scripts/soak.py                                  # serves DATABASE_URL (seeded) with 2 workers, 5 min
    python scripts/soak.py --database-url postgresql://postgres@127.0.0.1/kb --seconds 300
    python scripts/soak.py --url http://127.0.0.1:8000       # a server that is already running (no log check)

16 clients (by default) for 5 minutes, half of them ordinary, half hostile:

- ordinary: the examples of app/examples/ by POST and by GET (revalidating with If-None-Match), with APQ
  (a hash first, then the hash with the query), `{ __typename }`, a page of organizations;
- hostile: variables nested up to 1,000 levels deep or holding 10,000 values, floats and huge integers for an
  Int, control characters in strings, GET parameters percent-encoded (`%71uery`), given twice, with `+`, or
  invalid UTF-8 once decoded; bodies that are not JSON, not objects, too large (413), or whose client hangs up
  half-way; cost bombs, deep queries, unknown fields, forged IDs and cursors.

It prints the requests by status and by error code, and fails (exit 1) on any answer from /graphql that is not
JSON (a 304 and HEAD excepted), any 5xx, any answer coded INTERNAL_SERVER_ERROR, and any ERROR line in the log
of the server it started. Requests go to loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import itertools
import json
import os
import random
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))  # `python scripts/soak.py` from the project: load.py's server starter

from scripts.load import start_server  # noqa: E402

EXAMPLES = sorted((PROJECT / "app" / "examples").glob("*.graphql"))
JSON_ACCEPT = {"accept": "application/json"}
INT_QUERY = "query($v: Int) { organizations(first: $v) { nodes { id } } }"
FILTER_QUERY = "query($v: EventFilter) { events(first: 2, filter: $v) { totalCount } }"
IDS_QUERY = "query($v: [ID!]) { nodes(ids: $v) { id } }"
ERROR_LINE = re.compile(r'"level":\s*"(?:ERROR|CRITICAL)"|\[(?:ERROR|CRITICAL)\]')
BOMB = "{ organizations(first: 100) { nodes { " + "children(first: 100) { nodes { " * 4 + "id" + " } }" * 5 + " }"
DEEP = "{ organizations(first: 1) { nodes { " + "parent { " * 20 + "id" + " }" * 20 + " } } }"


class Tally:
    """What the clients saw."""

    def __init__(self) -> None:
        self.statuses: collections.Counter[str] = collections.Counter()
        self.codes: collections.Counter[str] = collections.Counter()
        self.problems: list[str] = []
        self.requests = 0
        self.hangups = 0

    def answer(self, label: str, response: httpx.Response, *, head: bool = False) -> None:
        self.requests += 1
        self.statuses[str(response.status_code)] += 1
        if response.status_code >= 500:
            self.problem(f"{label}: HTTP {response.status_code}: {response.text[:200]!r}")
        if head or response.status_code == 304:
            return
        try:
            body = response.json()
        except ValueError:
            self.problem(f"{label}: HTTP {response.status_code}, not JSON: {response.text[:120]!r}")
            return
        errors = body.get("errors") if isinstance(body, dict) else None
        for error in errors or ():
            code = str((error.get("extensions") or {}).get("code"))
            self.codes[code] += 1
            if code in ("None", "INTERNAL_SERVER_ERROR"):
                self.problem(f"{label}: {code}: {str(error.get('message'))[:200]}")

    def problem(self, text: str) -> None:
        if len(self.problems) < 1000:
            self.problems.append(text)


def _deep(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth if depth % 2 else '{"a":' * depth + "1" + "}" * depth


def _encoded_name(name: str, chosen: random.Random) -> str:
    return "".join(f"%{ord(c):02x}" if chosen.random() < 0.5 else c for c in name)


async def ordinary(http: httpx.AsyncClient, tally: Tally, chosen: random.Random, end: float) -> None:
    tags: dict[str, str] = {}
    while time.monotonic() < end:
        example = chosen.choice(EXAMPLES)
        query = example.read_text(encoding="utf-8")
        kind = chosen.randrange(5)
        if kind == 0:
            tally.answer(example.name, await http.post("/graphql", json={"query": query}))
        elif kind == 1:
            headers = dict(JSON_ACCEPT)
            if example.name in tags:
                headers["if-none-match"] = tags[example.name]
            response = await http.get("/graphql", params={"query": query}, headers=headers)
            if "etag" in response.headers:
                tags[example.name] = response.headers["etag"]
            tally.answer("GET " + example.name, response)
        elif kind == 2:
            sha = hashlib.sha256(query.encode()).hexdigest()
            extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
            response = await http.post("/graphql", json={"extensions": extensions})
            tally.answer("APQ hash " + example.name, response)
            if "PERSISTED_QUERY_NOT_FOUND" in response.text:
                registered = await http.post("/graphql", json={"query": query, "extensions": extensions})
                tally.answer("APQ register " + example.name, registered)
        elif kind == 3:
            tally.answer("typename", await http.post("/graphql", json={"query": "{ __typename }"}))
        else:
            page = "{ organizations(first: 10) { nodes { id slug name } pageInfo { endCursor } } }"
            tally.answer("page", await http.get("/graphql", params={"query": page}, headers=JSON_ACCEPT))


async def _post_raw(http: httpx.AsyncClient, body: str | bytes) -> httpx.Response:
    return await http.post("/graphql", content=body, headers={"content-type": "application/json", **JSON_ACCEPT})


async def hostile(http: httpx.AsyncClient, base: str, tally: Tally, chosen: random.Random, end: float) -> None:
    counter = itertools.count()
    while time.monotonic() < end:
        kind = next(counter) % 12
        if kind == 0:
            depth = chosen.choice([33, 100, 600, 1000])
            body = f'{{"query": {json.dumps(FILTER_QUERY)}, "variables": {{"v": {_deep(depth)}}}}}'
            tally.answer(f"deep variables {depth}", await _post_raw(http, body))
            params = {"query": FILTER_QUERY, "variables": f'{{"v": {_deep(min(depth, 300))}}}'}
            tally.answer("GET deep variables", await http.get("/graphql", params=params, headers=JSON_ACCEPT))
        elif kind == 1:
            size = chosen.choice([5_001, 10_000])
            variables = {"v": ["x"] * size} if chosen.random() < 0.5 else {f"k{i}": i for i in range(size)}
            tally.answer(
                "huge variables", await http.post("/graphql", json={"query": IDS_QUERY, "variables": variables})
            )
        elif kind == 2:
            value = chosen.choice([100.0, 2.5, 1e308, 2**31, 2**63, 10**40, -(2**31) - 1, "100", True])
            tally.answer(
                f"Int {value!r}", await http.post("/graphql", json={"query": INT_QUERY, "variables": {"v": value}})
            )
        elif kind == 3:
            text = chosen.choice(["\x00", "a\x00b", "\x1b[31m", "\x7f", "\ufeff", "\u2028"])
            variables = {"v": {"text": text}}
            tally.answer(
                "control characters", await http.post("/graphql", json={"query": FILTER_QUERY, "variables": variables})
            )
        elif kind == 4:
            name = _encoded_name(chosen.choice(["query", "extensions", "variables", "operationName"]), chosen)
            raw = f"{name}=%7B__typename%7D&" + chosen.choice(["a=1", "query=%7B__typename%7D", "%ff=1", "x=%c3%28"])
            url = httpx.URL(base + "/graphql", query=raw.encode())
            tally.answer(f"GET ?{raw}", await http.get(url, headers=JSON_ACCEPT))
        elif kind == 5:
            raw = chosen.choice(
                ["query={+__typename+}", "query=%7B__typename%7D&query=%7B__typename%7D", "query=%00", "%71uery="]
            )
            url = httpx.URL(base + "/graphql", query=raw.encode())
            method = chosen.choice(["GET", "HEAD"])
            response = await http.request(method, url, headers=JSON_ACCEPT)
            tally.answer(f"{method} ?{raw}", response, head=method == "HEAD")
        elif kind == 6:
            body = chosen.choice(
                ['{"query": ', "[]", "[1]", '"x"', "null", '{"query": 1}', '{"variables": []}', "\xff"]
            )
            tally.answer(f"body {body!r}", await _post_raw(http, body.encode("latin-1")))
        elif kind == 7:
            tally.answer("oversized body", await _post_raw(http, b'{"query": "' + b"a" * 200_000 + b'"}'))
        elif kind == 8:
            await _hang_up(base, tally)
        elif kind == 9:
            query = chosen.choice([BOMB, DEEP, "{ nope }", "{ organizations(first: 1000) { totalCount } }"])
            tally.answer("refused query", await http.post("/graphql", json={"query": query}))
        elif kind == 10:
            forged = chosen.choice(
                ["T3JnYW5pemF0aW9uOjk5OTk5OTk5OTk5OTk5OTk5OTk=", "!!!", "", "T3JnYW5pemF0aW9uOu+8kQ=="]
            )
            query = "query($v: ID!) { node(id: $v) { id } }"
            tally.answer("forged ID", await http.post("/graphql", json={"query": query, "variables": {"v": forged}}))
        else:
            query = "query($v: String) { organizations(first: 2, after: $v) { nodes { id } } }"
            tally.answer("forged cursor", await http.post("/graphql", json={"query": query, "variables": {"v": "W10"}}))


async def _hang_up(base: str, tally: Tally) -> None:
    """Half a body, then the connection closed: the server logs it (499), never an ERROR."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = f"POST /graphql HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n"
    writer.write(head.encode() + b'{"query": "{ __typ')
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    del reader
    tally.hangups += 1


async def soak(base: str, ordinary_clients: int, hostile_clients: int, seconds: float) -> Tally:
    tally = Tally()
    end = time.monotonic() + seconds

    async def run(number: int, hostile_one: bool) -> None:
        chosen = random.Random(number)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while time.monotonic() < end:
                try:
                    if hostile_one:
                        await hostile(http, base, tally, chosen, end)
                    else:
                        await ordinary(http, tally, chosen, end)
                except httpx.HTTPError as error:  # a connection the server closed (413s close it): count, go on
                    tally.statuses[type(error).__name__] += 1

    await asyncio.gather(
        *(run(n, False) for n in range(ordinary_clients)),
        *(run(100 + n, True) for n in range(hostile_clients)),
    )
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="for the server started")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16, help="half ordinary, half hostile (default: 16)")
    parser.add_argument("--seconds", type=float, default=300.0, help="how long (default: 300)")
    args = parser.parse_args()

    server = None
    base = args.url
    log = Path(tempfile.gettempdir()) / f"soak-server-{os.getpid()}.log"
    if base is None:
        if not args.database_url:
            from app.config import get_settings

            args.database_url = get_settings().database_url
        server, base = start_server(args.database_url, args.workers, log)
    started = time.monotonic()
    try:
        hostile_clients = args.clients // 2
        tally = asyncio.run(soak(base, args.clients - hostile_clients, hostile_clients, args.seconds))
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    elapsed = time.monotonic() - started
    print(f"target: {args.database_url if server else base}; {args.clients} clients for {elapsed:.0f} s")
    print(f"  {tally.requests:,} answers ({tally.requests / elapsed:.0f}/s), {tally.hangups:,} hang-ups mid-body")
    print("  by status: " + ", ".join(f"{status} {count:,}" for status, count in sorted(tally.statuses.items())))
    print("  by code:   " + ", ".join(f"{code} {count:,}" for code, count in tally.codes.most_common()))
    non_json = sum(1 for problem in tally.problems if "not JSON" in problem)
    five_xx = sum(count for status, count in tally.statuses.items() if status.isdigit() and int(status) >= 500)
    print(f"  {non_json} answers not JSON, {five_xx} 5xx, {len(tally.problems)} problems in all")
    for problem in tally.problems[:10]:
        print(f"    {problem}")
    error_lines: list[str] = []
    if server is not None:
        lines = log.read_text(errors="replace").splitlines()
        error_lines = [line for line in lines if ERROR_LINE.search(line)]
        print(f"  server log: {len(lines):,} lines, {len(error_lines)} at ERROR ({log})")
        for line in error_lines[:5]:
            print(f"    {line[:300]}")
    return 1 if tally.problems or error_lines else 0


if __name__ == "__main__":
    sys.exit(main())
