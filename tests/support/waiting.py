"""Waiting for effects that land a moment after the response (NOTIFY, log flushes, workers)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], within: float = 3.0, every: float = 0.05
) -> None:
    """Poll `condition` (plain or async) until it holds; fail the test after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(every)
