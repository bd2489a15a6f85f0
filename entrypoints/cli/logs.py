"""`keygate logs prune --older-than 30d`: request-log retention, on PruneRequestLogs."""

from __future__ import annotations

import argparse
import re
from datetime import timedelta
from typing import Any

from entrypoints.cli.run import with_container
from entrypoints.settings import Settings

AGE = re.compile(r"([1-9][0-9]{0,5})([dh])")
UNIT = {"d": "days", "h": "hours"}


def age(value: str) -> timedelta:
    """'30d' or '12h' as a timedelta; argparse turns a ValueError into a usage error."""
    match = AGE.fullmatch(value.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"invalid age {value!r}: expected a positive number of days or hours, e.g. 30d, 12h"
        )
    return timedelta(**{UNIT[match[2]]: int(match[1])})


def add_commands(commands: Any) -> None:
    logs = commands.add_parser("logs", help="request-log maintenance")
    actions = logs.add_subparsers(dest="action", required=True, parser_class=type(logs))

    prune = actions.add_parser(
        "prune", help="delete request-log rows older than an age (whole days are dropped)"
    )
    prune.add_argument(
        "--older-than", type=age, required=True, metavar="AGE", help="e.g. 30d or 12h"
    )
    prune.set_defaults(handler=_prune)


def _prune(args: argparse.Namespace, settings: Settings) -> int:
    result = with_container(settings, lambda c: c.prune_request_logs()(args.older_than))
    print(
        f"dropped {result.partitions_dropped} daily partition(s),"
        f" deleted {result.rows_deleted} row(s)"
    )
    return 0
