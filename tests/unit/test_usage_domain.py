"""Usage ranges (which buckets, which inputs are refused), the strict parsing of times
and granularities, and percentiles read from a histogram."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidInput
from domain.usage import Granularity, parse_granularity, parse_time, percentile, usage_range

NOW = datetime(2026, 3, 10, 12, 25, tzinfo=UTC)


def test_a_range_holds_the_buckets_that_start_in_it() -> None:
    assert len(usage_range(NOW).buckets) == 24
    on_the_hour = NOW.replace(minute=0)
    assert len(usage_range(on_the_hour).buckets) == 24
    assert usage_range(on_the_hour).buckets[0] == on_the_hour - timedelta(hours=23)
    assert usage_range(on_the_hour).buckets[-1] == on_the_hour
    days = usage_range(NOW, NOW - timedelta(days=7), NOW, Granularity.DAY)
    assert len(days.buckets) == 7 and days.hours == (
        datetime(2026, 3, 4, tzinfo=UTC),
        datetime(2026, 3, 11, tzinfo=UTC),
    )
    assert usage_range(NOW, NOW - timedelta(minutes=10), NOW).hours is None


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (NOW, NOW),
        (NOW, NOW - timedelta(hours=1)),
        (NOW - timedelta(days=401), None),
        (None, NOW + timedelta(days=401)),
        (None, datetime(1, 1, 1, tzinfo=UTC)),
        (datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)),
    ],
)
def test_a_range_backwards_or_too_far_is_refused(
    start: datetime | None, end: datetime | None
) -> None:
    with pytest.raises(InvalidInput):
        usage_range(NOW, start, end)


def test_times_and_granularities_are_parsed_strictly() -> None:
    assert parse_time("2026-03-01T00:00:00Z", "from") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_time("2026-03-01T02:00:00+02:00", "from") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_time("2026-03-01", "from") == datetime(2026, 3, 1, tzinfo=UTC)
    for bad in ("yesterday", "", "2026-13-01"):
        with pytest.raises(InvalidInput):
            parse_time(bad, "from")
    assert parse_granularity(None) is Granularity.HOUR
    assert parse_granularity("day") is Granularity.DAY
    with pytest.raises(InvalidInput):
        parse_granularity("week")


def test_percentile_interpolates_between_ranks_as_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([(10.0, 1)], 0.99) == 10.0
    assert percentile([(10.0, 1), (20.0, 1)], 0.5) == 15.0
    assert percentile([(1.0, 3), (100.0, 1)], 0.5) == 1.0
    assert percentile([(1.0, 3), (100.0, 1)], 0.95) == pytest.approx(85.15)
