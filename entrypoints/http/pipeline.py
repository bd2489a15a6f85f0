"""The outer ASGI layer every request passes: request id -> request log -> authenticate
-> quota -> the Litestar app.

It wraps the whole application rather than living in Litestar's middleware because
Litestar runs middleware only for matched routes, and the contract wants a request
id, a log row and quota accounting on 404s and 405s too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from application.keys import Authenticate
from application.ports.request_log import RequestLogSink
from application.quota import CheckQuota, ip_subject, key_subject
from domain.errors import DomainError, InvalidInput, QuotaExceeded, Unauthenticated
from domain.quota import QuotaDecision
from domain.request_log import RequestLogEntry
from entrypoints.http.context import SCOPE_KEY, RequestContext
from entrypoints.http.errors import domain_error_response, error_body

log = logging.getLogger("keygate.http")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
EXPOSED_HEADERS = (
    b"X-Request-ID, X-RateLimit-Limit, X-RateLimit-Remaining, RateLimit, RateLimit-Policy,"
    b" Retry-After, ETag, Location"
)
# Segments after /api[/vN] that need no key and count against no quota.
PUBLIC_SEGMENTS = frozenset({"health", "docs"})
# Segments where a key is optional: sign-up (limited per IP instead).
OPTIONAL_KEY_SEGMENTS = frozenset({"auth"})
# Logged (nginx's convention) when the client went away before its response was complete:
# whatever status the app produced afterwards never reached anyone.
CLIENT_CLOSED_REQUEST = 499
# The contract's hint to a client that sent no key.
MISSING_HINT = "Use: Authorization: Bearer <your_api_key>"


def rate_limit_headers(decision: QuotaDecision) -> list[tuple[bytes, bytes]]:
    limit = str(decision.limit).encode()
    remaining = str(decision.remaining).encode()
    return [
        (b"x-ratelimit-limit", limit),
        (b"x-ratelimit-remaining", remaining),
        (b"ratelimit-policy", b'"hourly";q=' + limit + b";w=3600"),
        (b"ratelimit", b'"hourly";r=' + remaining + b";t=" + str(decision.reset_after).encode()),
    ]


def logical_path(path: str) -> tuple[str, int | None]:
    """('/resources/1', 2) for '/api/v2/resources/1'; the version is None when unstated."""
    rest = path[4:]  # after "/api"
    if rest.startswith("/v1/") or rest == "/v1":
        return rest[3:] or "/", 1
    if rest.startswith("/v2/") or rest == "/v2":
        return rest[3:] or "/", 2
    return rest or "/", None


def client_address(
    peer: str | None, forwarded: str | None, trusted: tuple[Network, ...]
) -> str | None:
    """The client's IP: X-Forwarded-For is believed only as far as trusted proxies vouch."""
    if not trusted or not forwarded or peer is None or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


class Pipeline:
    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticate: Authenticate,
        check_quota: CheckQuota,
        log_sink: RequestLogSink,
        known_segments: Iterable[str],
        registration_per_hour: int,
        trusted_proxies: tuple[Network, ...] = (),
        cors_origins: tuple[str, ...] = (),
    ) -> None:
        self._app = app
        self._authenticate = authenticate
        self._check_quota = check_quota
        self._log_sink = log_sink
        self._known = frozenset(known_segments)
        self._registration_per_hour = registration_per_hour
        self._trusted = trusted_proxies
        self._cors_any = "*" in cors_origins
        self._cors = frozenset(o.encode() for o in cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = _headers(scope)
        path: str = scope["path"]
        under_api = path == "/api" or path.startswith("/api/")
        supplied_id = headers.get(b"x-request-id")
        request_id = (
            supplied_id.decode("latin-1")
            if supplied_id and REQUEST_ID.fullmatch(supplied_id.decode("latin-1"))
            else uuid.uuid4().hex
        )
        peer = scope.get("client")
        ctx = RequestContext(
            request_id=request_id,
            client_ip=client_address(
                peer[0] if peer else None,
                (headers.get(b"x-forwarded-for") or b"").decode("latin-1") or None,
                self._trusted,
            ),
        )
        scope[SCOPE_KEY] = ctx
        origin = headers.get(b"origin")
        cors = origin is not None and (self._cors_any or origin in self._cors)
        status = 500
        response_started = False
        response_complete = False
        client_gone = False  # before its response was complete

        async def watch_receive() -> Message:
            nonlocal client_gone
            message = await receive()
            if message["type"] == "http.disconnect" and not response_complete:
                client_gone = True
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started, response_complete
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                extra = [(b"x-request-id", request_id.encode())]
                if ctx.quota is not None:
                    extra += rate_limit_headers(ctx.quota)
                if cors:
                    extra += _cors_headers(origin)
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                response_complete = True

        try:
            if (
                cors
                and scope["method"] == "OPTIONS"
                and b"access-control-request-method" in headers
            ):
                await _preflight(send_with_headers, headers)
            elif under_api and not await self._admit(scope, ctx, headers, send_with_headers):
                pass
            else:
                await self._app(scope, watch_receive, send_with_headers)
        except asyncio.CancelledError:
            # The server gave up on this request (client gone, shutdown timeout).
            client_gone = client_gone or not response_complete
            raise
        except Exception:
            log.exception("unhandled error in request %s", request_id)
            if not response_started:
                await _send_json(
                    send_with_headers,
                    500,
                    error_body("Internal server error", requestId=request_id),
                    {},
                )
            elif not response_complete:
                status = 500  # the status line went out, but the response was cut short
        finally:
            if under_api:
                self._log_sink.record(
                    RequestLogEntry(
                        method=scope["method"],
                        path=path,
                        status_code=CLIENT_CLOSED_REQUEST if client_gone else status,
                        response_time_ms=round((time.perf_counter() - started) * 1000, 3),
                        ip_address=ctx.client_ip,
                        api_key_id=ctx.api_key.id if ctx.api_key else None,
                        created_at=datetime.now(UTC),
                    )
                )

    async def _admit(
        self, scope: Scope, ctx: RequestContext, headers: dict[bytes, bytes], send: Send
    ) -> bool:
        """Authenticate and count the request; answer it here (False) when refused."""
        logical, version = logical_path(scope["path"])
        segment = logical.split("/", 2)[1] if logical.startswith("/") else ""
        try:
            ctx.version = version or _accepted_version(headers.get(b"accept-version"))
            if segment in PUBLIC_SEGMENTS:
                return True
            authorization = headers.get(b"authorization")
            key_optional = segment in OPTIONAL_KEY_SEGMENTS or segment not in self._known
            if authorization is None and key_optional:
                if segment in OPTIONAL_KEY_SEGMENTS and scope["method"] == "POST":
                    ctx.quota = await self._check_quota(
                        ip_subject(ctx.client_ip or "unknown"), self._registration_per_hour
                    )
                return True
            raw_key = _bearer_token(authorization)
            try:
                ctx.api_key = await self._authenticate(raw_key)
            except Unauthenticated:
                if segment not in self._known:
                    return True  # an unknown path is a 404 whatever the key
                raise
            ctx.quota = await self._check_quota(key_subject(ctx.api_key.id), ctx.api_key.rate_limit)
            return True
        except QuotaExceeded as exc:
            ctx.quota = QuotaDecision(
                admitted=False,
                limit=exc.limit,
                remaining=0,
                retry_after=exc.retry_after,
                reset_after=exc.reset_after,
            )
            await _send_error(send, exc)
            return False
        except DomainError as exc:
            await _send_error(send, exc)
            return False


async def _send_error(send: Send, exc: DomainError) -> None:
    status, body, extra = domain_error_response(exc)
    await _send_json(send, status, body, extra)


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name: value for name, value in scope["headers"]}


def _bearer_token(authorization: bytes | None) -> str:
    # "Bearer" with nothing after it (proxies trim the trailing space) is an empty key.
    if (
        authorization is None
        or authorization[:6].lower() != b"bearer"
        or (len(authorization) > 6 and authorization[6:7] != b" ")
    ):
        raise Unauthenticated("Missing Authorization header", hint=MISSING_HINT)
    return authorization[7:].decode("latin-1").strip()


def _accepted_version(value: bytes | None) -> int:
    if value is None or value.strip() in (b"", b"1"):
        return 1
    if value.strip() == b"2":
        return 2
    raise InvalidInput("Unsupported Accept-Version; supported versions: 1, 2")


def _cors_headers(origin: bytes | None) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin or b"*"),
        (b"access-control-expose-headers", EXPOSED_HEADERS),
        (b"vary", b"Origin"),
    ]


async def _preflight(send: Send, headers: dict[bytes, bytes]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [
                (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE, OPTIONS"),
                (
                    b"access-control-allow-headers",
                    headers.get(b"access-control-request-headers")
                    or b"Authorization, Content-Type, Idempotency-Key, If-Match, Accept-Version",
                ),
                (b"access-control-max-age", b"600"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _send_json(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
