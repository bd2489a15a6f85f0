from __future__ import annotations

import msgspec

from domain.usage import KeyUsageReport
from entrypoints.views.keys import iso


class HourView(msgspec.Struct):
    hour: str
    count: int


class LatencyView(msgspec.Struct):
    p50: float | None
    p95: float | None
    p99: float | None


class UsageView(msgspec.Struct, rename="camel"):
    key_id: int
    total: int
    hourly: list[HourView]
    by_status: dict[str, int]
    latency_ms: LatencyView

    @classmethod
    def of(cls, report: KeyUsageReport) -> UsageView:
        return cls(
            key_id=report.key_id,
            total=report.total,
            hourly=[HourView(hour=iso(h.hour) or "", count=h.count) for h in report.hourly],
            by_status=report.by_status,
            latency_ms=LatencyView(p50=report.p50_ms, p95=report.p95_ms, p99=report.p99_ms),
        )
