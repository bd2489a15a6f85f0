"""Keys for tests: issued as an operator would, and the header that presents them."""

from __future__ import annotations

from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from adapters.clock import SystemClock
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from application.keys import IssueKey
from domain.audit import CLI
from domain.key_requests import KeyRequest
from domain.keys import OPERATOR, IssuedKey, Permission
from entrypoints.container import Container


async def issue(
    container: Container,
    user: str = "alice",
    permissions: tuple[str, ...] = ("read", "write"),
    rate_limit: int | None = None,
    name: str = "test key",
    expires_at: datetime | None = None,
    per_minute: int | None = None,
    per_day: int | None = None,
) -> IssuedKey:
    """Issue a key as an operator would, straight through the use case.

    It runs on a pool of its own: the app's pool belongs to the event loop of the test
    client's lifespan, and a pool must not be waited on from another loop."""
    request = KeyRequest(
        name=name,
        permissions=frozenset(Permission(p) for p in permissions),
        user_id=user,
        rate_limit=rate_limit,
        expires_at=expires_at,
        rate_limit_per_minute=per_minute,
        rate_limit_per_day=per_day,
    )
    conninfo = container.settings().database_url
    async with AsyncConnectionPool(conninfo, min_size=1, max_size=1, open=False) as pool:
        issue_key = IssueKey(PostgresUnitOfWorkFactory(pool), SystemClock())
        return await issue_key(request, OPERATOR, new_user_id=user, origin=CLI)


def bearer(issued: IssuedKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {issued.raw_key}"}
