"""Request-log use cases on fakes: recent requests, pruning."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.keys import IssueKey, ListKeys
from application.request_log import PruneRequestLogs, RecentRequests
from domain.audit import CLI
from domain.key_requests import KeyRequest
from domain.keys import OPERATOR, ApiKey, Permission
from domain.pagination import SignedCursors
from domain.request_log import RequestLogEntry
from tests.fakes import FakeClock, InMemoryKeys, InMemoryRequestLog

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
