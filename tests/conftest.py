"""Fixtures shared by every test: the database, settings, container and client.

Helpers a test imports (issue, bearer, Client, eventually, ...) live in tests/support/.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from adapters.postgres.migrate import apply_migrations
from entrypoints.container import Container, build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.clients import Client
from tests.support.database import fresh_database, postgres_server

# Tables the tests write to; emptied before each test that uses the database.
TABLES = ("request_logs", "resources", "idempotency_keys", "quota_windows", "api_keys")
TABLES += ("webhook_attempts", "webhook_deliveries", "webhook_events", "webhooks")
TABLES += ("dashboard_sessions",)
TABLES += ("audit_events",)
TABLES += ("usage_status", "usage_status_deltas", "usage_latency", "usage_latency_deltas")


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
        # Roomy: tests also borrow the app's pool from their own event loop (see
        # tests.support.keys.issue).
        pool_max=20,
        db_timeout=2.0,
        log_flush_interval=0.05,
        last_used_interval=0.1,
    )


@pytest.fixture
def container(settings: Settings) -> Container:
    return build_container(settings)


@pytest.fixture
async def client(container: Container) -> AsyncIterator[Client]:
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


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh data folder for an embedded server, outside pytest's tmp_path: run as
    root, pgserver runs PostgreSQL as another user, which must reach the folder, and
    every pytest session resets its tmp_path root to 0700."""
    parent = Path(tempfile.mkdtemp(prefix="keygate-data-"))
    os.chmod(parent, 0o755)
    try:
        yield parent / "pgdata"
    finally:
        shutil.rmtree(parent, ignore_errors=True)
