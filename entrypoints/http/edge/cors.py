"""CORS for the configured origins: their preflights are answered here, on any path,
and every response to them names the headers a browser may show to the page.

A preflight from any other origin (every one, when none is configured) is refused here
too, with a 403 that says how to allow it: never a 401 from the layers inside, which
would send a frontend developer looking for a key problem."""

from __future__ import annotations

from entrypoints.http.edge.exchange import Exchange, Headers
from entrypoints.http.edge.layer import EdgeConfig, Handler, Layer
from entrypoints.http.errors import error_body

EXPOSED_HEADERS = (
    b"X-Request-ID, X-RateLimit-Limit, X-RateLimit-Remaining, RateLimit, RateLimit-Policy,"
    b" Retry-After, ETag, Location, Preference-Applied"
)
ALLOWED_METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = b"Authorization, Content-Type, Idempotency-Key, If-Match, Accept-Version, Prefer"
PREFLIGHT_MAX_AGE = b"600"


def cors_headers(origin: bytes) -> Headers:
    return [
        (b"access-control-allow-origin", origin),
        (b"access-control-expose-headers", EXPOSED_HEADERS),
        (b"vary", b"Origin"),
    ]


class Cors(Layer):
    def __init__(self, inner: Handler, config: EdgeConfig) -> None:
        super().__init__(inner, config)
        self._any = "*" in config.cors_origins
        self._allowed = frozenset(o.encode() for o in config.cors_origins)

    async def __call__(self, exchange: Exchange) -> None:
        origin = exchange.headers.get(b"origin")
        if origin is None:
            await self.inner(exchange)
            return
        preflight = (
            exchange.method == "OPTIONS" and b"access-control-request-method" in exchange.headers
        )
        if not (self._any or origin in self._allowed):
            if preflight:
                await _refuse(exchange, origin)
            else:
                await self.inner(exchange)
            return
        exchange.response_headers += cors_headers(origin)
        if preflight:
            await _preflight(exchange)
        else:
            await self.inner(exchange)


async def _refuse(exchange: Exchange, origin: bytes) -> None:
    shown = origin.decode("latin-1")
    body = error_body(
        f"CORS: origin {shown} is not allowed",
        hint=f"Start keygate with CORS_ORIGINS={shown} (a comma-separated list; * allows any)",
    )
    await exchange.send_json(403, body, {"Vary": "Origin"})


async def _preflight(exchange: Exchange) -> None:
    requested = exchange.headers.get(b"access-control-request-headers")
    await exchange.send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [
                (b"access-control-allow-methods", ALLOWED_METHODS),
                (b"access-control-allow-headers", requested or ALLOWED_HEADERS),
                (b"access-control-max-age", PREFLIGHT_MAX_AGE),
            ],
        }
    )
    await exchange.send({"type": "http.response.body", "body": b""})
