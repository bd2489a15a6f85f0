"""Ports of the webhook use cases: subscriptions, the delivery queue and the sender."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.keys import UserId
from domain.pagination import PageRequest
from domain.webhook_retries import AttemptResult, Outcome
from domain.webhooks import Delivery, EventType, Webhook


@dataclass(frozen=True, slots=True)
class NewWebhook:
    user_id: UserId
    url: str
    event_types: frozenset[EventType]
    secret: str


class WebhookRepository(Protocol):
    async def add(self, new: NewWebhook) -> Webhook: ...

    async def get(self, webhook_id: int) -> Webhook | None: ...

    async def subscriptions_of(self, user_id: UserId) -> Sequence[Webhook]:
        """Every subscription of `user_id`, in id order; a concurrent call for the same
        user in another unit of work waits until this one ends, so that what is read
        here still holds when this unit of work adds to it."""
        ...

    async def list(
        self, user_id: UserId | None, page: PageRequest
    ) -> tuple[Sequence[Webhook], int]: ...

    async def delete(self, webhook_id: int) -> bool:
        """True when this call deleted it (a concurrent delete may have been first)."""
        ...

    async def deliveries(
        self, webhook_id: int, page: PageRequest
    ) -> tuple[Sequence[Delivery], int]: ...


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A due delivery, leased to this dispatcher until its lease runs out."""

    id: int
    webhook_id: int
    message_id: str
    attempts: int
    age: float
    url: str
    secret: str
    event_type: str
    occurred_at: datetime
    data: Mapping[str, Any]


class DeliveryQueue(Protocol):
    async def claim(self, limit: int, lease_seconds: float) -> Sequence[ClaimedDelivery]:
        """Take up to `limit` due deliveries no other dispatcher holds, pushing their
        next attempt `lease_seconds` ahead so that none is taken twice at once."""
        ...

    async def complete(
        self, delivery: ClaimedDelivery, result: AttemptResult, outcome: Outcome
    ) -> None: ...


class WebhookSender(Protocol):
    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> AttemptResult:
        """One POST; refusals, timeouts and network errors come back as results."""
        ...
