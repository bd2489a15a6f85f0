"""A periodic background job with a final run at stop, for work kept off the request path."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class PeriodicTask:
    def __init__(
        self,
        name: str,
        interval: float,
        job: Callable[[], Awaitable[object]],
        final: Callable[[], Awaitable[object]] | None = None,
        *,
        at_start: bool = False,
        at_stop: bool = True,
    ) -> None:
        self._name = name
        self._interval = interval
        self._job = job
        self._final = final or job
        self._at_start = at_start
        self._at_stop = at_stop
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        if self._at_start:
            await self._run(self._job)
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        """Stop the loop, then run the job once more so nothing pending is left behind.

        A run in progress is let finish, not cancelled: a write cancelled after the
        database took it cannot tell whether it landed, and would be done twice."""
        if self._task is not None:
            self._stopping.set()
            await self._task
            self._task = None
        if self._at_stop:
            await self._run(self._final)

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)
                return
            await self._run(self._job)

    async def _run(self, job: Callable[[], Awaitable[object]]) -> None:
        try:
            await job()
        except Exception as exc:
            log.warning("background job %s failed (%s: %s)", self._name, type(exc).__name__, exc)
