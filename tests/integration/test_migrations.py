from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pytest

from adapters.postgres.migrate import apply_migrations, available_migrations
from tests.support.database import fresh_database


@pytest.fixture
def empty_db(server_url: str) -> Iterator[str]:
    with fresh_database(server_url) as url:
        yield url


def applied(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]


async def test_applies_all_in_order_then_nothing(empty_db: str) -> None:
    versions = [v for v, _ in available_migrations()]
    assert versions == sorted(versions)
    assert await apply_migrations(empty_db) == versions
    assert await apply_migrations(empty_db) == []
    assert applied(empty_db) == versions


async def test_concurrent_runs_apply_each_migration_once(empty_db: str) -> None:
    results = await asyncio.gather(*(apply_migrations(empty_db) for _ in range(4)))
    versions = [v for v, _ in available_migrations()]
    assert sorted(v for result in results for v in result) == versions
    assert applied(empty_db) == versions


async def test_schema_has_what_the_contract_needs(empty_db: str) -> None:
    await apply_migrations(empty_db)
    with psycopg.connect(empty_db) as conn:
        columns = {
            (t, c, d)
            for t, c, d in conn.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = 'public'"
            )
        }
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes")}
    assert ("api_keys", "key_hash", "text") in columns
    assert ("api_keys", "created_at", "timestamp with time zone") in columns
    assert ("request_logs", "created_at", "timestamp with time zone") in columns
    assert ("resources", "metadata", "jsonb") in columns
    assert "idx_logs_key_time" in indexes
