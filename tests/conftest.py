"""Shared fixtures: databases on SQLite and PostgreSQL, the seeded knowledge base, the app over HTTP."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import SEED_DIR, Settings
from app.data.migrations import upgrade
from app.http.app import create_app
from app.seeding import seed

FIXTURES = Path(__file__).parent / "fixtures"
PG_SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ENGINES = ["sqlite", "postgresql"]


def _postgres_problem() -> str | None:
    async def probe() -> None:
        engine = create_async_engine(PG_SERVER)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    try:
        asyncio.run(asyncio.wait_for(probe(), 5))
    except Exception as error:  # noqa: BLE001 - any failure means the server is not usable
        return f"PostgreSQL at {PG_SERVER} is not answering ({type(error).__name__}: {error})"
    return None


_PG_PROBLEM: list[str | None] = []


def require_postgres() -> None:
    """Skip on a laptop without PostgreSQL; fail in CI, where it must be there."""
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_postgres_problem())
    problem = _PG_PROBLEM[0]
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"{problem}; CI=true requires PostgreSQL")
    pytest.skip(f"{problem}; start it to run the PostgreSQL half of the suite")


async def _admin(statement: str) -> None:
    engine = create_async_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


class Databases:
    """Makes fresh, empty databases of either engine and drops them at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.created: list[str] = []

    def new(self, engine: str) -> str:
        name = f"kb_test_{uuid.uuid4().hex[:12]}"
        if engine == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.sqlite3')}"
        require_postgres()
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return PG_SERVER.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        for name in self.created:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `postgres` every test that runs on PostgreSQL through a parameter, so `-m "not postgres"` (make check)
    runs the SQLite half alone."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgresql" in callspec.params.values():
            item.add_marker(pytest.mark.postgres)


_SCREENSHOTS: list[Path] = []


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the browser tests write their screenshots to: this run's own (pytest's temporary folder, or
    KB_SCREENSHOTS), never the repository. The run's summary names it."""
    chosen = os.environ.get("KB_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots", numbered=False)
    folder.mkdir(parents=True, exist_ok=True)
    _SCREENSHOTS.append(folder)
    return folder


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for folder in _SCREENSHOTS:
        shots = sorted(path.name for path in folder.glob("*.png"))
        if shots:
            terminalreporter.write_line(f"screenshots in {folder}: {', '.join(shots)}")


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    made = Databases(tmp_path_factory.mktemp("databases"))
    yield made
    made.drop_all()


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_db(databases: Databases, engine_name: str) -> str:
    """A fresh database with no tables, on each engine."""
    return databases.new(engine_name)


@pytest.fixture
def migrated_db(empty_db: str) -> str:
    """A fresh database at the newest migration, no rows."""
    upgrade(empty_db)
    return empty_db


@pytest.fixture(scope="session", params=ENGINES)
def seeded_db(request: pytest.FixtureRequest, databases: Databases) -> str:
    """A database migrated and seeded from seed/, shared (read-only) by the API tests."""
    url = databases.new(str(request.param))
    upgrade(url)
    asyncio.run(seed(url, SEED_DIR))
    return url


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A writable copy of the project's seed folder."""
    target = tmp_path / "seed"
    shutil.copytree(SEED_DIR, target)
    return target


@pytest.fixture
def small_seed(tmp_path: Path) -> Path:
    """A writable copy of the small test seed folder (tests/fixtures/seed-small)."""
    target = tmp_path / "seed-small"
    shutil.copytree(FIXTURES / "seed-small", target)
    return target


class Api:
    """The real ASGI app over HTTP, with helpers for GraphQL."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.last_statements = 0

    async def post(self, query: str, variables: dict[str, Any] | None = None, **extra: Any) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        body.update(extra)
        response = await self.client.post("/graphql", json=body)
        timing = response.headers.get("server-timing", "")
        if "SQL statements" in timing:
            self.last_statements = int(timing.split('desc="')[1].split(" ")[0])
        return response

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """The `data` of a query that must succeed."""
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def errors(self, query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The `errors` of a query that must fail."""
        response = await self.post(query, variables)
        body = response.json()
        assert body.get("errors"), body
        return list(body["errors"])


async def make_api(url: str, **settings: Any) -> AsyncIterator[Api]:
    """The app over HTTP; EXECUTION=verify unless a test says otherwise: every answer of the fast
    path is checked against Strawberry's."""
    settings.setdefault("execution", "verify")
    settings.setdefault("rate_limit_points", 0)  # one client sends the whole suite: limits are tested on their own
    app = create_app(Settings(database_url=url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client)


@pytest.fixture
async def api(seeded_db: str) -> AsyncIterator[Api]:
    """The app over HTTP against the seeded knowledge base, on each engine."""
    async for made in make_api(seeded_db):
        yield made


@pytest.fixture
async def strawberry_api(seeded_db: str) -> AsyncIterator[Api]:
    """The app with the compiler off: Strawberry answers everything (its statement counts are tested)."""
    async for made in make_api(seeded_db, execution="strawberry"):
        yield made
