"""Usage use cases on fakes: a key's usage over a range, the admin overview, and the
range rules (which buckets, which inputs are refused)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from application.keys import GetKey, IssueKey
from application.usage import KeyUsage, UsageOverview
from domain.audit import CLI
from domain.errors import InvalidInput, NotFound, PermissionDenied
from domain.key_requests import KeyRequest
from domain.keys import OPERATOR, ApiKey, Permission
from domain.request_log import RequestLogEntry
from domain.usage import Granularity, parse_granularity, parse_time, percentile, usage_range
from tests.fakes import FakeClock, InMemoryKeys, InMemoryRequestLog, InMemoryUsageRollups

R, A = Permission.READ, Permission.ADMIN
NOW = datetime(2026, 3, 10, 12, 25, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def keys(clock: FakeClock) -> InMemoryKeys:
    return InMemoryKeys(clock)


async def issued(keys: InMemoryKeys, user: str, *permissions: Permission) -> ApiKey:
    request = KeyRequest("k", frozenset(permissions or (R,)), user_id=user)
    return (await IssueKey(keys, keys.clock)(request, OPERATOR, user, origin=CLI)).key


def log(store: InMemoryRequestLog, at: datetime, key: ApiKey, status: int, ms: float) -> None:
    store.record(RequestLogEntry("GET", "/api/x", status, ms, "10.0.0.1", key.id, at))


def rollups(store: InMemoryRequestLog, *keys: ApiKey) -> InMemoryUsageRollups:
    return InMemoryUsageRollups(store, {k.id: (k.name, k.user_id) for k in keys})


async def test_usage_counts_the_24_hours_before_now_by_status_class_and_hour(
    keys: InMemoryKeys, clock: FakeClock
) -> None:
    store = InMemoryRequestLog()
    mine = await issued(keys, "alice")
    log(store, NOW - timedelta(hours=24), mine, 200, 10.0)  # its hour starts before the range
    for status, ms in ((200, 1.0), (201, 2.0), (404, 3.0), (503, 4.0), (302, 5.0)):
        log(store, NOW - timedelta(hours=22), mine, status, ms)
    log(store, NOW, mine, 200, 6.0)
    report = await KeyUsage(GetKey(keys), rollups(store, mine), clock)(mine, mine.id)
    assert report.total == 6
    assert report.by_status == {"2xx": 3, "3xx": 1, "4xx": 1, "5xx": 1}
    assert report.by_status_code == {200: 2, 201: 1, 302: 1, 404: 1, 503: 1}
    assert len(report.hourly) == 24 and sum(h.count for h in report.hourly) == 6
    assert report.hourly[-1].hour == NOW.replace(minute=0)
    assert (report.p50_ms, report.p95_ms, report.p99_ms) == (3.5, 5.75, 5.95)
    assert [h.count for h in report.series("2xx") if h.count] == [2, 1]
    assert [h.count for h in report.series("404") if h.count] == [1]


async def test_usage_by_day_over_an_explicit_range(keys: InMemoryKeys, clock: FakeClock) -> None:
    store = InMemoryRequestLog()
    mine = await issued(keys, "alice")
    day = datetime(2026, 3, 1, tzinfo=UTC)
    for d, n in ((0, 2), (1, 0), (2, 3), (5, 1)):
        for i in range(n):
            log(store, day + timedelta(days=d, hours=i * 7), mine, 200, 1.0)
    use = KeyUsage(GetKey(keys), rollups(store, mine), clock)
    report = await use(mine, mine.id, day, day + timedelta(days=3), Granularity.DAY)
    assert [(h.hour, h.count) for h in report.hourly] == [
        (day, 2), (day + timedelta(days=1), 0), (day + timedelta(days=2), 3),
    ]  # fmt: skip
    assert report.total == 5


async def test_usage_of_another_users_key_is_not_found(
    keys: InMemoryKeys, clock: FakeClock
) -> None:
    mine, theirs = await issued(keys, "alice"), await issued(keys, "bob")
    store = InMemoryRequestLog()
    with pytest.raises(NotFound):
        await KeyUsage(GetKey(keys), rollups(store, mine, theirs), clock)(mine, theirs.id)


async def test_overview_ranks_keys_for_admins_only(keys: InMemoryKeys, clock: FakeClock) -> None:
    store = InMemoryRequestLog()
    admin, busy, quiet = (
        await issued(keys, "root", A), await issued(keys, "alice"), await issued(keys, "bob")
    )  # fmt: skip
    for status in (200, 200, 404, 500):
        log(store, NOW - timedelta(hours=1), busy, status, 1.0)
    log(store, NOW - timedelta(hours=2), quiet, 200, 1.0)
    overview = UsageOverview(rollups(store, admin, busy, quiet), clock)
    _, top = await overview(admin)
    assert [(t.key_id, t.total, t.client_error_rate, t.server_error_rate) for t in top] == [
        (busy.id, 4, 0.25, 0.25), (quiet.id, 1, 0.0, 0.0),
    ]  # fmt: skip
    with pytest.raises(PermissionDenied):
        await overview(busy)


def test_a_range_holds_the_buckets_that_start_in_it() -> None:
    assert len(usage_range(NOW).buckets) == 24
    on_the_hour = NOW.replace(minute=0)
    assert len(usage_range(on_the_hour).buckets) == 24
    assert usage_range(on_the_hour).buckets[0] == on_the_hour - timedelta(hours=24)
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
