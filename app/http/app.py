"""The ASGI app: GraphQL at /graphql, GraphiQL's assets, the landing page, health endpoints, the SDL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings, get_settings
from app.data.engine import create_engine, create_sqlite_reader, create_statement_pool
from app.data.migrations import head_revision
from app.data.reachability import problem
from app.data.replica import standby_state
from app.data.versions import VersionWatch
from app.execution.executable import schema
from app.execution.executor import Executor
from app.http import graphiql, landing, metrics
from app.http.budgets import RateLimiter
from app.http.compression import Compression
from app.http.cors import Cors
from app.http.export import EXPORT_PATH, Export
from app.http.observability import Observe
from app.http.persisted_queries import PersistedQueries
from app.http.pipeline import GraphQLEndpoint
from app.http.shared_store import SharedQueries
from app.http.trusted_documents import TrustedDocuments
from app.version import version

METRICS_DATABASE_SECONDS = 1.0  # /metrics waits this long at most for a standby's replication state


class Application(Starlette):
    """The pages, assets and health endpoints through Starlette; /graphql straight into its pipeline."""

    def __init__(self, *, graphql: ASGIApp, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.graphql = Observe(graphql)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/graphql":
            scope["app"] = self
            await self.graphql(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> Starlette:
    """The application, for `settings` (default: from the environment)."""
    settings = settings or get_settings()
    executor = Executor(settings)
    trusted = TrustedDocuments(settings.trusted_documents, settings.trusted_documents_only)
    trusted.plan(executor)  # a trusted document the schema refuses stops the start here, named
    metrics.know_operations(trusted.operation_names())
    shared = SharedQueries(settings.redis_url, max_bytes=settings.apq_shared_bytes) if settings.redis_url else None
    persisted = PersistedQueries(settings.apq_cache_size, shared, settings.apq_cache_bytes)
    limiter = RateLimiter(settings)
    cors = Cors(_nothing, origins=settings.cors_origins, extra_headers=settings.cors_allow_headers)
    endpoint = GraphQLEndpoint(settings, executor, persisted, trusted, limiter, cors)
    export = Export(settings, executor)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # Each resource is closed however the others' closing went (an AsyncExitStack runs every callback).
        async with contextlib.AsyncExitStack() as closing:
            url = settings.serving_database_url  # READ_DATABASE_URL (a standby) when set
            engine = create_engine(
                url,
                statement_timeout_ms=settings.statement_timeout_ms,
                pool_size=settings.db_pool_size,
            )
            executor.engine = engine
            closing.push_async_callback(engine.dispose)
            closing.callback(export.close)
            executor.sqlite_reader = create_sqlite_reader(url, statement_timeout_ms=settings.statement_timeout_ms)
            if executor.sqlite_reader is not None:
                closing.callback(executor.sqlite_reader.dispose)
            executor.statement_pool = await create_statement_pool(
                url, statement_timeout_ms=settings.statement_timeout_ms, size=settings.db_pool_size
            )
            if executor.statement_pool is not None:
                closing.push_async_callback(executor.statement_pool.close)
            closing.push_async_callback(persisted.close)
            closing.push_async_callback(limiter.close)
            watch = VersionWatch(settings, executor.version)
            watch.start()
            closing.push_async_callback(watch.stop)
            closing.callback(metrics.pending.flush)  # this worker's last samples, before it goes
            yield

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": version()})

    async def readyz(_request: Request) -> Response:
        try:
            assert executor.engine is not None
            async with executor.engine.connect() as conn:
                current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        except Exception as error:  # noqa: BLE001 - any failure means not ready; the reason says which
            # What failed, naming the database's address with its password hidden (app.data.reachability).
            unreachable = problem(settings.serving_database_url, error)
            reason = str(unreachable).splitlines()[0] if unreachable is not None else type(error).__name__
            return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
        head = head_revision()
        if current != head:
            return JSONResponse(
                {"status": "unavailable", "reason": f"database at migration {current}, expected {head}"},
                status_code=503,
            )
        try:
            standby = await standby_state(executor.engine)
        except Exception as error:  # noqa: BLE001 - as above
            return JSONResponse({"status": "unavailable", "reason": type(error).__name__}, status_code=503)
        if standby is None:
            return JSONResponse({"status": "ready", "migration": current})
        metrics.set_replica_lag(standby.lag_seconds)
        answer = {"migration": current, "standby": True, "replayLagSeconds": round(standby.lag_seconds, 3)}
        behind = standby.problem(settings.max_replica_lag_seconds)
        if behind is not None:
            return JSONResponse({"status": "unavailable", "reason": behind, **answer}, status_code=503)
        return JSONResponse({"status": "ready", **answer})

    async def metrics_page(_request: Request) -> Response:
        if executor.engine is not None:
            with contextlib.suppress(Exception):  # the page is served whatever the database says, at once
                standby = await asyncio.wait_for(standby_state(executor.engine), METRICS_DATABASE_SECONDS)
                metrics.set_replica_lag(None if standby is None else standby.lag_seconds)
        body, content_type = metrics.exposition(executor.version.current_value)
        return Response(body, headers={"Content-Type": content_type})

    async def sdl(_request: Request) -> Response:
        if not settings.introspection:
            return PlainTextResponse("Not Found: introspection is turned off on this server", status_code=404)
        return PlainTextResponse(schema.as_str() + "\n", media_type="application/graphql")

    return Application(
        graphql=endpoint,
        routes=[
            Route("/", landing.endpoint(settings)),
            Route(landing.TIMELINE_SCRIPT_URL, landing.timeline_script),
            *([Route(graphiql.ASSET_PREFIX + "{path:path}", graphiql.asset)] if settings.graphiql else []),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_page),
            Route("/schema.graphql", sdl),
            Route(EXPORT_PATH, export.__call__, methods=["GET", "HEAD"]),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(Observe),
            Middleware(Compression, min_bytes=settings.compress_min_bytes),
            Middleware(Cors, origins=settings.cors_origins, extra_headers=settings.cors_allow_headers),
        ],
    )


async def _nothing(_scope: Scope, _receive: Receive, _send: Send) -> None:
    """The app behind the pipeline's CORS policy: the pipeline answers, the policy only adds headers."""


app = create_app()
