from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from application.keys import GetKey, ListKeys
from application.ports.clock import Clock
from application.ports.request_log import RequestLogPruner, RequestLogQueries
from domain.keys import Caller, is_admin
from domain.pagination import MAX_LIMIT, PageRequest
from domain.request_log import (
    STATUS_CLASSES,
    USAGE_WINDOW,
    KeyUsageReport,
    LoggedRequest,
    PruneResult,
    hourly_series,
    status_class,
)


class KeyUsage:
    def __init__(self, keys: GetKey, queries: RequestLogQueries, clock: Clock) -> None:
        self._keys = keys
        self._queries = queries
        self._clock = clock

    async def __call__(self, caller: Caller, key_id: int) -> KeyUsageReport:
        key = await self._keys(caller, key_id)
        now = self._clock.now()
        counts = await self._queries.usage_counts(key.id, now - USAGE_WINDOW)
        by_status = dict.fromkeys(STATUS_CLASSES, 0)
        for code, count in counts.by_status_code.items():
            label = status_class(code)
            if label:
                by_status[label] += count
        return KeyUsageReport(
            key_id=key.id,
            total=sum(counts.by_status_code.values()),
            hourly=hourly_series(counts.by_hour, now),
            by_status=by_status,
            p50_ms=counts.p50_ms,
            p95_ms=counts.p95_ms,
        )


class RecentRequests:
    def __init__(self, list_keys: ListKeys, queries: RequestLogQueries) -> None:
        self._list_keys = list_keys
        self._queries = queries

    async def __call__(
        self, caller: Caller, status_class: int | None = None, limit: int = 50
    ) -> Sequence[LoggedRequest]:
        """The newest requests made with keys the caller may see (admins: all keys)."""
        if is_admin(caller):
            return await self._queries.recent(None, status_class, limit)
        key_ids: list[int] = []
        page = 1
        while True:
            keys, info = await self._list_keys(caller, None, PageRequest(page, MAX_LIMIT))
            key_ids += [k.id for k in keys]
            if not info.has_next:
                break
            page += 1
        return await self._queries.recent(key_ids, status_class, limit)


class PruneRequestLogs:
    def __init__(self, pruner: RequestLogPruner, clock: Clock) -> None:
        self._pruner = pruner
        self._clock = clock

    async def __call__(self, older_than: timedelta) -> PruneResult:
        return await self._pruner.prune(self._clock.now() - older_than)
