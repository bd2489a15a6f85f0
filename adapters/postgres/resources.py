"""resources: the list/get reader and the one-statement writer (pool), the repository
and Idempotency-Key store (UoW). Webhook events are written by triggers (migration 0010)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from application.ports.idempotency import IdempotentReplay
from domain.keys import UserId
from domain.resource_queries import Order, ResourceQuery, Sort
from domain.resources import Resource, ResourceFields

log = logging.getLogger(__name__)

COLUMNS = "id, name, description, category, metadata, created_by, created_at, updated_at"
INSERT = f"""
INSERT INTO resources (name, description, category, metadata, created_by)
VALUES (%s, %s, %s, %s, %s)
RETURNING {COLUMNS}
"""
SELECT_BY_ID = f"SELECT {COLUMNS} FROM resources WHERE id = %s"
SELECT_FOR_UPDATE = f"SELECT {COLUMNS} FROM resources WHERE id = %s FOR UPDATE"
# Strictly later than before even within one clock tick, so the ETag always changes.
UPDATE = f"""
UPDATE resources
   SET name = %s, description = %s, category = %s, metadata = %s,
       updated_at = greatest(clock_timestamp(), updated_at + interval '1 microsecond')
 WHERE id = %s
RETURNING {COLUMNS}
"""
DELETE = "DELETE FROM resources WHERE id = %s"
OWNED = "(%(owner)s::text IS NULL OR created_by = %(owner)s)"
UPDATE_OWNED = f"""
UPDATE resources
   SET name = %(name)s, description = %(description)s, category = %(category)s,
       metadata = %(metadata)s,
       updated_at = greatest(clock_timestamp(), updated_at + interval '1 microsecond')
 WHERE id = %(id)s AND {OWNED}
RETURNING {COLUMNS}
"""
DELETE_OWNED = f"DELETE FROM resources WHERE id = %(id)s AND {OWNED}"

# The closed set of ORDER BY keys, each with the type a cursor's value is cast to.
# Expressions match the migration's indexes exactly.
SORT_KEYS: dict[Sort, tuple[str, str]] = {
    Sort.NAME: ("name", "text"),
    Sort.CREATED_AT: ("created_at", "timestamptz"),
    Sort.CATEGORY: ("coalesce(category, '')", "text"),
}
DIRECTIONS: dict[Order, tuple[str, str]] = {Order.ASC: ("ASC", ">"), Order.DESC: ("DESC", "<")}
FILTER_CATEGORY = "category = %(category)s"
# search_text is lower(name) || chr(31) || lower(description), stored (migration 0008).
FILTER_SEARCH = r"search_text LIKE lower(%(pattern)s) ESCAPE '\'"
SEARCH_SEPARATOR = "\x1f"
# A term holding the separator could match across the two fields in search_text.
FILTER_SEARCH_FIELDS = (
    r"(name ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\')"
)
AFTER_CURSOR = "({key}, id) {op} (%(after_value)s::{cast}, %(after_id)s)"
# Count and page in one statement: one round trip, and the count row is there even
# when the page is empty.
LIST = f"""
SELECT t.total, r.* FROM ({{count}}) AS t
LEFT JOIN LATERAL (
    SELECT {COLUMNS} FROM resources WHERE {{where}}{{after}}
    ORDER BY {{key}} {{direction}}, id {{direction}}
    LIMIT %(limit)s OFFSET %(offset)s
) AS r ON true
"""
COUNT_ROWS = "SELECT count(*) AS total FROM resources WHERE {where}"
# Without a search the total is read from the counts the triggers of migration 0009
# keep: 50 ms of count(*) at 1M rows, 5 ms for one category, against well under 1 ms.
COUNT_KEPT = "SELECT coalesce(sum(n), 0)::bigint AS total FROM resource_counts WHERE {where}"
# OFFSET is a bigint; a page number past any real table must not overflow it.
MAX_OFFSET = 2**62


@functools.cache
def list_sql(
    sort: Sort, order: Order, by_category: bool, search_filter: str | None, after: bool
) -> str:
    """The list statement for one shape of query, built only from the constants above."""
    key, cast = SORT_KEYS[sort]
    if by_category and sort is Sort.CATEGORY:
        # Every row has the filtered category: the plain column is that constant, which
        # the planner drops from the ordering and serves from (category, id) -- while the
        # coalesce() form made it walk the whole category index.
        key = "category"
    direction, op = DIRECTIONS[order]
    filters = [f for f in (FILTER_CATEGORY if by_category else None, search_filter) if f]
    where = " AND ".join(filters) or "true"
    after_sql = " AND " + AFTER_CURSOR.format(key=key, op=op, cast=cast) if after else ""
    count = (COUNT_ROWS if search_filter else COUNT_KEPT).format(where=where)
    return LIST.format(count=count, where=where, after=after_sql, key=key, direction=direction)


def search_filter(search: str | None) -> str | None:
    if not search:
        return None
    return FILTER_SEARCH_FIELDS if SEARCH_SEPARATOR in search else FILTER_SEARCH


def like_pattern(search: str) -> str:
    """A substring pattern in which the user's %, _ and \\ are literal."""
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def resource_from_row(row: Sequence[Any]) -> Resource:
    return Resource(
        id=row[0],
        name=row[1],
        description=row[2],
        category=row[3],
        metadata=row[4],
        created_by=row[5],
        created_at=row[6],
        updated_at=row[7],
    )


def _values(fields: ResourceFields) -> tuple[Any, ...]:
    metadata = None if fields.metadata is None else Jsonb(fields.metadata)
    return fields.name, fields.description, fields.category, metadata


class PostgresResourceReader:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def get(self, resource_id: int) -> Resource | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(SELECT_BY_ID, (resource_id,))
            row = await cur.fetchone()
        return resource_from_row(row) if row else None

    async def list(self, query: ResourceQuery, fetch: int) -> tuple[Sequence[Resource], int]:
        after = query.after
        sql = list_sql(
            query.sort,
            query.order,
            query.category is not None,
            search_filter(query.search),
            bool(after),
        )
        params = {
            "category": query.category,
            "pattern": like_pattern(query.search) if query.search else None,
            "after_value": after.value if after else None,
            "after_id": after.last_id if after else None,
            "limit": fetch,
            "offset": 0 if after else min(query.page.offset, MAX_OFFSET),
        }
        async with self._pool.connection() as conn:
            cur = await conn.execute(sql, params)
            rows = await cur.fetchall()
        total = rows[0][0] if rows else 0
        return [resource_from_row(r[1:]) for r in rows if r[1] is not None], total


class PostgresResourceWriter:
    """Each change one statement on a pooled connection in autocommit mode: atomic with
    what its triggers write, and no BEGIN/COMMIT round trips."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def add(self, fields: ResourceFields, created_by: UserId) -> Resource:
        async with self._pool.connection() as conn:
            resource = await PostgresResourceRepository(conn).add(fields, created_by)
        return resource

    async def replace_owned(
        self, resource_id: int, fields: ResourceFields, owner: UserId | None
    ) -> Resource | None:
        name, description, category, metadata = _values(fields)
        params = {
            "id": resource_id,
            "owner": owner,
            "name": name,
            "description": description,
            "category": category,
            "metadata": metadata,
        }
        async with self._pool.connection() as conn:
            cur = await conn.execute(UPDATE_OWNED, params)
            row = await cur.fetchone()
        return resource_from_row(row) if row else None

    async def delete_owned(self, resource_id: int, owner: UserId | None) -> bool:
        async with self._pool.connection() as conn:
            cur = await conn.execute(DELETE_OWNED, {"id": resource_id, "owner": owner})
        return cur.rowcount == 1


class PostgresResourceRepository:
    def __init__(self, conn: AsyncConnection[TupleRow]) -> None:
        self._conn = conn

    async def _one(self, sql: str, params: tuple[Any, ...]) -> Resource | None:
        cur = await self._conn.execute(sql, params)
        row = await cur.fetchone()
        return resource_from_row(row) if row else None

    async def add(self, fields: ResourceFields, created_by: UserId) -> Resource:
        resource = await self._one(INSERT, (*_values(fields), created_by))
        assert resource is not None
        return resource

    async def get_for_update(self, resource_id: int) -> Resource | None:
        return await self._one(SELECT_FOR_UPDATE, (resource_id,))

    async def update(self, resource_id: int, fields: ResourceFields) -> Resource:
        resource = await self._one(UPDATE, (*_values(fields), resource_id))
        assert resource is not None, "update() follows get_for_update() in the same UoW"
        return resource

    async def delete(self, resource_id: int) -> None:
        await self._conn.execute(DELETE, (resource_id,))


# A concurrent claim of the same key waits on the first one's uncommitted row, then
# finds it live and claims nothing: two requests never both create.
CLAIM_KEY = """
INSERT INTO idempotency_keys (user_id, key, request_hash, expires_at)
VALUES (%(user_id)s, %(key)s, %(hash)s, now() + %(ttl)s)
ON CONFLICT (user_id, key) DO UPDATE
   SET request_hash = EXCLUDED.request_hash, status = NULL, response = NULL,
       created_at = now(), expires_at = EXCLUDED.expires_at
 WHERE idempotency_keys.expires_at <= now()
RETURNING 1
"""
SELECT_KEY = "SELECT request_hash, response FROM idempotency_keys WHERE user_id = %s AND key = %s"
# A key guards a create, whose answer is always a 201: the column keeps the record whole.
COMPLETE_KEY = """
UPDATE idempotency_keys SET status = 201, response = %s WHERE user_id = %s AND key = %s
"""


def _snapshot(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "name": resource.name,
        "description": resource.description,
        "category": resource.category,
        "metadata": resource.metadata,
        "created_by": resource.created_by,
        "created_at": resource.created_at.isoformat(),
        "updated_at": resource.updated_at.isoformat(),
    }


def _from_snapshot(data: dict[str, Any]) -> Resource:
    return Resource(
        **{
            **data,
            "created_at": datetime.fromisoformat(data["created_at"]),
            "updated_at": datetime.fromisoformat(data["updated_at"]),
        }
    )


class PostgresIdempotencyStore:
    def __init__(self, conn: AsyncConnection[TupleRow]) -> None:
        self._conn = conn

    async def claim(self, user_id: UserId, key: str, fingerprint: str, ttl: timedelta) -> bool:
        params = {"user_id": user_id, "key": key, "hash": fingerprint, "ttl": ttl}
        cur = await self._conn.execute(CLAIM_KEY, params)
        return await cur.fetchone() is not None

    async def existing(self, user_id: UserId, key: str) -> IdempotentReplay:
        cur = await self._conn.execute(SELECT_KEY, (user_id, key))
        row = await cur.fetchone()
        assert row is not None, "existing() follows a failed claim(): the row is there"
        return IdempotentReplay(row[0], _from_snapshot(row[1]) if row[1] else None)

    async def complete(self, user_id: UserId, key: str, resource: Resource) -> None:
        await self._conn.execute(COMPLETE_KEY, (Jsonb(_snapshot(resource)), user_id, key))


class PostgresResourceCounts:
    """Folds the count deltas that writes append (migration 0009) into one row per
    category, so that reading a total stays a sum over a handful of rows."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def compact(self) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute("SELECT resource_counts_compact()")
            row = await cur.fetchone()
        return int(row[0]) if row else 0


SELECT_CURSOR_SECRET = "SELECT value FROM keygate_secrets WHERE name = 'cursor'"  # noqa: S105


class PostgresSecrets:
    """The cursor signing key: configuration wins, else the one the migrations stored.
    Loaded once per process (at start when the database answers, else on first use)."""

    def __init__(self, pool: AsyncConnectionPool, override: str | None) -> None:
        self._pool = pool
        self._value = override

    async def cursor_secret(self) -> str:
        if self._value is None:
            async with self._pool.connection() as conn:
                cur = await conn.execute(SELECT_CURSOR_SECRET)
                row = await cur.fetchone()
            if row is None:
                raise RuntimeError("keygate_secrets has no 'cursor' row; run the migrations")
            self._value = row[0]
        return self._value

    async def start(self) -> None:
        try:
            await self.cursor_secret()
        except (psycopg.Error, OSError) as exc:
            log.warning("cursor secret not loaded at start (%s); will retry", type(exc).__name__)

    async def stop(self) -> None:
        return None
