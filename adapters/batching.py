"""Calls made during one turn of the event loop, sent together: the quota stores answer
a batch in one round trip (one statement, one pipeline) instead of one per request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")


class TurnBatcher(Generic[Item, Answer]):
    """`submit` queues an item; at the end of the loop's turn up to `most` queued items
    go to `run` together, which answers them in order. An error of `run` is every
    caller's.

    When the batch goes, an item whose caller has gone (cancelled) is left out, and so
    is one `at_once` answers (not None): what can be answered without the round trip
    since the item was queued is answered then."""

    def __init__(
        self,
        run: Callable[[list[Item]], Awaitable[Sequence[Answer]]],
        most: int,
        at_once: Callable[[Item], Answer | None] = lambda item: None,
    ) -> None:
        self._run = run
        self._most = most
        self._at_once = at_once
        self._pending: list[tuple[Item, asyncio.Future[Answer]]] = []
        self._running: set[asyncio.Task[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None

    def serves(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether calls from `loop` may be batched: the loop of the first caller only
        (futures belong to one loop; a test's second loop goes one by one)."""
        if self.loop is None:
            self.loop = loop
        return loop is self.loop

    async def submit(self, item: Item) -> Answer:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        self._pending.append((item, future))
        if len(self._pending) == 1:
            loop.call_soon(self._send)
        return await future

    def in_flight(self) -> set[asyncio.Task[None]]:
        """The batches on their way, for a shutdown to wait for."""
        return set(self._running)

    def _send(self) -> None:
        batch, self._pending = self._pending[: self._most], self._pending[self._most :]
        if self._pending:
            asyncio.get_running_loop().call_soon(self._send)
        batch = [(item, future) for item, future in batch if self._still_asked(item, future)]
        if batch:
            task = asyncio.ensure_future(self._answer(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    def _still_asked(self, item: Item, future: asyncio.Future[Answer]) -> bool:
        if future.done():
            return False
        answer = self._at_once(item)
        if answer is None:
            return True
        future.set_result(answer)
        return False

    async def _answer(self, batch: list[tuple[Item, asyncio.Future[Answer]]]) -> None:
        try:
            answers = await self._run([item for item, _ in batch])
        except BaseException as exc:
            for _, future in batch:
                if future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(answer)
