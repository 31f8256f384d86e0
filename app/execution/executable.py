"""The executable schema: the declarations of app.schema with their limits, input checks and error reporting."""

from __future__ import annotations

import datetime

import strawberry
from strawberry.extensions import AddValidationRules
from strawberry.schema.config import StrawberryConfig

from app.execution.faults import ApiSchema
from app.execution.input_checks import FieldRepeatRule, TextInputRule
from app.execution.query_limits import QueryLimits
from app.schema.query import Query
from app.schema.types import NODE_TYPES

# Strawberry's own `Date`, with the spec of its format, so codegen and clients can map it (to a string).
Date = strawberry.scalar(
    name="Date",
    description="A calendar date, ISO 8601 / RFC 3339 full-date: 2019-05-27.",
    serialize=datetime.date.isoformat,
    parse_value=datetime.date.fromisoformat,
    specified_by_url="https://scalars.graphql.org/andimarek/local-date.html",
)

# Batches are refused or capped per app by app/http/body_limits.py (MAX_BATCH_SIZE); this is only the ceiling.
schema = ApiSchema(
    query=Query,
    types=list(NODE_TYPES.values()),
    extensions=[QueryLimits, lambda: AddValidationRules([TextInputRule, FieldRepeatRule])],
    config=StrawberryConfig(batching_config={"max_operations": 100}, scalar_map={datetime.date: Date}),
)

__all__ = ["schema"]
