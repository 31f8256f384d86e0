"""The per-request deadline: an operation still running when it passes is cancelled and answered TIMEOUT."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.types import ExecutionResult

from app.errors import Timeout
from app.request import RequestRecord


async def within_deadline(seconds: float, run: Callable[[], Awaitable[Any]], record: RequestRecord) -> Any:
    """What `run()` returns, or a TIMEOUT result if it takes more than `seconds`."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            return await run()
    except TimeoutError:
        if not deadline.expired():
            raise
    error = Timeout(
        f"The request ran past its deadline of {seconds:g} s and was stopped; ask for less "
        "(smaller pages, fewer nested lists, a narrower filter).",
        limit_seconds=seconds,
    )
    record.error_codes.append(Timeout.code)
    return ExecutionResult(data=None, errors=[error])
