"""The ASGI app: GraphQL at /graphql, GraphiQL's assets, the landing page, health endpoints, the SDL."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from app.config import Settings, get_settings
from app.data.engine import create_engine, create_sqlite_reader
from app.data.migrations import head_revision
from app.data.versions import VersionWatch
from app.execution.executable import schema
from app.http import graphiql, landing, metrics
from app.http.access_log import AccessLog
from app.http.body_limits import RequestGuard
from app.http.budgets import ClientIdentity, RateLimiter, RateLimits
from app.http.compression import Compression
from app.http.cors import Cors
from app.http.get_policy import PersistedGetOnly
from app.http.hotpath import HotPath
from app.http.observability import Observability
from app.http.view import GraphQLView
from app.version import version


def create_app(settings: Settings | None = None) -> Starlette:
    """The application, for `settings` (default: from the environment)."""
    settings = settings or get_settings()
    view = GraphQLView(settings)
    limiter = RateLimiter(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        view.engine = create_engine(settings.database_url, statement_timeout_ms=settings.statement_timeout_ms)
        view.sqlite_reader = create_sqlite_reader(
            settings.database_url, statement_timeout_ms=settings.statement_timeout_ms
        )
        watch = VersionWatch(settings, view.fast_path.version)
        watch.start()
        try:
            yield
        finally:
            metrics.pending.flush()  # this worker's last samples, before it goes
            await watch.stop()
            await limiter.close()
            await view.persisted_queries.close()
            await view.engine.dispose()
            if view.sqlite_reader is not None:
                view.sqlite_reader.dispose()

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": version()})

    async def readyz(_request: Request) -> Response:
        try:
            assert view.engine is not None
            async with view.engine.connect() as conn:
                current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        except Exception as error:  # noqa: BLE001 - any failure means not ready; the reason says which
            return JSONResponse({"status": "unavailable", "reason": type(error).__name__}, status_code=503)
        head = head_revision()
        if current != head:
            return JSONResponse(
                {"status": "unavailable", "reason": f"database at migration {current}, expected {head}"},
                status_code=503,
            )
        return JSONResponse({"status": "ready", "migration": current})

    async def metrics_page(_request: Request) -> Response:
        version = view.fast_path.version._value
        body, content_type = metrics.exposition(version)
        return Response(body, headers={"Content-Type": content_type})

    async def sdl(_request: Request) -> Response:
        if not settings.introspection:
            return PlainTextResponse("Not Found: introspection is turned off on this server", status_code=404)
        return PlainTextResponse(schema.as_str() + "\n", media_type="application/graphql")

    return Starlette(
        routes=[
            Route("/", landing.endpoint(settings)),
            Route(landing.TIMELINE_SCRIPT_URL, landing.timeline_script),
            Route("/graphql", view, methods=["GET", "POST"]),
            *([Route(graphiql.ASSET_PREFIX + "{path:path}", graphiql.asset)] if settings.graphiql else []),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_page),
            Route("/schema.graphql", sdl),
        ],
        lifespan=lifespan,
        middleware=_middleware(settings, view, limiter),
    )


def _middleware(settings: Settings, view: GraphQLView, limiter: RateLimiter) -> list[Middleware]:
    """Outermost first: the access log sees every answer, CORS headers reach the guard's refusals too."""
    return [
        Middleware(Observability),
        Middleware(AccessLog),
        *(
            [Middleware(RateLimits, path="/graphql", limiter=limiter, identity=ClientIdentity(settings))]
            if limiter.enabled
            else []
        ),
        Middleware(Compression, min_bytes=settings.compress_min_bytes),
        Middleware(Cors, origins=settings.cors_origins, extra_headers=settings.cors_allow_headers),
        Middleware(
            RequestGuard,
            path="/graphql",
            max_body_bytes=settings.max_body_bytes,
            max_batch_size=settings.max_batch_size,
        ),
        *(
            [Middleware(PersistedGetOnly, path="/graphql", graphiql=bool(settings.graphiql))]
            if settings.production
            else []
        ),
        # Innermost: a repeated POST skips routing and Strawberry's request scaffolding (app.http.hotpath).
        Middleware(HotPath, path="/graphql", view=view),
    ]


app = create_app()
