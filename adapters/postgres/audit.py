"""audit_events: written by the unit of work in its own transaction, read by admins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from domain.audit import (
    Action,
    Actor,
    AuditEntry,
    AuditEvent,
    AuditQuery,
    Changes,
    TargetType,
    Via,
)
from domain.pagination import PageRequest

INSERT_EVENT = """
INSERT INTO audit_events (action, actor_user_id, actor_key_id, actor_via, target_type,
                          target_id, ip, request_id, changes)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
COLUMNS = (
    "id, at, action, actor_user_id, actor_key_id, actor_via, target_type, target_id, ip,"
    " request_id, changes"
)
MATCHES = """
    (%(action)s::text IS NULL OR action = %(action)s)
AND (%(target_type)s::text IS NULL OR target_type = %(target_type)s)
AND (%(target_id)s::integer IS NULL OR target_id = %(target_id)s)
"""
# Newest first; the total counts every match, also when a cursor starts further on.
SELECT_PAGE = f"""
SELECT {COLUMNS} FROM audit_events
WHERE {MATCHES} AND (%(before_id)s::bigint IS NULL OR id < %(before_id)s)
ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT_EVENTS = f"SELECT count(*) FROM audit_events WHERE {MATCHES}"


def _changes(changes: Changes | None) -> Jsonb | None:
    # [old, new] pairs, as the contract writes them.
    return None if changes is None else Jsonb({f: list(pair) for f, pair in changes.items()})


def _row(event: AuditEvent) -> tuple[Any, ...]:
    actor = event.actor
    return (
        event.action.value,
        actor.user_id,
        actor.key_id,
        actor.via.value,
        event.target_type.value,
        event.target_id,
        event.ip,
        event.request_id,
        _changes(event.changes),
    )


async def write_events(conn: AsyncConnection[TupleRow], events: Sequence[AuditEvent]) -> None:
    """Insert `events` on `conn`, inside the caller's transaction."""
    async with conn.cursor() as cur:
        await cur.executemany(INSERT_EVENT, [_row(e) for e in events])


def entry_from_row(row: Sequence[Any]) -> AuditEntry:
    changes = row[10]
    return AuditEntry(
        id=row[0],
        at=row[1],
        event=AuditEvent(
            action=Action(row[2]),
            actor=Actor(row[3], row[4], Via(row[5])),
            target_type=TargetType(row[6]),
            target_id=row[7],
            ip=row[8],
            request_id=row[9],
            changes=None if changes is None else {f: (p[0], p[1]) for f, p in changes.items()},
        ),
    )


class PostgresAuditTrail:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def list(
        self, query: AuditQuery, page: PageRequest, before_id: int | None, fetch: int
    ) -> tuple[Sequence[AuditEntry], int]:
        params = {
            "action": None if query.action is None else query.action.value,
            "target_type": None if query.target_type is None else query.target_type.value,
            "target_id": query.target_id,
            "before_id": before_id,
            "limit": fetch,
            "offset": 0 if before_id is not None else page.offset,
        }
        async with self._pool.connection() as conn:
            cur = await conn.execute(SELECT_PAGE, params)
            rows = await cur.fetchall()
            cur = await conn.execute(COUNT_EVENTS, params)
            total = await cur.fetchone()
        return [entry_from_row(r) for r in rows], total[0] if total else 0
