"""The levels a scrape shows (request-log buffer, pool connections, webhook queue),
sampled into this worker's gauges: under `serve` the scrape is answered by any one
process and can only read what every worker wrote down, never ask the others."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from adapters.postgres.pool import KeygatePool
from adapters.postgres.request_logs import PostgresRequestLogSink
from adapters.prometheus.metrics import PrometheusMetrics
from application.ports.errors import StoreError

COUNT_PENDING = "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"


class GaugeSampler:
    def __init__(
        self,
        metrics: PrometheusMetrics,
        pool: KeygatePool,
        sink: PostgresRequestLogSink,
        queue_depth: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self._metrics = metrics
        self._pool = pool
        self._sink = sink
        self._queue_depth = queue_depth or self._count_pending

    async def sample(self) -> None:
        try:
            depth: int | None = await self._queue_depth()
        except StoreError:
            depth = None  # the database is away: the last depth stands
        stats = self._pool.get_stats()
        size, idle = stats.get("pool_size", 0), stats.get("pool_available", 0)
        pool = {"idle": idle, "used": size - idle, "waiting": stats.get("requests_waiting", 0)}
        self._metrics.gauges(buffered=self._sink.pending, pool=pool, queue_depth=depth)

    async def _count_pending(self) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute(COUNT_PENDING)
            row = await cur.fetchone()
        return int(row[0]) if row else 0
