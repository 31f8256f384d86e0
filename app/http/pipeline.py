"""/graphql: one request, one object (app.request.RequestRecord), one explicit sequence of steps, one way through.

    head      method, Accept, Accept-Encoding, If-None-Match, Origin: read once from the raw headers
    CORS      a preflight is answered here; every other answer carries the CORS headers
    budget    the client (app.http.budgets) and its budget: a spent one is 429 before anything is read
    reserve   each operation's cost, known from its plan, is reserved in one atomic step before it runs (429
              when it does not fit); once answered, what it did not spend is given back
    read      the query string or the body, once (app.http.params, app.http.body_limits)
    explorer  a GET that names no operation, from a browser, is GraphiQL's page
    persisted a trusted document's ID or an APQ hash becomes the query text (app.http.trusted_documents,
              app.http.persisted_queries); production's rule for GET
    revalidate a GET's If-None-Match is answered 304 before anything runs when it names the current answer
    execute   each operation, from the result cache, the compiler or Strawberry (app.execution.executor),
              within the request's deadline
    encode    the GraphQL-over-HTTP answer: media type, status, `extensions.cost`, caching headers, ETag
    compress  brotli or gzip (app.http.compression)
    observe   the outer middleware (app.http.observability) logs and counts the request from its record

A refusal at any step is an ApiError carrying its HTTP status, answered as GraphQL-shaped JSON with
its code; a fault nobody foresaw is a 500 INTERNAL_SERVER_ERROR whose id is in the log, never plain text.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from app.config import Settings
from app.errors import (
    INTERNAL_ERROR_CODE,
    ApiError,
    BadRequest,
    InvalidPersistedQuery,
    MethodNotAllowed,
    NotFound,
    PersistedQueryHashMismatch,
    PersistedQueryNotFound,
    RateLimited,
    ServiceUnavailable,
    Timeout,
)
from app.execution.deadlines import within_deadline
from app.execution.executor import Answer, Executor
from app.execution.outages import RETRY_AFTER_SECONDS, is_outage, unavailable
from app.http import etags, graphiql, media_types
from app.http.body_limits import Body, ClientGone, check_head
from app.http.budgets import Budget, ClientIdentity, RateLimiter
from app.http.compression import Compressor
from app.http.cors import Cors
from app.http.params import asks_for_an_operation, operation_of_parameters, operations_of_body, query_parameters
from app.http.persisted_queries import MISS_CACHE_CONTROL, PersistedQueries
from app.http.trusted_documents import TrustedDocuments
from app.logs import REQUEST_ID
from app.request import Operation, RequestRecord, request_record

logger = logging.getLogger("app.errors")

# An answer's media type and status depend on Accept; its coding on Accept-Encoding.
VARY = b"Accept, Accept-Encoding"
ALLOW = b"GET, POST, HEAD, OPTIONS"
APQ_ERRORS = (PersistedQueryNotFound, PersistedQueryHashMismatch, InvalidPersistedQuery)


@dataclass
class Head:
    """The request's head, read once from the raw ASGI headers."""

    method: str
    accept: str = ""
    accept_encoding: str = ""
    if_none_match: str | None = None
    origin: str | None = None
    content_type: str = ""
    content_length: str | None = None

    @classmethod
    def of(cls, scope: Scope) -> Head:
        head = cls(method=scope["method"])
        for name, value in scope["headers"]:
            if name == b"accept":
                head.accept = value.decode("latin-1")
            elif name == b"accept-encoding":
                head.accept_encoding = value.decode("latin-1")
            elif name == b"if-none-match":
                head.if_none_match = value.decode("latin-1")
            elif name == b"origin":
                head.origin = value.decode("latin-1")
            elif name == b"content-type":
                head.content_type = value.decode("latin-1")
            elif name == b"content-length":
                head.content_length = value.decode("latin-1")
        return head

    @property
    def reads(self) -> bool:
        """GET or HEAD: parameters in the query string, cacheable answers."""
        return self.method in ("GET", "HEAD")


@dataclass
class Reply:
    """An HTTP answer being made: status, headers, body."""

    status: int = 200
    body: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    media_type: str = media_types.JSON


class GraphQLEndpoint:
    """The ASGI app of /graphql (inside the outer observability middleware)."""

    def __init__(
        self,
        settings: Settings,
        executor: Executor,
        persisted: PersistedQueries,
        trusted: TrustedDocuments,
        limiter: RateLimiter,
        cors: Cors,
    ) -> None:
        self.settings = settings
        self.executor = executor
        self.persisted = persisted
        self.trusted = trusted
        self.limiter = limiter
        self.identity = ClientIdentity(settings)
        self.cors = cors
        self.compressor = Compressor(settings.compress_min_bytes)
        max_age = settings.http_cache_max_age_seconds
        self.public = f"public, max-age={max_age}".encode() if max_age else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        record = request_record(scope)
        head = Head.of(scope)
        if head.method == "OPTIONS":
            await self.cors.preflight(scope, receive, send)
            record.status = 200
            return
        body = Body(receive)
        budget: Budget | None = None
        try:
            record.client = self.identity.of(scope)  # who spends the budget, and registers persisted queries
            if self.limiter.enabled:
                budget = record.rate = await self.limiter.peek(record.client)
                if budget.remaining <= 0:
                    raise _rate_limited(budget)
            reply = await self._reply(scope, head, body, record)
        except ClientGone:
            record.status = 499
            return
        except ApiError as refusal:
            reply = self._refusal(refusal, head, record)
        except Exception as error:  # noqa: BLE001 - a fault nobody foresaw: coded JSON with its id, never plain text
            reply = self._fault(error, head, record)
        if budget is not None:
            reply.headers.extend((await self._settle(record, reply.status)).headers())
        reply.headers.extend(self.cors.answer_headers(head.origin))
        if head.method == "POST" and reply.status not in (200, 408):
            # The rest of a refused body is read and dropped first: closing while the client still sends makes
            # the kernel reset the connection, and many clients then never read the answer (lingering close).
            await body.drain()
        await self._send(reply, head, send, record)

    # -- the steps -----------------------------------------------------------------------------

    async def _reply(self, scope: Scope, head: Head, body: Body, record: RequestRecord) -> Reply:
        if head.method not in ("GET", "HEAD", "POST"):
            raise MethodNotAllowed(f"/graphql takes GET, POST and HEAD, not {head.method[:20]}.", status=405)
        batch = False
        if head.reads:
            parameters = query_parameters(scope.get("query_string", b""))
            names_one = asks_for_an_operation(parameters)
            if not names_one and self.settings.graphiql:
                return self._explorer(head)
            if self.settings.production and not ({"documentId"} & parameters.keys() or _has_hash(parameters)):
                raise BadRequest(
                    "This server takes GET /graphql only for persisted queries (extensions.persistedQuery.sha256Hash, "
                    "as Apollo's and urql's APQ send) and trusted documents (documentId); POST other queries as JSON.",
                    status=400,
                    cache_control="no-store",
                )
            if not names_one:
                return self._explorer(head)
            record.operations = [operation_of_parameters(parameters)]
        else:
            check_head(head.content_type, head.content_length, self.settings.max_body_bytes)
            raw = await body.read(self.settings.max_body_bytes, self.settings.body_timeout_seconds)
            record.operations, batch = operations_of_body(raw, self.settings.max_batch_size)
        if not batch and head.method == "GET" and head.if_none_match:
            early = await self._not_modified_early(head, record.operations[0])
            if early is not None:
                return early
        answered = await within_deadline(
            self.settings.request_timeout_seconds, lambda: self._answer_all(record, head.method)
        )
        if isinstance(answered, Timeout):
            answers = [self._request_error(answered, record, op) for op in record.operations]
        else:
            answers = answered
        record.refused = all(answer.is_request_error for answer in answers)
        return self._encode(answers, batch, head, record)

    def _explorer(self, head: Head) -> Reply:
        """GraphiQL's page for a browser; a GET naming no operation is otherwise a 400 that says so."""
        if "text/html" in head.accept or "*/*" in head.accept:
            if not self.settings.graphiql:
                raise NotFound("Not Found: the explorer is turned off on this server (GRAPHIQL).", status=404)
            page = graphiql.page()
            headers = [
                (b"content-security-policy", page.content_security_policy.encode()),
                (b"cache-control", b"no-cache"),
            ]
            return Reply(200, page.html.encode(), headers, "text/html; charset=utf-8")
        raise BadRequest("No GraphQL query found in the request", status=400)

    async def _answer_all(self, record: RequestRecord, method: str) -> list[Answer]:
        if len(record.operations) == 1:
            return [await self._answer(record.operations[0], record, method)]
        return list(await asyncio.gather(*(self._answer(op, record, method) for op in record.operations)))

    async def _answer(self, operation: Operation, record: RequestRecord, method: str) -> Answer:
        """One operation: its query text found (trusted document, APQ), then executed."""
        try:
            operation = self.trusted.resolve(operation)
            operation, register = await self.persisted.resolve(operation)
        except ApiError as error:
            if isinstance(error, PersistedQueryNotFound):
                record.apq = "miss"
            return self._request_error(error, record, operation)
        if self.limiter.enabled and record.client is not None:
            refused = await self._reserve(record, await self.executor.cost_of(operation))
            if refused is not None:
                if len(record.operations) == 1:
                    raise refused
                return self._request_error(refused, record, operation)  # one of a batch: the others may run
        try:
            answer = await self.executor.execute(operation, record, method)
        except ApiError:
            raise  # an HTTP-level refusal of the whole request (no query, an unknown operation name)
        except Exception as error:
            if not is_outage(error):
                raise
            answer = self._request_error(unavailable(error), record, operation)
        record.executed = True
        if (operation.extensions or {}).get("persistedQuery") is not None:
            if register is not None and not answer.is_request_error and operation.query is not None:
                await self.persisted.keep(register, operation.query, record.client)
                record.apq = "registered"
            elif register is None:
                record.apq = "hit"
        return answer

    def _request_error(self, error: ApiError, record: RequestRecord, operation: Operation) -> Answer:
        """An error found before execution, answered as GraphQL errors (with the request's ID)."""
        extensions = dict(error.extensions or {})
        status = extensions.pop("status", None)
        cache_control = extensions.pop("cache_control", None)
        if record.request_id is not None:
            extensions["requestId"] = record.request_id
        error.extensions = extensions
        record.error_codes.append(str(extensions.get("code")))
        if record.operation is None and operation.operation_name is not None:
            record.operation = operation.operation_name[:64]
        answer = Answer(errors=[error])
        if status is not None:
            answer.status, answer.cache_control = int(status), cache_control
        elif isinstance(error, APQ_ERRORS):
            # As Apollo Server answers: a miss is 200 (the client registers next), never cached.
            answer.status = 200 if isinstance(error, PersistedQueryNotFound) else 400
            answer.cache_control = MISS_CACHE_CONTROL
        return answer

    async def _not_modified_early(self, head: Head, operation: Operation) -> Reply | None:
        """304 before anything is parsed or run, when If-None-Match names the current answer.

        A tag naming a newer version than this worker has seen is never answered with older data:
        the version is read again, and while it is still behind, the answer is 503 with Retry-After.
        """
        assert head.if_none_match is not None
        key = self._etag_key(operation)
        if key is None:
            return None
        assert self.executor.engine is not None
        known = self.executor.version
        version = await known.current(self.executor.engine, self.executor.sqlite_reader)
        newest = etags.newest_version(head.if_none_match, known.database)
        if newest is not None and newest > version:
            known.expire()
            version = await known.current(self.executor.engine, self.executor.sqlite_reader)
            if newest > version:
                raise _behind(newest, version)
        tag = etags.etag(version, *key, media_type=media_types.choose(head.accept), database=known.database)
        matched = etags.matching(head.if_none_match, tag, answered=False)
        return None if matched is None else self._not_modified(matched)

    def _etag_key(self, operation: Operation) -> tuple[str, str | None, Any] | None:
        """(document ID, operation name, variables) of a GET, or None when it does not say."""
        if operation.query:
            document = etags.document_id(operation.query)
        elif operation.document_id:
            document = self.trusted.hash_of(operation.document_id) or operation.document_id
        else:
            persisted = (operation.extensions or {}).get("persistedQuery")
            sha = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
            if not isinstance(sha, str):
                return None
            document = sha
        return document, operation.operation_name, operation.variables

    def _not_modified(self, tag: str) -> Reply:
        headers = [(b"etag", tag.encode("latin-1")), (b"vary", VARY)]
        if self.public is not None:
            headers.append((b"cache-control", self.public))
        return Reply(304, b"", headers)

    # -- encoding ------------------------------------------------------------------------------

    def _encode(self, answers: list[Answer], batch: bool, head: Head, record: RequestRecord) -> Reply:
        graphql_response = media_types.prefers_graphql_response(head.accept)
        media_type = media_types.GRAPHQL_RESPONSE if graphql_response else media_types.JSON
        documents = [self._document(answer, graphql_response) for answer in answers]
        reply = Reply(200, orjson.dumps(documents if batch else documents[0]), [(b"vary", VARY)], media_type)
        if record.executed:
            timing = f'db;dur={record.db_ms:.1f};desc="{record.statements} SQL statements"'
            reply.headers.append((b"server-timing", timing.encode()))
        if batch:
            return reply
        answer = answers[0]
        if any((error.extensions or {}).get("code") == ServiceUnavailable.code for error in answer.errors or ()):
            reply.status = 503
            reply.headers += [(b"retry-after", str(RETRY_AFTER_SECONDS).encode()), (b"cache-control", b"no-store")]
            return reply
        if answer.status is not None:
            reply.status = answer.status
        elif graphql_response and answer.is_request_error:
            reply.status = 400  # the spec: a request error has no `data` and is a 400
        if answer.cache_control is not None:
            reply.headers.append((b"cache-control", answer.cache_control.encode()))
            return reply
        if head.reads and not answer.errors:
            return self._cacheable(reply, answer, head, record)
        return reply

    def _document(self, answer: Answer, graphql_response: bool) -> dict[str, Any]:
        document: dict[str, Any] = {}
        if not (graphql_response and answer.is_request_error):
            document["data"] = answer.data
        if answer.errors:
            document["errors"] = [self._formatted(error) for error in answer.errors]
        extensions = answer.extensions()
        if extensions is not None:
            document["extensions"] = extensions
        return document

    def _formatted(self, error: GraphQLError) -> dict[str, Any]:
        """An error as the response holds it, with the request's ID (so a client's report finds its log lines)."""
        formatted = error.formatted
        request_id = REQUEST_ID.get()
        if request_id is not None and "requestId" not in (formatted.get("extensions") or {}):
            formatted["extensions"] = {**(formatted.get("extensions") or {}), "requestId": request_id}
        return dict(formatted)

    def _cacheable(self, reply: Reply, answer: Answer, head: Head, record: RequestRecord) -> Reply:
        """A successful GET: HTTP caches may keep it under its ETag, unless it is the client's own."""
        if not answer.cacheable:
            reply.headers.append((b"cache-control", b"private, no-store"))
            return reply
        operation = record.operations[0]
        key = self._etag_key(operation)
        known = self.executor.version
        version, database = answer.version, answer.database
        if version is None or database is None:  # it read no data: the worker's version
            version, database = known.current_value, known.database
        if head.if_none_match:
            newest = etags.newest_version(head.if_none_match, database)
            if newest is not None and newest > version:
                raise _behind(newest, version)  # a lagging snapshot: never answer older data than the client has
        if self.public is not None:
            reply.headers.append((b"cache-control", self.public))
        if key is None:
            return reply
        tag = etags.etag(version, *key, media_type=reply.media_type, database=database)
        if head.if_none_match:
            # What the early check could not decide (`*`, or a tag of another version): answered, then compared.
            matched = etags.matching(head.if_none_match, tag, answered=True)
            if matched is not None:
                return self._not_modified(matched)
        reply.headers.append((b"etag", tag.encode("latin-1")))
        return reply

    def _refusal(self, refusal: ApiError, head: Head, record: RequestRecord) -> Reply:
        """An HTTP-level refusal, as GraphQL errors: its code, the request's ID, the status it carries."""
        extensions = dict(refusal.extensions or {})
        status = int(extensions.pop("status", 400))
        cache_control = extensions.pop("cache_control", None)
        retry_after = extensions.pop("retry_after", None)
        record.error_codes.append(str(extensions.get("code")))
        if record.request_id is not None:
            extensions["requestId"] = record.request_id
        body = orjson.dumps({"errors": [{"message": refusal.message, "extensions": extensions}]})
        media_type = (
            media_types.GRAPHQL_RESPONSE if media_types.prefers_graphql_response(head.accept) else media_types.JSON
        )
        reply = Reply(status, body, [(b"vary", VARY)], media_type)
        if status == 405:
            reply.headers.append((b"allow", ALLOW))
        if cache_control is not None:
            reply.headers.append((b"cache-control", cache_control.encode()))
        if retry_after is not None:
            reply.headers.append((b"retry-after", str(retry_after).encode()))
        if status in (408, 413):
            reply.headers.append((b"connection", b"close"))
        return reply

    def _fault(self, error: Exception, head: Head, record: RequestRecord) -> Reply:
        error_id = uuid.uuid4().hex
        logger.error(
            "unexpected error %s serving /graphql: %s",
            error_id,
            type(error).__name__,
            exc_info=(type(error), error, error.__traceback__),
            extra={"event": {"errorId": error_id}},
        )
        record.error_ids.append(error_id)
        fault = ApiError(f"Internal server error; please report error id {error_id}.", errorId=error_id, status=500)
        fault.extensions = {**(fault.extensions or {}), "code": INTERNAL_ERROR_CODE}
        return self._refusal(fault, head, record)

    async def _reserve(self, record: RequestRecord, points: int) -> RateLimited | None:
        """Reserve an operation's cost before it runs, in one atomic step; the refusal when it does not fit."""
        assert record.client is not None
        budget, fits = await self.limiter.reserve(record.client, points)
        if not fits:
            record.rate = Budget(budget.limit, budget.used - record.reserved, budget.reset_at)
            return _rate_limited(budget, points)
        record.reserved += points
        # As `rateLimit` reads it: the budget before this request, which it adds its own cost to.
        record.rate = Budget(budget.limit, budget.used - record.reserved, budget.reset_at)
        return None

    async def _settle(self, record: RequestRecord, status: int) -> Budget:
        """After the answer: what the request spends, less what it reserved, given back (or charged)."""
        spent = 0 if status == 429 else self._points(record)
        rate: Budget = record.rate
        if spent == record.reserved:
            return Budget(rate.limit, rate.used + record.reserved, rate.reset_at)
        return await self.limiter.settle(record.client or "", spent - record.reserved)

    def _points(self, record: RequestRecord) -> int:
        """What a request spends: its cost when it ran; one refused before it ran a token point."""
        if not record.executed or record.refused:
            return 1
        return max(1, record.cost)

    async def _send(self, reply: Reply, head: Head, send: Send, record: RequestRecord) -> None:
        body = reply.body
        headers = reply.headers
        if reply.status != 304:
            headers.append((b"content-type", reply.media_type.encode()))
            coding = self.compressor.coding(head.accept_encoding, reply.media_type, len(body))
            if coding is not None:
                body, headers = self.compressor.compress(body, headers, coding)
            headers.append((b"content-length", str(len(body)).encode()))
        record.status = reply.status
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head.method == "HEAD" else body})


def _has_hash(parameters: dict[str, str]) -> bool:
    """Whether a GET's `extensions` carry a persisted query's hash (production's rule)."""
    try:
        extensions = orjson.loads(parameters.get("extensions") or "null")
    except orjson.JSONDecodeError:
        return False
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    return isinstance(persisted, dict) and isinstance(persisted.get("sha256Hash"), str)


def _rate_limited(budget: Budget, cost: int | None = None) -> RateLimited:
    retry_after = max(1, math.ceil(budget.reset_at - time.time()))
    if cost is None:
        spent = f"This client has spent its {budget.limit:,} points for this window"
    else:
        spent = (
            f"This query costs {cost:,} points and this client has {budget.remaining:,} of its {budget.limit:,} "
            "left in this window"
        )
    return RateLimited(
        f"{spent}; it is refilled in {retry_after} s (see Retry-After and x-ratelimit-reset). Ask for less per "
        "query (its cost is the objects it may return) or cache answers.",
        limit=budget.limit,
        used=budget.used,
        resetAt=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(math.ceil(budget.reset_at))),
        status=429,
        retry_after=retry_after,
        cache_control="no-store",
    )


def _behind(newest: int, version: int) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"This server has data version {version}, older than the version {newest} your cached copy names; "
        "retry shortly (see Retry-After).",
        retryAfterSeconds=RETRY_AFTER_SECONDS,
        status=503,
        retry_after=RETRY_AFTER_SECONDS,
        cache_control="no-store",
    )


__all__ = ["GraphQLEndpoint", "Head", "Headers"]
