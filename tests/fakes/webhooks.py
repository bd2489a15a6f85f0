"""webhooks and their deliveries in memory: the repository of a unit of work, the
delivery queue the dispatchers share, and a sender that answers as told."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from application.ports.webhooks import ClaimedDelivery, NewWebhook
from domain.keys import UserId
from domain.pagination import PageRequest
from domain.webhook_retries import AttemptResult, Outcome
from domain.webhooks import Delivery, DeliveryStatus, Webhook
from tests.fakes.clock import FakeClock

# As the PostgreSQL adapter records them.
GONE_MESSAGE = "subscription disabled: the endpoint answered 410 Gone"
ERROR_MAX = 500


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    occurred_at: datetime
    data: Mapping[str, Any]


class InMemoryWebhooks:
    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self.rows: dict[int, tuple[Webhook, str]] = {}
        self.deliveries_by_id: dict[int, Delivery] = {}
        self.events: dict[int, Event] = {}

    def snapshot(self) -> object:
        return dict(self.rows), dict(self.deliveries_by_id)

    def restore(self, state: object) -> None:
        assert isinstance(state, tuple)
        self.rows, self.deliveries_by_id = state

    # WebhookRepository
    async def add(self, new: NewWebhook) -> Webhook:
        webhook = Webhook(
            max(self.rows, default=0) + 1, new.user_id, new.url, new.event_types, True,
            self._clock.now(),
        )  # fmt: skip
        self.rows[webhook.id] = (webhook, new.secret)
        return webhook

    async def get(self, webhook_id: int) -> Webhook | None:
        row = self.rows.get(webhook_id)
        return row[0] if row else None

    async def subscriptions_of(self, user_id: UserId) -> Sequence[Webhook]:
        return sorted(
            (w for w, _ in self.rows.values() if w.user_id == user_id), key=lambda w: w.id
        )

    async def list(
        self, user_id: UserId | None, page: PageRequest
    ) -> tuple[Sequence[Webhook], int]:
        mine = sorted(
            (w for w, _ in self.rows.values() if user_id is None or w.user_id == user_id),
            key=lambda w: w.id,
        )
        return mine[page.offset : page.offset + page.limit], len(mine)

    async def delete(self, webhook_id: int) -> bool:
        if self.rows.pop(webhook_id, None) is None:
            return False
        for delivery in [d for d in self.deliveries_by_id.values() if d.webhook_id == webhook_id]:
            del self.deliveries_by_id[delivery.id]
        return True

    async def deliveries(
        self, webhook_id: int, page: PageRequest
    ) -> tuple[Sequence[Delivery], int]:
        theirs = sorted(
            (d for d in self.deliveries_by_id.values() if d.webhook_id == webhook_id),
            key=lambda d: -d.id,
        )
        return theirs[page.offset : page.offset + page.limit], len(theirs)

    # What the triggers do in PostgreSQL: one delivery per subscribed webhook.
    def publish(self, event_type: str, data: Mapping[str, Any]) -> Sequence[Delivery]:
        now = self._clock.now()
        event_id = max(self.events, default=0) + 1
        self.events[event_id] = Event(event_type, now, data)
        made = []
        for webhook, _ in self.rows.values():
            if webhook.is_active and event_type in webhook.event_types:
                delivery_id = max(self.deliveries_by_id, default=0) + 1
                delivery = Delivery(
                    delivery_id, webhook.id, event_id, event_type, f"msg_{delivery_id}",
                    DeliveryStatus.PENDING, 0, now, None, None, now,
                )  # fmt: skip
                self.deliveries_by_id[delivery_id] = delivery
                made.append(delivery)
        return made

    # DeliveryQueue
    async def claim(self, limit: int, lease_seconds: float) -> Sequence[ClaimedDelivery]:
        now = self._clock.now()
        due = sorted(
            (
                d
                for d in self.deliveries_by_id.values()
                if d.status is DeliveryStatus.PENDING
                and d.next_attempt_at <= now
                and self.rows[d.webhook_id][0].is_active
            ),
            key=lambda d: d.next_attempt_at,
        )[:limit]
        claimed = []
        for d in due:
            leased = replace(
                d, attempts=d.attempts + 1, next_attempt_at=now + timedelta(seconds=lease_seconds)
            )
            self.deliveries_by_id[d.id] = leased
            webhook, secret = self.rows[d.webhook_id]
            event = self.events[d.event_id]
            claimed.append(
                ClaimedDelivery(
                    d.id,
                    d.webhook_id,
                    d.message_id,
                    leased.attempts,
                    (now - event.occurred_at).total_seconds(),
                    webhook.url,
                    secret,
                    event.type,
                    event.occurred_at,
                    event.data,
                )
            )
        return claimed

    async def complete(
        self, delivery: ClaimedDelivery, result: AttemptResult, outcome: Outcome
    ) -> None:
        current = self.deliveries_by_id.get(delivery.id)
        if current is None or current.status is not DeliveryStatus.PENDING:
            return
        self.deliveries_by_id[delivery.id] = replace(
            current,
            status=outcome.status,
            next_attempt_at=self._clock.now() + timedelta(seconds=outcome.retry_in),
            last_status_code=result.status_code,
            last_error=None if result.error is None else result.error[:ERROR_MAX],
        )
        if outcome.disable_webhook:
            webhook, secret = self.rows[delivery.webhook_id]
            self.rows[webhook.id] = (replace(webhook, is_active=False), secret)
            for d in list(self.deliveries_by_id.values()):
                if d.webhook_id == webhook.id and d.status is DeliveryStatus.PENDING:
                    self.deliveries_by_id[d.id] = replace(
                        d, status=DeliveryStatus.FAILED, last_error=GONE_MESSAGE
                    )


@dataclass
class Sent:
    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class ScriptedSender:
    """Answers each POST with the next scripted result (the last one again once used up)."""

    answers: list[AttemptResult] = field(default_factory=lambda: [AttemptResult(204, None, 1.0)])
    sent: list[Sent] = field(default_factory=list)

    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> AttemptResult:
        self.sent.append(Sent(url, headers, body))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
