"""Outages are not bugs: a database that cannot be reached answers 503, not an internal error.

A request that fails because the database is down, restarting, refusing connections, or because
the pool had no connection to give in time, is answered HTTP 503 with `Retry-After` and
`extensions.code = SERVICE_UNAVAILABLE` (clients retry it; load balancers see it). The log gets
one WARNING line when an outage begins and then at most one line every `LOG_EVERY_SECONDS`
counting the requests refused meanwhile, never a traceback per request. Nothing is restarted:
the pool replaces its connections (pre-ping) as soon as the database answers again.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

from sqlalchemy import exc
from strawberry.types import ExecutionResult

from app.errors import ServiceUnavailable

logger = logging.getLogger("app.errors")

RETRY_AFTER_SECONDS = 1
LOG_EVERY_SECONDS = 10.0

# PostgreSQL error classes and codes that mean "no database to talk to right now".
_OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300", "53400")
_SQLITE_OUTAGE_MESSAGES = ("unable to open database file", "disk i/o error", "database is locked")


def is_outage(error: BaseException) -> bool:
    """Whether `error` (or what caused it) says the database cannot be reached, rather than a bug."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_outage_itself(current):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


def _is_outage_itself(error: BaseException) -> bool:
    if isinstance(error, exc.TimeoutError):  # the pool had no connection to give in time
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.PendingRollbackError) and "invalid transaction" in str(error):
        return True  # the connection was lost inside the request's transaction
    if isinstance(error, OSError) and not isinstance(error, FileNotFoundError):
        return True  # refused, reset, unreachable, or the connection attempt timed out
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_OUTAGE_SQLSTATES):
        return True
    name = type(error).__name__
    if name in ("ConnectionDoesNotExistError", "InterfaceError") and "closed" in str(error).lower():
        return True
    if name in ("CannotConnectNowError", "ClientCannotConnectError", "ConnectionFailureError"):
        return True
    if isinstance(error, sqlite3.OperationalError):
        return str(error).lower().startswith(_SQLITE_OUTAGE_MESSAGES)
    return False


class OutageLog:
    """One WARNING when an outage begins, then at most one every LOG_EVERY_SECONDS with a count."""

    def __init__(self) -> None:
        self._last = float("-inf")
        self._refused = 0

    def refused(self, error: BaseException) -> None:
        self._refused += 1
        now = time.monotonic()
        if now - self._last < LOG_EVERY_SECONDS:
            return
        cause = _root(error)
        logger.warning(
            "database unavailable (%s: %s); answering 503 with Retry-After (%d request(s) refused since the last "
            "such line)",
            type(cause).__name__,
            str(cause)[:200],
            self._refused,
            extra={"event": {"outage": type(cause).__name__, "refused": self._refused}},
        )
        self._last, self._refused = now, 0


OUTAGES = OutageLog()


def _root(error: BaseException) -> BaseException:
    while True:
        following = getattr(error, "orig", None) or error.__cause__
        if following is None or following is error:
            return error
        error = following


def unavailable(error: BaseException) -> ServiceUnavailable:
    """The client's view of an outage (and its log line, throttled)."""
    OUTAGES.refused(error)
    return ServiceUnavailable(
        "The database is unavailable right now; retry shortly (see Retry-After).",
        retryAfterSeconds=RETRY_AFTER_SECONDS,
    )


def outage_answer(result: ExecutionResult, sub_response: Any) -> bool:
    """Make an answer that holds SERVICE_UNAVAILABLE a 503 with Retry-After; whether it was one."""
    if not any((error.extensions or {}).get("code") == ServiceUnavailable.code for error in result.errors or ()):
        return False
    sub_response.status_code = 503
    sub_response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    sub_response.headers["Cache-Control"] = "no-store"
    return True
