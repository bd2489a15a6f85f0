"""The outbox and the dispatcher against real PostgreSQL and a real HTTP receiver."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest

from adapters.http_client import SafeWebhookSender
from domain.resources import resource_fields
from domain.webhook_signing import iso_utc
from domain.webhook_targets import AddressPolicy
from domain.webhooks import EventType
from entrypoints.container import Container, build_container
from entrypoints.settings import Settings
from tests.support.receiver import Receiver, running_receiver
from tests.support.signatures import verify
from tests.support.webhooks import (
    LOOPBACK,
    RESOURCE,
    hooks,
    record,
    rows,
    subscribe,
    webhook_settings,
)

__all__ = ["hooks"]  # a fixture, used by name


async def dispatch_until(container: Container, done: Callable[[], bool], seconds: float = 10):
    dispatch = container.dispatch_webhooks()
    for _ in range(int(seconds / 0.05)):
        await dispatch()
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the dispatcher did not get there in time")


async def test_a_change_rolled_back_leaves_no_event_and_a_committed_one_does(
    hooks: Container, db: str
) -> None:
    await subscribe(hooks, "http://127.0.0.1:9/hook")

    class Boom(Exception):
        pass

    fields = resource_fields("x", None, None, None)
    with pytest.raises(Boom):
        async with hooks.uow()() as uow:
            await uow.resources.add(fields, "alice")
            raise Boom
    assert rows(db, "SELECT count(*) FROM webhook_events") == [(0,)]
    assert rows(db, "SELECT count(*) FROM webhook_deliveries") == [(0,)]
    async with hooks.uow()() as uow:
        await uow.resources.add(fields, "alice")
    assert rows(db, "SELECT count(*) FROM webhook_deliveries") == [(1,)]


async def test_event_times_are_written_as_the_api_writes_them(hooks: Container) -> None:
    times = [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 11, 29, 13, 5, 7, 1, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 6, 1, 2, 0, 0, 500000, tzinfo=timezone(timedelta(hours=5))),
    ]
    async with hooks.pool().connection() as conn:
        for t in times:
            cur = await conn.execute("SELECT keygate_iso_utc(%s)", (t,))
            assert await cur.fetchone() == (iso_utc(t.astimezone(UTC)),)


async def test_a_committed_event_fans_out_to_matching_active_subscriptions(
    hooks: Container, db: str
) -> None:
    every, _ = await subscribe(hooks, "http://127.0.0.1:9/a")
    deletes_only, _ = await subscribe(hooks, "http://127.0.0.1:9/b", [EventType.RESOURCE_DELETED])
    inactive, _ = await subscribe(hooks, "http://127.0.0.1:9/c")
    with psycopg.connect(db) as conn:
        conn.execute("UPDATE webhooks SET is_active = false WHERE id = %s", (inactive,))

    assert await record(hooks, "resource.created", RESOURCE) == 1
    assert await record(hooks, "resource.deleted", RESOURCE) == 2
    deliveries = rows(
        db,
        "SELECT d.webhook_id, e.event_type, d.status, d.message_id FROM webhook_deliveries d"
        " JOIN webhook_events e ON e.id = d.event_id ORDER BY d.id",
    )
    assert [(w, t, s) for w, t, s, _ in deliveries] == [
        (every, "resource.created", "pending"),
        (every, "resource.deleted", "pending"),
        (deletes_only, "resource.deleted", "pending"),
    ]
    assert len({m for *_, m in deliveries}) == 3
    assert rows(db, "SELECT data::text FROM webhook_events ORDER BY id LIMIT 1") == [
        (json.dumps(RESOURCE, separators=(",", ":")),)
    ]


async def test_events_nobody_subscribes_to_are_not_stored(hooks: Container, db: str) -> None:
    await subscribe(hooks, "http://127.0.0.1:9/a", [EventType.RESOURCE_DELETED])
    assert await record(hooks, "resource.created", RESOURCE) == 0
    assert rows(db, "SELECT count(*) FROM webhook_events") == [(0,)]


async def test_each_event_is_delivered_once_signed_and_then_left_alone(
    hooks: Container, db: str
) -> None:
    async with running_receiver() as receiver:
        _, secret = await subscribe(hooks, receiver.url)
        for i in range(3):
            await record(hooks, "resource.created", {**RESOURCE, "id": i})
        await dispatch_until(hooks, lambda: len(receiver.receipts) >= 3)
        for _ in range(5):
            await hooks.dispatch_webhooks()()
            await asyncio.sleep(0.05)

    assert sorted(receiver.per_id().values()) == [1, 1, 1]
    for receipt in receiver.receipts:
        h = receipt.headers
        assert receipt.method == "POST" and receipt.path == "/hook"
        assert h["content-type"] == "application/json"
        assert h["host"] == f"127.0.0.1:{receiver.port}"
        assert h["webhook-id"].startswith("msg_")
        assert verify(secret, h["webhook-id"], h["webhook-timestamp"], receipt.body,
                      h["webhook-signature"])  # fmt: skip
        body = json.loads(receipt.body)
        assert set(body) == {"type", "timestamp", "data"}
        assert body["type"] == "resource.created" and body["timestamp"].endswith("Z")
        assert body["data"]["name"] == "first" and body["data"]["createdBy"] == "alice"
    assert (
        rows(db, "SELECT status, attempts, last_status_code FROM webhook_deliveries")
        == [("succeeded", 1, 200)] * 3
    )
    assert rows(db, "SELECT count(*), min(status_code) FROM webhook_attempts") == [(3, 200)]


async def test_5xx_answers_are_retried_with_the_same_id_until_a_2xx(
    hooks: Container, db: str
) -> None:
    async with running_receiver(lambda n: 500 if n <= 2 else 200) as receiver:
        _, secret = await subscribe(hooks, receiver.url)
        await record(hooks, "resource.updated", RESOURCE)
        await dispatch_until(hooks, lambda: len(receiver.acknowledged()) == 1)
        for _ in range(5):
            await hooks.dispatch_webhooks()()
            await asyncio.sleep(0.1)

    assert [r.status for r in receiver.receipts] == [500, 500, 200]
    assert len(receiver.per_id()) == 1
    for r in receiver.receipts:
        h = r.headers
        assert verify(secret, h["webhook-id"], h["webhook-timestamp"], r.body,
                      h["webhook-signature"])  # fmt: skip
    assert rows(db, "SELECT status, attempts, last_status_code FROM webhook_deliveries") == [
        ("succeeded", 3, 200)
    ]
    assert rows(db, "SELECT status_code, error IS NULL FROM webhook_attempts ORDER BY id") == [
        (500, False),
        (500, False),
        (200, True),
    ]


async def test_a_delivery_that_keeps_failing_is_given_up(settings: Settings, db: str) -> None:
    container = build_container(webhook_settings(settings, webhook_retry_window=0.5))
    await container.pool().open(wait=True)
    try:
        async with running_receiver(lambda _: 503) as receiver:
            await subscribe(container, receiver.url)
            await record(container, "resource.created", RESOURCE)
            await dispatch_until(
                container,
                lambda: rows(db, "SELECT status FROM webhook_deliveries") == [("failed",)],
            )
        assert len(receiver.receipts) >= 2
        assert rows(db, "SELECT attempts, last_status_code FROM webhook_deliveries") == [
            (len(receiver.receipts), 503)
        ]
    finally:
        await container.webhook_sender().stop()
        await container.pool().close()


async def test_410_gone_disables_the_subscription(hooks: Container, db: str) -> None:
    async with running_receiver(lambda _: 410) as receiver:
        webhook_id, _ = await subscribe(hooks, receiver.url)
        await record(hooks, "resource.created", RESOURCE)
        await dispatch_until(hooks, lambda: len(receiver.receipts) == 1)
        await record(hooks, "resource.updated", RESOURCE)  # nobody is subscribed any more
        for _ in range(3):
            await hooks.dispatch_webhooks()()
    assert len(receiver.receipts) == 1
    assert rows(db, f"SELECT is_active FROM webhooks WHERE id = {webhook_id}") == [(False,)]
    assert rows(db, "SELECT status, last_status_code FROM webhook_deliveries") == [("failed", 410)]


async def refused(receiver: Receiver, container: Container, db: str) -> str:
    await dispatch_until(
        container, lambda: rows(db, "SELECT count(*) FROM webhook_attempts") != [(0,)]
    )
    assert receiver.receipts == []
    [(status, error)] = rows(db, "SELECT status, last_error FROM webhook_deliveries")
    assert status == "pending"  # refusals are retried: DNS may change
    return str(error)


async def test_loopback_targets_are_refused_at_delivery_without_the_allow_list(
    settings: Settings, db: str
) -> None:
    container = build_container(replace(webhook_settings(settings), webhook_allow_private=()))
    await container.pool().open(wait=True)
    try:
        async with running_receiver() as receiver:
            # Stored directly: the subscribe-time check is not the guard under test.
            await subscribe(container, f"http://localhost:{receiver.port}/hook")
            await record(container, "resource.created", RESOURCE)
            error = await refused(receiver, container, db)
        # Never what the name resolved to (issue 14 #10): that would let a key probe DNS.
        assert error == "refused: private address"
    finally:
        await container.webhook_sender().stop()
        await container.pool().close()


@pytest.mark.parametrize(
    "answers", [["169.254.169.254"], ["93.184.216.34", "127.0.0.1"], ["::ffff:169.254.169.254"]]
)
async def test_names_resolving_to_internal_addresses_are_refused(answers: list[str]) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        assert host == "hooks.example.com"
        return answers

    sender = SafeWebhookSender(AddressPolicy(), resolve=resolve)
    try:
        result = await sender.send("http://hooks.example.com/x", {}, b"{}")
    finally:
        await sender.stop()
    assert result.status_code is None
    assert result.error is not None and result.error.startswith("refused:")


async def test_literal_metadata_address_and_other_schemes_are_refused() -> None:
    sender = SafeWebhookSender(AddressPolicy(LOOPBACK))
    try:
        for url in ("http://169.254.169.254/latest/meta-data/", "http://[::ffff:a9fe:a9fe]/",
                    "ftp://127.0.0.1/"):  # fmt: skip
            result = await sender.send(url, {}, b"{}")
            assert result.error is not None and result.error.startswith("refused:"), url
        broken = await sender.send("http://exa mple.com:x/", {}, b"{}")
        assert broken.status_code is None and broken.error
    finally:
        await sender.stop()


async def test_redirects_are_not_followed_and_large_answers_are_capped() -> None:
    hits: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hits.append(await reader.readuntil(b"\r\n\r\n"))
        if len(hits) == 1:
            writer.write(b"HTTP/1.1 307 X\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 500 X\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 100_000)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sender = SafeWebhookSender(AddressPolicy(LOOPBACK), max_response_bytes=1000, timeout=2)
    try:
        redirected = await sender.send(f"http://127.0.0.1:{port}/", {}, b"{}")
        large = await sender.send(f"http://127.0.0.1:{port}/", {}, b"{}")
    finally:
        await sender.stop()
        server.close()
    assert redirected.status_code == 307 and len(hits) == 2  # the second hit is `large`
    assert large.status_code == 500 and large.error is not None and len(large.error) < 300


async def test_a_transaction_can_keep_its_resource_changes_quiet(hooks: Container, db: str) -> None:
    await subscribe(hooks, "http://127.0.0.1:9/hook")
    with psycopg.connect(db) as conn:
        conn.execute("SET LOCAL keygate.resource_events = 'off'")
        conn.execute("INSERT INTO resources (name, created_by) VALUES ('bulk', 'ops')")
    assert rows(db, "SELECT count(*) FROM webhook_events") == [(0,)]
    with psycopg.connect(db) as conn:
        conn.execute("INSERT INTO resources (name, created_by) VALUES ('sql', 'ops')")
    assert rows(db, "SELECT event_type, data->>'name' FROM webhook_events") == [
        ("resource.created", "sql")
    ]
