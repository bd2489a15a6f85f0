"""Request-log and usage use cases on fakes: a key's usage (from rollups faked over the
rows), the admin overview, recent requests, pruning."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from application.keys import GetKey, IssueKey, ListKeys
from application.request_log import PruneRequestLogs, RecentRequests
from application.usage import KeyUsage, UsageOverview
from domain.audit import CLI
from domain.errors import NotFound, PermissionDenied
from domain.key_requests import KeyRequest
from domain.keys import OPERATOR, ApiKey, Permission
from domain.pagination import SignedCursors
from domain.request_log import RequestLogEntry
from domain.usage import Granularity
from tests.fakes import FakeClock, InMemoryKeys, InMemoryRequestLog, InMemoryUsageRollups

R, A = Permission.READ, Permission.ADMIN


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def keys(clock: FakeClock) -> InMemoryKeys:
    return InMemoryKeys(clock)


async def issued(keys: InMemoryKeys, user: str, *permissions: Permission) -> ApiKey:
    request = KeyRequest("k", frozenset(permissions or (R,)), user_id=user)
    return (await IssueKey(keys, keys.clock)(request, OPERATOR, user, origin=CLI)).key


def log(store: InMemoryRequestLog, clock: FakeClock, key: ApiKey, status: int, ms: float) -> None:
    store.record(RequestLogEntry("GET", "/api/x", status, ms, "10.0.0.1", key.id, clock.now()))


def log_at(store: InMemoryRequestLog, at: datetime, key: ApiKey, status: int, ms: float) -> None:
    store.record(RequestLogEntry("GET", "/api/x", status, ms, "10.0.0.1", key.id, at))


def rollups(store: InMemoryRequestLog, *keys: ApiKey) -> InMemoryUsageRollups:
    return InMemoryUsageRollups(store, {k.id: (k.name, k.user_id) for k in keys})


async def test_usage_counts_the_24_hours_before_now_by_status_class_and_hour(
    keys: InMemoryKeys, clock: FakeClock
) -> None:
    store = InMemoryRequestLog()
    mine = await issued(keys, "alice")
    log_at(
        store, clock.now() - timedelta(hours=24), mine, 200, 10.0
    )  # its hour starts before the range
    for status, ms in ((200, 1.0), (201, 2.0), (404, 3.0), (503, 4.0), (302, 5.0)):
        log_at(store, clock.now() - timedelta(hours=22), mine, status, ms)
    log_at(store, clock.now(), mine, 200, 6.0)
    report = await KeyUsage(GetKey(keys), rollups(store, mine), clock)(mine, mine.id)
    assert report.total == 6
    assert report.by_status == {"2xx": 3, "3xx": 1, "4xx": 1, "5xx": 1}
    assert report.by_status_code == {200: 2, 201: 1, 302: 1, 404: 1, 503: 1}
    assert len(report.hourly) == 24 and sum(h.count for h in report.hourly) == 6
    assert report.hourly[-1].hour == clock.now().replace(minute=0)
    assert (report.p50_ms, report.p95_ms, report.p99_ms) == (3.5, 5.75, 5.95)
    assert [h.count for h in report.series("2xx") if h.count] == [2, 1]
    assert [h.count for h in report.series("404") if h.count] == [1]


async def test_usage_by_day_over_an_explicit_range(keys: InMemoryKeys, clock: FakeClock) -> None:
    store = InMemoryRequestLog()
    mine = await issued(keys, "alice")
    day = clock.now() - timedelta(days=9)
    for d, n in ((0, 2), (1, 0), (2, 3), (5, 1)):
        for i in range(n):
            log_at(store, day + timedelta(days=d, hours=i * 7), mine, 200, 1.0)
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
        log_at(store, clock.now() - timedelta(hours=1), busy, status, 1.0)
    log_at(store, clock.now() - timedelta(hours=2), quiet, 200, 1.0)
    overview = UsageOverview(rollups(store, admin, busy, quiet), clock)
    _, top = await overview(admin)
    assert [(t.key_id, t.total, t.client_error_rate, t.server_error_rate) for t in top] == [
        (busy.id, 4, 0.25, 0.25), (quiet.id, 1, 0.0, 0.0),
    ]  # fmt: skip
    with pytest.raises(PermissionDenied):
        await overview(busy)


async def test_recent_requests_are_the_callers_keys_unless_admin(
    keys: InMemoryKeys, clock: FakeClock
) -> None:
    store = InMemoryRequestLog()
    mine, theirs = await issued(keys, "alice"), await issued(keys, "bob")
    admin = await issued(keys, "root", A)
    for key, status in ((mine, 200), (theirs, 200), (mine, 404)):
        log(store, clock, key, status, 1.0)
        clock.advance(1)
    list_keys = ListKeys(keys, _codec)
    recent = RecentRequests(list_keys, store)
    assert [r.entry.status_code for r in await recent(mine)] == [404, 200]
    assert [r.id for r in await recent(mine, status_class=2)] == [1]
    assert len(await recent(admin)) == 3


async def _codec() -> SignedCursors:
    return SignedCursors("test")


async def test_prune_removes_rows_older_than_the_age(keys: InMemoryKeys, clock: FakeClock) -> None:
    store = InMemoryRequestLog()
    key = await issued(keys, "alice")
    log(store, clock, key, 200, 1.0)
    clock.advance(3 * 86400)
    log(store, clock, key, 200, 1.0)
    result = await PruneRequestLogs(store, clock)(timedelta(days=2))
    assert result.rows_deleted == 1
    assert [r.id for r in store.rows] == [2]
