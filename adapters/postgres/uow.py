"""A unit of work: one pooled connection, one transaction, repositories bound to it."""

from __future__ import annotations

from contextlib import AsyncExitStack
from types import TracebackType

from psycopg_pool import AsyncConnectionPool

from adapters.postgres.api_keys import PostgresApiKeyRepository
from adapters.postgres.webhooks import PostgresEventOutbox, PostgresWebhookRepository


class PostgresUnitOfWork:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> PostgresUnitOfWork:
        async with AsyncExitStack() as stack:
            conn = await stack.enter_async_context(self._pool.connection())
            await stack.enter_async_context(conn.transaction())
            self._stack = stack.pop_all()
        self.keys = PostgresApiKeyRepository(conn)
        self.webhooks = PostgresWebhookRepository(conn)
        self.events = PostgresEventOutbox(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Leaving the transaction commits, or rolls back when the block raised.
        await self._stack.__aexit__(exc_type, exc, tb)


class PostgresUnitOfWorkFactory:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    def __call__(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self._pool)
