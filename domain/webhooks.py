"""Webhooks: subscriptions, their event types and the deliveries made to them.

Signing lives in domain/webhook_signing.py, where deliveries may go in
domain/webhook_targets.py, and retry timing in domain/webhook_retries.py.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.errors import FieldError, InvalidInput
from domain.keys import UserId


class EventType(enum.StrEnum):
    RESOURCE_CREATED = "resource.created"
    RESOURCE_UPDATED = "resource.updated"
    RESOURCE_DELETED = "resource.deleted"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    user_id: UserId
    url: str
    event_types: frozenset[EventType]
    is_active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Subscription:
    """A webhook just created: the only moment its signing secret is handed out."""

    webhook: Webhook
    secret: str


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    webhook_id: int
    event_id: int
    event_type: str
    message_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime


def parse_event_types(values: Iterable[str]) -> frozenset[EventType]:
    allowed = ", ".join(e.value for e in EventType)
    result: set[EventType] = set()
    for value in values:
        try:
            result.add(EventType(value))
        except ValueError:
            raise InvalidInput(
                "Invalid webhook",
                [FieldError("eventTypes", f"unknown event type {value!r}; allowed: {allowed}")],
            ) from None
    if not result:
        raise InvalidInput(
            "Invalid webhook",
            [FieldError("eventTypes", f"at least one event type is required; allowed: {allowed}")],
        )
    return frozenset(result)
