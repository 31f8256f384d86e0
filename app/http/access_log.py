"""One structured line per request (logger `app.access`): what was asked, what it cost, how it ended."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.request import RequestRecord, request_record

logger = logging.getLogger("app.access")


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
    else:  # 503 is an outage (app.execution.outages) or 429 a rate limit: expected, each said once elsewhere
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
