"""Request IDs and Prometheus metrics, for operators.

- **Request ID**: each request gets one: the client's `X-Request-Id` when it is sane (1 to 128
  characters of letters, digits and `-_.:/+=@`), otherwise a new one. It is echoed in the
  answer's `X-Request-Id`, carried by every log line written while the request is served
  (`requestId`, through a context variable that `app.logs` reads), and put in the `extensions`
  of every error, so a client's report finds its log lines.
- **Metrics** (`app.http.metrics`) are observed here once the request has been answered.
"""

from __future__ import annotations

import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http import metrics
from app.logs import REQUEST_ID
from app.request import request_record

SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9\-_.:/+=@]{1,128}")
HEADER = b"x-request-id"


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            if SANE_REQUEST_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return uuid.uuid4().hex


class Observability:
    """ASGI middleware, outermost: the request's ID, then its metrics once answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        record = request_record(scope)
        record.request_id = request_id
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        header = (b"x-request-id", request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            metrics.observe(scope.get("path", ""), record, status, time.perf_counter() - started)
            REQUEST_ID.reset(token)
