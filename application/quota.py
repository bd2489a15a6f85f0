"""CheckQuota: admit a request against its subject's hourly limit, or say why not."""

from __future__ import annotations

import logging

from application.ports.errors import StoreUnavailable
from application.ports.quota import QuotaStore
from domain.errors import QuotaExceeded, ServiceUnavailable
from domain.quota import QuotaDecision

log = logging.getLogger(__name__)


def key_subject(key_id: int) -> str:
    return f"key:{key_id}"


def ip_subject(ip: str) -> str:
    return f"ip:{ip}"


class CheckQuota:
    def __init__(self, store: QuotaStore, *, fail_open: bool, retry_after: int = 5) -> None:
        self._store = store
        self._fail_open = fail_open
        self._retry_after = retry_after

    async def __call__(self, subject: str, limit: int) -> QuotaDecision | None:
        """The decision for an admitted request; None when the store is down and the
        configuration says to admit anyway. Raises QuotaExceeded or ServiceUnavailable."""
        try:
            decision = await self._store.take(subject, limit)
        except StoreUnavailable:
            if self._fail_open:
                log.warning("quota store unavailable; admitting %s unchecked", subject)
                return None
            raise ServiceUnavailable(
                "Rate limit service unavailable", retry_after=self._retry_after
            ) from None
        if not decision.admitted:
            raise QuotaExceeded(decision.limit, decision.retry_after, decision.reset_after)
        return decision
