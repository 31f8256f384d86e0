"""Outages are not bugs (finding 6): a database that cannot be reached answers 503 with
Retry-After and SERVICE_UNAVAILABLE, logs one warning (no traceback per request), and the
service recovers by itself as soon as the database is back."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.data.migrations import upgrade
from app.seeding import seed
from tests.conftest import FIXTURES, make_api
from tests.services import PrivatePostgres, free_port

PROJECT = Path(__file__).resolve().parent.parent
QUERIES = [
    "{ organizations(first: 5) { totalCount nodes { id slug name } } }",
    "{ events(first: 3, orderBy: {field: DATE, direction: DESC}) { nodes { title date { edtf } } } }",
    '{ country(code: "MNG") { name memberships(first: 3) { nodes { organization { name } } } } }',
]


def _is_unavailable(response: httpx.Response) -> bool:
    body = response.json()
    return (
        response.status_code == 503
        and response.headers.get("retry-after") == "1"
        and [error["extensions"]["code"] for error in body["errors"]] == ["SERVICE_UNAVAILABLE"]
        and "Internal" not in response.text
    )


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_database_that_cannot_be_reached_is_a_503(engine: str, tmp_path: Path) -> None:
    # SQLite: a folder ("unable to open database file"); PostgreSQL: a port nothing listens on
    url = f"sqlite:///{tmp_path}" if engine == "sqlite" else f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    async for api in make_api(url):
        for query in QUERIES:
            response = await api.post(query)
            assert _is_unavailable(response), response.text
        for cached_size in ("?query={__typename}", "?query=" + QUERIES[0]):
            response = await api.client.get("/graphql" + cached_size, headers={"accept": "application/json"})
            assert response.status_code in (200, 503), response.text
            if response.status_code == 503:
                assert _is_unavailable(response)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.close()


async def _create_database(admin_url: str, name: str) -> None:
    engine = create_async_engine(
        admin_url.replace("postgresql://", "postgresql+asyncpg://"), isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


def _serve(url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("wb") as sink:
        process = _start(url, port, sink)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the server did not become ready")


def _start(url: str, port: int, sink: Any) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RESULT_CACHE_SIZE": "0",
        "LOG_LEVEL": "warning",
        "RATE_LIMIT_POINTS": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--workers", "1", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=sink,
    )


@pytest.mark.postgres
async def test_postgresql_stopped_and_started_under_load(private_postgres: PrivatePostgres, tmp_path: Path) -> None:
    await _create_database(private_postgres.url, "kb")
    url = private_postgres.url.rsplit("/", 1)[0] + "/kb"
    await asyncio.to_thread(upgrade, url)
    await seed(url, FIXTURES / "seed-small")
    log = tmp_path / "server.log"
    process, base = _serve(url, log)
    answers: list[tuple[float, httpx.Response]] = []
    others: list[str] = []
    stop = asyncio.Event()
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:

            async def client_loop(index: int) -> None:
                turn = index
                while not stop.is_set():
                    try:
                        response = await client.post("/graphql", json={"query": QUERIES[turn % len(QUERIES)]})
                    except httpx.HTTPError as error:
                        others.append(f"{type(error).__name__}: {error}")
                        continue
                    answers.append((time.monotonic(), response))
                    turn += 1
                    if response.status_code == 503:
                        await asyncio.sleep(0.05)

            loops = [asyncio.create_task(client_loop(index)) for index in range(8)]
            await asyncio.sleep(1.5)
            stopped_at = time.monotonic()
            await asyncio.to_thread(private_postgres.stop, "fast")
            down_at = time.monotonic()
            await asyncio.sleep(4)
            await asyncio.to_thread(private_postgres.start)  # returns once it accepts connections
            back_at = time.monotonic()
            await asyncio.sleep(3)
            stop.set()
            await asyncio.gather(*loops)
    finally:
        process.terminate()
        process.wait(20)

    assert not others, others[:5]
    good = [(at, r) for at, r in answers if r.status_code == 200 and "errors" not in r.json()]
    failed = [(at, r) for at, r in answers if not (r.status_code == 200 and "errors" not in r.json())]
    wrong = [r.text[:300] for _at, r in failed if not _is_unavailable(r)]
    assert not wrong, wrong[:5]
    assert failed, "the outage was not seen"
    assert any(at < stopped_at for at, _r in good)
    first_back = min(at for at, _r in good if at > back_at)
    server_log = log.read_text(errors="replace")
    warnings = server_log.count("database unavailable")
    print(
        f"\noutage figures: {len(answers)} answers, {len(good)} served, {len(failed)} 503 SERVICE_UNAVAILABLE, "
        f"0 other; database down {back_at - down_at:.1f} s (stop took {down_at - stopped_at:.2f} s); first success "
        f"{first_back - back_at:.3f} s after it was back; {warnings} warning line(s); "
        f"{server_log.count('Traceback')} tracebacks"
    )
    assert first_back - back_at < 2.0
    assert "Traceback" not in server_log and "never retrieved" not in server_log, server_log[-3000:]
    assert 1 <= warnings <= 3, server_log[-3000:]
    assert "INTERNAL_SERVER_ERROR" not in server_log
