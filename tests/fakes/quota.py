"""The quota store in memory: the domain's own decision, per subject."""

from __future__ import annotations

from application.ports.errors import StoreUnavailable
from domain.quota import QuotaDecision, QuotaPolicy, QuotaState, Verdict, decide
from tests.fakes.clock import FakeClock


class InMemoryQuotaStore:
    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._states: dict[str, QuotaState] = {}
        self.unavailable = False

    async def decide(self, subject: str, policy: QuotaPolicy) -> Verdict:
        return self._decide(subject, policy, spend=True)

    async def look(self, subject: str, policy: QuotaPolicy) -> Verdict:
        return self._decide(subject, policy, spend=False)

    async def take(self, subject: str, limit: int) -> QuotaDecision:
        verdict = await self.decide(subject, QuotaPolicy.hourly(limit))
        hour = verdict.windows[0]
        return QuotaDecision(
            verdict.admitted, limit, hour.remaining, hour.retry_after, hour.reset_after
        )

    def _decide(self, subject: str, policy: QuotaPolicy, *, spend: bool) -> Verdict:
        if self.unavailable:
            raise StoreUnavailable("down")
        now = self._clock.now().timestamp()
        state, verdict = decide(self._states.get(subject), policy, now, spend=spend)
        if spend:
            self._states[subject] = state
        return verdict
