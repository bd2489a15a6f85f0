"""`keygate usage rebuild [--since TIME]`: recount the usage rollups from the raw
request log, after an import or a restore, on RebuildUsage."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from domain.errors import InvalidInput
from domain.usage import parse_time
from entrypoints.cli.run import with_container
from entrypoints.settings import Settings


def since(value: str) -> datetime:
    """An ISO time; argparse turns the error into a usage error."""
    try:
        return parse_time(value, "--since")
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(
            f"invalid time {value!r}: expected ISO 8601, e.g. 2026-12-01T00:00:00Z"
        ) from exc


def add_commands(commands: Any) -> None:
    usage = commands.add_parser("usage", help="usage analytics maintenance")
    actions = usage.add_subparsers(dest="action", required=True, parser_class=type(usage))

    rebuild = actions.add_parser(
        "rebuild", help="recount the hourly usage rollups from the raw request log"
    )
    rebuild.add_argument(
        "--since",
        type=since,
        metavar="TIME",
        help="from the hour of this ISO time on (default: from the oldest raw row); "
        "earlier hours are left as they are",
    )
    rebuild.set_defaults(handler=_rebuild)


def _rebuild(args: argparse.Namespace, settings: Settings) -> int:
    counted = with_container(settings, lambda c: c.rebuild_usage()(args.since))
    print(f"usage rollups rebuilt: {counted} request(s) counted")
    return 0
