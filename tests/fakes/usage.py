"""Usage rollups in memory, computed from an InMemoryRequestLog's rows: exact counts,
and every latency its own histogram value (so percentiles are exact too)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from domain.usage import Granularity, KeyTraffic, UsageCounts
from tests.fakes.request_log import InMemoryRequestLog


class InMemoryUsageRollups:
    def __init__(self, log: InMemoryRequestLog, key_names: dict[int, tuple[str, str]]) -> None:
        self._log = log
        self._names = key_names  # key id -> (name, user id)

    def _in(self, start: datetime, end: datetime) -> list[tuple[int, datetime, int, float]]:
        rows = []
        for r in self._log.rows:
            e = r.entry
            hour = e.created_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            if e.api_key_id is not None and start <= hour < end:
                rows.append((e.api_key_id, hour, e.status_code, e.response_time_ms))
        return rows

    async def key_usage(
        self, key_id: int, start: datetime, end: datetime, granularity: Granularity
    ) -> UsageCounts:
        mine = [row for row in self._in(start, end) if row[0] == key_id]
        cells = Counter((granularity.floor(hour), status) for _, hour, status, _ in mine)
        return UsageCounts(dict(cells), sorted(Counter(ms for *_, ms in mine).items()))

    async def top_keys(self, start: datetime, end: datetime, limit: int) -> Sequence[KeyTraffic]:
        by_key: dict[int, list[int]] = {}
        for key, _, status, _ in self._in(start, end):
            by_key.setdefault(key, []).append(status)
        lines = [
            KeyTraffic(
                key,
                *self._names[key],
                len(codes),
                sum(400 <= c < 500 for c in codes),
                sum(500 <= c < 600 for c in codes),
            )
            for key, codes in by_key.items()
        ]
        return sorted(lines, key=lambda t: (-t.total, t.key_id))[:limit]
