"""The GraphQL schema: `schema` serves ../shared/API.md's contract."""

from __future__ import annotations

from strawberry.extensions import AddValidationRules
from strawberry.schema.config import StrawberryConfig

from app.schema.faults import ApiSchema
from app.schema.inputs import FieldRepeatRule, TextInputRule
from app.schema.limits import QueryLimits
from app.schema.query import Query
from app.schema.types import NODE_TYPES

# Batches are refused or capped per app by app/guard.py (MAX_BATCH_SIZE); this is only the ceiling.
schema = ApiSchema(
    query=Query,
    types=list(NODE_TYPES.values()),
    extensions=[QueryLimits, lambda: AddValidationRules([TextInputRule, FieldRepeatRule])],
    config=StrawberryConfig(batching_config={"max_operations": 100}),
)

__all__ = ["schema"]
