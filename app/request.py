"""What is known about one request as it is served: read and written by every layer that serves it.

The edge makes it (its ID, client and budget), execution fills it in (the operation, its cost, the
statements it ran, error codes), and the edge reads it back for the access log line and the metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.types import Scope

SCOPE_KEY = "app.record"


@dataclass
class RequestRecord:
    """What the GraphQL layer learns about a request, for its log line."""

    operation: str | None = None
    cost: int = 0
    statements: int = 0
    db_ms: float = 0.0
    error_codes: list[str] = field(default_factory=list)
    error_ids: list[str] = field(default_factory=list)
    rate: Any = None  # the client's rate-limit budget (app.http.budgets.Budget), when limits apply
    served_by: str = "strawberry"  # or "cache" / "executor" (the compiler: app.execution.results)
    request_id: str | None = None  # app.http.observability
    apq: str | None = None  # "hit", "miss" or "registered" (app.http.view)
    executed: bool = False  # a GraphQL operation was answered (not a refusal, not the explorer page)
    actual_cost: int | None = None  # objects in the answer, where counted (app.http.view)
    heavy_wait_seconds: float | None = None  # how long a heavy operation waited for its slot


def request_record(scope: Scope) -> RequestRecord:
    """The record of the request `scope` belongs to, made on first use."""
    record = scope.get(SCOPE_KEY)
    if record is None:
        record = scope[SCOPE_KEY] = RequestRecord()
    return record
