"""Wire shapes of webhooks and their deliveries (camelCase JSON)."""

from __future__ import annotations

import msgspec

from domain.webhooks import Delivery, Subscription, Webhook
from entrypoints.views.keys import iso

SECRET_MESSAGE = "Save this signing secret — it will not be shown again."  # noqa: S105


class WebhookView(msgspec.Struct, rename="camel"):
    id: int
    user_id: str
    url: str
    event_types: list[str]
    is_active: bool
    created_at: str

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookView:
        return cls(
            id=webhook.id,
            user_id=webhook.user_id,
            url=webhook.url,
            event_types=sorted(e.value for e in webhook.event_types),
            is_active=webhook.is_active,
            created_at=iso(webhook.created_at) or "",
        )


class SubscriptionView(WebhookView, rename="camel", kw_only=True):
    secret: str
    message: str = SECRET_MESSAGE

    @classmethod
    def of_subscription(cls, subscription: Subscription) -> SubscriptionView:
        view = WebhookView.of(subscription.webhook)
        return cls(**msgspec.structs.asdict(view), secret=subscription.secret)


class DeliveryView(msgspec.Struct, rename="camel"):
    id: int
    webhook_id: int
    event_id: int
    event_type: str
    message_id: str
    status: str
    attempts: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    created_at: str

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryView:
        return cls(
            id=delivery.id,
            webhook_id=delivery.webhook_id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            message_id=delivery.message_id,
            status=delivery.status.value,
            attempts=delivery.attempts,
            # Only a pending delivery has a next attempt worth showing.
            next_attempt_at=iso(delivery.next_attempt_at) if delivery.status == "pending" else None,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            created_at=iso(delivery.created_at) or "",
        )
