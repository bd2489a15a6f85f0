"""Ports of the request log: the sink that takes rows, the queries over them, and
the pruner that removes old ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.request_log import LoggedRequest, PruneResult, RequestLogEntry


class RequestLogSink(Protocol):
    def record(self, entry: RequestLogEntry) -> None:
        """Accept one row without waiting; the adapter writes it soon after."""
        ...


class RequestLogQueries(Protocol):
    async def recent(
        self, key_ids: Sequence[int] | None, status_class: int | None, limit: int
    ) -> Sequence[LoggedRequest]:
        """Newest first; `key_ids` None means every key's, `status_class` e.g. 4 for 4xx."""
        ...


class RequestLogPruner(Protocol):
    """Retention: an operator's command, nothing a request ever does."""

    async def prune(self, before: datetime) -> PruneResult:
        """Remove rows older than `before`: whole partitions where possible."""
        ...
