"""The audit log in memory: what units of work commit, read back as AuditTrail."""

from __future__ import annotations

from collections.abc import Sequence

from domain.audit import AuditEntry, AuditEvent, AuditQuery
from domain.pagination import PageRequest
from tests.fakes.clock import FakeClock


class InMemoryAuditLog:
    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self.entries: list[AuditEntry] = []

    @property
    def events(self) -> list[AuditEvent]:
        return [e.event for e in self.entries]

    def commit(self, events: Sequence[AuditEvent]) -> None:
        for event in events:
            self.entries.append(AuditEntry(len(self.entries) + 1, self._clock.now(), event))

    # AuditTrail
    async def list(
        self, query: AuditQuery, page: PageRequest, before_id: int | None, fetch: int
    ) -> tuple[Sequence[AuditEntry], int]:
        matching = [
            entry
            for entry in reversed(self.entries)
            if (query.action is None or entry.event.action == query.action)
            and (query.target_type is None or entry.event.target_type == query.target_type)
            and (query.target_id is None or entry.event.target_id == query.target_id)
        ]
        if before_id is not None:
            return [e for e in matching if e.id < before_id][:fetch], len(matching)
        return matching[page.offset : page.offset + fetch], len(matching)


class PendingEvents:
    """What a unit of work recorded so far; committed, or dropped on a rollback."""

    def __init__(self, log: InMemoryAuditLog) -> None:
        self._log = log
        self._pending: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self._pending.append(event)

    def begin(self) -> None:
        self._pending = []

    def end(self, committed: bool) -> None:
        if committed:
            self._log.commit(self._pending)
        self._pending = []
