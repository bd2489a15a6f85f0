"""Webhook subscriptions: POST/GET /webhooks, DELETE /webhooks/{id}, GET .../deliveries."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from application.webhooks import ListDeliveries, ListSubscriptions, Subscribe, Unsubscribe
from domain.pagination import page_request
from domain.webhook_targets import URL_MAX
from entrypoints.http.controllers.common import NO_STORE, caller_of, checked_id
from entrypoints.http.error_docs import errors
from entrypoints.http.presenter import Pagination, present
from entrypoints.views.webhooks import DeliveryView, SubscriptionView, WebhookView


class SubscribeBody(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=URL_MAX)]
    event_types: Annotated[list[str], msgspec.Meta(min_length=1, max_length=16)]


class WebhookList(msgspec.Struct):
    data: list[WebhookView]
    pagination: Pagination


class DeliveryList(msgspec.Struct):
    data: list[DeliveryView]
    pagination: Pagination


@post(
    "/webhooks",
    status_code=201,
    summary="Subscribe a URL to resource events",
    description="Deliveries are POSTs signed per the Standard Webhooks spec with the "
    "`secret` in this response, which is not shown again. Private, loopback and "
    "link-local targets are refused unless allowed by configuration.",
    tags=["webhooks"],
    responses=errors(403),
)
async def subscribe(
    request: Request[Any, Any, Any],
    data: JSONBody[SubscribeBody],
    subscribe_webhook: NamedDependency[Subscribe],
) -> Response[SubscriptionView]:
    subscription = await subscribe_webhook(caller_of(request), data.url, data.event_types)
    return present(
        request, SubscriptionView.of_subscription(subscription), status=201, headers=NO_STORE
    )


@get(
    "/webhooks",
    summary="List webhook subscriptions",
    description="The caller's user's subscriptions; an admin sees everyone's.",
    tags=["webhooks"],
    responses=errors(403),
)
async def list_webhooks(
    request: Request[Any, Any, Any],
    list_webhooks: NamedDependency[ListSubscriptions],
    page: Annotated[int | None, QueryParameter(ge=1)] = None,
    limit: Annotated[int | None, QueryParameter(ge=1)] = None,
) -> Response[WebhookList]:
    webhooks, info = await list_webhooks(caller_of(request), page_request(page, limit))
    return present(request, [WebhookView.of(w) for w in webhooks], pagination=info)


@delete(
    "/webhooks/{webhook_id:int}",
    status_code=204,
    summary="Unsubscribe",
    tags=["webhooks"],
    responses=errors(403, 404),
)
async def unsubscribe(
    request: Request[Any, Any, Any],
    webhook_id: FromPath[int],
    unsubscribe_webhook: NamedDependency[Unsubscribe],
) -> None:
    await unsubscribe_webhook(caller_of(request), checked_id(webhook_id, "Webhook"))


@get(
    "/webhooks/{webhook_id:int}/deliveries",
    summary="Deliveries of a subscription, newest first",
    tags=["webhooks"],
    responses=errors(403, 404),
)
async def list_deliveries(
    request: Request[Any, Any, Any],
    webhook_id: FromPath[int],
    list_webhook_deliveries: NamedDependency[ListDeliveries],
    page: Annotated[int | None, QueryParameter(ge=1)] = None,
    limit: Annotated[int | None, QueryParameter(ge=1)] = None,
) -> Response[DeliveryList]:
    deliveries, info = await list_webhook_deliveries(
        caller_of(request), checked_id(webhook_id, "Webhook"), page_request(page, limit)
    )
    return present(request, [DeliveryView.of(d) for d in deliveries], pagination=info)


HANDLERS = [subscribe, list_webhooks, unsubscribe, list_deliveries]
