"""HTTP hygiene below the ASGI app: limits on the request head and a deadline for receiving it.

uvicorn's httptools protocol buffers a request's head without limit (a 64 MB header line was
accepted, and kept 61 MiB of a worker's memory) and waits for it forever (8,000 connections
sending headers slowly were all kept open). This protocol counts the head's bytes as they arrive,
before httptools buffers them, and answers like nginx and h11 would:

- a request line longer than `MAX_REQUEST_LINE_BYTES` (16 KB): 414 URI Too Long;
- a header line longer than `MAX_HEADER_LINE_BYTES` (16 KB), or a whole head (request line and
  headers) longer than `MAX_HEADER_BYTES` (64 KB): 431 Request Header Fields Too Large;
- a head not complete `HEADER_TIMEOUT_SECONDS` (10 s) after its first byte, or after the
  connection opened: 408 Request Timeout.

Each answer is GraphQL-shaped JSON and closes the connection. What the client still sends after
the answer is read and dropped for a moment (`LINGER_SECONDS`, at most `LINGER_BYTES`) before the
connection closes, as nginx's lingering close does: closing while data is still arriving makes the
kernel reset the connection, and the client then never reads the answer. A client that keeps on
sending past that bound is cut off.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.config import get_settings

LINGER_SECONDS = 1.0
LINGER_BYTES = 1_048_576

_REASONS = {408: b"Request Timeout", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}
_CODES = {408: "REQUEST_TIMEOUT", 414: "REQUEST_LINE_TOO_LARGE", 431: "REQUEST_HEADERS_TOO_LARGE"}


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head limits and a head deadline (settings, read once)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.max_request_line = settings.max_request_line_bytes
        self.max_header_line = settings.max_header_line_bytes
        self.max_head = settings.max_header_bytes
        self.head_timeout = settings.header_timeout_seconds
        self._in_head = True
        self._first_line = True
        self._line = 0
        self._head = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._lingering: int | None = None  # bytes dropped since a refusal, while the connection lingers

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering is not None:
            self._lingering += len(data)
            if self._lingering > LINGER_BYTES and not self.transport.is_closing():
                self.transport.close()
            return
        if self._in_head:
            if self._head_timer is None:
                self._arm()
            refusal = self._count(data)
            if refusal is not None:
                self._refuse(*refusal)
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._first_line, self._line, self._head = True, True, 0, 0

    def _count(self, data: bytes) -> tuple[int, str] | None:
        """Count the head's bytes in `data`: a refusal (status, message) once a limit is passed."""
        start = 0
        while self._in_head:
            end = data.find(b"\n", start)
            piece = (len(data) if end == -1 else end) - start
            self._line += piece
            self._head += piece + (0 if end == -1 else 1)
            limit = self.max_request_line if self._first_line else self.max_header_line
            if self._line > limit:
                what = "request line (method, path and query)" if self._first_line else "header line"
                status = 414 if self._first_line else 431
                return status, f"A {what} is longer than {limit:,} bytes; send a shorter one (POST takes long queries)."
            if self._head > self.max_head:
                return 431, f"The request's headers are longer than {self.max_head:,} bytes in all; send fewer."
            if end == -1:
                return None
            if self._line <= 1 and not self._first_line:
                self._in_head = False  # the empty line: the head is complete, the rest is its body
            self._first_line, self._line, start = False, 0, end + 1
        return None

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, f"The request's headers did not arrive within {self.head_timeout:g} s.")

    def _refuse(self, status: int, message: str) -> None:
        self._disarm()
        self._in_head = False
        body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": _CODES[status]}}]})
        head = (
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
            % (status, _REASONS[status], len(body))
        )
        if not self.transport.is_closing():
            self.transport.write(head + body)
            self._lingering = 0
            self.loop.call_later(LINGER_SECONDS, self._close)

    def _close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()
