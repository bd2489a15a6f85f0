"""What the retention job deletes through."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class ExpiredRecords(Protocol):
    async def delete_expired_idempotency_keys(self, limit: int) -> int:
        """Delete up to `limit` idempotency records past their expiry; returns how many."""
        ...

    async def delete_finished_webhook_events(self, ended_before: datetime, limit: int) -> int:
        """Delete up to `limit` webhook events created before `ended_before` none of whose
        deliveries is pending or ended since, with their deliveries; returns how many."""
        ...

    async def delete_old_audit_events(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` audit events dated before `before`; returns how many."""
        ...

    async def delete_old_usage_rollups(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` usage rollup rows of the hours before `before` (of both
        kinds together); returns how many."""
        ...
