"""Webhook use cases on fakes: write permission, visibility, and the dispatch loop."""

from __future__ import annotations

from collections.abc import Awaitable
from functools import partial

import pytest

from application.webhooks import (
    DispatchWebhooks,
    ListDeliveries,
    ListSubscriptions,
    Subscribe,
    Unsubscribe,
)
from domain.audit import CLI
from domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from domain.keys import OPERATOR, OPERATOR_USER_ID, Permission
from domain.pagination import PageRequest
from domain.webhook_retries import ERROR_MAX, AttemptResult, RetryPolicy
from domain.webhook_signing import sign
from domain.webhook_targets import AddressPolicy
from domain.webhooks import DeliveryStatus, Subscription
from tests.fakes import FakeClock, InMemoryUnitOfWork, ScriptedSender, make_caller
from tests.fakes.metrics import CountingMetrics

R, W, A = Permission.READ, Permission.WRITE, Permission.ADMIN
ALICE = make_caller("alice", R, W)
BOB = make_caller("bob", R, W)
ADMIN = make_caller("root", A)
READER = make_caller("alice", R)
URL = "https://hooks.example/in"
EVENTS = ["resource.created"]
PAGE = PageRequest(1, 20)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def uow(clock: FakeClock) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(clock)


def subscribe(uow: InMemoryUnitOfWork) -> partial[Awaitable[Subscription]]:
    return partial(Subscribe(uow, AddressPolicy()), origin=CLI)


def unsubscribe(uow: InMemoryUnitOfWork) -> partial[Awaitable[None]]:
    return partial(Unsubscribe(uow), origin=CLI)


async def test_every_webhook_use_case_needs_the_write_permission(
    uow: InMemoryUnitOfWork,
) -> None:
    hook = (await subscribe(uow)(ALICE, URL, EVENTS)).webhook
    for call in (
        subscribe(uow)(READER, URL, EVENTS),
        ListSubscriptions(uow)(READER, PAGE),
        unsubscribe(uow)(READER, hook.id),
        ListDeliveries(uow)(READER, hook.id, PAGE),
    ):
        with pytest.raises(PermissionDenied, match="lacks the 'write' permission"):
            await call
    assert list(uow.webhooks.rows) == [hook.id]


async def test_a_subscription_is_its_users_and_its_secret_is_handed_out_once(
    uow: InMemoryUnitOfWork,
) -> None:
    made = await subscribe(uow)(ALICE, URL, ["resource.created", "resource.deleted"])
    assert made.webhook.user_id == "alice"
    assert made.secret.startswith("whsec_")
    assert uow.webhooks.rows[made.webhook.id] == (made.webhook, made.secret)
    by_operator = await subscribe(uow)(OPERATOR, URL + "/op", EVENTS)
    assert by_operator.webhook.user_id == OPERATOR_USER_ID


async def test_bad_urls_and_event_types_are_invalid_input(uow: InMemoryUnitOfWork) -> None:
    for url, events in (("ftp://x.example/", EVENTS), ("http://127.0.0.1/", EVENTS), (URL, [])):
        with pytest.raises(InvalidInput):
            await subscribe(uow)(ALICE, url, events)
    assert uow.webhooks.rows == {}


async def test_users_see_their_own_subscriptions_and_admins_everyones(
    uow: InMemoryUnitOfWork,
) -> None:
    mine = (await subscribe(uow)(ALICE, URL, EVENTS)).webhook
    theirs = (await subscribe(uow)(BOB, URL, EVENTS)).webhook
    listed, info = await ListSubscriptions(uow)(ALICE, PAGE)
    assert ([w.id for w in listed], info.total) == ([mine.id], 1)
    everyone, _ = await ListSubscriptions(uow)(ADMIN, PAGE)
    assert [w.id for w in everyone] == [mine.id, theirs.id]
    with pytest.raises(NotFound):
        await unsubscribe(uow)(ALICE, theirs.id)
    with pytest.raises(NotFound):
        await ListDeliveries(uow)(ALICE, theirs.id, PAGE)
    await unsubscribe(uow)(ADMIN, theirs.id)
    assert list(uow.webhooks.rows) == [mine.id]


async def test_unsubscribing_drops_the_deliveries(uow: InMemoryUnitOfWork) -> None:
    hook = (await subscribe(uow)(ALICE, URL, EVENTS)).webhook
    uow.webhooks.publish("resource.created", {"id": 1})
    deliveries, info = await ListDeliveries(uow)(ALICE, hook.id, PAGE)
    assert info.total == 1 and deliveries[0].status is DeliveryStatus.PENDING
    await unsubscribe(uow)(ALICE, hook.id)
    assert uow.webhooks.deliveries_by_id == {}


def dispatcher(
    uow: InMemoryUnitOfWork, sender: ScriptedSender, clock: FakeClock
) -> DispatchWebhooks:
    return DispatchWebhooks(uow.webhooks, sender, clock, RetryPolicy(), lease_seconds=30)


async def test_dispatch_signs_sends_and_records_success(
    uow: InMemoryUnitOfWork, clock: FakeClock
) -> None:
    made = await subscribe(uow)(ALICE, URL, EVENTS)
    [delivery] = uow.webhooks.publish("resource.created", {"id": 7})
    sender = ScriptedSender()
    assert await dispatcher(uow, sender, clock)() == 1
    [sent] = sender.sent
    assert sent.url == URL
    stamp = int(sent.headers["webhook-timestamp"])
    expected = sign(made.secret, sent.headers["webhook-id"], stamp, sent.body)
    assert sent.headers["webhook-signature"] == expected
    done = uow.webhooks.deliveries_by_id[delivery.id]
    assert (done.status, done.attempts, done.last_status_code) == (DeliveryStatus.SUCCEEDED, 1, 204)
    assert await dispatcher(uow, sender, clock)() == 0


async def test_a_failed_attempt_is_retried_later_and_410_ends_the_subscription(
    uow: InMemoryUnitOfWork, clock: FakeClock
) -> None:
    hook = (await subscribe(uow)(ALICE, URL, EVENTS)).webhook
    [first] = uow.webhooks.publish("resource.created", {"id": 1})
    sender = ScriptedSender([AttemptResult(500, "HTTP 500", 1.0), AttemptResult(410, "gone", 1.0)])
    await dispatcher(uow, sender, clock)()
    retried = uow.webhooks.deliveries_by_id[first.id]
    assert (retried.status, retried.last_error) == (DeliveryStatus.PENDING, "HTTP 500")
    assert retried.next_attempt_at > clock.now()
    assert await dispatcher(uow, sender, clock)() == 0  # not due yet
    clock.advance(3600)
    [second] = uow.webhooks.publish("resource.created", {"id": 2})
    assert await dispatcher(uow, sender, clock)() == 2
    assert not uow.webhooks.rows[hook.id][0].is_active
    statuses = {d.status for d in uow.webhooks.deliveries_by_id.values()}
    assert statuses == {DeliveryStatus.FAILED}
    assert second.id in uow.webhooks.deliveries_by_id


async def test_one_subscription_per_target_and_a_cap_per_user(uow: InMemoryUnitOfWork) -> None:
    capped = partial(Subscribe(uow, AddressPolicy(), max_per_user=3), origin=CLI)
    first = (await capped(ALICE, "https://Hooks.Example.:443/in#x", EVENTS)).webhook
    for same in ("https://hooks.example/in", "HTTPS://hooks.example/in#y"):
        with pytest.raises(Conflict, match=f"already subscribed \\(webhook {first.id}\\)"):
            await capped(ALICE, same, ["resource.deleted"])
    # Another user, path, query or port is another target.
    await capped(BOB, "https://hooks.example/in", EVENTS)
    await capped(ALICE, "https://hooks.example/in?x=1", EVENTS)
    await capped(ALICE, "https://hooks.example:8443/in", EVENTS)
    with pytest.raises(Conflict, match="at most 3 webhook subscriptions"):
        await capped(ALICE, "https://hooks.example/other", EVENTS)
    await unsubscribe(uow)(ALICE, first.id)
    await capped(ALICE, "https://hooks.example/in", EVENTS)


async def test_what_a_sender_reports_is_stored_short_and_printable(
    uow: InMemoryUnitOfWork, clock: FakeClock
) -> None:
    await subscribe(uow)(ALICE, URL, EVENTS)
    [delivery] = uow.webhooks.publish("resource.created", {"id": 1})
    noisy = "ConnectError:\r\n\x1b[2J" + "z" * 5000
    await dispatcher(uow, ScriptedSender([AttemptResult(None, noisy, 1.0)]), clock)()
    error = uow.webhooks.deliveries_by_id[delivery.id].last_error
    assert error is not None and error.startswith("ConnectError: [2Jzzz")
    assert len(error) <= ERROR_MAX and error.isprintable()


async def test_each_delivery_attempt_is_counted_by_outcome(
    uow: InMemoryUnitOfWork, clock: FakeClock
) -> None:
    await subscribe(uow)(ALICE, URL, EVENTS)
    uow.webhooks.publish("resource.created", {"id": 1})
    uow.webhooks.publish("resource.created", {"id": 2})
    sender = ScriptedSender([AttemptResult(500, "HTTP 500", 1.0), AttemptResult(204, None, 1.0)])
    metrics = CountingMetrics()
    dispatch = DispatchWebhooks(
        uow.webhooks, sender, clock, RetryPolicy(), lease_seconds=30, metrics=metrics
    )
    assert await dispatch() == 2
    assert metrics.counts == {("webhook", "retry"): 1, ("webhook", "succeeded"): 1}
