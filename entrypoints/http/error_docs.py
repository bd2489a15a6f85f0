"""The contract's error body, as the OpenAPI document describes it for every route."""

from __future__ import annotations

import msgspec
from litestar.openapi.datastructures import ResponseSpec


class FieldErrorView(msgspec.Struct):
    field: str
    message: str


class ErrorBody(msgspec.Struct, omit_defaults=True):
    error: str
    details: list[FieldErrorView] | msgspec.UnsetType = msgspec.UNSET
    hint: str | msgspec.UnsetType = msgspec.UNSET


ERROR_MEANINGS = {
    400: "Invalid input: malformed JSON, a bad parameter or field (see details)",
    401: "Missing, empty, unknown, revoked or expired API key",
    403: "The key lacks the permission, or the caller may not do this to that object",
    404: "Not found (another user's object is reported as absent)",
    409: "The object is not in a state that allows this (e.g. an already revoked key)",
    412: "If-Match does not match the current ETag",
    413: "Request body over 1 MiB",
    422: "Idempotency-Key reused with a different body",
    429: "Rate limit exceeded (see Retry-After)",
    503: "A backing service is unavailable (see Retry-After)",
}


def errors(*codes: int) -> dict[int, ResponseSpec]:
    common = (400, 401, 429, 503)
    return {
        code: ResponseSpec(
            data_container=ErrorBody, description=ERROR_MEANINGS[code], generate_examples=False
        )
        for code in sorted({*common, *codes})
    }
