"""How a CLI command runs its work: on its database (see `database.py`), on the container,
with the pool open (and, for a command that asks, its services started), and database
failures as one-line errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from entrypoints.cli.common import run_async
from entrypoints.cli.database import database
from entrypoints.container import Container, build_container
from entrypoints.lifecycle import Service, running
from entrypoints.settings import Settings


def with_container(
    settings: Settings,
    work: Callable[[Container], Awaitable[Any]],
    services: Callable[[Container], Sequence[Service]] = lambda _: (),
) -> Any:
    """Run `work` on a container built from `settings`; the result of `work`."""
    with database(settings) as db:
        settings = replace(settings, database_url=db.url)

        async def run() -> Any:
            container = build_container(settings)
            async with running(container, services(container), wait=True):
                return await work(container)

        return run_async(run)
