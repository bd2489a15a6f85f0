"""What every CLI command shares: one-line errors, exit statuses, argument types."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn

from application.ports.errors import StoreError, StoreUnavailable

EXIT_FAILURE = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A one-line message for the operator and an exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.status = status


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"keygate: error: {message} (see keygate --help)\n")


def count(value: str) -> int:
    """A number of credits: 0 or more."""
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value!r}")
    return int(value)


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return number


def run_async(factory: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine, turning database failures into a one-line CliError."""
    try:
        return asyncio.run(factory())
    except (StoreUnavailable, OSError) as exc:
        raise CliError(f"database unreachable: {_first_line(exc)}") from None
    except StoreError as exc:
        # e.g. a database that was never migrated: still one line, never a traceback.
        raise CliError(f"database error: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
