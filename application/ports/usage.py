"""Ports of usage analytics: the rollups a key's usage and the overview are read from,
and their rebuild from the raw request log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.usage import Granularity, KeyTraffic, UsageCounts


class UsageRollups(Protocol):
    async def key_usage(
        self, key_id: int, start: datetime, end: datetime, granularity: Granularity
    ) -> UsageCounts:
        """The key's requests logged in the hours [start, end), buckets by granularity."""
        ...

    async def top_keys(self, start: datetime, end: datetime, limit: int) -> Sequence[KeyTraffic]:
        """The keys with the most requests in the hours [start, end), most first."""
        ...


class UsageRebuilder(Protocol):
    """An operator's command, after an import or a restore."""

    async def rebuild(self, since: datetime | None) -> int:
        """Recount the rollups of the hours from `since`'s (None: all raw rows) from the
        raw rows; returns the requests counted."""
        ...
