"""One structured line per request (logger `app.access`): what was asked, what it cost, how it ended.

Written by the outer middleware (app.http.observability) from the request's record. The line's
fields are built only when the logger would write it: at `warning` and above, an ordinary 200
costs one level check.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import Scope

from app.request import RequestRecord

logger = logging.getLogger("app.access")


def level_of(record: RequestRecord, status: int) -> int:
    """ERROR for faults; WARNING for a 429 or an outage's 503 (each said once elsewhere); INFO otherwise,
    a client that went away (499) included."""
    if record.error_ids or (status >= 500 and status != 503):
        return logging.ERROR
    return logging.WARNING if status in (429, 503) else logging.INFO


def log(scope: Scope, record: RequestRecord, status: int, duration_ms: float) -> None:
    level = level_of(record, status)
    if not logger.isEnabledFor(level):
        return
    event: dict[str, Any] = {
        "method": scope.get("method"),
        "path": scope.get("path"),
        "status": status,
        "durationMs": round(duration_ms, 2),
        "operation": _bounded(record.operation),
        "cost": record.cost,
        "sqlStatements": record.statements,
        "dbMs": round(record.db_ms, 2),
        "errorCodes": record.error_codes,
        "errorIds": record.error_ids,
        "servedBy": record.served_by,
    }
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


MAX_LOGGED_NAME = 64


def _bounded(name: str | None) -> str | None:
    """A client's operation name as logged: its first 64 characters (a name may be 20 KB long)."""
    if name is None or len(name) <= MAX_LOGGED_NAME:
        return name
    return name[:MAX_LOGGED_NAME] + "…"
