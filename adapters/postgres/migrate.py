"""The schema: numbered migrations applied once each, then the live SQL functions.

migrations/NNNN_*.sql hold tables, indexes and data, each applied once and recorded in
schema_migrations; a database that recorded one never runs it again. functions/*.sql
hold the logic that lives in SQL, each function and the triggers that call it, as
idempotent CREATE OR REPLACE statements: the only place their definitions are kept.
A function file is applied when its text differs from the one recorded in
schema_functions, and all of them after any migration (a migration may have rebuilt
a table, and its triggers with it). So a fresh database and an upgraded one end with
the same definitions, and a start with nothing new takes no lock on any table.

Everything pending is applied in one transaction: a migration that fills a table and
the triggers that keep it up to date from then on commit together (0009). Several
instances may start at once: an advisory lock makes them take turns, and the ones
after the first find nothing left to do.

A function file cannot drop what it no longer defines, nor change a function's
signature or result type: a numbered migration drops the old function first.
"""

from __future__ import annotations

import hashlib
import logging
from importlib import resources

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.errors import translated
from application.ports.errors import StoreError

log = logging.getLogger(__name__)

# An arbitrary constant that names keygate's migration lock in pg_locks.
MIGRATION_LOCK_ID = 7_253_118_420

CREATE_LEDGERS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS schema_functions (
    file       text PRIMARY KEY,
    sha256     text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
SELECT_APPLIED = "SELECT version FROM schema_migrations"
RECORD_APPLIED = "INSERT INTO schema_migrations (version) VALUES (%s)"
SELECT_FUNCTIONS = "SELECT file, sha256 FROM schema_functions"
RECORD_FUNCTIONS = """
INSERT INTO schema_functions (file, sha256) VALUES (%s, %s)
ON CONFLICT (file) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()
"""


def _sql_files(folder: str) -> list[tuple[str, str]]:
    """(name without .sql, text) of the package folder's .sql files, in name order."""
    files = resources.files("adapters.postgres") / folder
    found = sorted((f for f in files.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in found]


def available_migrations() -> list[tuple[str, str]]:
    """(version, sql) pairs in order; the version is the file name without .sql."""
    return _sql_files("migrations")


def function_files() -> list[tuple[str, str]]:
    """(name, sql) of the live function definitions, in the order they are applied."""
    return _sql_files("functions")


def _sha256(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


async def apply_migrations(conninfo: str, connect_timeout: float = 10) -> list[str]:
    """Apply pending migrations and changed functions; return the migration versions
    this call applied. Raises StoreUnavailable or StoreError (application.ports.errors)."""
    with translated():
        async with await psycopg.AsyncConnection.connect(
            conninfo, autocommit=True, connect_timeout=int(connect_timeout)
        ) as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
            try:
                return await _apply_pending(conn)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))


async def _apply_pending(conn: psycopg.AsyncConnection[TupleRow]) -> list[str]:
    await conn.execute(CREATE_LEDGERS)
    done = {row[0] for row in await (await conn.execute(SELECT_APPLIED)).fetchall()}
    rows = await (await conn.execute(SELECT_FUNCTIONS)).fetchall()
    recorded: dict[str, str] = {row[0]: row[1] for row in rows}
    pending = [(v, sql) for v, sql in available_migrations() if v not in done]
    functions = [
        (name, sql)
        for name, sql in function_files()
        if pending or recorded.get(name) != _sha256(sql)
    ]
    if not pending and not functions:
        return []
    async with conn.transaction():
        for version, sql in pending:
            await conn.execute(sql.encode())
            await conn.execute(RECORD_APPLIED, (version,))
        for name, sql in functions:
            await conn.execute(sql.encode())
            await conn.execute(RECORD_FUNCTIONS, (name, _sha256(sql)))
    if functions:
        log.info("applied SQL functions: %s", ", ".join(name for name, _ in functions))
    return [version for version, _ in pending]


class PostgresSchemaProbe:
    """Readiness's schema check: every numbered migration this code ships is recorded.
    Functions are not compared: a newer instance re-applies its own text during a
    rolling upgrade, and the older ones must stay ready until they are replaced."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self._shipped = frozenset(version for version, _ in available_migrations())

    async def is_current(self) -> bool:
        try:
            async with self._pool.connection() as conn:
                rows = await (await conn.execute(SELECT_APPLIED)).fetchall()
        except StoreError:
            return False
        return self._shipped <= {row[0] for row in rows}
