"""Logging for the server: one JSON object per line on stderr, for log collectors to read.

Lines below WARNING are written in batches (`BatchingHandler`): at most `FLUSH_SECONDS` after they
were logged, in one write, so the access log's line per request costs no system call of its own;
a WARNING or worse is written at once, with what was waiting before it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

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
        return orjson.dumps(line, default=str).decode()


FLUSH_SECONDS = 0.1


class BatchingHandler(logging.StreamHandler):
    """A stream handler that writes INFO and DEBUG lines in batches, on the event loop, within FLUSH_SECONDS."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._pending.append(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never raise into the code that logs
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING:
            self.flush()
            return
        if not self._scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()  # no event loop (the CLI, start-up): write now
                return
            self._scheduled = True
            loop.call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if self._pending:
            lines, self._pending = self._pending, []
            self.acquire()
            try:
                self.stream.write("\n".join(lines) + "\n")
            finally:
                self.release()
        super().flush()


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
    handler = BatchingHandler(sys.stderr)
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
        "class": "app.logs.BatchingHandler",
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
