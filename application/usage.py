"""Usage analytics use cases, all on the hourly rollups: a key's usage over a range,
the admins' overview of the busiest keys, and the operator's rebuild."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from application.keys import GetKey
from application.ports.clock import Clock
from application.ports.usage import UsageRebuilder, UsageRollups
from domain.errors import PermissionDenied
from domain.keys import Caller, Permission, is_admin
from domain.usage import (
    DEFAULT_RANGE,
    Granularity,
    KeyTraffic,
    KeyUsageReport,
    UsageCounts,
    UsageRange,
    key_usage_report,
    usage_range,
)

OVERVIEW_LIMIT = 20
_NOTHING = UsageCounts(by_bucket_status={}, latency=())


class KeyUsage:
    def __init__(self, keys: GetKey, rollups: UsageRollups, clock: Clock) -> None:
        self._keys = keys
        self._rollups = rollups
        self._clock = clock

    async def __call__(
        self,
        caller: Caller,
        key_id: int,
        start: datetime | None = None,
        end: datetime | None = None,
        granularity: Granularity = Granularity.HOUR,
        span: timedelta = DEFAULT_RANGE,
    ) -> KeyUsageReport:
        """`span`: how far back the range reaches when `start` is not given."""
        at = usage_range(self._clock.now(), start, end, granularity, span)
        key = await self._keys(caller, key_id)
        hours = at.hours
        if hours is None:
            return key_usage_report(key.id, at, _NOTHING)
        counts = await self._rollups.key_usage(key.id, *hours, granularity)
        return key_usage_report(key.id, at, counts)


class UsageOverview:
    """Admins only: the keys with the most requests over a range, with their error rates."""

    def __init__(self, rollups: UsageRollups, clock: Clock) -> None:
        self._rollups = rollups
        self._clock = clock

    async def __call__(
        self, caller: Caller, span: timedelta = DEFAULT_RANGE
    ) -> tuple[UsageRange, Sequence[KeyTraffic]]:
        """The `span` before now."""
        if not is_admin(caller):
            raise PermissionDenied("Admin permission required", missing=Permission.ADMIN.value)
        at = usage_range(self._clock.now(), span=span)
        hours = at.hours
        if hours is None:
            return at, []
        return at, await self._rollups.top_keys(*hours, OVERVIEW_LIMIT)


class RebuildUsage:
    def __init__(self, rebuilder: UsageRebuilder) -> None:
        self._rebuilder = rebuilder

    async def __call__(self, since: datetime | None = None) -> int:
        return await self._rebuilder.rebuild(since)
