"""resources and idempotency_keys in memory: the reader, the writer, the repository
of a unit of work, and the Idempotency-Key store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from application.ports.idempotency import IdempotentReplay
from domain.keys import UserId
from domain.pagination import Total
from domain.resource_queries import ESTIMATE_ABOVE, CountMode, Order, ResourceQuery, Sort
from domain.resources import Resource, ResourceFields
from tests.fakes.clock import FakeClock

TICK = timedelta(microseconds=1)


def _sort_key(resource: Resource, sort: Sort) -> tuple[object, int]:
    """The row's place in the list, as the SQL orders it (NULL category as '')."""
    if sort is Sort.NAME:
        return resource.name, resource.id
    if sort is Sort.CATEGORY:
        return resource.category or "", resource.id
    return resource.created_at, resource.id


def _cursor_key(value: str, last_id: int, sort: Sort) -> tuple[object, int]:
    return (datetime.fromisoformat(value) if sort is Sort.CREATED_AT else value), last_id


def _matches(resource: Resource, query: ResourceQuery) -> bool:
    if query.category is not None and resource.category != query.category:
        return False
    if query.search:
        term = query.search.lower()
        return term in resource.name.lower() or term in (resource.description or "").lower()
    return True


class InMemoryResources:
    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self.rows: dict[int, Resource] = {}
        # Like a sequence, ids are never handed out twice, even after a rollback.
        self._next_id = 1

    def snapshot(self) -> object:
        return dict(self.rows)

    def restore(self, state: object) -> None:
        assert isinstance(state, dict)
        self.rows = state

    # ResourceReader
    async def get(self, resource_id: int) -> Resource | None:
        return self.rows.get(resource_id)

    async def list(self, query: ResourceQuery, fetch: int) -> tuple[Sequence[Resource], Total]:
        descending = query.order is Order.DESC
        rows = sorted(
            (r for r in self.rows.values() if _matches(r, query)),
            key=lambda r: _sort_key(r, query.sort),
            reverse=descending,
        )
        # The fake's "estimate" is the count itself, marked as PostgreSQL marks its own.
        estimated = query.count is CountMode.PLANNED or (
            query.count is CountMode.ESTIMATED and len(rows) > ESTIMATE_ABOVE
        )
        total = Total(len(rows), estimated)
        after = query.after
        if after is None:
            return rows[query.page.offset : query.page.offset + fetch], total
        mark = _cursor_key(after.value, after.last_id, query.sort)

        def beyond(r: Resource) -> bool:
            key = _sort_key(r, query.sort)
            return key < mark if descending else key > mark

        return [r for r in rows if beyond(r)][:fetch], total

    # ResourceWriter and ResourceRepository
    async def add(self, fields: ResourceFields, created_by: UserId) -> Resource:
        now = self._clock.now()
        resource = Resource(
            self._next_id, fields.name, fields.description, fields.category, fields.metadata,
            created_by, now, now,
        )  # fmt: skip
        self._next_id += 1
        self.rows[resource.id] = resource
        return resource

    async def replace_owned(
        self, resource_id: int, fields: ResourceFields, owner: UserId | None
    ) -> Resource | None:
        current = self.rows.get(resource_id)
        if current is None or (owner is not None and current.created_by != owner):
            return None
        return await self.update(resource_id, fields)

    async def delete_owned(self, resource_id: int, owner: UserId | None) -> bool:
        current = self.rows.get(resource_id)
        if current is None or (owner is not None and current.created_by != owner):
            return False
        del self.rows[resource_id]
        return True

    async def get_for_update(self, resource_id: int) -> Resource | None:
        return self.rows.get(resource_id)

    async def update(self, resource_id: int, fields: ResourceFields) -> Resource:
        current = self.rows[resource_id]
        changed = replace(
            current,
            name=fields.name,
            description=fields.description,
            category=fields.category,
            metadata=fields.metadata,
            # Strictly later, as in PostgreSQL: the ETag always changes.
            updated_at=max(self._clock.now(), current.updated_at + TICK),
        )
        self.rows[resource_id] = changed
        return changed

    async def delete(self, resource_id: int) -> None:
        self.rows.pop(resource_id, None)


class InMemoryIdempotency:
    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        # (user, key) -> (fingerprint, created resource or None, expires at)
        self.records: dict[tuple[UserId, str], tuple[str, Resource | None, datetime]] = {}

    def snapshot(self) -> object:
        return dict(self.records)

    def restore(self, state: object) -> None:
        assert isinstance(state, dict)
        self.records = state

    async def claim(self, user_id: UserId, key: str, fingerprint: str, ttl: timedelta) -> bool:
        now = self._clock.now()
        record = self.records.get((user_id, key))
        if record is not None and record[2] > now:
            return False
        self.records[user_id, key] = (fingerprint, None, now + ttl)
        return True

    async def existing(self, user_id: UserId, key: str) -> IdempotentReplay:
        fingerprint, resource, _ = self.records[user_id, key]
        return IdempotentReplay(fingerprint, resource)

    async def complete(self, user_id: UserId, key: str, resource: Resource) -> None:
        fingerprint, _, expires = self.records[user_id, key]
        self.records[user_id, key] = (fingerprint, resource, expires)


class FixedSecrets:
    def __init__(self, secret: str = "a cursor secret for tests") -> None:
        self.secret = secret

    async def cursor_secret(self) -> str:
        return self.secret
