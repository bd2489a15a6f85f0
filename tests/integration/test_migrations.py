from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from adapters.postgres.migrate import apply_migrations, available_migrations, function_files
from domain import quota
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


# What one database's schema is, as comparable text: every table, column, index,
# constraint, trigger and function (its whole definition and its comment). The daily
# request_logs partitions depend on the day they were made, so they are left out.
SCHEMA_SNAPSHOT = {
    "functions": """
        SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid),
               coalesce(obj_description(p.oid, 'pg_proc'), '')
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND NOT EXISTS (
            SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    """,
    "triggers": """
        SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE NOT t.tgisinternal
    """,
    "columns": r"""
        SELECT table_name, column_name, data_type, coalesce(column_default, ''), is_nullable,
               coalesce(generation_expression, '')
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name NOT LIKE 'request\_logs\_p%'
    """,
    "indexes": r"""
        SELECT indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename NOT LIKE 'request\_logs\_p%'
    """,
    "constraints": r"""
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = 'public' AND c.conrelid::regclass::text NOT LIKE 'request\_logs\_p%'
    """,
}


def schema_of(url: str) -> dict[str, set[tuple[str, ...]]]:
    with psycopg.connect(url) as conn:
        return {
            part: {tuple(str(v) for v in row) for row in conn.execute(query)}
            for part, query in SCHEMA_SNAPSHOT.items()
        }


LEGACY = Path(__file__).parents[1] / "support" / "legacy_migrations_0011.sql"


def migrate_as_keygate_0011_did(url: str) -> None:
    """What a database deployed before functions/ existed holds: 0001-0011 as they were
    then, each recorded in the ledger of that time."""
    parts = LEGACY.read_text(encoding="utf-8").split("\n-- ==== ")[1:]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version text PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for part in parts:
            version, sql = part.split("\n", 1)
            with conn.transaction():
                conn.execute(sql.encode())
                conn.execute("INSERT INTO schema_migrations VALUES (%s)", (version,))


@pytest.fixture
def upgraded_db(server_url: str) -> Iterator[str]:
    with fresh_database(server_url) as url:
        migrate_as_keygate_0011_did(url)
        yield url


async def test_a_fresh_and_an_upgraded_database_end_with_the_same_schema(
    empty_db: str, upgraded_db: str
) -> None:
    await apply_migrations(empty_db)
    before = schema_of(upgraded_db)
    await apply_migrations(upgraded_db)
    fresh, upgraded = schema_of(empty_db), schema_of(upgraded_db)
    for part in SCHEMA_SNAPSHOT:
        assert fresh[part] == upgraded[part], part
    # The upgrade did replace what 0001-0011 had defined (and commented it).
    assert before["functions"] != upgraded["functions"]


async def test_every_function_is_defined_in_a_function_file_and_commented(
    empty_db: str,
) -> None:
    await apply_migrations(empty_db)
    functions = schema_of(empty_db)["functions"]
    assert functions
    for signature, _, comment in functions:
        assert comment, f"{signature} has no COMMENT ON FUNCTION"
    defined = "\n".join(sql for _, sql in function_files())
    for name, sql in available_migrations():
        assert "CREATE FUNCTION" not in sql.upper(), f"{name} defines a function"
        assert "CREATE OR REPLACE FUNCTION" not in sql.upper(), f"{name} defines a function"
    for signature, _, _ in functions:
        assert f"FUNCTION {signature.split('(')[0]}(" in defined


async def test_the_quota_window_constants_are_the_domains(empty_db: str) -> None:
    await apply_migrations(empty_db)
    with psycopg.connect(empty_db) as conn:
        row = conn.execute(
            "SELECT quota_window_seconds(), quota_bucket_seconds(), quota_buckets()"
        ).fetchone()
    assert row == (quota.WINDOW_SECONDS, quota.BUCKET_SECONDS, quota.BUCKETS)


async def test_a_changed_function_file_is_applied_at_the_next_start(empty_db: str) -> None:
    await apply_migrations(empty_db)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION quota_buckets() RETURNS integer"
            " LANGUAGE sql IMMUTABLE AS $$ SELECT 7 $$"
        )
        conn.execute("UPDATE schema_functions SET sha256 = 'older' WHERE file = 'quota'")
    assert await apply_migrations(empty_db) == []
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT quota_buckets()").fetchone() == (quota.BUCKETS,)
        recorded = dict(conn.execute("SELECT file, sha256 FROM schema_functions").fetchall())
    assert set(recorded) == {name for name, _ in function_files()}
    assert "older" not in recorded.values()


async def test_instances_starting_together_reapply_functions_once_and_alike(
    empty_db: str,
) -> None:
    await apply_migrations(empty_db)
    expected = schema_of(empty_db)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("DELETE FROM schema_functions")
    assert await asyncio.gather(*(apply_migrations(empty_db) for _ in range(4))) == [[]] * 4
    assert schema_of(empty_db) == expected


async def test_a_start_with_nothing_new_waits_for_no_writer(empty_db: str) -> None:
    """Re-creating a trigger would queue behind any open write on its table, and every
    later write behind it: a start that changes nothing must not try."""
    await apply_migrations(empty_db)
    with psycopg.connect(empty_db) as writer:
        writer.execute("INSERT INTO resources (name, created_by) VALUES ('held', 'w')")
        writer.execute("UPDATE api_keys SET name = name")
        # The writer's transaction stays open while the migrations run again.
        assert await asyncio.wait_for(apply_migrations(empty_db), 60) == []
        writer.rollback()
