"""Ports of the audit log: what the unit of work writes, and the trail an admin reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.audit import AuditEntry, AuditEvent, AuditQuery
from domain.pagination import PageRequest


class AuditRecorder(Protocol):
    def record(self, event: AuditEvent) -> None:
        """Keep `event` for this unit of work: it is written in the same transaction
        as the changes it describes, when the unit of work commits, and never if it
        rolls back."""
        ...


class AuditTrail(Protocol):
    async def list(
        self, query: AuditQuery, page: PageRequest, before_id: int | None, fetch: int
    ) -> tuple[Sequence[AuditEntry], int]:
        """Up to `fetch` entries matching `query`, newest first: before `before_id` when
        given, else from the page's offset; and how many match in all."""
        ...
