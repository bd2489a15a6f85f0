"""The quota store in memory: the domain's own window arithmetic, per subject."""

from __future__ import annotations

from application.ports.errors import StoreUnavailable
from domain.quota import QuotaDecision, Window, take
from tests.fakes.clock import FakeClock


class InMemoryQuotaStore:
    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._windows: dict[str, Window] = {}
        self.unavailable = False

    async def take(self, subject: str, limit: int) -> QuotaDecision:
        if self.unavailable:
            raise StoreUnavailable("down")
        window, decision = take(self._windows.get(subject), limit, self._clock.now().timestamp())
        self._windows[subject] = window
        return decision
