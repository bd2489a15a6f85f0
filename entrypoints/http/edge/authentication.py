"""Who is calling: the API key in `Authorization: Bearer ...`, verified where the route
table (entrypoints/http/routes.py) says a key is required or taken when offered."""

from __future__ import annotations

from application.ports.metrics import NoMetrics
from domain.errors import Unauthenticated
from entrypoints.http.edge.exchange import Exchange
from entrypoints.http.edge.layer import EdgeConfig, Handler, Layer
from entrypoints.http.routes import Key

# The contract's hint to a client that sent no key.
MISSING_HINT = "Use: Authorization: Bearer <your_api_key>"


def bearer_token(authorization: bytes | None) -> str:
    # "Bearer" with nothing after it (proxies trim the trailing space) is an empty key.
    if (
        authorization is None
        or authorization[:6].lower() != b"bearer"
        or (len(authorization) > 6 and authorization[6:7] != b" ")
    ):
        raise Unauthenticated("Missing Authorization header", hint=MISSING_HINT, reason="missing")
    return authorization[7:].decode("latin-1").strip()


class Authentication(Layer):
    def __init__(self, inner: Handler, config: EdgeConfig) -> None:
        super().__init__(inner, config)
        self._authenticate = config.authenticate
        self._metrics = config.metrics or NoMetrics()

    async def __call__(self, exchange: Exchange) -> None:
        route = exchange.route
        if route is not None and route.access.key is not Key.IGNORED:
            rule = route.access.key
            authorization = exchange.headers.get(b"authorization")
            if authorization is not None or rule is Key.REQUIRED:
                try:
                    exchange.context.api_key = await self._authenticate(bearer_token(authorization))
                except Unauthenticated as exc:
                    self._metrics.auth_failure(exc.reason)
                    if rule is not Key.BEST_EFFORT:
                        raise
        await self.inner(exchange)
