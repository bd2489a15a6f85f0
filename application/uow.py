"""The unit of work: repositories bound to one transaction that commits as a whole."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from application.keys import ApiKeyRepository
    from application.resources import IdempotencyStore, ResourceRepository
    from application.webhooks import WebhookRepository


class UnitOfWork(Protocol):
    keys: ApiKeyRepository
    resources: ResourceRepository
    idempotency: IdempotencyStore
    webhooks: WebhookRepository

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
