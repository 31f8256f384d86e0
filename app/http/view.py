"""The GraphQL HTTP view: Strawberry's ASGI view with our per-request context and timing."""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from app.config import Settings
from app.data.session import RequestDatabase
from app.errors import (
    BadRequest,
    InvalidPersistedQuery,
    PersistedQueryHashMismatch,
    PersistedQueryNotFound,
    ServiceUnavailable,
)
from app.execution.deadlines import within_deadline
from app.execution.executable import schema
from app.execution.input_checks import check_variables
from app.execution.outages import is_outage, outage_answer, unavailable
from app.execution.results import FastPath, count_objects
from app.http import etags, graphiql, media_types
from app.http.persisted_queries import PersistedQueries
from app.http.shared_store import SharedQueries
from app.request import RequestRecord, request_record
from app.schema.runtime import Context

# An answer's media type and status depend on Accept; its coding on Accept-Encoding (app.http.compression).
VARY = "Accept, Accept-Encoding"


class GraphQLView(GraphQL[Context, None]):
    """Serves /graphql: one database connection per request, closed when the operation ends."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        if not settings.graphiql:
            kwargs.setdefault("graphql_ide", None)  # GRAPHIQL=false (production's default): /graphql is only the API
        super().__init__(schema, multipart_uploads_enabled=False, **kwargs)
        self.settings = settings
        self.engine: AsyncEngine | None = None
        self.sqlite_reader: Engine | None = None  # SQLite: reads in the event loop's thread (app.data.engine)
        shared = SharedQueries(settings.redis_url) if settings.redis_url else None
        self.persisted_queries = PersistedQueries(settings.apq_cache_size, shared)
        self.fast_path = FastPath(settings)

    async def get_context(self, request: Any, response: Any) -> Context:
        assert self.engine is not None, "the app's lifespan has not started"
        database = RequestDatabase(self.engine, self.sqlite_reader)
        return Context(db=database, settings=self.settings, record=request_record(request.scope))

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        context: Context = kwargs["context"]
        try:
            return await within_deadline(
                self.settings.request_timeout_seconds,
                lambda: super(GraphQLView, self).execute_operation(*args, **kwargs),
                context.record,
            )
        finally:
            await context.db.close()
            db = context.db
            context.record.statements, context.record.db_ms = db.statements, db.seconds * 1000
            kwargs["sub_response"].headers["Server-Timing"] = (
                f'db;dur={db.seconds * 1000:.1f};desc="{db.statements} SQL statements"'
            )

    async def execute_single(  # type: ignore[override]
        self, *, request_data: GraphQLRequestData, sub_response: Response, **kwargs: Any
    ) -> ExecutionResult:
        execute = super().execute_single
        context: Context = kwargs["context"]

        async def strawberry(data: GraphQLRequestData) -> ExecutionResult:
            return await execute(request_data=data, sub_response=sub_response, **kwargs)

        async def run(data: GraphQLRequestData) -> ExecutionResult:
            return await self.fast_path.execute(data, context, strawberry)

        refused = check_variables(request_data.variables)
        if refused is not None:
            context.record.error_codes.append(refused.code)
            return ExecutionResult(data=None, errors=[refused])
        try:
            result = await self.persisted_queries.execute(request_data, sub_response, run)
        except Exception as error:
            if not is_outage(error):
                raise
            result = ExecutionResult(data=None, errors=[unavailable(error)])
            context.record.error_codes.append(ServiceUnavailable.code)
        if outage_answer(result, sub_response):
            return result
        _account(request_data, result, context)
        if kwargs["request_adapter"].method == "GET" and not result.errors:
            max_age = self.settings.http_cache_max_age_seconds
            if max_age:
                sub_response.headers.setdefault("Cache-Control", f"public, max-age={max_age}")
            version = await self.fast_path.data_version(context)
            document = _document_id(request_data)
            if document is not None:
                sub_response.headers["ETag"] = etags.etag(
                    version, document, request_data.operation_name, request_data.variables
                )
        return result

    # A repeated POST does not come through `run` (app.http.hotpath calls get_sub_response, get_context,
    # execute_operation, process_result and create_response itself): per-request behaviour belongs
    # in those steps or in a middleware, not in `run`/`_run`.
    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await self._run(request, context, root_value)
        except HTTPException as refusal:
            return self.refusal(request, refusal)

    def refusal(self, request: Any, refusal: HTTPException) -> Response:
        """Strawberry's refusals (a non-string query, a mutation by GET...) as GraphQL errors, not plain text."""
        record = request_record(request.scope)
        record.error_codes.append(BadRequest.code)
        extensions = {"code": BadRequest.code}
        if record.request_id is not None:
            extensions["requestId"] = record.request_id
        return JSONResponse(
            {"errors": [{"message": refusal.reason, "extensions": extensions}]},
            status_code=refusal.status_code,
            media_type=_media_type(request),
        )

    async def _run(self, request: Any, context: Any, root_value: Any) -> Any:
        # A GET whose ETag still matches is answered 304 before anything is parsed or executed.
        if isinstance(request, Request) and request.method == "GET" and "if-none-match" in request.headers:
            key = etags.get_request_key(request.query_params)
            if key is not None:
                assert self.engine is not None
                try:
                    version = await self.fast_path.version.current(self.engine, self.sqlite_reader)
                except Exception as error:
                    if not is_outage(error):
                        raise
                    return await super().run(request, context, root_value)  # answered 503 there
                matched = etags.matching(request.headers["if-none-match"], etags.etag(version, *key), answered=False)
                if matched is not None:
                    return self._not_modified(matched)
        return await super().run(request, context, root_value)

    def _not_modified(self, tag: str) -> Response:
        headers = {"ETag": tag, "Vary": VARY}
        if self.settings.http_cache_max_age_seconds:
            headers["Cache-Control"] = f"public, max-age={self.settings.http_cache_max_age_seconds}"
        return Response(status_code=304, headers=headers)

    async def get_sub_response(self, request: Any) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.if_none_match = (  # type: ignore[attr-defined]
            request.headers.get("if-none-match") if request.method == "GET" else None
        )
        sub_response.graphql_response = media_types.prefers_graphql_response(  # type: ignore[attr-defined]
            request.headers.get("accept")
        )
        return sub_response

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        parsed = await super().parse_http_body(request)
        for data in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(data.operation_name, str | None):
                raise HTTPException(
                    400, "The GraphQL operation's `operationName` must be a string or null, if provided."
                )
        return parsed

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if not result.errors and isinstance(response, dict):
            record = request_record(request.scope)
            if record.cost:
                response["extensions"] = {"cost": self._cost(record, result.data)}
        if media_types.is_request_error(result) and media_types.prefers_graphql_response(request.headers.get("accept")):
            response.pop("data", None)  # the spec: a request error has no `data` entry
        return response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        tag = sub_response.headers.get("etag")
        if_none_match = getattr(sub_response, "if_none_match", None)
        if tag and if_none_match:
            # What the early check could not decide (`*`, or a query it could not key): answered, then compared.
            matched = etags.matching(if_none_match, tag, answered=True)
            if matched is not None:
                return self._not_modified(matched)
        response = super().create_response(response_data, sub_response)
        response.headers["Vary"] = VARY
        if getattr(sub_response, "graphql_response", False):
            response.headers["content-type"] = media_types.GRAPHQL_RESPONSE
            if isinstance(response_data, dict) and "data" not in response_data and not sub_response.status_code:
                response.status_code = 400
        return response

    def _cost(self, record: RequestRecord, data: Any) -> dict[str, int]:
        """`extensions.cost`: the cost the limits computed, and the objects returned when cheap to count."""
        cost = {"requested": record.cost}
        actual = record.actual_cost
        if actual is None and isinstance(data, dict) and record.cost < self.settings.heavy_query_cost:
            actual = count_objects(data)
        if actual is not None:
            cost["actual"] = actual
        return cost

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A hashed APQ GET has no `query` either, and some clients accept */*: it wants JSON, not the page.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(request)

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.ide_response()


APQ_ERRORS = (PersistedQueryNotFound, PersistedQueryHashMismatch, InvalidPersistedQuery)


def _account(request_data: GraphQLRequestData, result: ExecutionResult, context: Context) -> None:
    """The request's record, for its log line and metrics: answered, and how APQ took part."""
    record = context.record
    record.executed = True
    persisted = (request_data.extensions or {}).get("persistedQuery")
    if persisted is None:
        return
    if record.operation is None and isinstance(request_data.operation_name, str):
        record.operation = request_data.operation_name  # a miss is logged with the name the client sent
    if result.errors and isinstance(result.errors[0], APQ_ERRORS):
        # Refused by app.http.persisted_queries before execution, so not seen by the schema's error reporting.
        error = result.errors[0]
        record.error_codes.append(str((error.extensions or {}).get("code")))
        if record.request_id is not None:
            error.extensions = {**(error.extensions or {}), "requestId": record.request_id}
        if isinstance(error, PersistedQueryNotFound):
            record.apq = "miss"
    elif request_data.query is None:
        record.apq = "hit"
    elif not result.errors or result.data is not None:
        record.apq = "registered"


def _document_id(request_data: GraphQLRequestData) -> str | None:
    """The document's SHA-256: of its text, or the APQ hash it was sent by (the same value)."""
    if request_data.query:
        return etags.document_id(request_data.query)
    persisted = (request_data.extensions or {}).get("persistedQuery")
    sha = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    return sha if isinstance(sha, str) else None


def _media_type(request: Any) -> str:
    accept = request.headers.get("accept") if isinstance(request, Request) else None
    return media_types.GRAPHQL_RESPONSE if media_types.prefers_graphql_response(accept) else media_types.JSON
