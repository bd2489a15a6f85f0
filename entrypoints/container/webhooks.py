"""Webhook delivery and retention: the sender behind the address policy, the dispatch
use case with its retry policy, the dispatcher `serve` and `keygate webhooks dispatch`
run, and the purge that deletes ended deliveries (with old idempotency records, audit
events and usage rollups) once their retention is over."""

from __future__ import annotations

from datetime import timedelta

from adapters.dispatcher import WebhookDispatcher
from adapters.http_client import SafeWebhookSender
from adapters.postgres.pool import KeygatePool
from adapters.postgres.retention import PostgresExpiredRecords
from adapters.postgres.webhooks import PostgresDeliveryQueue
from application.ports.clock import Clock
from application.ports.metrics import Metrics
from application.retention import PurgeExpired
from application.webhooks import DispatchWebhooks
from domain.webhook_retries import RetryPolicy
from domain.webhook_targets import AddressPolicy
from entrypoints.settings import Settings


def webhook_sender_of(settings: Settings, policy: AddressPolicy) -> SafeWebhookSender:
    return SafeWebhookSender(
        policy=policy,
        timeout=settings.webhook_timeout,
        connect_timeout=settings.webhook_connect_timeout,
    )


def dispatch_webhooks_of(
    settings: Settings,
    pool: KeygatePool,
    sender: SafeWebhookSender,
    clock: Clock,
    metrics: Metrics | None,
) -> DispatchWebhooks:
    return DispatchWebhooks(
        queue=PostgresDeliveryQueue(pool=pool),
        sender=sender,
        clock=clock,
        retry=RetryPolicy(
            base=settings.webhook_retry_base,
            cap=settings.webhook_retry_cap,
            window=settings.webhook_retry_window,
        ),
        lease_seconds=settings.webhook_lease,
        metrics=metrics,
    )


def webhook_dispatcher_of(
    settings: Settings, dispatch: DispatchWebhooks, sender: SafeWebhookSender
) -> WebhookDispatcher:
    return WebhookDispatcher(
        dispatch=dispatch,
        sender=sender,
        interval=settings.webhook_dispatch_interval,
        enabled=settings.webhook_dispatch_in_serve,
    )


def purge_expired_of(settings: Settings, pool: KeygatePool, clock: Clock) -> PurgeExpired:
    return PurgeExpired(
        records=PostgresExpiredRecords(pool=pool),
        clock=clock,
        webhook_retention=timedelta(days=settings.webhook_delivery_retention_days),
        audit_retention=settings.audit_retention,
        usage_retention=settings.usage_retention,
    )
