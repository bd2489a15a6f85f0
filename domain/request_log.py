from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

USAGE_WINDOW = timedelta(hours=24)
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    method: str
    path: str
    status_code: int
    response_time_ms: float
    ip_address: str | None
    api_key_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PruneResult:
    partitions_dropped: int
    rows_deleted: int


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    id: int
    entry: RequestLogEntry


@dataclass(frozen=True, slots=True)
class UsageCounts:
    """A key's logged requests since some time, as the store counts them."""

    by_hour: dict[datetime, int]
    by_status_code: dict[int, int]
    p50_ms: float | None
    p95_ms: float | None


@dataclass(frozen=True, slots=True)
class HourCount:
    hour: datetime
    count: int


@dataclass(frozen=True, slots=True)
class KeyUsageReport:
    """A key's traffic over the USAGE_WINDOW ending now."""

    key_id: int
    total: int
    hourly: tuple[HourCount, ...]
    by_status: dict[str, int]
    p50_ms: float | None
    p95_ms: float | None


def hourly_series(counts: dict[datetime, int], until: datetime) -> tuple[HourCount, ...]:
    """One entry per hour of the window, oldest first, zero where nothing was logged."""
    last = until.replace(minute=0, second=0, microsecond=0)
    hours = [last - timedelta(hours=i) for i in range(23, -1, -1)]
    return tuple(HourCount(hour, counts.get(hour, 0)) for hour in hours)


def status_class(code: int) -> str | None:
    label = f"{code // 100}xx"
    return label if label in STATUS_CLASSES else None
