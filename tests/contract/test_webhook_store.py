"""WebhookRepository and DeliveryQueue: InMemoryWebhooks against PostgreSQL.

Events enter as they do in service: in PostgreSQL through the resource triggers'
queueing function, in the fake through `publish`, its stand-in for those triggers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.uow import PostgresUnitOfWorkFactory
from adapters.postgres.webhooks import PostgresDeliveryQueue
from application.ports.uow import UnitOfWorkFactory
from application.ports.webhooks import ClaimedDelivery, DeliveryQueue, NewWebhook
from domain.pagination import PageRequest
from domain.webhook_retries import AttemptResult, Outcome
from domain.webhooks import Delivery, DeliveryStatus, EventType
from tests.contract.conftest import BACKENDS
from tests.fakes import FakeClock, InMemoryUnitOfWork
from tests.support.webhooks import record_on

CREATED, UPDATED = EventType.RESOURCE_CREATED, EventType.RESOURCE_UPDATED
DATA = {"id": 7, "name": "ü", "metadata": {"n": [1, 2.5, None, True]}}
SECRET = "whsec_" + "A" * 32
HOUR = 3600.0


@dataclass(frozen=True)
class WebhookStore:
    uow: UnitOfWorkFactory
    queue: DeliveryQueue
    # Records an event as the triggers do; returns how many deliveries it queued.
    publish: Callable[[EventType, dict[str, Any]], Awaitable[int]]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> WebhookStore:
    if request.param == "fake":
        fake = InMemoryUnitOfWork(FakeClock())

        async def publish_fake(kind: EventType, data: dict[str, Any]) -> int:
            return len(fake.webhooks.publish(kind.value, data))

        return WebhookStore(fake, fake.webhooks, publish_fake)
    pool: AsyncConnectionPool = request.getfixturevalue("pool")

    async def publish_pg(kind: EventType, data: dict[str, Any]) -> int:
        return await record_on(pool, kind.value, data)

    return WebhookStore(PostgresUnitOfWorkFactory(pool), PostgresDeliveryQueue(pool), publish_pg)


async def subscribe(store: WebhookStore, user: str = "alice", *types: EventType) -> int:
    wanted = frozenset(types or (CREATED,))
    async with store.uow() as uow:
        return (await uow.webhooks.add(NewWebhook(user, "https://h.example/x", wanted, SECRET))).id


async def deliveries(store: WebhookStore, webhook_id: int) -> list[Delivery]:
    async with store.uow() as uow:
        rows, total = await uow.webhooks.deliveries(webhook_id, PageRequest(1, 100))
    assert total == len(rows)
    return list(rows)


def answered(code: int | None, error: str | None = None) -> AttemptResult:
    return AttemptResult(code, error, 12.5)


async def test_subscriptions_read_back_list_in_id_order_and_delete(store: WebhookStore) -> None:
    first = await subscribe(store, "alice", CREATED, UPDATED)
    second = await subscribe(store, "bob")
    third = await subscribe(store, "alice")
    async with store.uow() as uow:
        webhook = await uow.webhooks.get(first)
        assert webhook is not None
        assert (webhook.user_id, webhook.url, webhook.is_active) == (
            "alice",
            "https://h.example/x",
            True,
        )
        assert webhook.event_types == {CREATED, UPDATED} and webhook.created_at.tzinfo
        assert await uow.webhooks.get(third + 100) is None
        mine, total = await uow.webhooks.list("alice", PageRequest(1, 1))
        assert ([w.id for w in mine], total) == ([first], 2)
        rest, _ = await uow.webhooks.list("alice", PageRequest(2, 1))
        assert [w.id for w in rest] == [third]
        assert await uow.webhooks.list("alice", PageRequest(3, 1)) == ([], 2)
        everyone, total = await uow.webhooks.list(None, PageRequest(1, 10))
        assert ([w.id for w in everyone], total) == ([first, second, third], 3)
        await uow.webhooks.delete(second)
        assert await uow.webhooks.get(second) is None


async def test_an_event_queues_one_delivery_per_active_subscriber_of_its_type(
    store: WebhookStore,
) -> None:
    both = await subscribe(store, "alice", CREATED, UPDATED)
    created_only = await subscribe(store, "bob", CREATED)
    assert await store.publish(UPDATED, DATA) == 1
    assert await store.publish(CREATED, DATA) == 2
    newest_first = await deliveries(store, both)
    assert [d.event_type for d in newest_first] == [CREATED.value, UPDATED.value]
    assert newest_first[0].id > newest_first[1].id
    (only,) = await deliveries(store, created_only)
    assert (only.status, only.attempts, only.last_status_code, only.last_error) == (
        DeliveryStatus.PENDING,
        0,
        None,
        None,
    )
    ids = {d.message_id for d in [*newest_first, only]}
    assert len(ids) == 3 and all(m.startswith("msg_") for m in ids)


async def test_a_claim_leases_due_deliveries_with_what_sending_needs(store: WebhookStore) -> None:
    hook = await subscribe(store)
    await store.publish(CREATED, DATA)
    (claimed,) = await store.queue.claim(10, lease_seconds=HOUR)
    (listed,) = await deliveries(store, hook)
    assert (claimed.id, claimed.webhook_id, claimed.message_id) == (
        listed.id,
        hook,
        listed.message_id,
    )
    assert (claimed.attempts, claimed.url, claimed.secret) == (1, "https://h.example/x", SECRET)
    assert (claimed.event_type, dict(claimed.data)) == (CREATED.value, DATA)
    assert claimed.age >= 0 and claimed.occurred_at.tzinfo is not None
    assert listed.attempts == 1 and listed.status is DeliveryStatus.PENDING
    # Leased: no other claim takes it until the lease runs out.
    assert await store.queue.claim(10, lease_seconds=HOUR) == []


async def test_claims_take_at_most_the_limit_and_an_ended_lease_comes_due(
    store: WebhookStore,
) -> None:
    await subscribe(store)
    for _ in range(3):
        await store.publish(CREATED, DATA)
    first = await store.queue.claim(2, lease_seconds=0)
    assert len(first) == 2
    again = await store.queue.claim(10, lease_seconds=HOUR)
    assert len(again) == 3  # the two whose lease ended at once, and the third
    assert sorted(d.attempts for d in again) == [1, 2, 2]


async def complete_one(store: WebhookStore, result: AttemptResult, outcome: Outcome) -> int:
    hook = await subscribe(store)
    await store.publish(CREATED, DATA)
    (claimed,) = await store.queue.claim(1, lease_seconds=HOUR)
    await store.queue.complete(claimed, result, outcome)
    return hook


async def test_a_success_is_final(store: WebhookStore) -> None:
    hook = await complete_one(store, answered(204), Outcome(DeliveryStatus.SUCCEEDED))
    (done,) = await deliveries(store, hook)
    assert (done.status, done.last_status_code, done.last_error) == (
        DeliveryStatus.SUCCEEDED,
        204,
        None,
    )
    assert await store.queue.claim(10, lease_seconds=HOUR) == []


async def test_a_retry_comes_due_after_its_delay_with_the_error_cut_short(
    store: WebhookStore,
) -> None:
    long_error = "x" * 2000
    retry = Outcome(DeliveryStatus.PENDING, retry_in=HOUR)
    hook = await complete_one(store, answered(None, long_error), retry)
    (waiting,) = await deliveries(store, hook)
    assert (waiting.status, waiting.last_status_code) == (DeliveryStatus.PENDING, None)
    assert waiting.last_error == long_error[:500]
    assert await store.queue.claim(10, lease_seconds=HOUR) == []


async def test_a_delivery_already_finished_is_not_changed_again(store: WebhookStore) -> None:
    hook = await subscribe(store)
    await store.publish(CREATED, DATA)
    (claimed,) = await store.queue.claim(1, lease_seconds=0)
    await store.queue.complete(claimed, answered(200), Outcome(DeliveryStatus.SUCCEEDED))
    await store.queue.complete(claimed, answered(500), Outcome(DeliveryStatus.FAILED))
    (done,) = await deliveries(store, hook)
    assert (done.status, done.last_status_code) == (DeliveryStatus.SUCCEEDED, 200)


async def test_gone_disables_the_subscription_and_fails_what_it_had_pending(
    store: WebhookStore,
) -> None:
    hook = await subscribe(store)
    await store.publish(CREATED, DATA)
    await store.publish(CREATED, DATA)
    claimed: list[ClaimedDelivery] = list(await store.queue.claim(1, lease_seconds=HOUR))
    gone = Outcome(DeliveryStatus.FAILED, disable_webhook=True)
    await store.queue.complete(claimed[0], answered(410), gone)
    async with store.uow() as uow:
        webhook = await uow.webhooks.get(hook)
    assert webhook is not None and not webhook.is_active
    statuses = {(d.status, d.last_status_code, d.last_error) for d in await deliveries(store, hook)}
    assert statuses == {
        (DeliveryStatus.FAILED, 410, None),
        (DeliveryStatus.FAILED, None, "subscription disabled: the endpoint answered 410 Gone"),
    }
    # An inactive subscription gets no new deliveries either.
    assert await store.publish(CREATED, DATA) == 0
    assert await store.queue.claim(10, lease_seconds=0) == []


async def test_deleting_a_subscription_deletes_its_deliveries(store: WebhookStore) -> None:
    hook = await subscribe(store)
    await store.publish(CREATED, DATA)
    async with store.uow() as uow:
        await uow.webhooks.delete(hook)
        assert await uow.webhooks.deliveries(hook, PageRequest(1, 10)) == ([], 0)
    assert await store.queue.claim(10, lease_seconds=0) == []


async def test_a_subscription_rolled_back_was_never_there(store: WebhookStore) -> None:
    with pytest.raises(RuntimeError):
        async with store.uow() as uow:
            await uow.webhooks.add(NewWebhook("alice", "https://h.example/x", {CREATED}, SECRET))
            raise RuntimeError("failed after the insert")
    async with store.uow() as uow:
        assert await uow.webhooks.list(None, PageRequest(1, 10)) == ([], 0)
    assert await store.publish(CREATED, DATA) == 0
