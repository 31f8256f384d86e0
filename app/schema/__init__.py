"""The GraphQL schema: `schema` serves ../shared/API.md's contract."""

from __future__ import annotations

import strawberry

from app.schema.query import Query
from app.schema.types import NODE_TYPES

schema = strawberry.Schema(query=Query, types=list(NODE_TYPES.values()))

__all__ = ["schema"]
