"""Wire shapes of quotas: GET /api/keys/{id}/quota, and a key item's `credits`."""

from __future__ import annotations

import msgspec

from domain.credits import CreditRule
from domain.quota import Verdict
from entrypoints.views.keys import CreditsView


class WindowView(msgspec.Struct, rename="camel"):
    name: str
    limit: int
    window_seconds: int
    remaining: int
    # Seconds until every request counted in the window has left it.
    reset_seconds: int


class QuotaView(msgspec.Struct, rename="camel"):
    key_id: int
    windows: list[WindowView]
    credits: CreditsView | None

    @classmethod
    def of(cls, key_id: int, credits: CreditRule | None, verdict: Verdict) -> QuotaView:
        return cls(
            key_id=key_id,
            windows=[
                WindowView(w.name, w.limit, w.seconds, w.remaining, w.reset_after)
                for w in verdict.windows
            ],
            credits=CreditsView.of(credits, verdict.credits_remaining),
        )
