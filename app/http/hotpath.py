"""The lean path for a repeated POST /graphql: the view's own steps, without the generic layers.

A POST of a document that has been answered before (the same query and extensions; any operation
name and variables) is handed straight to the view's steps: its context, its `execute_operation` (the
deadline, the result cache and fast path, APQ, Server-Timing, the access log's record), its
`process_result` (error masking, the GraphQL-over-HTTP rules) and `create_response` (media
type, status). What it skips is what such a request does not need: Starlette's routing and
exception middleware, and Strawberry's request scaffolding (re-reading the body, parsing the
content type with `email.message`, decoding the JSON a second time with the standard library).
A document becomes hot once the whole stack has answered it 200 without an error code. Anything
else (GET, a batch, a streaming `Accept`, a body that is not a JSON object of the usual fields,
a document not yet hot) goes through the whole stack unchanged.

Profile of `{ __typename }` that led here (py-spy and cProfile through the real app): of ~80 µs
of Python per request, Strawberry's view scaffolding took ~50% (its `parse_http_body` alone
~25%), routing and Starlette's middleware ~10%, our execution ~25%, the access log ~3%.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.http import GraphQLRequestData

from app.lru import LRU
from app.request import request_record

if TYPE_CHECKING:
    from app.http.view import GraphQLView

_FIELDS = frozenset({"query", "operationName", "variables", "extensions"})


class HotPath:
    """ASGI middleware, inside the request guard (which has read, bounded and checked the body)."""

    def __init__(self, app: ASGIApp, *, path: str, view: GraphQLView, size: int = 512) -> None:
        self.app = app
        self.path = path
        self.view = view
        self.hot = LRU(size)  # (query, extensions) -> True: answered before (any operation, any variables)
        self.streaming: dict[str, bool] = {}  # Accept -> whether it asks for a streaming transport

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        message = await receive()
        replay = _Replay(message, receive)
        parsed = None if message.get("more_body") else self._parse(message.get("body", b""), scope)
        if parsed is None:
            await self.app(scope, replay, send)
            return
        key, data = parsed
        if self.hot.get(key) is None:
            await self.app(scope, replay, _marking(send, scope, key, self.hot))
            return
        await self._answer(scope, replay, send, data)

    def _parse(self, body: bytes, scope: Scope) -> tuple[Hashable, GraphQLRequestData] | None:
        """The request's data when it has the plain shape the lean path serves, else None."""
        accept = ""
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
        streaming = self.streaming.get(accept)
        if streaming is None:
            streaming = self.view._get_stream_transport_from_headers({"accept": accept}) is not None
            if len(self.streaming) < 64:
                self.streaming[accept] = streaming
        if streaming:
            return None
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict) or not _FIELDS.issuperset(data):
            return None
        query, operation, variables, extensions = (
            data.get("query"),
            data.get("operationName"),
            data.get("variables"),
            data.get("extensions"),
        )
        # The checks of Strawberry's parse_http_body and of our view's: anything else takes the whole stack.
        if not isinstance(query, str | None) or not isinstance(operation, str | None):
            return None
        if not isinstance(variables, dict | None) or not isinstance(extensions, dict | None):
            return None
        key = (query, orjson.dumps(extensions, option=orjson.OPT_SORT_KEYS) if extensions else None)
        return key, GraphQLRequestData(
            query=query, variables=variables, operation_name=operation, extensions=extensions, protocol="http"
        )

    async def _answer(self, scope: Scope, receive: Receive, send: Send, data: GraphQLRequestData) -> None:
        """What the view's `run` does for a POST whose body is parsed: the same steps, in order."""
        view = self.view
        request = Request(scope, receive)
        request_adapter = view.request_adapter_class(request)
        sub_response = await view.get_sub_response(request)
        context = await view.get_context(request, response=sub_response)
        try:
            result = await view.execute_operation(
                request=request,
                request_adapter=request_adapter,
                request_data=data,
                context=context,
                root_value=None,  # the view has no root value (GraphQL[Context, None])
                sub_response=sub_response,
            )
        except HTTPException as refusal:
            response = view.refusal(request, refusal)
        else:
            response_data = await view.process_result(request=request, result=result)
            if result.errors:
                view._handle_errors(result.errors, response_data)
            response = view.create_response(response_data=response_data, sub_response=sub_response)
        await response(scope, receive, send)


class _Replay:
    """`receive` that hands the first message back once, then the real one (disconnects)."""

    def __init__(self, message: Message, receive: Receive) -> None:
        self.message: Message | None = message
        self.receive = receive

    async def __call__(self) -> Message:
        message, self.message = self.message, None
        return message if message is not None else await self.receive()


def _marking(send: Send, scope: Scope, key: Hashable, hot: LRU) -> Send:
    """`send` that marks the document hot when the whole stack answered it 200 without an error code."""

    async def sending(message: Message) -> None:
        start = message["type"] == "http.response.start"
        if start and message["status"] == 200 and not request_record(scope).error_codes:
            hot.put(key, True)
        await send(message)

    return sending
