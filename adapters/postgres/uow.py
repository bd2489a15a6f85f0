"""A unit of work: one pooled connection, one transaction, repositories bound to it.

What a use case records on it travels as events of the unit of work, not as callbacks
inside the repositories: audit events are written just before the commit, in the same
transaction; keys that changed are evicted from this process's key cache just after
it (other processes hear of them from the api_keys triggers' NOTIFY).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from types import TracebackType

from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.api_keys import PostgresApiKeyRepository
from adapters.postgres.audit import write_events
from adapters.postgres.idempotency import PostgresIdempotencyStore
from adapters.postgres.resources import PostgresResourceRepository
from adapters.postgres.webhooks import PostgresWebhookRepository
from domain.audit import AuditEvent

KeysChanged = Callable[[Sequence[int]], None]


class PostgresUnitOfWork:
    def __init__(self, pool: AsyncConnectionPool, on_keys_changed: KeysChanged | None) -> None:
        self._pool = pool
        self._stack = AsyncExitStack()
        self._on_keys_changed = on_keys_changed
        self._events: list[AuditEvent] = []

    async def __aenter__(self) -> PostgresUnitOfWork:
        async with AsyncExitStack() as stack:
            conn = await stack.enter_async_context(self._pool.connection())
            await stack.enter_async_context(conn.transaction())
            self._stack = stack.pop_all()
        self._conn: AsyncConnection[TupleRow] = conn
        self.keys = PostgresApiKeyRepository(conn)
        self.resources = PostgresResourceRepository(conn)
        self.idempotency = PostgresIdempotencyStore(conn)
        self.webhooks = PostgresWebhookRepository(conn)
        return self

    def record(self, event: AuditEvent) -> None:
        self._events.append(event)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None and self._events:
            try:
                await write_events(self._conn, self._events)
            except BaseException as error:
                # The change must not commit without its audit rows.
                await self._stack.__aexit__(type(error), error, error.__traceback__)
                raise
        # Leaving the transaction commits, or rolls back when the block raised.
        await self._stack.__aexit__(exc_type, exc, tb)
        if exc_type is None and self._on_keys_changed and self.keys.changed:
            # This process stops honouring the old state before its response goes out,
            # without waiting for its own NOTIFY to come back.
            self._on_keys_changed(self.keys.changed)


class PostgresUnitOfWorkFactory:
    def __init__(
        self, pool: AsyncConnectionPool, on_keys_changed: KeysChanged | None = None
    ) -> None:
        self._pool = pool
        self._on_keys_changed = on_keys_changed

    def __call__(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self._pool, self._on_keys_changed)
