"""The Idempotency-Key store, bound to the same transaction as the create it guards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from domain.keys import UserId
from domain.resources import Resource


@dataclass(frozen=True, slots=True)
class IdempotentReplay:
    fingerprint: str
    resource: Resource | None


class IdempotencyStore(Protocol):
    async def claim(self, user_id: UserId, key: str, fingerprint: str, ttl: timedelta) -> bool:
        """True when this call now owns the key (new, or the old record expired). False
        when a live record exists; a concurrent claimer waits for the first to finish."""
        ...

    async def existing(self, user_id: UserId, key: str) -> IdempotentReplay:
        """The live record a failed claim ran into."""
        ...

    async def complete(self, user_id: UserId, key: str, resource: Resource) -> None:
        """Store the created resource, for a retry to replay."""
        ...
