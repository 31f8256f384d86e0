"""The fast path for repeated queries: cached results, the data version, and the compiler.

- **Results** are cached per worker by (query, operation, variables, data version). The data
  version is bumped by every seed that writes (`dataset_state`), and read at most once per
  `data_version_check_seconds`, so a re-seed is seen within that time without a read per request.
- **ETags** (`app.http.etags`) key on the data version read here, so `If-None-Match` is
  answered 304 before anything is parsed or executed.
- **Hot documents**: a query that Strawberry has answered once without errors (its limits,
  validation and all) is run next time as ONE SQL statement returning the response's JSON
  (`app.execution.compiler`), passed through unparsed, if every field it selects is declared
  for it (app/schema/fields.py), which is decided from the document before any SQL runs
  (a refused argument, too, is found before any SQL; Strawberry then reports it); the limits
  that depend on variables (cost, page sizes) are checked again on every request. A statement
  timeout is TIMEOUT, any other fault an internal error: the fast path never hands a failed
  request to Strawberry for a second run.
- **EXECUTION** (setting): `compiled` (the default) as above; `strawberry` turns the fast path
  off; `verify` runs Strawberry beside it on its own connection and answers
  INTERNAL_SERVER_ERROR, with the difference in the log, when they disagree (the tests' mode).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, parse
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from app.config import Settings
from app.data.session import RequestDatabase
from app.data.versions import DataVersion
from app.errors import ApiError
from app.execution import compiler
from app.execution.executable import schema
from app.execution.faults import report_errors
from app.execution.query_limits import check_document, heavy_slots
from app.lru import LRU
from app.request import RequestRecord
from app.schema.runtime import Context

_UNSUPPORTED = object()


def count_objects(data: Any) -> int:
    """Objects in an answer's `data` (every JSON object under it): what its cost counts, as returned."""
    count = 0
    stack = list(data.values()) if isinstance(data, dict) else []
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            count += 1
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a future's exception as seen: its followers re-raise it, and with none it is no loss."""
    if not future.cancelled():
        future.exception()


class FastPath:
    """Per worker: the result cache, the hot documents, the data version."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.results = LRU(settings.result_cache_size, settings.result_cache_bytes)
        self.inflight: dict[Hashable, asyncio.Future[ExecutionResult]] = {}
        self.documents = LRU(max(settings.result_cache_size, 256))
        self.version = DataVersion(settings.data_version_check_seconds, settings.data_version_fallback_seconds)
        self.checked = LRU(1024)  # (query, operation, variables) -> (cost, within the limits)

    async def data_version(self, context: Context) -> int:
        return await self.version.current(context.db.engine, context.db.sync_engine)

    async def execute(
        self,
        data: GraphQLRequestData,
        context: Context,
        run: Callable[[GraphQLRequestData], Awaitable[ExecutionResult]],
    ) -> ExecutionResult:
        """The result of `data`: from the cache, the compiler, or `run` (Strawberry)."""
        query = data.query
        if not query or data.protocol != "http" or "rateLimit" in query:
            return await run(data)  # `rateLimit` is the client's own, now: never cached (app/http/budgets.py)
        variables = data.variables or {}
        document_key = (query, data.operation_name)
        request_key = (document_key, orjson.dumps(variables, option=orjson.OPT_SORT_KEYS))
        if self.results.size > 0:
            version = await self.data_version(context)
            return await self._coalesced(
                (request_key, version), data, variables, document_key, request_key, context, run
            )
        return await self._answer(data, variables, document_key, request_key, context, run)

    async def _coalesced(
        self,
        result_key: Hashable,
        data: GraphQLRequestData,
        variables: dict[str, Any],
        document_key: Hashable,
        request_key: Hashable,
        context: Context,
        run: Callable[[GraphQLRequestData], Awaitable[ExecutionResult]],
    ) -> ExecutionResult:
        """From the cache; or the answer of the same request in flight; or answered here, once.

        Identical requests arriving while one is answered wait for it and get its very result,
        errors included, or its exception: a follower never re-registers the key (which would
        orphan the owner's future). Only an owner that was cancelled (its client went away)
        leaves its followers to try again, one of them becoming the owner.
        """
        while True:
            cached = self.results.get(result_key)
            if cached is not None:
                context.record.served_by = "cache"
                context.record.operation, answer, cost, actual = cached
                context.record.cost += cost
                context.record.actual_cost = actual
                return ExecutionResult(data=answer, errors=None)
            pending = self.inflight.get(result_key)
            if pending is None:
                break
            try:
                result = await asyncio.shield(pending)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if pending.cancelled() and not (current is not None and current.cancelling()):
                    continue  # the owner was cancelled, not this request: answer it afresh
                raise
            context.record.served_by = "cache"  # the same answer, shared while it was made
            shared = self.results.get(result_key)
            if shared is not None:  # its cost, as the owner's record had it
                context.record.cost += shared[2]
                context.record.actual_cost = shared[3]
            for error in result.errors or ():
                context.record.error_codes.append(str((error.extensions or {}).get("code")))
            return result

        owned: asyncio.Future[ExecutionResult] = asyncio.get_running_loop().create_future()
        owned.add_done_callback(_retrieve)
        self.inflight[result_key] = owned
        try:
            result = await self._answer(data, variables, document_key, request_key, context, run)
        except Exception as error:
            owned.set_exception(error)
            raise
        except BaseException:
            owned.cancel()
            raise
        finally:
            if self.inflight.get(result_key) is owned:
                del self.inflight[result_key]
        if not result.errors and result.data is not None:
            record = context.record
            if record.actual_cost is None and isinstance(result.data, dict):
                record.actual_cost = count_objects(result.data)
            entry = (record.operation, result.data, record.cost, record.actual_cost)
            self.results.put(result_key, entry, len(orjson.dumps(result.data)))
        owned.set_result(result)
        return result

    async def _answer(
        self,
        data: GraphQLRequestData,
        variables: dict[str, Any],
        document_key: Hashable,
        request_key: Hashable,
        context: Context,
        run: Callable[[GraphQLRequestData], Awaitable[ExecutionResult]],
    ) -> ExecutionResult:
        """Not cached: the fast path for a hot document it covers, else Strawberry (which marks it hot)."""
        document = self.documents.get(document_key) if self.settings.execution != "strawberry" else None
        if isinstance(document, DocumentNode):
            answered = await self._fast(document, data, variables, request_key, context)
            if answered is not None:
                return answered

        result = await run(data)
        if not result.errors and result.data is not None and document is None:
            assert data.query is not None
            parsed = parse(data.query)
            reason = compiler.unsupported(schema, parsed, data.operation_name)
            self.documents.put(document_key, parsed if reason is None else _UNSUPPORTED)
        return result

    async def _fast(
        self,
        document: DocumentNode,
        data: GraphQLRequestData,
        variables: dict[str, Any],
        request_key: Hashable,
        context: Context,
    ) -> ExecutionResult | None:
        """The fast path's answer, or None for Strawberry to answer (decided before any SQL).

        A document reaches here only if every field it selects is covered (`compiler.unsupported`).
        Limits that depend on variables are checked again; over one, Strawberry reports it. A
        statement timeout is TIMEOUT and any other failure INTERNAL_SERVER_ERROR: never a second run.
        """
        checked = self.checked.get(request_key)
        if checked is None:
            cost, error = check_document(schema._schema, document, variables, data.operation_name, self.settings)
            checked = (cost, error is None)
            self.checked.put(request_key, checked)
        cost, allowed = checked
        if not allowed:
            return None
        try:
            prepared = compiler.prepare(schema, document, data.operation_name, variables, context)
        except (compiler.Unsupported, ApiError):
            # A shape the compiler does not cover, or arguments the client got wrong (a cursor, a
            # page size): Strawberry answers, and reports the error with its path. No SQL has run.
            return None
        context.record.served_by = "executor"
        try:
            if cost < self.settings.heavy_query_cost:
                answered = await compiler.execute(prepared, context)
            else:
                # Heavy operations take turns and read SQLite off the loop, as on Strawberry's path.
                context.db.sync_engine = None
                async with heavy_slots(self.settings.max_heavy_operations).taken(context.record):
                    answered = await compiler.execute(prepared, context)
        except Exception as error:  # noqa: BLE001 - reported as TIMEOUT or masked as an internal error
            errors = [GraphQLError(str(error), original_error=error)]
            report_errors(errors, context)
            return ExecutionResult(data=None, errors=errors)
        context.record.cost += cost
        operation = prepared.operation
        context.record.operation = operation.name.value if operation.name else None
        if self.settings.execution == "verify":
            return await self._verified(answered, data, context)
        return ExecutionResult(data=orjson.Fragment(answered), errors=None)  # type: ignore[arg-type]  # JSON text, embedded unparsed

    async def _verified(
        self,
        answered: str,
        data: GraphQLRequestData,
        context: Context,
    ) -> ExecutionResult:
        """EXECUTION=verify: Strawberry answers too, on a connection of its own; they must agree."""
        shadow = Context(
            db=RequestDatabase(context.db.engine, context.db.sync_engine),
            settings=self.settings,
            record=RequestRecord(),
        )
        try:
            expected = await schema.execute(
                data.query or "",
                variable_values=data.variables,
                context_value=shadow,
                operation_name=data.operation_name,
            )
        finally:
            await shadow.db.close()
        fast = orjson.loads(answered)
        if expected.errors is None and _same(expected.data, fast):
            return ExecutionResult(data=orjson.Fragment(answered), errors=None)  # type: ignore[arg-type]  # JSON text, embedded unparsed
        difference = GraphQLError(
            "EXECUTION=verify: the fast path and Strawberry disagree",
            original_error=VerifyMismatch(
                f"query {data.query!r} variables {data.variables!r}: "
                f"Strawberry {orjson.dumps(expected.data).decode()} errors {expected.errors!r}; "
                f"fast path {orjson.dumps(fast).decode()}"
            ),
        )
        errors = [difference]
        report_errors(errors, context)
        return ExecutionResult(data=None, errors=errors)


class VerifyMismatch(Exception):
    """The fast path's answer differs from Strawberry's (EXECUTION=verify); the message says how."""


def _same(expected: Any, found: Any) -> bool:
    """Equal as JSON values, key order included."""
    if isinstance(expected, dict):
        return (
            isinstance(found, dict)
            and list(expected) == list(found)
            and all(_same(value, found[key]) for key, value in expected.items())
        )
    if isinstance(expected, list):
        return isinstance(found, list) and len(expected) == len(found) and all(map(_same, expected, found))
    if isinstance(expected, bool) or isinstance(found, bool):
        return expected is found
    return bool(expected == found)
