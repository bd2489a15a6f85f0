"""Ports of the resource use cases: one-statement reads and writes, and the
repository bound to a unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.keys import UserId
from domain.pagination import Total
from domain.resource_queries import ResourceQuery
from domain.resources import Resource, ResourceFields


class ResourceReader(Protocol):
    """Reads outside any transaction: one statement each."""

    async def get(self, resource_id: int) -> Resource | None: ...

    async def list(self, query: ResourceQuery, fetch: int) -> tuple[Sequence[Resource], Total]:
        """Up to `fetch` rows of the query's page, and how many rows match, found as
        `query.count` says: counted, or (PLANNED, ESTIMATED above ESTIMATE_ABOVE
        matches) the database's estimate, then marked estimated."""
        ...


class ResourceWriter(Protocol):
    """Changes that are one statement each, each committed on its own."""

    async def add(self, fields: ResourceFields, created_by: UserId) -> Resource: ...

    async def replace_owned(
        self, resource_id: int, fields: ResourceFields, owner: UserId | None
    ) -> Resource | None:
        """Replace the editable fields of a row `owner` created (any row when None);
        None when there is no such row, and nothing changed."""
        ...

    async def delete_owned(self, resource_id: int, owner: UserId | None) -> bool:
        """Delete a row `owner` created (any row when None); False when there is none."""
        ...


class ResourceRepository(Protocol):
    """Changes, bound to a unit of work's transaction."""

    async def add(self, fields: ResourceFields, created_by: UserId) -> Resource: ...

    async def get_for_update(self, resource_id: int) -> Resource | None:
        """The row, locked until the unit of work ends."""
        ...

    async def update(self, resource_id: int, fields: ResourceFields) -> Resource:
        """Replace the editable fields; updated_at moves strictly forward."""
        ...

    async def delete(self, resource_id: int) -> None: ...
