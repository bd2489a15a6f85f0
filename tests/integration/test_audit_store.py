"""audit_events on real PostgreSQL: written in the change's own transaction, purged by
the retention job once older than AUDIT_RETENTION_DAYS."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import psycopg
import pytest

from adapters.clock import SystemClock
from adapters.postgres.retention import PostgresExpiredRecords
from application.ports.errors import UnstorableValue
from application.ports.keys import NewKey
from application.retention import PurgeExpired
from domain.audit import CLI, Action, Actor, AuditEvent, TargetType, Via, key_revoked
from entrypoints.container import Container
from tests.support.keys import issue


def count(db: str, table: str) -> int:
    with psycopg.connect(db) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


async def test_a_change_commits_with_its_audit_rows_or_not_at_all(
    open_container: Container, db: str
) -> None:
    unstorable = AuditEvent(
        Action.KEY_ISSUED, Actor("u", None, Via.CLI), TargetType.KEY, 2**31, None, None, None
    )
    new = NewKey("u", "k", "h" * 64, "rk_00000000", frozenset({"read"}), 100)
    with pytest.raises(UnstorableValue, match="out of range"):
        async with open_container.uow()() as uow:
            await uow.keys.add(new)
            uow.record(unstorable)
    assert (count(db, "api_keys"), count(db, "audit_events")) == (0, 0)

    async with open_container.uow()() as uow:
        key = await uow.keys.add(new)
        uow.record(key_revoked(key, Actor("u", None, Via.CLI), CLI))
    assert (count(db, "api_keys"), count(db, "audit_events")) == (1, 1)


async def test_a_block_that_fails_writes_no_audit_row(open_container: Container, db: str) -> None:
    issued = await issue(open_container)
    with pytest.raises(RuntimeError):
        async with open_container.uow()() as uow:
            await uow.keys.deactivate(issued.key.id)
            uow.record(key_revoked(issued.key, Actor("u", None, Via.CLI), CLI))
            raise RuntimeError("after the change, before the commit")
    assert count(db, "audit_events") == 1  # the issue's own row only


async def test_retention_purges_audit_rows_older_than_the_configured_days(
    open_container: Container, db: str
) -> None:
    for _ in range(3):
        await issue(open_container)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(
            "UPDATE audit_events SET at = now() - interval '31 days'"
            " WHERE id IN (SELECT id FROM audit_events ORDER BY id LIMIT 2)"
        )
    purge = PurgeExpired(
        PostgresExpiredRecords(open_container.pool()),
        SystemClock(),
        webhook_retention=timedelta(days=7),
        audit_retention=timedelta(days=30),
        batch=1,
    )
    result = await purge()
    assert result.audit_events == 2
    assert count(db, "audit_events") == 1


async def test_the_container_takes_the_retention_from_settings(
    open_container: Container, db: str
) -> None:
    await issue(open_container)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE audit_events SET at = now() - interval '364 days'")
    assert (await open_container.purge_expired()()).audit_events == 0
    open_container.settings.override(replace(open_container.settings(), audit_retention_days=363))
    open_container.purge_expired.reset()
    assert (await open_container.purge_expired()()).audit_events == 1
