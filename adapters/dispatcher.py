"""The webhook dispatcher as a service: one HTTP client for the process, and a loop that
delivers what is due. `keygate serve` runs it beside the API; `keygate webhooks dispatch`
runs it alone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from adapters.background import PeriodicTask
from adapters.http_client import SafeWebhookSender


class WebhookDispatcher:
    def __init__(
        self,
        dispatch: Callable[[], Awaitable[int]],
        sender: SafeWebhookSender,
        interval: float,
        *,
        enabled: bool = True,
    ) -> None:
        self._sender = sender
        self._enabled = enabled
        # No run at stop: whatever is due then stays queued for the next dispatcher.
        self._task = PeriodicTask("webhook-dispatch", interval, dispatch, at_stop=False)

    async def start(self) -> None:
        await self._sender.start()
        if self._enabled:
            await self._task.start()

    async def stop(self) -> None:
        await self._task.stop()
        await self._sender.stop()
