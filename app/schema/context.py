"""The per-request context: one database connection, and the loaders made for this request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from strawberry.dataloader import DataLoader
from strawberry.types import Info as _Info

from app.access_log import RequestRecord
from app.config import Settings
from app.queries import RequestDatabase


@dataclass
class Context:
    """What resolvers share during one request."""

    db: RequestDatabase
    settings: Settings
    loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)
    record: RequestRecord = field(default_factory=RequestRecord)  # for the request's log line

    def loader(self, key: Hashable, load: Callable[[Sequence[Any]], Awaitable[Sequence[Any]]]) -> DataLoader[Any, Any]:
        """The request's loader for `key`, made on first use: each batch is one statement."""
        found = self.loaders.get(key)
        if found is None:
            found = self.loaders[key] = DataLoader(load_fn=load)
        return found


Info: TypeAlias = _Info[Context, None]
