"""A unit of work: one pooled connection, one transaction, repositories bound to it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from types import TracebackType

from psycopg_pool import AsyncConnectionPool

from adapters.postgres.api_keys import PostgresApiKeyRepository
from adapters.postgres.idempotency import PostgresIdempotencyStore
from adapters.postgres.resources import PostgresResourceRepository
from adapters.postgres.webhooks import PostgresWebhookRepository

KeysRevoked = Callable[[Sequence[int]], None]


class PostgresUnitOfWork:
    def __init__(self, pool: AsyncConnectionPool, on_keys_revoked: KeysRevoked | None) -> None:
        self._pool = pool
        self._stack = AsyncExitStack()
        self._on_keys_revoked = on_keys_revoked

    async def __aenter__(self) -> PostgresUnitOfWork:
        async with AsyncExitStack() as stack:
            conn = await stack.enter_async_context(self._pool.connection())
            await stack.enter_async_context(conn.transaction())
            self._stack = stack.pop_all()
        self.keys = PostgresApiKeyRepository(conn)
        self.resources = PostgresResourceRepository(conn)
        self.idempotency = PostgresIdempotencyStore(conn)
        self.webhooks = PostgresWebhookRepository(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Leaving the transaction commits, or rolls back when the block raised.
        await self._stack.__aexit__(exc_type, exc, tb)
        if exc_type is None and self._on_keys_revoked and self.keys.deactivated:
            # This process stops honouring the key before its response goes out,
            # without waiting for its own NOTIFY to come back.
            self._on_keys_revoked(self.keys.deactivated)


class PostgresUnitOfWorkFactory:
    def __init__(
        self, pool: AsyncConnectionPool, on_keys_revoked: KeysRevoked | None = None
    ) -> None:
        self._pool = pool
        self._on_keys_revoked = on_keys_revoked

    def __call__(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self._pool, self._on_keys_revoked)
