"""Whatever the database does, a client gets a clean JSON answer: 503 with Retry-After
when it is unavailable, 400 when it refuses a value, 500 for anything else; never a
traceback nor a driver's words."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import psycopg
import pytest

from adapters.postgres.migrate import apply_migrations
from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.clients import Client
from tests.support.database import fresh_database
from tests.support.keys import bearer, issue


async def test_a_statement_the_database_cancels_is_a_503_with_retry_after(
    settings: Settings, db: str
) -> None:
    container = build_container(replace(settings, statement_timeout_ms=200))
    async with Client(app=create_asgi(container), raise_server_exceptions=False) as client:
        alice = await issue(container)
        assert (await client.get("/api/resources", headers=bearer(alice))).status_code == 200
        with psycopg.connect(db) as holder:
            holder.execute("LOCK TABLE resources IN ACCESS EXCLUSIVE MODE")
            response = await client.get("/api/resources", headers=bearer(alice))
    assert response.status_code == 503
    assert response.json() == {"error": "Service temporarily unavailable"}
    assert int(response.headers["retry-after"]) >= 1


@pytest.fixture
def narrow_db(server_url: str) -> Iterator[str]:
    """A database that holds less than the domain allows: a category of 3 characters.
    (Every value the API takes is now checked before it reaches PostgreSQL, so a value
    the database refuses has to come from a schema narrower than the code's.)"""
    with fresh_database(server_url) as url:
        asyncio.run(apply_migrations(url))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ALTER TABLE resources ALTER COLUMN category TYPE varchar(3)")
        yield url


async def test_a_value_the_database_cannot_hold_is_a_400(
    settings: Settings, narrow_db: str
) -> None:
    container = build_container(replace(settings, database_url=narrow_db))
    async with Client(app=create_asgi(container), raise_server_exceptions=False) as client:
        alice = await issue(container)
        response = await client.post(
            "/api/resources", json={"name": "a", "category": "four"}, headers=bearer(alice)
        )
    assert response.status_code == 400
    assert response.json()["error"].startswith("Invalid input")


@pytest.fixture
def broken_db(server_url: str) -> Iterator[str]:
    """A database whose schema is not what the code expects (a table gone)."""
    with fresh_database(server_url) as url:
        asyncio.run(apply_migrations(url))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE resource_counts CASCADE")
        yield url


@pytest.fixture
async def broken_client(settings: Settings, broken_db: str) -> AsyncIterator[tuple[Client, str]]:
    container = build_container(replace(settings, database_url=broken_db))
    async with Client(app=create_asgi(container), raise_server_exceptions=False) as client:
        alice = await issue(container)
        yield client, alice.raw_key


async def test_any_other_database_error_is_a_500_with_only_the_request_id(
    broken_client: tuple[Client, str],
) -> None:
    client, raw_key = broken_client
    response = await client.get("/api/resources", headers={"Authorization": f"Bearer {raw_key}"})
    assert response.status_code == 500
    assert response.json() == {
        "error": "Internal server error",
        "requestId": response.headers["x-request-id"],
    }
