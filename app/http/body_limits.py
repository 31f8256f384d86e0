"""What a POST to /graphql may send: its size, media type and pace, checked while the body arrives.

A body announced (Content-Length) or counted past `MAX_BODY_BYTES` is refused 413 without the rest
being buffered; a body that is not `application/json` is refused 415 before a byte is read; a body
still arriving `BODY_TIMEOUT_SECONDS` after the request began is refused 408 (a client trickling a
byte every few seconds would otherwise hold a connection and a worker's attention for good).

A refusal is sent while the client may still be sending. Closing the connection right away would
make the kernel reset it, and many clients (Python's http.client, curl) then never read the
answer, so the rest of the body is read and dropped for a short while first (`drain`), as nginx's
lingering close does.
"""

from __future__ import annotations

import asyncio

from starlette.types import Receive

from app.errors import BadRequest, PayloadTooLarge, RequestTimeout, UnsupportedMediaType

LINGER_SECONDS = 2.0  # how long a refused body is read and dropped before the connection closes
LINGER_BYTES = 64_000_000  # and how much of it at most


class ClientGone(Exception):
    """The client closed the connection before its request was read (logged as 499)."""


def check_head(content_type: str, content_length: str | None, max_bytes: int) -> None:
    """Refuse what the head alone shows: a media type other than JSON, a body announced too large."""
    if content_length is not None:
        if not content_length.isdigit():
            raise BadRequest(f"Content-Length {content_length[:40]!r} is not a number of bytes.", status=400)
        if int(content_length) > max_bytes:
            raise too_large(max_bytes, int(content_length))
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            f"POST /graphql takes JSON: send the body with Content-Type: application/json "
            f"(this request has {media_type[:60] or 'none'}).",
            status=415,
        )


class Body:
    """A POST's body as it arrives: read whole once, or what is left of it dropped after a refusal."""

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.complete = False  # the last part has arrived: nothing is left to read

    async def read(self, max_bytes: int, seconds: float) -> bytes:
        """The whole body, counted as it arrives, within `seconds`."""
        body = bytearray()
        try:
            async with asyncio.timeout(seconds):
                while True:
                    message = await self.receive()
                    if message["type"] == "http.disconnect":
                        raise ClientGone
                    body += message.get("body", b"")
                    if not message.get("more_body", False):
                        self.complete = True
                    if len(body) > max_bytes:
                        raise too_large(max_bytes, None)
                    if self.complete:
                        return bytes(body)
        except TimeoutError:
            raise RequestTimeout(
                f"The request body did not arrive within {seconds:g} s; send it at once.", status=408
            ) from None

    async def drain(self) -> None:
        """Read and drop what is left of a refused body, for a short while, so the client reads the answer."""
        if self.complete:
            return
        read = 0
        try:
            async with asyncio.timeout(LINGER_SECONDS):
                while read < LINGER_BYTES:
                    message = await self.receive()
                    if message["type"] != "http.request":
                        return
                    read += len(message.get("body", b""))
                    if not message.get("more_body", False):
                        self.complete = True
                        return
        except TimeoutError:
            return


def too_large(max_bytes: int, size: int | None) -> PayloadTooLarge:
    said = f"is {size:,} bytes" if size is not None else "is larger than that"
    return PayloadTooLarge(
        f"The request body {said}; the limit is {max_bytes:,} bytes. Send a shorter query or fewer variables.",
        limit=max_bytes,
        status=413,
    )
