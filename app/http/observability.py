"""The one outer middleware: each request's ID, then, once it is answered, its access log line and metrics.

- **Request ID**: the client's `X-Request-Id` when it is sane (1 to 128 characters of letters,
  digits and `-_.:/+=@`), otherwise a new one. It is echoed in the answer's `X-Request-Id`,
  carried by every log line written while the request is served (`requestId`, through the
  context variable `app.logs.REQUEST_ID`), and put in the `extensions` of every error, so a
  client's report finds its log lines. A new ID is this worker's random prefix and a counter:
  unique, and cheaper than a UUID per request.
- **Access log** (app.http.access_log) and **metrics** (app.http.metrics) read the request's
  record (app.request) once the answer has gone; a client that went away before any answer is
  499 (as nginx logs it), at INFO.
"""

from __future__ import annotations

import itertools
import os
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http import access_log, metrics
from app.logs import REQUEST_ID
from app.request import SCOPE_KEY, RequestRecord

SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9\-_.:/+=@]{1,128}")
HEADER = b"x-request-id"
_PREFIX = os.urandom(8).hex()
_COUNTER = itertools.count(1)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            if SANE_REQUEST_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return f"{_PREFIX}{next(_COUNTER):016x}"


class Observe:
    """ASGI middleware, outermost: the request's record and ID, then its log line and metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        record = scope[SCOPE_KEY] = RequestRecord(request_id=request_id)
        token = REQUEST_ID.set(request_id)
        header = (HEADER, request_id.encode("ascii"))
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            answered = status if status is not None else (record.status or 500)
            seconds = time.perf_counter() - record.started
            access_log.log(scope, record, answered, seconds * 1000)
            metrics.observe(scope.get("path", ""), record, answered, seconds)
            REQUEST_ID.reset(token)
