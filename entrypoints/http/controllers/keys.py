"""Registration and key management: POST /auth/register, /keys..."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import JSONBody, QueryParameter

from application.keys import IssueKey, ListKeys, RevokeKey
from application.quota import CreditsLeft
from application.usage import KeyUsage
from domain.key_requests import key_request
from domain.keys import MAX_RATE_LIMIT, NAME_MAX, USER_ID_MAX, Permission
from domain.usage import parse_granularity, parse_time
from entrypoints.http.context import context_of
from entrypoints.http.controllers.common import (
    NO_STORE,
    Cursor,
    KeyId,
    Limit,
    Page,
    caller_of,
    origin_of,
    paging,
    path_id,
)
from entrypoints.http.controllers.key_fields import (
    CreditsBody,
    ExpiresAt,
    RateLimitPerDay,
    RateLimitPerMinute,
    credits_json,
)
from entrypoints.http.error_docs import errors
from entrypoints.http.openapi import JSON_INTEGER, NO_NUL, NOT_BLANK, documented
from entrypoints.http.presenter import Pagination, present
from entrypoints.views.keys import IssuedKeyView, KeyView
from entrypoints.views.usage import UsageView


class RegisterBody(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    name: Annotated[
        str, msgspec.Meta(min_length=1, max_length=NAME_MAX), documented(pattern=NOT_BLANK)
    ]
    permissions: Annotated[
        list[str],
        documented(
            min_items=1, items=Schema(type=OpenAPIType.STRING, enum=[p.value for p in Permission])
        ),
    ] = msgspec.field(default_factory=lambda: ["read"])
    user_id: (
        Annotated[
            str, msgspec.Meta(min_length=1, max_length=USER_ID_MAX), documented(pattern=NO_NUL)
        ]
        | None
    ) = None
    rate_limit: (
        Annotated[int, documented(minimum=1, maximum=MAX_RATE_LIMIT, description=JSON_INTEGER)]
        | None
    ) = None
    expires_at: ExpiresAt | None = None
    rate_limit_per_minute: RateLimitPerMinute | None = None
    rate_limit_per_day: RateLimitPerDay | None = None
    credits: CreditsBody | None = None


class KeyList(msgspec.Struct):
    data: list[KeyView]
    pagination: Pagination


@post(
    "/auth/register",
    status_code=201,
    responses=errors(403),
    summary="Issue an API key",
    description="Without a key: self-service sign-up for a new user (read/write only, "
    "limited per client IP). With a key: a further key for the same user, with a subset "
    "of the caller's permissions. An admin key may also set userId, rateLimit, "
    "rateLimitPerMinute and rateLimitPerDay; anyone may set expiresAt (in the future, at "
    "most 10 years ahead). The raw key is in this response only.",
    tags=["keys"],
    security=[{}, {"bearer": []}],
)
async def register(
    request: Request[Any, Any, Any],
    data: JSONBody[RegisterBody],
    issue_key: NamedDependency[IssueKey],
) -> Response[IssuedKeyView]:
    wanted = key_request(
        data.name,
        data.permissions,
        data.user_id,
        data.rate_limit,
        expires_at=data.expires_at,
        rate_limit_per_minute=data.rate_limit_per_minute,
        rate_limit_per_day=data.rate_limit_per_day,
        credits=credits_json(data.credits),
    )
    issued = await issue_key(
        wanted,
        context_of(request.scope).api_key,
        new_user_id=f"usr_{uuid.uuid4().hex}",
        origin=origin_of(request),
    )
    return present(request, IssuedKeyView.of(issued), status=201, headers=NO_STORE)


@get(
    "/keys",
    responses=errors(403),
    summary="List keys",
    description="The caller's user's keys, revoked ones included; an admin sees every "
    "user's keys and may filter by userId.",
    tags=["keys"],
)
async def list_keys(
    request: Request[Any, Any, Any],
    list_keys: NamedDependency[ListKeys],
    credits_left: NamedDependency[CreditsLeft],
    page: Page = None,
    limit: Limit = None,
    user_id: Annotated[
        str | None,
        QueryParameter(
            name="userId",
            description="Admin keys only",
            schema_extra={"pattern": NO_NUL, "max_length": USER_ID_MAX},
        ),
    ] = None,
    cursor: Cursor = None,
) -> Response[KeyList]:
    keys, info = await list_keys(
        caller_of(request),
        user_id,
        paging(page, limit),
        cursor,
        page_given=page is not None,
    )
    left = await credits_left(keys)
    return present(request, [KeyView.of(k, left.get(k.id)) for k in keys], pagination=info)


@delete(
    "/keys/{key_id:str}",
    status_code=204,
    summary="Revoke a key",
    description="The key stops working at once, on every instance. Revoking a revoked "
    "key changes nothing.",
    tags=["keys"],
    responses=errors(404),
)
async def revoke_key(
    request: Request[Any, Any, Any], key_id: KeyId, revoke_key: NamedDependency[RevokeKey]
) -> None:
    await revoke_key(caller_of(request), path_id(key_id, "API key"), origin=origin_of(request))


@get(
    "/keys/{key_id:str}/usage",
    responses=errors(400, 404),
    summary="Usage of a key over a range (default the last 24 hours)",
    description="From per-key hourly rollups: the cost does not grow with the key's "
    "traffic. `hourly` holds one entry per hour (or UTC day) whose start lies in "
    "[from, to); `total` and `byStatus` are exact, the latency percentiles estimates "
    "within 5 %. `from` must be before `to`, both within 400 days of now (a 400 "
    "otherwise).",
    tags=["keys"],
)
async def key_usage(
    request: Request[Any, Any, Any],
    key_id: KeyId,
    key_usage: NamedDependency[KeyUsage],
    start: Annotated[
        str | None,
        QueryParameter(
            name="from",
            description="ISO time (default: `to` minus 24 h); at most 400 days back",
            schema_extra={"format": "date-time"},
        ),
    ] = None,
    end: Annotated[
        str | None,
        QueryParameter(
            name="to",
            description="ISO time (default: the end of the current hour, or day)",
            schema_extra={"format": "date-time"},
        ),
    ] = None,
    granularity: Annotated[
        str | None,
        QueryParameter(
            description="Bucket size (default hour)", schema_extra={"enum": ["hour", "day"]}
        ),
    ] = None,
) -> Response[UsageView]:
    report = await key_usage(
        caller_of(request),
        path_id(key_id, "API key"),
        None if start is None else parse_time(start, "from"),
        None if end is None else parse_time(end, "to"),
        parse_granularity(granularity),
    )
    return present(request, UsageView.of(report))


HANDLERS = [register, list_keys, revoke_key, key_usage]
