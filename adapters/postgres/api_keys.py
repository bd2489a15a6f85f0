"""api_keys: the repository (bound to a unit of work) and the finder used by authentication."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from application.ports.keys import NewKey
from domain.credits import CreditRule, Refill
from domain.keys import ApiKey, Permission, UserId
from domain.pagination import PageRequest

COLUMNS = (
    "id, user_id, name, prefix, permissions, rate_limit, is_active, created_at,"
    " last_used_at, expires_at,"
    " credits_version, credits_remaining, credits_refill, credits_refill_amount"
)
INSERT_KEY = f"""
INSERT INTO api_keys (user_id, name, key_hash, prefix, permissions, rate_limit)
VALUES (%s, %s, %s, %s, %s, %s)
RETURNING {COLUMNS}
"""
SELECT_BY_ID = f"SELECT {COLUMNS} FROM api_keys WHERE id = %s"
SELECT_BY_HASH = f"SELECT {COLUMNS} FROM api_keys WHERE key_hash = %s"
# The total counts every match, also when a cursor starts the page further on.
SELECT_PAGE = f"""
SELECT {COLUMNS} FROM api_keys
WHERE (%(user_id)s::text IS NULL OR user_id = %(user_id)s)
  AND (%(after_id)s::integer IS NULL OR id > %(after_id)s)
ORDER BY id LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT_KEYS = """
SELECT count(*) FROM api_keys WHERE (%(user_id)s::text IS NULL OR user_id = %(user_id)s)
"""
DEACTIVATE = "UPDATE api_keys SET is_active = false WHERE id = %s AND is_active RETURNING id"


def key_from_row(row: Sequence[Any]) -> ApiKey:
    return ApiKey(
        id=row[0],
        user_id=row[1],
        name=row[2],
        prefix=row[3],
        permissions=frozenset(Permission(p) for p in row[4]),
        rate_limit=row[5],
        is_active=row[6],
        created_at=row[7],
        last_used_at=row[8],
        expires_at=row[9],
        credits=credit_rule(*row[10:14]),
    )


def credit_rule(
    version: int, remaining: int | None, refill: str | None, amount: int | None
) -> CreditRule | None:
    if remaining is None:
        return None
    return CreditRule(
        version, remaining, Refill(refill, amount) if refill and amount is not None else None
    )


class PostgresApiKeyRepository:
    def __init__(self, conn: AsyncConnection[TupleRow]) -> None:
        self._conn = conn
        self.deactivated: list[int] = []

    async def add(self, new: NewKey) -> ApiKey:
        cur = await self._conn.execute(
            INSERT_KEY,
            (
                new.user_id,
                new.name,
                new.key_hash,
                new.prefix,
                sorted(new.permissions),
                new.rate_limit,
            ),
        )
        row = await cur.fetchone()
        assert row is not None
        return key_from_row(row)

    async def get(self, key_id: int) -> ApiKey | None:
        cur = await self._conn.execute(SELECT_BY_ID, (key_id,))
        row = await cur.fetchone()
        return key_from_row(row) if row else None

    async def list(
        self, user_id: UserId | None, page: PageRequest, after_id: int | None, fetch: int
    ) -> tuple[Sequence[ApiKey], int]:
        params = {
            "user_id": user_id,
            "after_id": after_id,
            "limit": fetch,
            "offset": 0 if after_id is not None else page.offset,
        }
        cur = await self._conn.execute(SELECT_PAGE, params)
        rows = await cur.fetchall()
        cur = await self._conn.execute(COUNT_KEYS, params)
        total_row = await cur.fetchone()
        return [key_from_row(r) for r in rows], total_row[0] if total_row else 0

    async def deactivate(self, key_id: int) -> bool:
        cur = await self._conn.execute(DEACTIVATE, (key_id,))
        if await cur.fetchone() is None:
            return False
        self.deactivated.append(key_id)
        return True


class PostgresKeyFinder:
    """One indexed lookup by hash, outside any unit of work."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def find_by_hash(self, key_hash: str) -> ApiKey | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(SELECT_BY_HASH, (key_hash,))
            row = await cur.fetchone()
        return key_from_row(row) if row else None
