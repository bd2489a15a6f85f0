"""A look at a key's quota without spending it: GET /keys/{id}/quota."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from application.quota import LookAtQuota
from entrypoints.http.controllers.common import KeyId, caller_of, path_id
from entrypoints.http.error_docs import errors
from entrypoints.http.presenter import present
from entrypoints.views.quota import QuotaView


@get(
    "/keys/{key_id:str}/quota",
    responses=errors(404),
    summary="What a key has left, spending nothing",
    description="Each window's limit and remaining requests, and the key's credits. "
    "Counted against the caller's key like any request; the key looked at is unchanged.",
    tags=["keys"],
)
async def key_quota(
    request: Request[Any, Any, Any], key_id: KeyId, look_at_quota: NamedDependency[LookAtQuota]
) -> Response[QuotaView]:
    look = await look_at_quota(caller_of(request), path_id(key_id, "API key"))
    return present(request, QuotaView.of(look.key.id, look.key.credits, look.verdict))


HANDLERS = [key_quota]
