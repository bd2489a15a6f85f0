"""Where the application counts: each quota decision once, a failed store too (whether
the request is then admitted or refused)."""

from __future__ import annotations

import pytest

from application.quota import CheckQuota
from domain.errors import QuotaExceeded, ServiceUnavailable
from tests.fakes.clock import FakeClock
from tests.fakes.metrics import CountingMetrics
from tests.fakes.quota import InMemoryQuotaStore


async def test_every_quota_decision_is_counted_by_outcome() -> None:
    store, metrics = InMemoryQuotaStore(FakeClock()), CountingMetrics()
    check = CheckQuota(store, fail_open=False, metrics=metrics)
    await check("key:1", 2)
    await check("key:1", 2)
    with pytest.raises(QuotaExceeded):
        await check("key:1", 2)
    store.unavailable = True
    with pytest.raises(ServiceUnavailable):
        await check("key:1", 2)
    assert await CheckQuota(store, fail_open=True, metrics=metrics)("key:1", 2) is None
    assert metrics.counts == {
        ("quota", "admitted"): 2,
        ("quota", "rejected"): 1,
        ("quota", "unavailable"): 2,
    }
