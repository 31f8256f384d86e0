"""The request being served, for code that has no handle on it (log formatting): its ID."""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
