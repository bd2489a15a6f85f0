"""psycopg's errors, translated into the ports' own (application.ports.errors)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg

from application.ports.errors import StoreError, StoreUnavailable, UnstorableValue


def translate(exc: psycopg.Error | OSError) -> StoreError:
    """The port error for a driver error; the driver's stays attached as __cause__."""
    message = _first_line(exc)
    if isinstance(exc, psycopg.OperationalError | OSError):
        # Includes the pool's PoolTimeout: no connection free within the timeout.
        return StoreUnavailable(message)
    if isinstance(exc, psycopg.DataError):
        return UnstorableValue(message)
    return StoreError(message)


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Raise the port error in place of any psycopg error (or socket error) inside."""
    try:
        yield
    except (psycopg.Error, OSError) as exc:
        raise translate(exc) from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
