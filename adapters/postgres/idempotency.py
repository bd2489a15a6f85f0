"""Idempotency-Key records, bound to the create's unit of work: the first request's
body hash and the response to replay, written in the create's own transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb

from application.ports.idempotency import IdempotentReplay
from domain.keys import UserId
from domain.resources import Resource

# A concurrent claim of the same key waits on the first one's uncommitted row, then
# finds it live and claims nothing: two requests never both create. An expired record
# is claimed again in place (retention skips a row locked by such a claim).
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
