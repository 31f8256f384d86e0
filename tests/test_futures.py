"""No background error is lost (finding 12: under schemathesis one loader future ended in
`PendingRollbackError` and asyncio logged "Future exception was never retrieved")."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Sequence
from typing import Any

from app.data.engine import create_engine
from app.data.session import RequestDatabase
from app.schema.runtime import Loader


async def test_a_failed_batch_whose_waiters_never_await_it_loses_nothing(tmp_path: Any) -> None:
    lost: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: lost.append(context))
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:

        async def failing(keys: Sequence[Any]) -> Sequence[Any]:
            raise RuntimeError("the connection's transaction was rolled back")

        loader = Loader(failing, RequestDatabase(engine))
        awaited = loader.load(1)
        loader.load(2)  # a sibling's load that is never awaited: its resolver was abandoned
        loader.load(1)  # the same key again, not awaited either
        with contextlib.suppress(RuntimeError):
            await awaited
        await asyncio.sleep(0)
        del loader
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
        await engine.dispose()
    assert not lost, [context.get("message") for context in lost]
