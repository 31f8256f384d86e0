"""What a client sees of an error: a stable code on every one, and of an unexpected fault only an id.

The fault itself (traceback, SQL) goes to the log under that id, at ERROR level, logger
`app.errors`. Field suggestions ("Did you mean ...?") are cut in production mode, so a
client cannot map the schema through typos when introspection is off.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.types import ExecutionContext

from app.errors import BAD_USER_INPUT_CODE, INTERNAL_ERROR_CODE, PARSE_FAILED_CODE, Timeout, TooManyTokens
from app.execution.outages import is_outage, unavailable

logger = logging.getLogger("app.errors")

QUERY_CANCELED_SQLSTATE = "57014"  # PostgreSQL: statement_timeout (or a cancel) stopped the statement


class ApiSchema(strawberry.Schema):
    """Strawberry's schema, reporting errors our way instead of logging each one as Strawberry does."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        context = execution_context.context if execution_context is not None else None
        report_errors(errors, context)


def report_errors(errors: list[GraphQLError], context: Any) -> None:
    """Give every error a code, mask the unexpected ones, in place (the list is the response's)."""
    settings = getattr(context, "settings", None)
    record = getattr(context, "record", None)
    production = bool(getattr(settings, "production", False))
    for index, error in enumerate(errors):
        reported = _reported(error, context)
        if production and reported.message and " Did you mean " in reported.message:
            reported.message = reported.message.split(" Did you mean ")[0]
        errors[index] = reported
        if record is not None:
            if record.request_id is not None:  # so a client's report finds the request's log lines
                reported.extensions = {**(reported.extensions or {}), "requestId": record.request_id}
            extensions = reported.extensions or {}
            record.error_codes.append(str(extensions.get("code")))
            if "errorId" in extensions:
                record.error_ids.append(str(extensions["errorId"]))


def _reported(error: GraphQLError, context: Any) -> GraphQLError:
    cause = error.original_error
    if cause is not None and not isinstance(cause, GraphQLError):
        if is_statement_timeout(cause):
            return _located(_statement_timeout(context), error)
        if is_outage(cause):
            return _located(unavailable(cause), error)
        return _masked(error, cause, context)
    if (error.extensions or {}).get("code"):
        return error
    if isinstance(error, GraphQLSyntaxError):
        if error.message.endswith("tokens. Parsing aborted.") or error.message.endswith("comments. Parsing aborted."):
            limit = getattr(getattr(context, "settings", None), "max_tokens", None)
            return TooManyTokens(
                f"The query has more than {limit} tokens (names, punctuation, values, comments); send a shorter query.",
                limit=limit,
            )
        error.extensions = {**(error.extensions or {}), "code": PARSE_FAILED_CODE}
        return error
    # Validation errors got their code in QueryLimits.on_validate; what is left is graphql-core's
    # coercion of variables and arguments, and an unknown operation name: the client's input.
    error.extensions = {**(error.extensions or {}), "code": BAD_USER_INPUT_CODE}
    return error


def _masked(error: GraphQLError, cause: BaseException, context: Any) -> GraphQLError:
    error_id = uuid.uuid4().hex
    record = getattr(context, "record", None)
    operation = getattr(record, "operation", None)
    logger.error(
        "unexpected error %s in operation %s at %s: %s",
        error_id,
        operation,
        ".".join(str(part) for part in error.path or ()),
        type(cause).__name__,
        exc_info=(type(cause), cause, cause.__traceback__),
        extra={"event": {"errorId": error_id, "operation": operation, "path": error.path}},
    )
    return GraphQLError(
        f"Internal server error; please report error id {error_id}.",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": INTERNAL_ERROR_CODE, "errorId": error_id},
    )


def is_statement_timeout(cause: BaseException) -> bool:
    """Whether a database error says the statement ran past its deadline (either engine; through SQLAlchemy, or
    straight from asyncpg's pool)."""
    original = getattr(cause, "orig", None) or cause
    if getattr(original, "sqlstate", None) == QUERY_CANCELED_SQLSTATE:
        return True
    return type(original).__name__ == "OperationalError" and str(original) == "interrupted"


def _statement_timeout(context: Any) -> Timeout:
    limit = getattr(getattr(context, "settings", None), "statement_timeout_ms", None)
    return Timeout(
        f"A database statement ran past its deadline of {limit} ms; ask for less (smaller pages, "
        "fewer nested lists, a narrower filter).",
        limit_ms=limit,
    )


def _located(error: GraphQLError, where: GraphQLError) -> GraphQLError:
    return GraphQLError(error.message, nodes=where.nodes, path=where.path, extensions=error.extensions)
