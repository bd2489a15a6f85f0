"""request_logs in memory: the sink, the queries over it and the pruner."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.request_log import LoggedRequest, PruneResult, RequestLogEntry


def _as_real(value: float) -> float:
    """What a `real` column gives back: the nearest single-precision value, read as the
    shortest decimal that names it (PostgreSQL's float4 output)."""
    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        shortest = float(f"{single:.{digits}g}")
        if struct.unpack("f", struct.pack("f", shortest))[0] == single:
            return shortest
    return single


def _as_stored(entry: RequestLogEntry) -> RequestLogEntry:
    """As the table keeps a row: text holds no NUL (the sink writes U+FFFD instead)."""
    ip = entry.ip_address.replace("\x00", "\ufffd") if entry.ip_address else entry.ip_address
    return replace(
        entry,
        path=entry.path.replace("\x00", "\ufffd"),
        ip_address=ip,
        response_time_ms=_as_real(entry.response_time_ms),
    )


class InMemoryRequestLog:
    def __init__(self) -> None:
        self.rows: list[LoggedRequest] = []

    # RequestLogSink
    def record(self, entry: RequestLogEntry) -> None:
        self.rows.append(LoggedRequest(len(self.rows) + 1, _as_stored(entry)))

    # RequestLogQueries
    async def recent(
        self, key_ids: Sequence[int] | None, status_class: int | None, limit: int
    ) -> Sequence[LoggedRequest]:
        chosen = [
            r
            for r in self.rows
            if (key_ids is None or r.entry.api_key_id in key_ids)
            and (status_class is None or r.entry.status_code // 100 == status_class)
        ]
        chosen.sort(key=lambda r: (r.entry.created_at, r.id), reverse=True)
        return chosen[:limit]

    # RequestLogPruner
    async def prune(self, before: datetime) -> PruneResult:
        kept = [r for r in self.rows if r.entry.created_at >= before]
        deleted = len(self.rows) - len(kept)
        self.rows = kept
        return PruneResult(partitions_dropped=0, rows_deleted=deleted)
