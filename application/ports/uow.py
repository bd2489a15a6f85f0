"""The unit of work: repositories bound to one transaction that commits as a whole."""

from __future__ import annotations

from typing import Protocol

from application.ports.idempotency import IdempotencyStore
from application.ports.keys import ApiKeyRepository
from application.ports.resources import ResourceRepository
from application.ports.webhooks import WebhookRepository


class UnitOfWork(Protocol):
    keys: ApiKeyRepository
    resources: ResourceRepository
    idempotency: IdempotencyStore
    webhooks: WebhookRepository

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
