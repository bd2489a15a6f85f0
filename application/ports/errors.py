"""Errors a port may raise in place of its technology's own.

Adapters translate driver errors (psycopg, redis, ...) into these, so that no use case
or entrypoint ever needs to know which driver sits behind a port.
"""

from __future__ import annotations


class StoreError(Exception):
    """A store failed in a way no more specific error below describes (a bug, or a
    schema that is not what the code expects, e.g. a database never migrated)."""


class StoreUnavailable(StoreError):
    """A store could not be reached or did not answer in time; a retry later may succeed."""


class UnstorableValue(StoreError):
    """The store cannot hold a value it was given (a NUL character in text, a number
    beyond its range): the input is at fault, and the same input will fail again."""
