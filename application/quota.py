"""CheckQuota: admit a request against its subject's windows and credits, or say why
not; LookAtQuota: what a key has left, spending nothing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from application.keys import GetKey
from application.ports.errors import StoreUnavailable
from application.ports.quota import QuotaStore
from domain.errors import CreditsExhausted, QuotaExceeded, ServiceUnavailable
from domain.keys import ApiKey, Caller
from domain.quota import QuotaPolicy, Verdict

log = logging.getLogger(__name__)

PER = {60: "minute", 3600: "hour", 86400: "day"}


def key_subject(key_id: int) -> str:
    return f"key:{key_id}"


def ip_subject(ip: str) -> str:
    return f"ip:{ip}"


def key_policy(key: ApiKey) -> QuotaPolicy:
    """Everything a key is held to: its windows (rateLimit is the hour) and credits."""
    return QuotaPolicy.of(
        key.rate_limit, key.rate_limit_per_minute, key.rate_limit_per_day, key.credits
    )


def refusal(verdict: Verdict) -> QuotaExceeded | CreditsExhausted:
    """The error a refused verdict is answered with, carrying the verdict."""
    if verdict.out_of_credits:
        return CreditsExhausted(verdict.credits_retry_after, verdict)
    # The window that keeps the request out longest says why.
    full = max(verdict.windows, key=lambda w: w.retry_after)
    return QuotaExceeded(full.limit, full.retry_after, full.reset_after, PER[full.seconds], verdict)


class CheckQuota:
    def __init__(self, store: QuotaStore, *, fail_open: bool, retry_after: int = 5) -> None:
        self._store = store
        self._fail_open = fail_open
        self._retry_after = retry_after

    async def __call__(self, subject: str, policy: QuotaPolicy | int) -> Verdict | None:
        """The verdict of an admitted request (a bare number is an hourly limit alone);
        None when the store is down and the configuration says to admit anyway.
        Raises QuotaExceeded, CreditsExhausted or ServiceUnavailable."""
        if isinstance(policy, int):
            policy = QuotaPolicy.hourly(policy)
        try:
            verdict = await self._store.decide(subject, policy)
        except StoreUnavailable:
            if self._fail_open:
                log.warning("quota store unavailable; admitting %s unchecked", subject)
                return None
            log.warning("quota store unavailable; refusing %s", subject)
            raise ServiceUnavailable(
                "Rate limit service unavailable", retry_after=self._retry_after
            ) from None
        if not verdict.admitted:
            raise refusal(verdict)
        return verdict


@dataclass(frozen=True, slots=True)
class QuotaLook:
    key: ApiKey
    verdict: Verdict


class LookAtQuota:
    """GET /api/keys/{id}/quota: what the key has left in each window and of its
    credits, counting nothing; a key the caller may not see is not found."""

    def __init__(self, keys: GetKey, store: QuotaStore) -> None:
        self._keys = keys
        self._store = store

    async def __call__(self, caller: Caller, key_id: int) -> QuotaLook:
        key = await self._keys(caller, key_id)
        try:
            verdict = await self._store.look(key_subject(key.quota_id), key_policy(key))
        except StoreUnavailable:
            raise ServiceUnavailable("Rate limit service unavailable", retry_after=5) from None
        return QuotaLook(key, verdict)


class CreditsLeft:
    """What metered keys have left to spend, as the quota store counts it (a key item's
    `credits.remaining`). A key the store cannot answer for is left out: its item then
    shows the number last set."""

    def __init__(self, store: QuotaStore) -> None:
        self._store = store

    async def __call__(self, keys: Sequence[ApiKey]) -> dict[int, int]:
        left: dict[int, int] = {}
        for key in keys:
            if key.credits is None:
                continue
            try:
                verdict = await self._store.look(key_subject(key.quota_id), key_policy(key))
            except StoreUnavailable:
                log.warning("quota store unavailable; credits of key %s shown as set", key.id)
                continue
            if verdict.credits_remaining is not None:
                left[key.id] = verdict.credits_remaining
        return left
