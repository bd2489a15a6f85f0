"""Errors a port may raise in place of its technology's own.

Adapters translate driver errors (psycopg, redis, ...) into these, so that no use case
or entrypoint ever needs to know which driver sits behind a port.
"""

from __future__ import annotations


class StoreUnavailable(Exception):
    """A store could not be reached or did not answer in time; a retry later may succeed."""
