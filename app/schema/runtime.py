"""The per-request context: one database connection, and the loaders made for this request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from strawberry.types import Info as _Info

from app.config import Settings
from app.data.session import RequestDatabase
from app.request import RequestRecord


class Loader:
    """Loads by key in batches, one statement a batch, each key once per request (a DataLoader).

    Strawberry's DataLoader reads its batch one turn of the event loop after the first key
    arrives. This one reads it once the request's connection is free: keys asked for while
    earlier statements run (siblings' children, as their pages come back) join the batch, so
    the statement count of a query does not depend on which statement the database answers first.
    """

    def __init__(self, load: Callable[[Sequence[Any]], Awaitable[Sequence[Any]]], db: RequestDatabase) -> None:
        self._load = load
        self._db = db
        self._cache: dict[Hashable, asyncio.Future[Any]] = {}
        self._batch: dict[Hashable, asyncio.Future[Any]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def load(self, key: Hashable) -> Awaitable[Any]:
        future = self._cache.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = self._cache[key] = loop.create_future()
            if self._batch is None:
                self._batch = {}
                task = loop.create_task(self._dispatch())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            self._batch[key] = future
        # A caller's cancellation leaves the others' answer alone; a failure is marked as seen, so that a
        # caller that never awaits (a sibling failed first) does not leave "exception never retrieved".
        waiter = asyncio.shield(future)
        waiter.add_done_callback(retrieve_exception)
        return waiter

    async def _dispatch(self) -> None:
        await self._db.idle()
        batch, self._batch = self._batch or {}, None
        try:
            values = list(await self._load(list(batch)))
            if len(values) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} keys loaded {len(values)} values")
        except Exception as error:  # noqa: BLE001 - handed to every waiter, which re-raises it
            for future in batch.values():
                if not future.done():
                    future.set_exception(error)
            return
        for future, value in zip(batch.values(), values, strict=True):
            if not future.done():
                future.set_result(value)


def retrieve_exception(future: asyncio.Future[Any]) -> None:
    """Mark a done future's exception as retrieved (whoever awaits it still gets it raised)."""
    if not future.cancelled():
        future.exception()


@dataclass
class Context:
    """What resolvers share during one request."""

    db: RequestDatabase
    settings: Settings
    loaders: dict[Hashable, Loader] = field(default_factory=dict)
    record: RequestRecord = field(default_factory=RequestRecord)  # for the request's log line
    checked_cost: int | None = None  # the operation's cost, when its limits were checked before Strawberry ran it
    cost_facts: Any = None  # what the data holds, for costs that read it (app.schema.timeline.TimelineFacts)

    def loader(self, key: Hashable, load: Callable[[Sequence[Any]], Awaitable[Sequence[Any]]]) -> Loader:
        """The request's loader for `key`, made on first use: each batch is one statement."""
        found = self.loaders.get(key)
        if found is None:
            found = self.loaders[key] = Loader(load, self.db)
        return found


Info: TypeAlias = _Info[Context, None]
