"""The API's user-facing errors, each with a stable `extensions.code`, defined in one place."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


class ApiError(GraphQLError):
    """A failure the client can act on; `code` is stable, the message says what to change."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, extensions={"code": self.code, **details})


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"


class PageSizeExceeded(ApiError):
    code = "PAGE_SIZE_EXCEEDED"


class InvalidPageSize(ApiError):
    code = "INVALID_PAGE_SIZE"


class InvalidPagination(ApiError):
    code = "INVALID_PAGINATION"


class InvalidCursor(ApiError):
    code = "INVALID_CURSOR"


class InvalidId(ApiError):
    code = "INVALID_ID"


class QueryTooDeep(ApiError):
    code = "QUERY_TOO_DEEP"


class QueryTooComplex(ApiError):
    code = "QUERY_TOO_COMPLEX"


class TooManyAliases(ApiError):
    code = "TOO_MANY_ALIASES"


class TooManyTokens(ApiError):
    code = "TOO_MANY_TOKENS"


class TooManyDirectives(ApiError):
    code = "TOO_MANY_DIRECTIVES"


class QueryTooLarge(ApiError):
    code = "QUERY_TOO_LARGE"


class VariablesTooDeep(ApiError):
    """`variables` nested deeper than any input of the schema (app.execution.input_checks)."""

    code = "VARIABLES_TOO_DEEP"


class VariablesTooLarge(ApiError):
    """`variables` holding more values (keys, list items) than any operation needs."""

    code = "VARIABLES_TOO_LARGE"


class Timeout(ApiError):
    code = "TIMEOUT"


class PersistedQueryNotFound(ApiError):
    """APQ: the hash is unknown here; the client sends it again with the query (app/http/persisted_queries.py)."""

    code = "PERSISTED_QUERY_NOT_FOUND"


class PersistedQueryHashMismatch(ApiError):
    code = "PERSISTED_QUERY_HASH_MISMATCH"


class InvalidPersistedQuery(ApiError):
    code = "INVALID_PERSISTED_QUERY"


class IntrospectionDisabled(ApiError):
    code = "INTROSPECTION_DISABLED"


class ServiceUnavailable(ApiError):
    """The database cannot be reached (app/execution/outages.py): HTTP 503 with Retry-After; retry."""

    code = "SERVICE_UNAVAILABLE"


class BadRequest(ApiError):
    """An HTTP request /graphql cannot read: not JSON, not an object, a batch when batching is off."""

    code = "BAD_REQUEST"


class PayloadTooLarge(ApiError):
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(ApiError):
    code = "UNSUPPORTED_MEDIA_TYPE"


class RequestTimeout(ApiError):
    """The request's body did not arrive in time."""

    code = "REQUEST_TIMEOUT"


class MethodNotAllowed(ApiError):
    code = "METHOD_NOT_ALLOWED"


class NotFound(ApiError):
    code = "NOT_FOUND"


class RateLimited(ApiError):
    """The client's budget for this window is spent (app.http.budgets)."""

    code = "RATE_LIMITED"


class TrustedDocumentRequired(ApiError):
    """Only trusted documents run on this server (TRUSTED_DOCUMENTS_ONLY), sent by their `documentId`."""

    code = "TRUSTED_DOCUMENT_REQUIRED"


INTERNAL_ERROR_CODE = "INTERNAL_SERVER_ERROR"
PARSE_FAILED_CODE = "GRAPHQL_PARSE_FAILED"  # graphql-core's syntax errors
VALIDATION_FAILED_CODE = "GRAPHQL_VALIDATION_FAILED"  # graphql-core's validation errors
BAD_USER_INPUT_CODE = BadUserInput.code  # graphql-core's variable and argument coercion errors
