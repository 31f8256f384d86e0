"""One structured line per request (logger `app.access`): what was asked, what it cost, how it ended."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("app.access")

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
    rate: Any = None  # the client's rate-limit budget (app.ratelimit.Budget), when limits apply
    served_by: str = "strawberry"  # or "cache" / "executor" (the compiler: app.fastpath)
    request_id: str | None = None  # app.observability
    apq: str | None = None  # "hit", "miss" or "registered" (app.view)
    executed: bool = False  # a GraphQL operation was answered (not a refusal, not the explorer page)
    actual_cost: int | None = None  # objects in the answer, where counted (app.view)


def request_record(scope: Scope) -> RequestRecord:
    """The record of the request `scope` belongs to, made on first use."""
    record = scope.get(SCOPE_KEY)
    if record is None:
        record = scope[SCOPE_KEY] = RequestRecord()
    return record


class AccessLog:
    """ASGI middleware: logs each HTTP request once it has been answered (or has failed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = request_record(scope)
        started = time.perf_counter()
        status = 500  # what the server answers when the app fails before it responds

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            _log(scope, record, status, (time.perf_counter() - started) * 1000)


def _log(scope: Scope, record: RequestRecord, status: int, duration_ms: float) -> None:
    event: dict[str, Any] = {
        "method": scope.get("method"),
        "path": scope.get("path"),
        "status": status,
        "durationMs": round(duration_ms, 2),
        "operation": record.operation,
        "cost": record.cost,
        "sqlStatements": record.statements,
        "dbMs": round(record.db_ms, 2),
        "errorCodes": record.error_codes,
        "errorIds": record.error_ids,
        "servedBy": record.served_by,
    }
    if record.error_ids or (status >= 500 and status != 503):
        level = logging.ERROR
    else:  # 503 is an outage (app.outages) or 429 a rate limit: expected, each said once elsewhere
        level = logging.WARNING if status in (429, 503) else logging.INFO
    logger.log(
        level,
        "%s %s %s %.1f ms %s",
        event["method"],
        event["path"],
        status,
        duration_ms,
        " ".join(record.error_codes),
        extra={"event": event},
    )
