"""resources: the list/get reader and the one-statement writer (pool), and the
repository bound to a unit of work. Every write's webhook events and count deltas are
written by triggers in its own transaction (functions/resource_events.sql, counts.sql)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from adapters.batching import TurnBatcher
from adapters.postgres.resource_list import COLUMNS, list_statement
from application.ports.errors import StoreError, StoreUnavailable
from domain.keys import UserId
from domain.pagination import Total
from domain.resource_queries import ResourceQuery
from domain.resources import Resource, ResourceFields

INSERT = f"""
INSERT INTO resources (name, description, category, metadata, created_by)
VALUES (%s, %s, %s, %s, %s)
RETURNING {COLUMNS}
"""
# Creates of one event-loop turn in one statement. The ids come from the sequence in
# `ord` order (the target list, with nextval, is evaluated after the ORDER BY), so
# ordering the returned rows by id gives them back in the order they were asked for.
INSERT_MANY = f"""
WITH asked AS (
    SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::jsonb[], %s::text[])
        WITH ORDINALITY AS a (name, description, category, metadata, created_by, ord)
), made AS (
    INSERT INTO resources (name, description, category, metadata, created_by)
    SELECT name, description, category, metadata, created_by FROM asked ORDER BY ord
    RETURNING {COLUMNS}
)
SELECT * FROM made ORDER BY id
"""
SELECT_BY_ID = f"SELECT {COLUMNS} FROM resources WHERE id = %s"
SELECT_BY_IDS = f"SELECT {COLUMNS} FROM resources WHERE id = ANY(%s)"
# Reads, and creates, of one event-loop turn that share a statement, at most.
MAX_READ_BATCH = 256
MAX_WRITE_BATCH = 64
SELECT_FOR_UPDATE = f"SELECT {COLUMNS} FROM resources WHERE id = %s FOR UPDATE"
# Strictly later than before even within one clock tick, so the ETag always changes.
UPDATE = f"""
UPDATE resources
   SET name = %s, description = %s, category = %s, metadata = %s,
       updated_at = greatest(clock_timestamp(), updated_at + interval '1 microsecond')
 WHERE id = %s
RETURNING {COLUMNS}
"""
DELETE = "DELETE FROM resources WHERE id = %s"
OWNED = "(%(owner)s::text IS NULL OR created_by = %(owner)s)"
UPDATE_OWNED = f"""
UPDATE resources
   SET name = %(name)s, description = %(description)s, category = %(category)s,
       metadata = %(metadata)s,
       updated_at = greatest(clock_timestamp(), updated_at + interval '1 microsecond')
 WHERE id = %(id)s AND {OWNED}
RETURNING {COLUMNS}
"""
DELETE_OWNED = f"DELETE FROM resources WHERE id = %(id)s AND {OWNED}"


def resource_from_row(row: Sequence[Any]) -> Resource:
    return Resource(
        id=row[0],
        name=row[1],
        description=row[2],
        category=row[3],
        metadata=row[4],
        created_by=row[5],
        created_at=row[6],
        updated_at=row[7],
    )


def _values(fields: ResourceFields) -> tuple[Any, ...]:
    metadata = None if fields.metadata is None else Jsonb(fields.metadata)
    return fields.name, fields.description, fields.category, metadata


ListAnswer = tuple[Sequence[Resource], Total]
T = TypeVar("T")


async def _or_error(call: Awaitable[T]) -> T | StoreError:
    """A batch member's own outcome: one member's failure is not the others'."""
    try:
        return await call
    except StoreError as exc:
        return exc


def _raised(outcome: T | StoreError) -> T:
    if isinstance(outcome, StoreError):
        raise outcome
    return outcome


class PostgresResourceReader:
    """Reads by id asked for in the same turn of the event loop share one statement:
    one connection checkout, one round trip and one execution for all of them (under
    load a worker has several get-ones in each turn); lists asked for in the same turn
    with the same query run once, for all who asked. Each still sees every write
    answered before it was asked: the statement starts after they all arrived (a
    statement already on its way is never joined)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self._by_id: TurnBatcher[int, Resource | None] = TurnBatcher(self._get_many, MAX_READ_BATCH)
        # An answer is the page, or the error of that list's statement alone.
        self._lists: TurnBatcher[tuple[ResourceQuery, int], ListAnswer | StoreError] = TurnBatcher(
            self._list_many, MAX_READ_BATCH
        )

    async def get(self, resource_id: int) -> Resource | None:
        if not self._by_id.serves(asyncio.get_running_loop()):
            return (await self._get_many([resource_id]))[0]
        return await self._by_id.submit(resource_id)

    async def _get_many(self, ids: list[int]) -> list[Resource | None]:
        async with self._pool.connection() as conn:
            if len(ids) == 1:  # alone in its turn: the plain statement
                cur = await conn.execute(SELECT_BY_ID, (ids[0],))
            else:
                cur = await conn.execute(SELECT_BY_IDS, (ids,))
            rows = await cur.fetchall()
        found = {row[0]: resource_from_row(row) for row in rows}
        return [found.get(i) for i in ids]

    async def list(self, query: ResourceQuery, fetch: int) -> ListAnswer:
        if not self._lists.serves(asyncio.get_running_loop()):
            return await self._list_one(query, fetch)
        return _raised(await self._lists.submit((query, fetch)))

    async def _list_many(
        self, asked: Sequence[tuple[ResourceQuery, int]]
    ) -> Sequence[ListAnswer | StoreError]:
        distinct = tuple(dict.fromkeys(asked))
        pages = dict(
            zip(
                distinct,
                await asyncio.gather(*(_or_error(self._list_one(*a)) for a in distinct)),
                strict=True,
            )
        )
        return [pages[a] for a in asked]

    async def _list_one(self, query: ResourceQuery, fetch: int) -> ListAnswer:
        sql, params = list_statement(query, fetch)
        async with self._pool.connection() as conn:
            cur = await conn.execute(sql, params)
            rows = await cur.fetchall()
        total = Total(rows[0][0], rows[0][1]) if rows else Total(0)
        return tuple(resource_from_row(r[2:]) for r in rows if r[2] is not None), total


class PostgresResourceWriter:
    """Each change one statement on a pooled connection in autocommit mode: atomic with
    what its triggers write, and no BEGIN/COMMIT round trips.

    Creates asked for in the same turn of the event loop go in one statement: one
    commit (one WAL flush), one firing of the statement triggers for all of them. A
    batch the database refuses for its values is tried again one create at a time, so
    only the create at fault fails; one the database cannot take (unavailable) fails
    for all, as each alone would have."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        # An answer is the create's row, or the error of that create alone.
        self._creates: TurnBatcher[tuple[ResourceFields, UserId], Resource | StoreError] = (
            TurnBatcher(self._add_many, MAX_WRITE_BATCH)
        )

    async def add(self, fields: ResourceFields, created_by: UserId) -> Resource:
        if not self._creates.serves(asyncio.get_running_loop()):
            return await self._add_one(fields, created_by)
        return _raised(await self._creates.submit((fields, created_by)))

    async def _add_one(self, fields: ResourceFields, created_by: UserId) -> Resource:
        async with self._pool.connection() as conn:
            return await PostgresResourceRepository(conn).add(fields, created_by)

    async def _add_many(
        self, asked: list[tuple[ResourceFields, UserId]]
    ) -> Sequence[Resource | StoreError]:
        if len(asked) == 1:
            return [await self._add_one(*asked[0])]
        columns = list(zip(*((*_values(f), user) for f, user in asked), strict=True))
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(INSERT_MANY, [list(c) for c in columns])
                rows = await cur.fetchall()
        except StoreUnavailable:
            raise
        except StoreError:
            return await asyncio.gather(*(_or_error(self._add_one(*a)) for a in asked))
        return [resource_from_row(row) for row in rows]

    async def replace_owned(
        self, resource_id: int, fields: ResourceFields, owner: UserId | None
    ) -> Resource | None:
        name, description, category, metadata = _values(fields)
        params = {
            "id": resource_id,
            "owner": owner,
            "name": name,
            "description": description,
            "category": category,
            "metadata": metadata,
        }
        async with self._pool.connection() as conn:
            cur = await conn.execute(UPDATE_OWNED, params)
            row = await cur.fetchone()
        return resource_from_row(row) if row else None

    async def delete_owned(self, resource_id: int, owner: UserId | None) -> bool:
        async with self._pool.connection() as conn:
            cur = await conn.execute(DELETE_OWNED, {"id": resource_id, "owner": owner})
        return cur.rowcount == 1


class PostgresResourceRepository:
    def __init__(self, conn: AsyncConnection[TupleRow]) -> None:
        self._conn = conn

    async def _one(self, sql: str, params: tuple[Any, ...]) -> Resource | None:
        cur = await self._conn.execute(sql, params)
        row = await cur.fetchone()
        return resource_from_row(row) if row else None

    async def add(self, fields: ResourceFields, created_by: UserId) -> Resource:
        resource = await self._one(INSERT, (*_values(fields), created_by))
        assert resource is not None
        return resource

    async def get_for_update(self, resource_id: int) -> Resource | None:
        return await self._one(SELECT_FOR_UPDATE, (resource_id,))

    async def update(self, resource_id: int, fields: ResourceFields) -> Resource:
        resource = await self._one(UPDATE, (*_values(fields), resource_id))
        assert resource is not None, "update() follows get_for_update() in the same UoW"
        return resource

    async def delete(self, resource_id: int) -> None:
        await self._conn.execute(DELETE, (resource_id,))
