from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import psycopg
import pytest
from litestar.testing import AsyncTestClient
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.migrate import apply_migrations
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from application.keys import IssueKey
from domain.keys import OPERATOR, IssuedKey, KeyRequest, Permission
from entrypoints.container import Container, build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.database import fresh_database, postgres_server

# Tables the tests write to; emptied before each test that uses the database.
TABLES = ("request_logs", "resources", "idempotency_keys", "quota_windows", "api_keys")
TABLES += ("webhook_attempts", "webhook_deliveries", "webhook_events", "webhooks")


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    with fresh_database(server_url) as url:
        asyncio.run(apply_migrations(url))
        yield url


@pytest.fixture
def db(database_url: str) -> Iterator[str]:
    """The migrated test database, emptied: a test starts from nothing."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    yield database_url


@pytest.fixture
def settings(db: str) -> Settings:
    return replace(
        Settings(),
        database_url=db,
        pool_min=1,
        # Roomy: tests also borrow the app's pool from their own event loop (see issue()).
        pool_max=20,
        db_timeout=2.0,
        log_flush_interval=0.05,
        last_used_interval=0.1,
    )


@pytest.fixture
def container(settings: Settings) -> Container:
    return build_container(settings)


@pytest.fixture
async def client(container: Container) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=create_asgi(container), raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        yield c


@pytest.fixture
async def open_container(container: Container) -> AsyncIterator[Container]:
    """The container with its pool open, for tests that call use cases or adapters."""
    pool = container.pool()
    await pool.open(wait=True)
    try:
        yield container
    finally:
        await pool.close()


async def issue(
    container: Container,
    user: str = "alice",
    permissions: tuple[str, ...] = ("read", "write"),
    rate_limit: int | None = None,
    name: str = "test key",
) -> IssuedKey:
    """Issue a key as an operator would, straight through the use case.

    It runs on a pool of its own: the app's pool belongs to the event loop of the test
    client's lifespan, and a pool must not be waited on from another loop."""
    request = KeyRequest(
        name=name,
        permissions=frozenset(Permission(p) for p in permissions),
        user_id=user,
        rate_limit=rate_limit,
    )
    conninfo = container.settings().database_url
    async with AsyncConnectionPool(conninfo, min_size=1, max_size=1, open=False) as pool:
        issue_key = IssueKey(PostgresUnitOfWorkFactory(pool))
        return await issue_key(request, OPERATOR, new_user_id=user)


def bearer(issued: IssuedKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {issued.raw_key}"}
