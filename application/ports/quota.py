"""The quota store: one atomic decision per request over a subject's whole policy."""

from __future__ import annotations

from typing import Protocol

from domain.quota import QuotaPolicy, Verdict


class QuotaStore(Protocol):
    async def decide(self, subject: str, policy: QuotaPolicy) -> Verdict:
        """Admit one request for `subject` when every window of `policy` has room and a
        credit is left, and count it in all of them; a refused request changes nothing.
        Atomic across every process sharing the store (domain/quota.py `decide`)."""
        ...

    async def look(self, subject: str, policy: QuotaPolicy) -> Verdict:
        """What a request would meet now, counting nothing and writing nothing."""
        ...
