"""CORS for the configured origins: their preflights are answered here, on any path,
and every response to them names the headers a browser may show to the page. Without
configured origins this layer is left out."""

from __future__ import annotations

from entrypoints.http.edge.exchange import Exchange, Headers
from entrypoints.http.edge.layer import EdgeConfig, Handler, Layer

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

    @staticmethod
    def needed(config: EdgeConfig) -> bool:
        return bool(config.cors_origins)

    async def __call__(self, exchange: Exchange) -> None:
        origin = exchange.headers.get(b"origin")
        if origin is None or not (self._any or origin in self._allowed):
            await self.inner(exchange)
            return
        exchange.response_headers += cors_headers(origin)
        if exchange.method == "OPTIONS" and b"access-control-request-method" in exchange.headers:
            await _preflight(exchange)
        else:
            await self.inner(exchange)


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
