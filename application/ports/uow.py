"""The unit of work: repositories bound to one transaction that commits as a whole."""

from __future__ import annotations

from typing import Protocol

from application.ports.audit import AuditRecorder
from application.ports.idempotency import IdempotencyStore
from application.ports.keys import ApiKeyRepository
from application.ports.resources import ResourceRepository
from application.ports.webhooks import WebhookRepository


class UnitOfWork(AuditRecorder, Protocol):
    """Its repositories' changes, and the audit events recorded on it, commit together
    when the block ends without an error; otherwise none of them happened."""

    keys: ApiKeyRepository
    resources: ResourceRepository
    idempotency: IdempotencyStore
    webhooks: WebhookRepository

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
