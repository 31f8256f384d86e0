"""The fast path for repeated queries: cached results, ETags, and the batch executor.

- **Results** are cached per worker by (query, operation, variables, data version). The data
  version is bumped by every seed that writes (`dataset_state`), and read at most once per
  `data_version_check_seconds`, so a re-seed is seen within that time without a read per request.
- **ETags**: a GET query's answer is tagged with the data version and a hash of its URL query,
  so `If-None-Match` is answered 304 before anything is parsed or executed.
- **Hot documents**: a query that Strawberry has answered once without errors (its limits,
  validation and all) is run next time by `app.executor`, which skips per-field execution;
  the limits that depend on variables (cost, page sizes) are checked again on every request.
  Anything the executor does not cover, and every error, goes back through Strawberry.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, parse
from sqlalchemy import Engine, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from app import executor
from app.config import Settings
from app.models import DatasetState
from app.schema import schema
from app.schema.context import Context
from app.schema.limits import check_document

_UNSUPPORTED = object()


class LRU:
    """A bounded mapping that forgets the least recently used entry (size 0: keeps nothing)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: Hashable, value: Any) -> None:
        if self.size <= 0:
            return
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class DataVersion:
    """The data version, read from the database at most once per `ttl` seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._value = -1
        self._checked = float("-inf")

    async def current(self, engine: AsyncEngine, sqlite_reader: Engine | None) -> int:
        now = time.monotonic()
        if now - self._checked < self.ttl:
            return self._value
        statement = select(DatasetState.version).where(DatasetState.id == 1)
        if sqlite_reader is not None:
            with sqlite_reader.connect() as conn:
                value = conn.execute(statement).scalar()
        else:
            async with engine.connect() as async_conn:
                value = (await async_conn.execute(statement)).scalar()
        self._value, self._checked = int(value or 0), now
        return self._value


def etag(version: int, url_query: str) -> str:
    """The ETag of a GET answer: changes with the data and with the request, nothing else."""
    digest = hashlib.sha256(url_query.encode()).hexdigest()[:24]
    return f'"v{version}-{digest}"'


class FastPath:
    """Per worker: the result cache, the hot documents, the data version."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.results = LRU(settings.result_cache_size)
        self.documents = LRU(max(settings.result_cache_size, 256))
        self.version = DataVersion(settings.data_version_check_seconds)
        self.checked = LRU(1024)  # (query, operation, variables) -> (cost, within the limits)

    async def data_version(self, context: Context) -> int:
        return await self.version.current(context.db.engine, context.db.sync_engine)

    async def execute(
        self,
        data: GraphQLRequestData,
        context: Context,
        run: Callable[[GraphQLRequestData], Awaitable[ExecutionResult]],
    ) -> ExecutionResult:
        """The result of `data`: from the cache, the executor, or `run` (Strawberry)."""
        query = data.query
        if not query or data.protocol != "http":
            return await run(data)
        variables = data.variables or {}
        document_key = (query, data.operation_name)
        request_key = (document_key, orjson.dumps(variables, option=orjson.OPT_SORT_KEYS))
        result_key: Hashable | None = None
        if self.results.size > 0:
            version = await self.data_version(context)
            result_key = (request_key, version)
            cached = self.results.get(result_key)
            if cached is not None:
                context.record.served_by = "cache"
                context.record.operation, answer = cached
                return ExecutionResult(data=answer, errors=None)

        document = self.documents.get(document_key)
        if isinstance(document, DocumentNode):
            answered = await self._executor(document, data, variables, request_key, context)
            if answered is not None:
                if result_key is not None:
                    self.results.put(result_key, (context.record.operation, answered))
                return ExecutionResult(data=answered, errors=None)

        result = await run(data)
        if result.errors or result.data is None:
            return result
        if document is None:
            self.documents.put(document_key, parse(query))
        if result_key is not None:
            self.results.put(result_key, (context.record.operation, result.data))
        return result

    async def _executor(
        self,
        document: DocumentNode,
        data: GraphQLRequestData,
        variables: dict[str, Any],
        request_key: Hashable,
        context: Context,
    ) -> dict[str, Any] | None:
        """The data from the batch executor, or None to let Strawberry answer (and report any error)."""
        checked = self.checked.get(request_key)
        if checked is None:
            cost, error = check_document(schema._schema, document, variables, data.operation_name, self.settings)
            checked = (cost, error is None)
            self.checked.put(request_key, checked)
        cost, allowed = checked
        if not allowed:
            return None
        try:
            answered = await executor.execute(schema, document, data.operation_name, variables, context)
        except executor.Unsupported:
            self.documents.put((data.query, data.operation_name), _UNSUPPORTED)
            return None
        except GraphQLError:
            return None
        context.record.cost += cost
        context.record.served_by = "executor"
        operation = executor.operation_of(document, data.operation_name)
        context.record.operation = operation.name.value if operation.name else None
        return answered
