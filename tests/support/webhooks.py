"""Shared set-up for webhook tests: fast retries, a loopback allow-list, events queued directly."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Json
from psycopg_pool import AsyncConnectionPool

from application.ports.webhooks import NewWebhook
from domain.webhook_signing import encode_data
from domain.webhooks import EventType
from entrypoints.container import Container, build_container
from entrypoints.settings import Settings

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
RESOURCE = {
    "id": 1,
    "name": "first",
    "description": None,
    "category": "docs",
    "metadata": {"k": [1, 2]},
    "createdBy": "alice",
    "createdAt": "2026-01-01T00:00:00Z",
    "updatedAt": "2026-01-01T00:00:00Z",
}


def webhook_settings(settings: Settings, **changes: Any) -> Settings:
    return replace(
        settings,
        webhook_allow_private=LOOPBACK,
        webhook_retry_base=0.05,
        webhook_retry_cap=0.2,
        webhook_timeout=2.0,
        webhook_lease=5.0,
        **changes,
    )


@pytest.fixture
async def hooks(settings: Settings) -> AsyncIterator[Container]:
    """A container set up for fast retries and a loopback receiver, its pool open."""
    container = build_container(webhook_settings(settings))
    await container.pool().open(wait=True)
    try:
        yield container
    finally:
        await container.webhook_sender().stop()
        await container.pool().close()


async def subscribe(
    container: Container, url: str, types: Sequence[EventType] = tuple(EventType)
) -> tuple[int, str]:
    secret = "whsec_" + "A" * 32
    async with container.uow()() as uow:
        webhook = await uow.webhooks.add(NewWebhook("alice", url, frozenset(types), secret))
    return webhook.id, secret


async def record(container: Container, event_type: str, data: dict[str, Any]) -> int:
    """Queue an event with arbitrary data as the resource triggers do (migration 0010):
    stored only when someone subscribes to its type. Returns the deliveries queued."""
    return await record_on(container.pool(), event_type, data)


async def record_on(pool: AsyncConnectionPool, event_type: str, data: dict[str, Any]) -> int:
    async with pool.connection() as conn, conn.transaction():
        kind = EventType(event_type).value
        cur = await conn.execute(
            "INSERT INTO webhook_events (event_type, data) SELECT %s, %s"
            " WHERE resource_events_wanted(%s) RETURNING id",
            (kind, Json(data, dumps=encode_data), kind),
        )
        event = await cur.fetchone()
        if event is None:
            return 0
        cur = await conn.execute("SELECT webhook_deliveries_queue(%s, ARRAY[%s])", (kind, event[0]))
        queued = await cur.fetchone()
    assert queued is not None
    return int(queued[0])


def rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db) as conn:
        return conn.execute(sql).fetchall()
