from __future__ import annotations

import asyncio

from application.health import CheckHealth


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
