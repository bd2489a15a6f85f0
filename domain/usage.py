"""A key's usage over a range of hours or days, as the rollups hold it: which buckets
a range covers, and latency percentiles read from a histogram."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from domain.errors import FieldError, InvalidInput
from domain.request_log import STATUS_CLASSES, HourCount, status_class

DEFAULT_RANGE = timedelta(hours=24)
MAX_LOOKBACK = timedelta(days=400)


class Granularity(StrEnum):
    HOUR = "hour"
    DAY = "day"

    @property
    def step(self) -> timedelta:
        return timedelta(hours=1) if self is Granularity.HOUR else timedelta(days=1)

    def floor(self, at: datetime) -> datetime:
        at = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        return at.replace(hour=0) if self is Granularity.DAY else at


@dataclass(frozen=True, slots=True)
class UsageRange:
    """The buckets (hours or UTC days) whose start lies in [start, end)."""

    start: datetime
    end: datetime
    granularity: Granularity

    @property
    def buckets(self) -> tuple[datetime, ...]:
        step = self.granularity.step
        first = self.granularity.floor(self.start)
        if first < self.start:
            first += step
        count = max(0, math.ceil((self.end - first) / step))
        return tuple(first + i * step for i in range(count))

    @property
    def hours(self) -> tuple[datetime, datetime] | None:
        """[from, to) of the hourly rollups the buckets sum, None when there is no bucket."""
        buckets = self.buckets
        if not buckets:
            return None
        return buckets[0], buckets[-1] + self.granularity.step


def usage_range(
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    granularity: Granularity = Granularity.HOUR,
    span: timedelta = DEFAULT_RANGE,
) -> UsageRange:
    """The range a caller asked for, InvalidInput when it runs backwards or too far.
    Default `end`: the end of the bucket holding now (so the current hour or day is
    the last bucket); default `start`: `span` before `end`."""
    end = granularity.floor(now) + granularity.step if end is None else _aware(end)
    # `end` first: `end - span` of a time near year 1 would not be a datetime.
    if not now - MAX_LOOKBACK < end <= now + MAX_LOOKBACK:
        raise InvalidInput(
            "to is out of range", [FieldError("to", "within 400 days of now, either way")]
        )
    start = end - span if start is None else _aware(start)
    if start >= end:
        raise InvalidInput("from must be before to", [FieldError("from", "not before to")])
    if start < now - MAX_LOOKBACK:
        raise InvalidInput(
            "from is too far back", [FieldError("from", "at most 400 days before now")]
        )
    return UsageRange(start, end, granularity)


def _aware(at: datetime) -> datetime:
    """A time without an offset is UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def percentile(histogram: Sequence[tuple[float, int]], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over values given as (value, how many), ascending:
    linear interpolation between the two nearest ranks. With each value a histogram
    bucket's middle, each rank is off by at most the bucket's half-width and so, being
    a weighted mean of two ranks, is the result."""
    total = sum(n for _, n in histogram)
    if total == 0:
        return None
    position = fraction * (total - 1)
    low = math.floor(position)
    low_value, high_value = _ranked(histogram, low), _ranked(histogram, min(low + 1, total - 1))
    # Six significant digits: a relative error bound holds for small values too.
    return float(f"{low_value + (high_value - low_value) * (position - low):.6g}")


def _ranked(histogram: Sequence[tuple[float, int]], rank: int) -> float:
    """The value at 0-based `rank` in sorted order."""
    seen = 0
    for value, n in histogram:
        seen += n
        if rank < seen:
            return value
    raise ValueError("rank beyond the histogram")


@dataclass(frozen=True, slots=True)
class UsageCounts:
    """What the rollups hold for a key over a range: requests per (bucket start, exact
    status), and the latency histogram as (value, how many), ascending."""

    by_bucket_status: dict[tuple[datetime, int], int]
    latency: Sequence[tuple[float, int]]


@dataclass(frozen=True, slots=True)
class KeyUsageReport:
    """A key's traffic over a range, bucket by bucket."""

    key_id: int
    range: UsageRange
    total: int
    hourly: tuple[HourCount, ...]
    by_status: dict[str, int]
    by_status_code: dict[int, int]
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    # bucket start -> exact status -> requests, for a series of one status or class
    cells: dict[datetime, dict[int, int]]

    def series(self, status: str | None = None) -> tuple[HourCount, ...]:
        """The buckets' requests of one class ("4xx") or exact status ("404"), or all."""
        if status is None:
            return self.hourly
        return tuple(
            HourCount(h.hour, sum(n for code, n in self.cells.get(h.hour, {}).items()
                                  if _matches(code, status)))
            for h in self.hourly
        )  # fmt: skip


def _matches(code: int, status: str) -> bool:
    return status == str(code) or status == f"{code // 100}xx"


def key_usage_report(key_id: int, at: UsageRange, counts: UsageCounts) -> KeyUsageReport:
    cells: dict[datetime, dict[int, int]] = {}
    by_code: dict[int, int] = {}
    for (bucket, code), n in counts.by_bucket_status.items():
        cells.setdefault(bucket, {})[code] = n
        by_code[code] = by_code.get(code, 0) + n
    by_status = dict.fromkeys(STATUS_CLASSES, 0)
    for code, n in by_code.items():
        label = status_class(code)
        if label:
            by_status[label] += n
    return KeyUsageReport(
        key_id=key_id,
        range=at,
        total=sum(by_code.values()),
        hourly=tuple(HourCount(b, sum(cells.get(b, {}).values())) for b in at.buckets),
        by_status=by_status,
        by_status_code=dict(sorted(by_code.items())),
        p50_ms=percentile(counts.latency, 0.5),
        p95_ms=percentile(counts.latency, 0.95),
        p99_ms=percentile(counts.latency, 0.99),
        cells=cells,
    )


@dataclass(frozen=True, slots=True)
class KeyTraffic:
    """One line of the admin overview: a key's requests over a range."""

    key_id: int
    name: str
    user_id: str
    total: int
    client_errors: int
    server_errors: int

    @property
    def client_error_rate(self) -> float:
        return self.client_errors / self.total if self.total else 0.0

    @property
    def server_error_rate(self) -> float:
        return self.server_errors / self.total if self.total else 0.0


def parse_time(text: str, field: str) -> datetime:
    """An ISO 8601 time as a caller wrote it (no offset: UTC); 400 otherwise."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{field} is not an ISO 8601 time", [FieldError(field, "e.g. 2026-12-01T00:00:00Z")]
        ) from None
    return _aware(at)


def parse_granularity(text: str | None) -> Granularity:
    if text is None:
        return Granularity.HOUR
    try:
        return Granularity(text)
    except ValueError:
        raise InvalidInput(
            "granularity must be hour or day", [FieldError("granularity", "hour or day")]
        ) from None
