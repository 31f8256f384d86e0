"""What a request to /graphql asks for, read once, one way: the query string or the JSON body, into operations.

The query string is parsed with the standard parser (percent-encoded names and values decoded:
`?%71uery=` is `query=`), and a parameter given twice is refused rather than read one way here
and another way there. The body is read once, bounded while it arrives (app.http.body_limits),
decoded once with orjson, and checked for the shape GraphQL over HTTP gives it. Every refusal is
an ApiError with its HTTP status, answered by the pipeline as GraphQL-shaped JSON.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson

from app.errors import BadRequest
from app.execution.input_checks import check_variables_shape
from app.request import Operation

# The parameters of GET /graphql (GraphQL over HTTP, APQ's extensions, a trusted document's ID).
OPERATION_PARAMETERS = frozenset({"query", "variables", "operationName", "extensions", "documentId"})
MAX_PARAMETERS = 64


def query_parameters(query_string: bytes) -> dict[str, str]:
    """The query string's parameters, each given once (a repeated one is refused)."""
    if not query_string:
        return {}
    try:
        pairs = parse_qsl(
            query_string.decode("latin-1"),
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_PARAMETERS,
        )
    except UnicodeDecodeError:
        raise BadRequest("The query string is not valid UTF-8 once percent-decoded.", status=400) from None
    except ValueError:
        raise BadRequest(f"The query string has more than {MAX_PARAMETERS} parameters.", status=400) from None
    parameters: dict[str, str] = {}
    for name, value in pairs:
        if name in parameters:
            raise BadRequest(
                f"The query string gives `{_shown(name)}` more than once; give each parameter once.", status=400
            )
        parameters[name] = value
    return parameters


def asks_for_an_operation(parameters: dict[str, str]) -> bool:
    """Whether a GET names an operation at all (GraphiQL's own page does not)."""
    return bool(OPERATION_PARAMETERS.intersection(parameters) - {"variables", "operationName"})


def operation_of_parameters(parameters: dict[str, str]) -> Operation:
    """A GET's operation: `variables` and `extensions` are JSON objects in the query string."""
    return _operation(
        {
            "query": parameters.get("query"),
            "variables": _json_parameter(parameters, "variables"),
            "operationName": parameters.get("operationName") or None,
            "extensions": _json_parameter(parameters, "extensions"),
            "documentId": parameters.get("documentId"),
        }
    )


def _json_parameter(parameters: dict[str, str], name: str) -> Any:
    text = parameters.get(name)
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise BadRequest(f"The `{name}` parameter is not valid JSON.", status=400) from None


def operations_of_body(body: bytes, max_batch_size: int) -> tuple[list[Operation], bool]:
    """A POST body's operations, and whether it was a batch (a JSON list)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"The request body is not valid JSON: {error}.", status=400) from None
    if isinstance(data, list):
        if max_batch_size == 0:
            raise BadRequest("Batching is not supported: send one operation per request, as a JSON object.", status=400)
        if len(data) > max_batch_size:
            raise BadRequest(
                f"The batch has {len(data)} operations; the limit is {max_batch_size}.",
                status=400,
                limit=max_batch_size,
            )
        if not data or not all(isinstance(item, dict) for item in data):
            raise BadRequest("A batch is a non-empty JSON list of operation objects.", status=400)
        return [_operation(item) for item in data], True
    if not isinstance(data, dict):
        raise BadRequest('The request body must be a JSON object: {"query": "...", "variables": {...}}.', status=400)
    return [_operation(data)], False


def _operation(data: dict[str, Any]) -> Operation:
    """One operation's fields, each of the type GraphQL over HTTP gives it."""
    query = data.get("query")
    if not isinstance(query, str | None):
        raise BadRequest("The GraphQL operation's `query` must be a string or null, if provided.", status=400)
    variables = data.get("variables")
    if not isinstance(variables, dict | None):
        raise BadRequest("The GraphQL operation's `variables` must be an object or null, if provided.", status=400)
    too_big = check_variables_shape(variables)
    if too_big is not None:
        raise too_big
    extensions = data.get("extensions")
    if not isinstance(extensions, dict | None):
        raise BadRequest("The GraphQL operation's `extensions` must be an object or null, if provided.", status=400)
    operation_name = data.get("operationName")
    if not isinstance(operation_name, str | None):
        raise BadRequest("The GraphQL operation's `operationName` must be a string or null, if provided.", status=400)
    document_id = data.get("documentId")
    if not isinstance(document_id, str | None):
        raise BadRequest("The GraphQL operation's `documentId` must be a string or null, if provided.", status=400)
    return Operation(query, variables, operation_name, extensions, document_id)


def _shown(name: str) -> str:
    return name if len(name) <= 40 else name[:40] + "…"
