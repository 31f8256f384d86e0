"""What POST /graphql accepts, checked before Strawberry reads a byte: size, media type, JSON, batches.

Each refusal is a 4xx with a GraphQL-shaped JSON body (`errors[0].extensions.code`), so a
client reads it as it reads any other error. The body is counted while it arrives: a client
that announces or sends more than the limit gets 413 without the rest being buffered.
"""

from __future__ import annotations

import orjson
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ApiError, BadRequest, PayloadTooLarge, UnsupportedMediaType
from app.request import request_record


class RequestGuard:
    """ASGI middleware for one GraphQL endpoint's POST requests."""

    def __init__(self, app: ASGIApp, *, path: str, max_body_bytes: int, max_batch_size: int) -> None:
        self.app = app
        self.path = path
        self.max_body_bytes = max_body_bytes
        self.max_batch_size = max_batch_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive)
            if body is None:
                return  # the client went away
            self._check_json(body)
        except ApiError as refusal:
            await _refuse(scope, send, refusal)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes | None:
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise BadRequest(f"Content-Length {declared!r} is not a number of bytes.", status=400)
            if int(declared) > self.max_body_bytes:
                raise self._too_large(int(declared))
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise UnsupportedMediaType(
                f"POST /graphql takes JSON: send the body with Content-Type: application/json "
                f"(this request has {media_type or 'none'}).",
                status=415,
            )
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                raise self._too_large(None)
            if not message.get("more_body", False):
                return bytes(body)

    def _too_large(self, size: int | None) -> PayloadTooLarge:
        said = f"is {size:,} bytes" if size is not None else "is larger than that"
        return PayloadTooLarge(
            f"The request body {said}; the limit is {self.max_body_bytes:,} bytes. Send a shorter query "
            "or fewer variables.",
            limit=self.max_body_bytes,
            status=413,
        )

    def _check_json(self, body: bytes) -> None:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise BadRequest(f"The request body is not valid JSON: {error}.", status=400) from None
        if isinstance(data, list):
            if self.max_batch_size == 0:
                raise BadRequest(
                    "Batching is not supported: send one operation per request, as a JSON object.", status=400
                )
            if len(data) > self.max_batch_size:
                raise BadRequest(
                    f"The batch has {len(data)} operations; the limit is {self.max_batch_size}.",
                    status=400,
                    limit=self.max_batch_size,
                )
            return
        if not isinstance(data, dict):
            raise BadRequest(
                'The request body must be a JSON object: {"query": "...", "variables": {...}}.', status=400
            )


async def _refuse(scope: Scope, send: Send, refusal: ApiError) -> None:
    extensions = dict(refusal.extensions or {})
    status = int(extensions.pop("status"))
    record = request_record(scope)
    record.error_codes.append(str(extensions["code"]))
    if record.request_id is not None:
        extensions["requestId"] = record.request_id
    response = JSONResponse({"errors": [{"message": refusal.message, "extensions": extensions}]}, status_code=status)
    # The body may not have been read: the connection is closed after this answer.
    if status == 413:
        response.headers["Connection"] = "close"

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)
