"""The pool hands out psycopg's errors as the ports' own (application.ports.errors)."""

from __future__ import annotations

import pytest

from application.ports.errors import StoreError, StoreUnavailable, UnstorableValue
from entrypoints.container import Container


async def test_a_value_postgresql_refuses_is_unstorable(open_container: Container) -> None:
    with pytest.raises(UnstorableValue):
        async with open_container.pool().connection() as conn:
            await conn.execute("SELECT %s::integer", (2**40,))


async def test_a_schema_not_as_expected_is_a_store_error(open_container: Container) -> None:
    with pytest.raises(StoreError) as raised:
        async with open_container.pool().connection() as conn:
            await conn.execute("SELECT * FROM no_such_table")
    assert not isinstance(raised.value, StoreUnavailable | UnstorableValue)
    assert "no_such_table" in str(raised.value)


async def test_a_statement_the_server_cancels_is_unavailable(open_container: Container) -> None:
    with pytest.raises(StoreUnavailable):
        async with open_container.pool().connection() as conn, conn.transaction():
            await conn.execute("SET LOCAL statement_timeout = 50")
            await conn.execute("SELECT pg_sleep(1)")
