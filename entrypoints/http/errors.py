"""The one error renderer: any error as the contract's status, JSON body and headers.

The API's exception handler, the outer layer (edge/failures.py) and the dashboard all
render errors here, so a status code is chosen, and Retry-After set, in one place.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from application.ports.errors import StoreUnavailable, UnstorableValue
from domain.errors import (
    Conflict,
    CreditsExhausted,
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
from entrypoints.http import routes
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
    CreditsExhausted: 429,
    ServiceUnavailable: 503,
}

STORE_UNAVAILABLE_RETRY_AFTER = 5
BODY_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`|at `\$\.([A-Za-z0-9_]+)")
# Litestar's own words for a bad integer name the Python type; clients need the rule.
PAGING_PARAMETERS = {
    "page": "must be an integer >= 1",
    "limit": "must be an integer >= 1 (values above 100 are capped)",
}
# How a key gets the permission a 403 says it lacks.
PERMISSION_HINTS = {
    "read": 'Register a key that has it: POST /api/auth/register with {"name": "my app",'
    ' "permissions": ["read", "write"]}',
    "write": "Keys are read-only unless asked otherwise: register one with POST"
    ' /api/auth/register and {"name": "my app", "permissions": ["read", "write"]}'
    " (with no Authorization header: a key can only pass on the permissions it has)",
    "admin": "Admin keys are issued by an operator: keygate keys issue --user U --name N"
    " --permissions read,write,admin",
}
HTTP_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large (limit 1 MiB)",
}


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(slots=True)
class _Error:
    """An error as the client is told it, before it is encoded."""

    status: int
    message: str
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: int | None = None


def error_body(message: str, **extra: Any) -> bytes:
    return msgspec.json.encode({"error": message, **extra})


def render_error(exc: BaseException, request_id: str, trace_id: str | None = None) -> ErrorResponse:
    """The response for `exc`; an unexpected error is logged here, once, with the id
    (and the trace's, when tracing is on)."""
    error = (
        _domain(exc)
        if isinstance(exc, DomainError)
        else _of_framework(exc) or _of_store(exc) or _unexpected(exc, request_id, trace_id)
    )
    return _encoded(error)


def render_domain_error(exc: DomainError) -> ErrorResponse:
    """render_error for a domain error, which needs no request id (the dashboard's)."""
    return _encoded(_domain(exc))


def _encoded(error: _Error) -> ErrorResponse:
    headers = error.headers
    if error.retry_after is not None:
        headers = {**headers, "Retry-After": str(error.retry_after)}
    return ErrorResponse(error.status, error_body(error.message, **error.extra), headers)


def _domain(exc: DomainError) -> _Error:
    status = next((code for cls, code in STATUS_OF.items() if isinstance(exc, cls)), 400)
    error = _Error(status, exc.message)
    if isinstance(exc, InvalidInput) and exc.details:
        error.extra["details"] = [{"field": d.field, "message": d.message} for d in exc.details]
    if isinstance(exc, Unauthenticated):
        error.headers["WWW-Authenticate"] = "Bearer"
        if exc.hint:
            error.extra["hint"] = exc.hint
    if isinstance(exc, PermissionDenied) and exc.missing in PERMISSION_HINTS:
        error.extra["hint"] = PERMISSION_HINTS[exc.missing]
    if isinstance(exc, QuotaExceeded | CreditsExhausted | ServiceUnavailable):
        error.retry_after = exc.retry_after
    return error


def _of_framework(exc: BaseException) -> _Error | None:
    """Litestar's refusals: a body or parameter it cannot read, no route, no method."""
    if isinstance(exc, ValidationException):
        return _validation(exc)
    if isinstance(exc, HTTPException) and (exc.status_code < 500 or exc.status_code == 503):
        headers = dict(exc.headers or {})
        message = exc.detail or "Error"
        if exc.status_code == 400:
            # Litestar raises a bare 400 when the body cannot be decoded at all.
            details = [{"field": "body", "message": message}]
            return _Error(400, "Malformed JSON body", {"details": details}, headers)
        if exc.status_code == 405 and "allow" in headers:
            headers["allow"] = routes.allow(m.strip() for m in headers["allow"].split(","))
        return _Error(exc.status_code, HTTP_MESSAGES.get(exc.status_code, message), {}, headers)
    if isinstance(exc, RecursionError):
        return _Error(400, "Request body is nested too deeply")
    return None  # Litestar's 500s are unexpected errors like any other


def _validation(exc: ValidationException) -> _Error:
    details = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            name = str(item.get("key") or item.get("source") or "body")
            message = str(item.get("message", "invalid"))
            # msgspec reports some body errors on the body as a whole; name the field.
            named = BODY_FIELD.search(message)
            if named:
                name = named.group(1) or named.group(2)
            if name in PAGING_PARAMETERS:
                message = PAGING_PARAMETERS[name]
            elif name == "data" and item.get("source") == "body":
                name, message = "body", "a JSON object body is required"
            details.append({"field": name, "message": message})
    message = "Validation failed" if details else (exc.detail or "Bad request")
    if "decode" in message.lower() or "malformed" in message.lower():
        message = "Malformed JSON body"
    return _Error(400, message, {"details": details} if details else {})


def _of_store(exc: BaseException) -> _Error | None:
    if isinstance(exc, StoreUnavailable):
        log.warning("store unavailable: %s", exc)
        return _Error(
            503, "Service temporarily unavailable", retry_after=STORE_UNAVAILABLE_RETRY_AFTER
        )
    if isinstance(exc, UnstorableValue):
        # Input the domain let through but PostgreSQL cannot store (a NUL in text, a
        # number out of range): the client's to fix, so a 400, and never a 500.
        return _Error(400, "Invalid input: a value cannot be stored (e.g. a NUL character)")
    return None


def _unexpected(exc: BaseException, request_id: str, trace_id: str | None) -> _Error:
    log.error("unhandled error in request %s", request_id, exc_info=exc)
    ids = (
        {"requestId": request_id}
        if trace_id is None
        else {"requestId": request_id, "traceId": trace_id}
    )
    return _Error(500, "Internal server error", ids)


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Litestar's exception handler for every API route."""
    context = context_of(request.scope)
    error = render_error(exc, context.request_id, context.trace_id)
    return Response(
        content=error.body,
        status_code=error.status,
        media_type="application/json",
        headers=error.headers,
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {Exception: handle_error}
