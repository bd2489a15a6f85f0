"""`keygate webhooks dispatch`: a dispatcher process of its own, beside or instead of the
one each `keygate serve` worker runs; any number may run at once."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from dataclasses import replace
from typing import Any

from entrypoints.cli.run import with_container
from entrypoints.container import Container
from entrypoints.settings import Settings


def add_commands(commands: Any) -> None:
    webhooks = commands.add_parser("webhooks", help="deliver webhooks")
    actions = webhooks.add_subparsers(dest="action", required=True, parser_class=type(webhooks))
    dispatch = actions.add_parser(
        "dispatch", help="deliver due webhooks until stopped (SIGTERM or Ctrl-C)"
    )
    dispatch.set_defaults(handler=_dispatch)


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    # Running this command is the request to dispatch, whatever `serve` is told.
    settings = replace(settings, webhook_dispatch_in_serve=True)

    async def until_stopped(_: Container) -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        print(
            f"keygate: dispatching webhooks every {settings.webhook_dispatch_interval:g}s",
            file=sys.stderr,
            flush=True,
        )
        await stopping.wait()

    with_container(settings, until_stopped, services=lambda c: c.dispatch_services())
    return 0
