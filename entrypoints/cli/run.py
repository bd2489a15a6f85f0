"""How a CLI command runs its work: on the container, with the pool open (and, for a
command that asks, its services started), and database failures as one-line errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from entrypoints.cli.common import EXIT_USAGE, CliError, run_async
from entrypoints.container import Container, build_container
from entrypoints.lifecycle import Service, running
from entrypoints.settings import Settings


def with_container(
    settings: Settings,
    work: Callable[[Container], Awaitable[Any]],
    services: Callable[[Container], Sequence[Service]] = lambda _: (),
) -> Any:
    """Run `work` on a container built from `settings`; the result of `work`."""
    if not settings.database_url:
        raise CliError("DATABASE_URL is not set", EXIT_USAGE)

    async def run() -> Any:
        container = build_container(settings)
        async with running(container, services(container), wait=True):
            return await work(container)

    return run_async(run)
