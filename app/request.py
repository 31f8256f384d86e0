"""One request, as it is served: the one object every step reads and writes, made when the request arrives.

The edge makes it (its ID, when it started), reads the request into it once (the operations it
asks for, the client and its budget), execution fills it in (the operation's name, its cost, the
data version its answer was read at, the statements it ran, error codes), and the edge reads it
back to answer, and for the access log line and the metrics. Nothing about a request rides
anywhere else: not on responses, not in other scope keys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Scope

SCOPE_KEY = "app.record"


@dataclass(frozen=True)
class Operation:
    """One GraphQL operation as the client sent it, read once from the body or the query string."""

    query: str | None = None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None
    document_id: str | None = None  # a trusted document's ID ("sha256:<hex>" or "<hex>"), sent instead of `query`


@dataclass
class RequestRecord:
    """What is known about one request: read by the steps that serve it, the access log and the metrics."""

    request_id: str | None = None
    started: float = field(default_factory=time.perf_counter)
    client: str | None = None  # who spends the budget (app.http.budgets.ClientIdentity)
    rate: Any = None  # the client's budget as last seen (app.http.budgets.Budget), when limits apply
    reserved: int = 0  # points of the budget reserved before the operations ran, settled once answered
    operations: list[Operation] = field(default_factory=list)  # what the request asks for, parsed once
    operation: str | None = None  # the operation's name, once known
    cost: int = 0  # requested cost (objects the answer may hold), all operations together
    actual_cost: int | None = None  # objects in the answer, where counted
    data_version: int | None = None  # the version the answer was read at, in its own snapshot
    statements: int = 0
    db_ms: float = 0.0
    error_codes: list[str] = field(default_factory=list)
    error_ids: list[str] = field(default_factory=list)
    served_by: str = "strawberry"  # or "cache" / "executor" (the compiler)
    apq: str | None = None  # "hit", "miss" or "registered"
    executed: bool = False  # a GraphQL operation was answered (not a refusal, not the explorer page)
    refused: bool = False  # every operation was refused before it ran (a request error): it costs a token point
    heavy_wait_seconds: float | None = None  # how long a heavy operation waited for its slot
    status: int | None = None  # the HTTP status answered (499: the client went away first)


def request_record(scope: Scope) -> RequestRecord:
    """The record of the request `scope` belongs to, made on first use."""
    record = scope.get(SCOPE_KEY)
    if record is None:
        record = scope[SCOPE_KEY] = RequestRecord()
    return record
