"""Webhook subscriptions: POST/GET /webhooks, DELETE /webhooks/{id}, GET .../deliveries."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import JSONBody

from application.webhooks import ListDeliveries, ListSubscriptions, Subscribe, Unsubscribe
from domain.webhook_targets import URL_MAX
from domain.webhooks import EventType
from entrypoints.http.controllers.common import (
    NO_STORE,
    Limit,
    Page,
    WebhookId,
    caller_of,
    origin_of,
    paging,
    path_id,
)
from entrypoints.http.error_docs import errors
from entrypoints.http.openapi import WEBHOOK_URL_PATTERN, WEBHOOK_URL_RULES, documented
from entrypoints.http.presenter import Pagination, present
from entrypoints.views.webhooks import DeliveryView, SubscriptionView, WebhookView


class SubscribeBody(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    url: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=URL_MAX),
        documented(pattern=WEBHOOK_URL_PATTERN, description=WEBHOOK_URL_RULES),
    ]
    event_types: Annotated[
        list[str],
        msgspec.Meta(min_length=1, max_length=16),
        documented(items=Schema(type=OpenAPIType.STRING, enum=[e.value for e in EventType])),
    ]


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
    "link-local targets are refused unless allowed by configuration. A user subscribes "
    "a URL once and holds a configured number of subscriptions at most (409 beyond).",
    tags=["webhooks"],
    responses=errors(403, 409),
)
async def subscribe(
    request: Request[Any, Any, Any],
    data: JSONBody[SubscribeBody],
    subscribe_webhook: NamedDependency[Subscribe],
) -> Response[SubscriptionView]:
    subscription = await subscribe_webhook(
        caller_of(request), data.url, data.event_types, origin=origin_of(request)
    )
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
    page: Page = None,
    limit: Limit = None,
) -> Response[WebhookList]:
    webhooks, info = await list_webhooks(caller_of(request), paging(page, limit))
    return present(request, [WebhookView.of(w) for w in webhooks], pagination=info)


@delete(
    "/webhooks/{webhook_id:str}",
    status_code=204,
    summary="Unsubscribe",
    tags=["webhooks"],
    responses=errors(403, 404),
)
async def unsubscribe(
    request: Request[Any, Any, Any],
    webhook_id: WebhookId,
    unsubscribe_webhook: NamedDependency[Unsubscribe],
) -> None:
    await unsubscribe_webhook(
        caller_of(request), path_id(webhook_id, "Webhook"), origin=origin_of(request)
    )


@get(
    "/webhooks/{webhook_id:str}/deliveries",
    summary="Deliveries of a subscription, newest first",
    tags=["webhooks"],
    responses=errors(403, 404),
)
async def list_deliveries(
    request: Request[Any, Any, Any],
    webhook_id: WebhookId,
    list_webhook_deliveries: NamedDependency[ListDeliveries],
    page: Page = None,
    limit: Limit = None,
) -> Response[DeliveryList]:
    deliveries, info = await list_webhook_deliveries(
        caller_of(request), path_id(webhook_id, "Webhook"), paging(page, limit)
    )
    return present(request, [DeliveryView.of(d) for d in deliveries], pagination=info)


HANDLERS = [subscribe, list_webhooks, unsubscribe, list_deliveries]
