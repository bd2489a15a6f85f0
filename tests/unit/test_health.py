from __future__ import annotations

import asyncio

import pytest

from application.health import CheckHealth, CheckReadiness, ShutdownState


class CountingProbe:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.calls = 0

    async def is_reachable(self) -> bool:
        self.calls += 1
        await asyncio.sleep(0.01)
        return self.answer


async def test_probes_once_per_max_age_even_under_concurrent_polls() -> None:
    probe = CountingProbe(True)
    check = CheckHealth(probe, "1.0.0", max_age=0.2)
    reports = await asyncio.gather(*(check() for _ in range(50)))
    assert probe.calls == 1
    assert all(r.ok and r.database_ok for r in reports)
    await asyncio.sleep(0.25)
    probe.answer = False
    report = await check()
    assert probe.calls == 2
    assert not report.ok and not report.database_ok
    assert report.version == "1.0.0"


class Schema:
    def __init__(self, current: bool) -> None:
        self.current = current

    async def is_current(self) -> bool:
        return self.current


async def test_readiness_is_every_check_and_a_stop_shows_at_once() -> None:
    database, quota, shutdown = CountingProbe(True), CountingProbe(True), ShutdownState()
    check = CheckReadiness(database, Schema(True), shutdown, quota_store=quota, max_age=60)
    report = await check()
    assert report.ready
    assert (report.database_ok, report.quota_store_ok, report.migrations_current) == (
        True,
        True,
        True,
    )
    shutdown.begin()
    stopping = await check()
    assert stopping.stopping and not stopping.ready
    assert database.calls == quota.calls == 1  # the stores' answers were still fresh


@pytest.mark.parametrize(
    ("database_ok", "quota_ok", "current"),
    [(False, True, True), (True, False, True), (True, True, False)],
)
async def test_one_failed_check_is_not_ready(
    database_ok: bool, quota_ok: bool, current: bool
) -> None:
    check = CheckReadiness(
        CountingProbe(database_ok),
        Schema(current),
        ShutdownState(),
        quota_store=CountingProbe(quota_ok),
    )
    report = await check()
    assert not report.ready
    # The schema cannot be read without the database: unknown rather than pending.
    assert report.migrations_current == (current if database_ok else None)


async def test_without_a_quota_store_of_its_own_there_is_no_such_check() -> None:
    report = await CheckReadiness(CountingProbe(True), Schema(True), ShutdownState())()
    assert report.ready and report.quota_store_ok is None
