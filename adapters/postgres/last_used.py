"""last_used_at, written in batches: at most once per key per flush interval."""

from __future__ import annotations

import logging
from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from application.ports.errors import StoreError

log = logging.getLogger(__name__)

UPDATE_LAST_USED = """
UPDATE api_keys k SET last_used_at = v.at
FROM unnest(%s::integer[], %s::timestamptz[]) AS v(id, at)
WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)
"""


class BatchedUsageRecorder:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self._pending: dict[int, datetime] = {}

    def touch(self, key_id: int, at: datetime) -> None:
        self._pending[key_id] = at

    async def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        try:
            async with self._pool.connection() as conn:
                await conn.execute(UPDATE_LAST_USED, (list(batch), list(batch.values())))
        except StoreError as exc:
            log.warning("could not write last_used_at (%s); will retry", exc)
            for key_id, at in batch.items():
                self._pending.setdefault(key_id, at)
