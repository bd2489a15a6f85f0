"""Registration and key management: POST /auth/register, /keys..."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from application.keys import IssueKey, ListKeys, RevokeKey, RotateKey
from application.request_log import KeyUsage
from domain.keys import NAME_MAX, USER_ID_MAX, key_request
from domain.pagination import page_request
from entrypoints.http.context import context_of
from entrypoints.http.controllers.common import NO_STORE, caller_of, checked_id
from entrypoints.http.error_docs import errors
from entrypoints.http.presenter import Pagination, present
from entrypoints.views.keys import IssuedKeyView, KeyView
from entrypoints.views.usage import UsageView


class RegisterBody(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=NAME_MAX)]
    permissions: list[str] = msgspec.field(default_factory=lambda: ["read"])
    user_id: Annotated[str, msgspec.Meta(min_length=1, max_length=USER_ID_MAX)] | None = None
    rate_limit: int | None = None


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
    "of the caller's permissions. An admin key may also set userId and rateLimit. "
    "The raw key is in this response only.",
    tags=["keys"],
    security=[{}, {"bearer": []}],
)
async def register(
    request: Request[Any, Any, Any],
    data: JSONBody[RegisterBody],
    issue_key: NamedDependency[IssueKey],
) -> Response[IssuedKeyView]:
    wanted = key_request(data.name, data.permissions, data.user_id, data.rate_limit)
    issued = await issue_key(
        wanted, context_of(request.scope).api_key, new_user_id=f"usr_{uuid.uuid4().hex}"
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
    page: Annotated[int | None, QueryParameter(ge=1)] = None,
    limit: Annotated[int | None, QueryParameter(ge=1)] = None,
    user_id: Annotated[str | None, QueryParameter(name="userId")] = None,
    cursor: Annotated[
        str | None,
        QueryParameter(description="Opaque cursor from pagination.nextCursor; replaces page"),
    ] = None,
) -> Response[KeyList]:
    keys, info = await list_keys(
        caller_of(request),
        user_id,
        page_request(page, limit),
        cursor,
        page_given=page is not None,
    )
    return present(request, [KeyView.of(k) for k in keys], pagination=info)


@delete(
    "/keys/{key_id:int}",
    status_code=204,
    summary="Revoke a key",
    tags=["keys"],
    responses=errors(404),
)
async def revoke_key(
    request: Request[Any, Any, Any], key_id: FromPath[int], revoke_key: NamedDependency[RevokeKey]
) -> None:
    await revoke_key(caller_of(request), checked_id(key_id, "API key"))


@post(
    "/keys/{key_id:int}/rotate",
    status_code=201,
    responses=errors(403, 404, 409),
    summary="Rotate a key",
    description="A new key with the same user, name, permissions and limit; the old key "
    "is revoked in the same transaction.",
    tags=["keys"],
)
async def rotate_key(
    request: Request[Any, Any, Any], key_id: FromPath[int], rotate_key: NamedDependency[RotateKey]
) -> Response[IssuedKeyView]:
    issued = await rotate_key(caller_of(request), checked_id(key_id, "API key"))
    return present(request, IssuedKeyView.of(issued), status=201, headers=NO_STORE)


@get(
    "/keys/{key_id:int}/usage",
    responses=errors(404),
    summary="Usage of a key over the last 24 hours",
    tags=["keys"],
)
async def key_usage(
    request: Request[Any, Any, Any], key_id: FromPath[int], key_usage: NamedDependency[KeyUsage]
) -> Response[UsageView]:
    report = await key_usage(caller_of(request), checked_id(key_id, "API key"))
    return present(request, UsageView.of(report))


HANDLERS = [register, list_keys, revoke_key, rotate_key, key_usage]
