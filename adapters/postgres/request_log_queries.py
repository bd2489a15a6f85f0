"""request_logs read back: the dashboard's recent requests, and pruning
(whole daily partitions where possible)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from psycopg import sql

from adapters.postgres.pool import KeygatePool
from domain.request_log import LoggedRequest, PruneResult, RequestLogEntry

RECENT = """
SELECT id, method, path, status_code, response_time_ms, ip_address, api_key_id, created_at
FROM request_logs
WHERE (%(all_keys)s OR api_key_id = ANY(%(key_ids)s))
  AND (%(status_class)s::integer IS NULL OR status_code / 100 = %(status_class)s)
ORDER BY created_at DESC, id DESC LIMIT %(limit)s
"""
PARTITIONS = """
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'request_logs'::regclass AND c.relname ~ '^request_logs_p[0-9]{8}$'
"""
DELETE_OLDER = "DELETE FROM request_logs WHERE created_at < %s"


def _partition_end(name: str) -> datetime:
    day = datetime.strptime(name.removeprefix("request_logs_p"), "%Y%m%d").replace(tzinfo=UTC)
    return day + timedelta(days=1)


class PostgresRequestLogQueries:
    def __init__(self, pool: KeygatePool) -> None:
        self._pool = pool

    async def recent(
        self, key_ids: Sequence[int] | None, status_class: int | None, limit: int
    ) -> Sequence[LoggedRequest]:
        params = {
            "all_keys": key_ids is None,
            "key_ids": list(key_ids or []),
            "status_class": status_class,
            "limit": limit,
        }
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(RECENT, params)).fetchall()
        return [
            LoggedRequest(
                id=row[0],
                entry=RequestLogEntry(
                    method=row[1],
                    path=row[2],
                    status_code=row[3],
                    response_time_ms=row[4],
                    ip_address=row[5],
                    api_key_id=row[6],
                    created_at=row[7],
                ),
            )
            for row in rows
        ]


class PostgresRequestLogPruner:
    def __init__(self, pool: KeygatePool) -> None:
        self._pool = pool

    async def prune(self, before: datetime) -> PruneResult:
        timeout = self._pool.maintenance_timeout
        async with self._pool.connection(timeout) as conn, conn.transaction():
            names = [row[0] for row in await (await conn.execute(PARTITIONS)).fetchall()]
            expired = [n for n in names if _partition_end(n) <= before]
            for name in expired:
                await conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
            # What is left is at most one partly expired day plus the default partition.
            deleted = (await conn.execute(DELETE_OLDER, (before,))).rowcount
        return PruneResult(partitions_dropped=len(expired), rows_deleted=max(deleted, 0))
