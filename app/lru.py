"""One bounded cache, used wherever something is kept per worker: by entries and, optionally, by bytes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class LRU:
    """A bounded mapping that forgets the least recently used entries (size 0: keeps nothing).

    Bounded by entry count and, where entries are given a weight, by total weight (bytes).
    """

    def __init__(self, size: int, max_weight: int | None = None) -> None:
        self.size = size
        self.max_weight = max_weight
        self.weight = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, value: Any, weight: int = 0) -> None:
        if self.size <= 0 or (self.max_weight is not None and weight > self.max_weight):
            return
        previous = self._items.pop(key, None)
        if previous is not None:
            self.weight -= previous[1]
        self._items[key] = (value, weight)
        self.weight += weight
        while len(self._items) > self.size or (self.max_weight is not None and self.weight > self.max_weight):
            _key, (_value, dropped) = self._items.popitem(last=False)
            self.weight -= dropped

    def __len__(self) -> int:
        return len(self._items)
