"""The unit of work over the in-memory repositories."""

from __future__ import annotations

from domain.audit import AuditEvent
from tests.fakes.audit import InMemoryAuditLog, PendingEvents
from tests.fakes.clock import FakeClock
from tests.fakes.keys import InMemoryKeys
from tests.fakes.resources import InMemoryIdempotency, InMemoryResources
from tests.fakes.webhooks import InMemoryWebhooks


class InMemoryUnitOfWork:
    """A factory that is its own unit of work: one that ends in an error leaves every
    repository as it found it, as a rolled-back transaction does."""

    def __init__(self, clock: FakeClock) -> None:
        self.keys = InMemoryKeys(clock)
        self.resources = InMemoryResources(clock)
        self.idempotency = InMemoryIdempotency(clock)
        self.webhooks = InMemoryWebhooks(clock)
        self.commits = 0
        self.rollbacks = 0
        self.audit = InMemoryAuditLog(clock)
        self._events = PendingEvents(self.audit)

    def __call__(self) -> InMemoryUnitOfWork:
        return self

    async def __aenter__(self) -> InMemoryUnitOfWork:
        self._saved = [
            (part, part.snapshot())
            for part in (self.keys, self.resources, self.idempotency, self.webhooks)
        ]
        self._events.begin()
        return self

    def record(self, event: AuditEvent) -> None:
        self._events.record(event)

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        self._events.end(committed=exc_type is None)
        if exc_type is None:
            self.commits += 1
            return
        self.rollbacks += 1
        for part, state in self._saved:
            part.restore(state)
