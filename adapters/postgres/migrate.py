"""Ordered plain-SQL migrations, applied once each under an advisory lock.

Several instances may start together: the lock makes them take turns, and each
applies only what the migrations table does not record yet.
"""

from __future__ import annotations

from importlib import resources

import psycopg

# An arbitrary constant that names keygate's migration lock in pg_locks.
MIGRATION_LOCK_ID = 7_253_118_420

CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
SELECT_APPLIED = "SELECT version FROM schema_migrations"
RECORD_APPLIED = "INSERT INTO schema_migrations (version) VALUES (%s)"


def available_migrations() -> list[tuple[str, str]]:
    """(version, sql) pairs in order; the version is the file name without .sql."""
    folder = resources.files("adapters.postgres") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


async def apply_migrations(conninfo: str, connect_timeout: float = 10) -> list[str]:
    """Apply pending migrations; return the versions this call applied."""
    applied_now: list[str] = []
    async with await psycopg.AsyncConnection.connect(
        conninfo, autocommit=True, connect_timeout=int(connect_timeout)
    ) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
        try:
            await conn.execute(CREATE_LEDGER)
            cur = await conn.execute(SELECT_APPLIED)
            done = {row[0] for row in await cur.fetchall()}
            for version, sql in available_migrations():
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(sql.encode())
                    await conn.execute(RECORD_APPLIED, (version,))
                applied_now.append(version)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
    return applied_now
