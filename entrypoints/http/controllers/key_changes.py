"""Changing a key: POST /keys/{id}/rotate and PATCH /keys/{id}."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response, patch, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Operation, RequestBody
from litestar.params import JSONBody

from application.key_changes import RotateKey, UpdateKey
from application.quota import CreditsLeft
from domain.key_lifecycle import key_patch
from entrypoints.http.controllers.common import NO_STORE, KeyId, caller_of, origin_of, path_id
from entrypoints.http.controllers.key_fields import (
    CreditsBody,
    ExpiresAt,
    GracePeriod,
    KeyName,
    RateLimit,
    RateLimitPerDay,
    RateLimitPerMinute,
    credits_json,
)
from entrypoints.http.error_docs import errors
from entrypoints.http.presenter import present
from entrypoints.views.keys import IssuedKeyView, KeyView

UNSET = msgspec.UNSET
Unset = msgspec.UnsetType


class RotateBody(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    grace_period_seconds: GracePeriod = 0


class KeyPatchBody(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """A JSON merge patch: a field left out keeps its value; null removes an expiry or
    a window. The limits are an admin's to change."""

    name: KeyName | Unset = UNSET
    expires_at: ExpiresAt | Unset | None = UNSET
    rate_limit: RateLimit | Unset = UNSET
    rate_limit_per_minute: RateLimitPerMinute | Unset | None = UNSET
    rate_limit_per_day: RateLimitPerDay | Unset | None = UNSET
    credits: CreditsBody | Unset | None = UNSET


@dataclass
class OptionalBody(Operation):
    """Litestar documents every request body as required; the rotate body is not."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False


@post(
    "/keys/{key_id:str}/rotate",
    status_code=201,
    responses=errors(403, 404, 409),
    summary="Rotate a key",
    description="A new key for the same user with the same name, permissions, limits and "
    "expiresAt, made in one transaction with the old key's end. The body is optional: "
    "with gracePeriodSeconds 0 (the default) the old key is revoked at once; otherwise it "
    "keeps working until min(now + grace, its own expiresAt) and then answers 401 API key "
    "expired. Rotating a key that is revoked, expired or already rotated (in its grace "
    "period) is a 409; of concurrent rotations of one key exactly one succeeds. The new key "
    "counts on the old key's windows and credits (a grace period shares them).",
    tags=["keys"],
    operation_class=OptionalBody,
)
async def rotate_key(
    request: Request[Any, Any, Any],
    key_id: KeyId,
    rotate_key: NamedDependency[RotateKey],
    credits_left: NamedDependency[CreditsLeft],
    data: JSONBody[RotateBody | None] = None,
) -> Response[IssuedKeyView]:
    grace = 0 if data is None else data.grace_period_seconds
    issued = await rotate_key(
        caller_of(request), path_id(key_id, "API key"), grace, origin=origin_of(request)
    )
    # What is left of the quota the new key carries on, not the number last set.
    left = await credits_left([issued.key])
    view = IssuedKeyView.of(issued, left.get(issued.key.id))
    return present(request, view, status=201, headers=NO_STORE)


@patch(
    "/keys/{key_id:str}",
    responses=errors(403, 404, 409),
    summary="Change a key",
    description="A JSON merge patch. The key's owner may change name and set or shorten "
    "expiresAt; lengthening or removing an expiry, and rateLimit, rateLimitPerMinute and "
    "rateLimitPerDay, are an admin's (403 otherwise). Unknown fields are a 400. A rotated "
    "key's grace period cannot be lengthened (409). The change takes effect on every "
    "instance at once.",
    tags=["keys"],
)
async def update_key(
    request: Request[Any, Any, Any],
    key_id: KeyId,
    data: JSONBody[KeyPatchBody],
    update_key: NamedDependency[UpdateKey],
    credits_left: NamedDependency[CreditsLeft],
) -> Response[KeyView]:
    given = {
        field.encode_name: value
        for field in msgspec.structs.fields(data)
        if (value := getattr(data, field.name)) is not UNSET
    }
    if isinstance(data.credits, CreditsBody):
        given["credits"] = credits_json(data.credits)
    key = await update_key(
        caller_of(request),
        path_id(key_id, "API key"),
        key_patch(given),
        origin=origin_of(request),
    )
    left = await credits_left([key])
    return present(request, KeyView.of(key, left.get(key.id)))


HANDLERS = [rotate_key, update_key]
