"""Retention: rows past their use are deleted in small batches by a periodic job.

Idempotency records are kept 24 h (the contract's promise) and then go. A webhook
event goes, with its deliveries and their attempts, once every delivery of it has
ended (succeeded, or failed for good) longer ago than the retention. Audit events go
once they are older than theirs (AUDIT_RETENTION_DAYS), usage rollups once their hour
is (USAGE_RETENTION_DAYS; they outlive the raw request log, which `logs prune` keeps).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import astuple, dataclass
from datetime import timedelta

from application.ports.clock import Clock
from application.ports.retention import ExpiredRecords

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PurgeResult:
    idempotency_keys: int
    webhook_events: int
    audit_events: int = 0
    usage_rollups: int = 0


class PurgeExpired:
    """One run deletes at most `max_batches` batches of each kind, each batch its own short
    transaction, so that no run holds row locks for long or keeps a shutdown waiting;
    what is left goes in the next run."""

    def __init__(
        self,
        records: ExpiredRecords,
        clock: Clock,
        *,
        webhook_retention: timedelta,
        audit_retention: timedelta,
        usage_retention: timedelta = timedelta(days=400),
        batch: int = 1000,
        max_batches: int = 50,
    ) -> None:
        self._records = records
        self._clock = clock
        self._webhook_retention = webhook_retention
        self._audit_retention = audit_retention
        self._usage_retention = usage_retention
        self._batch = batch
        self._max_batches = max_batches

    async def __call__(self) -> PurgeResult:
        now = self._clock.now()
        ended_before = now - self._webhook_retention
        audit_before = now - self._audit_retention
        usage_before = now - self._usage_retention
        result = PurgeResult(
            idempotency_keys=await self._in_batches(self._records.delete_expired_idempotency_keys),
            webhook_events=await self._in_batches(
                lambda limit: self._records.delete_finished_webhook_events(ended_before, limit)
            ),
            audit_events=await self._in_batches(
                lambda limit: self._records.delete_old_audit_events(audit_before, limit)
            ),
            usage_rollups=await self._in_batches(
                lambda limit: self._records.delete_old_usage_rollups(usage_before, limit)
            ),
        )
        if any(astuple(result)):
            log.info(
                "retention: deleted %d expired idempotency records, %d webhook events"
                " (with their deliveries), %d audit events and %d usage rollup rows",
                result.idempotency_keys,
                result.webhook_events,
                result.audit_events,
                result.usage_rollups,
            )
        return result

    async def _in_batches(self, delete: Callable[[int], Awaitable[int]]) -> int:
        total = 0
        for _ in range(self._max_batches):
            deleted = await delete(self._batch)
            total += deleted
            if deleted < self._batch:
                break
        return total
