"""Webhook use cases: subscribe, list, unsubscribe, and dispatching due deliveries."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable, Sequence

from application.ports.clock import Clock
from application.ports.metrics import Metrics, NoMetrics, WebhookOutcome
from application.ports.uow import UnitOfWorkFactory
from application.ports.webhooks import (
    ClaimedDelivery,
    DeliveryQueue,
    NewWebhook,
    WebhookRepository,
    WebhookSender,
)
from domain.audit import Origin, actor_of, webhook_created, webhook_deleted
from domain.errors import Conflict, NotFound
from domain.keys import Caller, Permission, acting_user, can_see, is_admin, require
from domain.pagination import PageInfo, PageRequest, page_info
from domain.webhook_retries import RetryPolicy, decide
from domain.webhook_signing import generate_secret, message_body, signed_headers
from domain.webhook_targets import AddressPolicy, delivery_target, validate_url
from domain.webhooks import Delivery, DeliveryStatus, Subscription, Webhook, parse_event_types

# A delivery left pending is one that will be tried again.
_OUTCOMES: dict[DeliveryStatus, WebhookOutcome] = {
    DeliveryStatus.SUCCEEDED: "succeeded",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.PENDING: "retry",
}


async def _visible_webhook(repo: WebhookRepository, caller: Caller, webhook_id: int) -> Webhook:
    webhook = await repo.get(webhook_id)
    if webhook is None or not can_see(caller, webhook.user_id):
        raise NotFound("Webhook not found")
    return webhook


class Subscribe:
    """A user subscribes a target once, and holds at most `max_per_user` subscriptions:
    each one multiplies every write's outbound requests."""

    def __init__(
        self, uow: UnitOfWorkFactory, policy: AddressPolicy, *, max_per_user: int = 25
    ) -> None:
        self._uow = uow
        self._policy = policy
        self._max_per_user = max_per_user

    async def __call__(
        self, caller: Caller, url: str, event_types: Iterable[str], *, origin: Origin
    ) -> Subscription:
        require(caller, Permission.WRITE)
        new = NewWebhook(
            user_id=acting_user(caller),
            url=validate_url(url, self._policy),
            event_types=parse_event_types(event_types),
            secret=generate_secret(),
        )
        target = delivery_target(new.url)
        async with self._uow() as uow:
            existing = await uow.webhooks.subscriptions_of(new.user_id)
            same = next((w for w in existing if delivery_target(w.url) == target), None)
            if same is not None:
                raise Conflict(f"This URL is already subscribed (webhook {same.id})")
            if len(existing) >= self._max_per_user:
                raise Conflict(
                    f"A user may hold at most {self._max_per_user} webhook subscriptions;"
                    " delete one first"
                )
            webhook = await uow.webhooks.add(new)
            uow.record(webhook_created(webhook, actor_of(caller, origin), origin))
        return Subscription(webhook=webhook, secret=new.secret)


class ListSubscriptions:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(
        self, caller: Caller, page: PageRequest
    ) -> tuple[Sequence[Webhook], PageInfo]:
        """An admin sees every subscription; anyone else their user's."""
        require(caller, Permission.WRITE)
        user_id = None if is_admin(caller) else acting_user(caller)
        async with self._uow() as uow:
            webhooks, total = await uow.webhooks.list(user_id, page)
        return webhooks, page_info(page, total)


class Unsubscribe:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, caller: Caller, webhook_id: int, *, origin: Origin) -> None:
        """Deletes the subscription and, with it, its deliveries still pending."""
        require(caller, Permission.WRITE)
        async with self._uow() as uow:
            webhook = await _visible_webhook(uow.webhooks, caller, webhook_id)
            if await uow.webhooks.delete(webhook_id):
                uow.record(webhook_deleted(webhook, actor_of(caller, origin), origin))


class ListDeliveries:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(
        self, caller: Caller, webhook_id: int, page: PageRequest
    ) -> tuple[Sequence[Delivery], PageInfo]:
        require(caller, Permission.WRITE)
        async with self._uow() as uow:
            await _visible_webhook(uow.webhooks, caller, webhook_id)
            deliveries, total = await uow.webhooks.deliveries(webhook_id, page)
        return deliveries, page_info(page, total)


class DispatchWebhooks:
    """Claims due deliveries in a short transaction, sends them outside any transaction,
    then records each outcome: a dispatcher that dies mid-way only delays a delivery
    until its lease runs out."""

    def __init__(
        self,
        queue: DeliveryQueue,
        sender: WebhookSender,
        clock: Clock,
        retry: RetryPolicy,
        *,
        lease_seconds: float,
        batch: int = 50,
        max_rounds: int = 20,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or NoMetrics()
        self._queue = queue
        self._sender = sender
        self._clock = clock
        self._retry = retry
        self._lease = lease_seconds
        self._batch = batch
        self._max_rounds = max_rounds
        self._random = random.SystemRandom()

    async def __call__(self) -> int:
        """Deliver what is due, a batch at a time, until little is left; returns the count."""
        done = 0
        for _ in range(self._max_rounds):
            claimed = await self._queue.claim(self._batch, self._lease)
            await asyncio.gather(*(self._deliver(d) for d in claimed))
            done += len(claimed)
            if len(claimed) < self._batch:
                break
        return done

    async def _deliver(self, delivery: ClaimedDelivery) -> None:
        body = message_body(delivery.event_type, delivery.occurred_at, delivery.data)
        timestamp = int(self._clock.now().timestamp())
        headers = signed_headers(delivery.secret, delivery.message_id, timestamp, body)
        # Whatever the sender reports is stored and shown to the subscriber: short and
        # printable only.
        result = (await self._sender.send(delivery.url, headers, body)).sanitised()
        outcome = decide(
            result, delivery.attempts, delivery.age, self._retry, self._random.random()
        )
        await self._queue.complete(delivery, result, outcome)
        self._metrics.webhook_delivery(_OUTCOMES[outcome.status])
