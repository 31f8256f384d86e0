"""The GraphQL HTTP view: Strawberry's ASGI view with our per-request context and timing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.asgi import GraphQL

from app.config import Settings
from app.queries import RequestDatabase
from app.schema import schema
from app.schema.context import Context


class GraphQLView(GraphQL[Context, None]):
    """Serves /graphql: one database connection per request, closed when the operation ends."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(schema, multipart_uploads_enabled=False, **kwargs)
        self.settings = settings
        self.engine: AsyncEngine | None = None

    async def get_context(self, request: Any, response: Any) -> Context:
        assert self.engine is not None, "the app's lifespan has not started"
        return Context(db=RequestDatabase(self.engine), settings=self.settings)

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        context: Context = kwargs["context"]
        try:
            return await super().execute_operation(*args, **kwargs)
        finally:
            await context.db.close()
            db = context.db
            kwargs["sub_response"].headers["Server-Timing"] = (
                f'db;dur={db.seconds * 1000:.1f};desc="{db.statements} SQL statements"'
            )
