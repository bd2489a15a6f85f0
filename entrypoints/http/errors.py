"""One place that turns errors into the contract's JSON error bodies and status codes."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from application.ports.errors import StoreError, StoreUnavailable, UnstorableValue
from domain.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    QuotaExceeded,
    ServiceUnavailable,
    Unauthenticated,
    Unprocessable,
)
from entrypoints.http.context import context_of

log = logging.getLogger("keygate.http")

STATUS_OF: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    PreconditionFailed: 412,
    Unprocessable: 422,
    QuotaExceeded: 429,
    ServiceUnavailable: 503,
}

DB_UNAVAILABLE_RETRY_AFTER = 5
BODY_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`|at `\$\.([A-Za-z0-9_]+)")


def error_body(message: str, **extra: Any) -> bytes:
    return msgspec.json.encode({"error": message, **extra})


def domain_error_response(exc: DomainError) -> tuple[int, bytes, dict[str, str]]:
    """Status, JSON body and headers for a domain error (used inside and outside Litestar)."""
    status = next((code for cls, code in STATUS_OF.items() if isinstance(exc, cls)), 400)
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidInput) and exc.details:
        extra["details"] = [{"field": d.field, "message": d.message} for d in exc.details]
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
        if exc.hint:
            extra["hint"] = exc.hint
    if isinstance(exc, QuotaExceeded | ServiceUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    return status, error_body(exc.message, **extra), headers


def _json(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        content=body, status_code=status, media_type="application/json", headers=headers
    )


def handle_domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    status, body, headers = domain_error_response(exc)
    return _json(status, body, headers)


# Litestar's own words for a bad integer name the Python type; clients need the rule.
PAGING_PARAMETERS = {
    "page": "must be an integer >= 1",
    "limit": "must be an integer >= 1 (values above 100 are capped)",
}


def handle_validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    details = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            field = str(item.get("key") or item.get("source") or "body")
            message = str(item.get("message", "invalid"))
            # msgspec reports some body errors on the body as a whole; name the field.
            named = BODY_FIELD.search(message)
            if named:
                field = named.group(1) or named.group(2)
            if field in PAGING_PARAMETERS:
                message = PAGING_PARAMETERS[field]
            elif field == "data" and item.get("source") == "body":
                field, message = "body", "a JSON object body is required"
            details.append({"field": field, "message": message})
    message = "Validation failed" if details else (exc.detail or "Bad request")
    if "decode" in message.lower() or "malformed" in message.lower():
        message = "Malformed JSON body"
    return _json(400, error_body(message, details=details) if details else error_body(message))


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    if exc.status_code >= HTTP_500_INTERNAL_SERVER_ERROR and exc.status_code != 503:
        # Litestar turns some unhandled errors into a 500 HTTPException: same body as ours.
        return handle_unexpected(request, exc)
    headers = dict(exc.headers or {})
    message = exc.detail or "Error"
    if exc.status_code == 400:
        # Litestar raises a bare 400 when the body cannot be decoded at all.
        body = error_body("Malformed JSON body", details=[{"field": "body", "message": message}])
        return _json(400, body, headers)
    if exc.status_code == 404:
        message = "Not found"
    elif exc.status_code == 405:
        message = "Method not allowed"
    elif exc.status_code == 413:
        message = "Request body too large (limit 1 MiB)"
    return _json(exc.status_code, error_body(message), headers)


def handle_store_error(request: Request[Any, Any, Any], exc: StoreError) -> Response[bytes]:
    if isinstance(exc, StoreUnavailable):
        log.warning("database unavailable: %s", exc)
        return _json(
            503,
            error_body("Service temporarily unavailable"),
            {"Retry-After": str(DB_UNAVAILABLE_RETRY_AFTER)},
        )
    if isinstance(exc, UnstorableValue):
        # Input the domain let through but PostgreSQL cannot store (a NUL in text, a
        # number out of range): the client's to fix, so a 400, and never a 500.
        return _json(
            400, error_body("Invalid input: a value cannot be stored (e.g. a NUL character)")
        )
    return handle_unexpected(request, exc)


def handle_recursion(_: Request[Any, Any, Any], exc: RecursionError) -> Response[bytes]:
    return _json(400, error_body("Request body is nested too deeply"))


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    request_id = context_of(request.scope).request_id
    log.exception("unhandled error in request %s", request_id, exc_info=exc)
    return _json(
        HTTP_500_INTERNAL_SERVER_ERROR, error_body("Internal server error", requestId=request_id)
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_exception,
    StoreError: handle_store_error,
    RecursionError: handle_recursion,
    Exception: handle_unexpected,
}
