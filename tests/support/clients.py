"""The in-process HTTP client every API and dashboard test drives the app with."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from litestar.testing import AsyncTestClient

# Litestar's client is generic in the app type; the tests never need it narrowed.
Client = AsyncTestClient  # type: ignore[type-arg]

T = TypeVar("T")


async def on_app_loop(client: Client, call: Callable[..., Awaitable[T]], *args: Any) -> T:
    """`call(*args)` on the loop the client runs the app on (its portal thread), where
    the app's pool and background tasks live. Using that pool from the test's own loop
    while the app's background tasks use it too (a webhook dispatcher polling every
    50 ms) can hand a connection across threads to a waiter that is never woken, or
    cut it under its new user: "server closed the connection unexpectedly"."""
    return await asyncio.to_thread(client.blocking_portal.call, call, *args)
