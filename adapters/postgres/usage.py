"""Usage read from the hourly rollups (migration 0016, functions/usage.sql), never
from request_logs: a key's figures cost the same at 10,000 requests a day as at
10,000,000. A read sums the rollups and the deltas not folded into them yet."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from adapters.postgres.pool import KeygatePool
from domain.usage import Granularity, KeyTraffic, UsageCounts

# One statement reads both tables, so a compaction moving rows between them (one
# transaction) is seen wholly before or wholly after.
BY_BUCKET_STATUS = """
SELECT date_trunc(%(unit)s, hour, 'UTC'), status_code, sum(n)::bigint FROM (
    SELECT hour, status_code, n FROM usage_status
    WHERE api_key_id = %(key)s AND hour >= %(start)s AND hour < %(end)s
    UNION ALL
    SELECT hour, status_code, n FROM usage_status_deltas
    WHERE api_key_id = %(key)s AND hour >= %(start)s AND hour < %(end)s
) AS u GROUP BY 1, 2 HAVING sum(n) <> 0
"""
LATENCY = """
SELECT usage_latency_value(bucket), sum(n)::bigint FROM (
    SELECT bucket, n FROM usage_latency
    WHERE api_key_id = %(key)s AND hour >= %(start)s AND hour < %(end)s
    UNION ALL
    SELECT bucket, n FROM usage_latency_deltas
    WHERE api_key_id = %(key)s AND hour >= %(start)s AND hour < %(end)s
) AS u GROUP BY bucket HAVING sum(n) > 0 ORDER BY bucket
"""
TOP_KEYS = """
SELECT t.api_key_id, k.name, k.user_id, t.total, t.client_errors, t.server_errors FROM (
    SELECT api_key_id, sum(n)::bigint AS total,
           coalesce(sum(n) FILTER (WHERE status_code BETWEEN 400 AND 499), 0)::bigint
               AS client_errors,
           coalesce(sum(n) FILTER (WHERE status_code BETWEEN 500 AND 599), 0)::bigint
               AS server_errors
    FROM (
        SELECT api_key_id, status_code, n FROM usage_status
        WHERE hour >= %(start)s AND hour < %(end)s
        UNION ALL
        SELECT api_key_id, status_code, n FROM usage_status_deltas
        WHERE hour >= %(start)s AND hour < %(end)s
    ) AS u GROUP BY api_key_id HAVING sum(n) > 0
    ORDER BY total DESC, api_key_id LIMIT %(limit)s
) AS t JOIN api_keys k ON k.id = t.api_key_id
ORDER BY t.total DESC, t.api_key_id
"""


class PostgresUsageRollups:
    def __init__(self, pool: KeygatePool) -> None:
        self._pool = pool

    async def key_usage(
        self, key_id: int, start: datetime, end: datetime, granularity: Granularity
    ) -> UsageCounts:
        params = {"key": key_id, "start": start, "end": end, "unit": granularity.value}
        async with self._pool.connection() as conn:
            cells = await (await conn.execute(BY_BUCKET_STATUS, params)).fetchall()
            latency = await (await conn.execute(LATENCY, params)).fetchall()
        return UsageCounts(
            by_bucket_status={(b.astimezone(UTC), code): int(n) for b, code, n in cells},
            latency=[(float(value), int(n)) for value, n in latency],
        )

    async def top_keys(self, start: datetime, end: datetime, limit: int) -> Sequence[KeyTraffic]:
        params = {"start": start, "end": end, "limit": limit}
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(TOP_KEYS, params)).fetchall()
        return [KeyTraffic(*row) for row in rows]

    async def rebuild(self, since: datetime | None) -> int:
        async with self._pool.connection(self._pool.maintenance_timeout) as conn:
            row = await (await conn.execute("SELECT usage_rebuild(%s)", (since,))).fetchone()
        return int(row[0]) if row else 0

    async def compact(self) -> int:
        """Fold the deltas the triggers appended into the rollups: a read sums a few rows
        per hour again. Run every few seconds by every worker, one at a time."""
        async with self._pool.connection() as conn:
            row = await (await conn.execute("SELECT usage_compact()")).fetchone()
        return int(row[0]) if row else 0
