"""The quota store: one atomic count-and-decide per request."""

from __future__ import annotations

from typing import Protocol

from domain.quota import QuotaDecision


class QuotaStore(Protocol):
    async def take(self, subject: str, limit: int) -> QuotaDecision:
        """Count one request for `subject` if fewer than `limit` were admitted in the
        last hour; atomic across every process sharing the store."""
        ...
