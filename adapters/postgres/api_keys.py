"""api_keys: the repository (bound to a unit of work) and the finder used by authentication."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from application.ports.keys import UPDATABLE, NewKey
from domain.credits import CreditRule, CreditsSetting, Refill
from domain.keys import ApiKey, Permission, UserId
from domain.pagination import PageRequest

COLUMNS = (
    "id, user_id, name, prefix, permissions, rate_limit, is_active, created_at,"
    " last_used_at, expires_at, rate_limit_per_minute, rate_limit_per_day, replaced_by,"
    " credits_version, credits_remaining, credits_refill, credits_refill_amount, quota_key_id"
)
# A credits version is the instant credits were set, in epoch microseconds, and always
# grows (domain/credits.py): the quota store restarts its count from a newer one.
CREDITS_SET_NOW = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
INSERT_KEY = f"""
INSERT INTO api_keys (user_id, name, key_hash, prefix, permissions, rate_limit, expires_at,
                      rate_limit_per_minute, rate_limit_per_day, credits_remaining,
                      credits_refill, credits_refill_amount, quota_key_id, credits_version)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, {CREDITS_SET_NOW}))
RETURNING {COLUMNS}
"""
SET_CREDITS = sql.SQL(
    "credits_remaining = %(credits_remaining)s, credits_refill = %(credits_refill)s,"
    " credits_refill_amount = %(credits_refill_amount)s,"
    f" credits_version = greatest(credits_version + 1, {CREDITS_SET_NOW})"
)
SELECT_BY_ID = f"SELECT {COLUMNS} FROM api_keys WHERE id = %s"
SELECT_BY_ID_LOCKED = SELECT_BY_ID + " FOR UPDATE"
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
# Without a grace period the old key is revoked; with one it stays active and expires
# at the end of it. Either way it names its successor, which no second rotation can.
RETIRE = """
UPDATE api_keys
SET replaced_by = %(replaced_by)s,
    is_active = %(ends_at)s::timestamptz IS NOT NULL,
    expires_at = coalesce(%(ends_at)s, expires_at)
WHERE id = %(id)s AND is_active AND replaced_by IS NULL
RETURNING id
"""
# Column names come from this closed mapping (the port's UPDATABLE), never from a client.
UPDATE_COLUMNS = {name: sql.Identifier(name) for name in UPDATABLE}


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
        rate_limit_per_minute=row[10],
        rate_limit_per_day=row[11],
        replaced_by=row[12],
        credits=credit_rule(*row[13:17]),
        quota_key_id=row[17],
    )


def _credit_columns(setting: CreditsSetting | None) -> tuple[Any, Any, Any]:
    if setting is None:
        return (None, None, None)
    refill = setting.refill
    return (setting.remaining, refill and refill.interval, refill and refill.amount)


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
        # Keys this unit of work changed: the key cache forgets them after the commit.
        self.changed: list[int] = []

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
                new.expires_at,
                new.rate_limit_per_minute,
                new.rate_limit_per_day,
                *_credit_columns(new.credits),
                new.quota_key_id,
                new.credits_version,
            ),
        )
        row = await cur.fetchone()
        assert row is not None
        return key_from_row(row)

    async def get(self, key_id: int, *, lock: bool = False) -> ApiKey | None:
        cur = await self._conn.execute(SELECT_BY_ID_LOCKED if lock else SELECT_BY_ID, (key_id,))
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
        return self._changed(key_id, await cur.fetchone() is not None)

    async def retire(self, key_id: int, replaced_by: int, ends_at: datetime | None) -> bool:
        params = {"id": key_id, "replaced_by": replaced_by, "ends_at": ends_at}
        cur = await self._conn.execute(RETIRE, params)
        return self._changed(key_id, await cur.fetchone() is not None)

    async def update(self, key_id: int, values: Mapping[str, object]) -> ApiKey:
        values = dict(values)
        parts: list[sql.Composable] = [
            sql.SQL("{} = {}").format(UPDATE_COLUMNS[name], sql.Placeholder(name))
            for name in values
            if name != "credits"
        ]
        if "credits" in values:
            setting = values.pop("credits")
            assert setting is None or isinstance(setting, CreditsSetting)
            columns = ("credits_remaining", "credits_refill", "credits_refill_amount")
            values.update(zip(columns, _credit_columns(setting), strict=True))
            parts.append(SET_CREDITS)
        assignments = sql.SQL(", ").join(parts)
        statement = sql.SQL("UPDATE api_keys SET {} WHERE id = %(id)s RETURNING {}").format(
            assignments, sql.SQL(COLUMNS)
        )
        cur = await self._conn.execute(statement, {**values, "id": key_id})
        row = await cur.fetchone()
        assert row is not None, "update() is called on a key the unit of work holds locked"
        self._changed(key_id, True)
        return key_from_row(row)

    def _changed(self, key_id: int, changed: bool) -> bool:
        if changed:
            self.changed.append(key_id)
        return changed


class PostgresKeyFinder:
    """One indexed lookup by hash, outside any unit of work."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def find_by_hash(self, key_hash: str) -> ApiKey | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(SELECT_BY_HASH, (key_hash,))
            row = await cur.fetchone()
        return key_from_row(row) if row else None
