"""The per-request deadline: an operation still running when it passes is cancelled and answered TIMEOUT."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.errors import Timeout

T = TypeVar("T")


async def within_deadline(seconds: float, run: Callable[[], Awaitable[T]]) -> T | Timeout:
    """What `run()` returns, or the TIMEOUT error to answer if it takes more than `seconds`."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            return await run()
    except TimeoutError:
        if not deadline.expired():
            raise
    return Timeout(
        f"The request ran past its deadline of {seconds:g} s and was stopped; ask for less "
        "(smaller pages, fewer nested lists, a narrower filter).",
        limit_seconds=seconds,
    )
