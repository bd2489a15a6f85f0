"""The background loop behind the request-log and last-used flushes."""

from __future__ import annotations

import asyncio

from adapters.background import PeriodicTask


async def test_stop_lets_a_run_in_progress_finish_then_runs_the_final_job() -> None:
    events: list[str] = []
    started = asyncio.Event()

    async def job() -> None:
        events.append("job started")
        started.set()
        await asyncio.sleep(0.2)
        events.append("job finished")

    async def final() -> None:
        events.append("final")

    task = PeriodicTask("probe", 0.01, job, final)
    await task.start()
    await started.wait()
    await task.stop()

    # A cancelled write cannot tell whether the database took it: it must not be cut short.
    assert events == ["job started", "job finished", "final"]


async def test_stop_between_runs_returns_without_waiting_for_the_interval() -> None:
    runs: list[str] = []

    async def job() -> None:
        runs.append("job")

    task = PeriodicTask("probe", 3600, job)
    await task.start()
    await asyncio.wait_for(task.stop(), timeout=1)
    assert runs == ["job"]  # only the final run at stop
