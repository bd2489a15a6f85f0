from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from application.keys import ListKeys
from application.ports.clock import Clock
from application.ports.request_log import RequestLogPruner, RequestLogQueries
from domain.keys import Caller, is_admin
from domain.pagination import MAX_LIMIT, PageRequest
from domain.request_log import LoggedRequest, PruneResult


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
