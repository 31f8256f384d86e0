"""Logging for the server: one JSON object per line on stderr, for log collectors to read."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The ID of the request being served, for log lines written by code that has no handle on it."""


class JsonFormatter(logging.Formatter):
    """Time, level, logger, message, the record's `event` fields, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "event", None) or {})
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line.setdefault("requestId", request_id)
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class ServingNoise(logging.Filter):
    """Drops the one line gunicorn writes on every graceful stop of a uvloop worker.

    uvloop's server closes the listening socket's descriptor itself; gunicorn's wrapper then
    closes the same descriptor again and logs `Error while closing socket [Errno 9] Bad file
    descriptor`. Nothing is wrong (the socket is closed), so the line is noise in a clean stop.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.msg == "Error while closing socket %s" and "Errno 9" in str(record.args))


# Loggers whose INFO lines say nothing an operator needs (alembic lists its plugins whenever it loads).
QUIET = ("alembic.runtime.plugins",)


def configure_logging(level: str) -> None:
    """Send the app's logs (and the server's) to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ServingNoise())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def gunicorn_logconfig(level: str) -> dict[str, Any]:
    """gunicorn's `logconfig_dict`: its own lines (and uvicorn's, which share its handlers) as JSON too."""
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["noise"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "app.logs.JsonFormatter"}},
        "filters": {"noise": {"()": "app.logs.ServingNoise"}},
        "handlers": {"json": handler},
        "root": {"level": level.upper(), "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": level.upper(), "handlers": ["json"], "propagate": False},
            **{name: {"level": "WARNING"} for name in QUIET},
        },
    }
