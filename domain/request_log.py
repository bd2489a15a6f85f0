from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
class HourCount:
    """One bucket of a usage series: an hour, or a UTC day, and its requests."""

    hour: datetime
    count: int


def status_class(code: int) -> str | None:
    label = f"{code // 100}xx"
    return label if label in STATUS_CLASSES else None
