"""The hourly quota: each request a key makes counts against the key's limit, and a
sign-up without a key against its client IP's. A refused request is answered 429 here,
with Retry-After (set by the error renderer) and the rate-limit headers below."""

from __future__ import annotations

from application.quota import ip_subject, key_subject
from domain.errors import QuotaExceeded
from domain.quota import QuotaDecision
from entrypoints.http.edge.exchange import Exchange, Headers
from entrypoints.http.edge.layer import EdgeConfig, Handler, Layer


def rate_limit_headers(limit: int, remaining: int, reset_after: int) -> Headers:
    limit_text = str(limit).encode()
    remaining_text = str(remaining).encode()
    return [
        (b"x-ratelimit-limit", limit_text),
        (b"x-ratelimit-remaining", remaining_text),
        (b"ratelimit-policy", b'"hourly";q=' + limit_text + b";w=3600"),
        (b"ratelimit", b'"hourly";r=' + remaining_text + b";t=" + str(reset_after).encode()),
    ]


class Quota(Layer):
    def __init__(self, inner: Handler, config: EdgeConfig) -> None:
        super().__init__(inner, config)
        self._check_quota = config.check_quota
        self._per_ip_limit = config.registration_per_hour

    async def __call__(self, exchange: Exchange) -> None:
        route = exchange.route
        if route is not None and route.access.rate_limited:
            key = exchange.context.api_key
            if key is not None:
                await self._take(exchange, key_subject(key.id), key.rate_limit)
            elif exchange.method in route.access.per_ip:
                ip = exchange.context.client_ip or "unknown"
                await self._take(exchange, ip_subject(ip), self._per_ip_limit)
        await self.inner(exchange)

    async def _take(self, exchange: Exchange, subject: str, limit: int) -> None:
        try:
            decision: QuotaDecision | None = await self._check_quota(subject, limit)
        except QuotaExceeded as exc:
            exchange.response_headers += rate_limit_headers(exc.limit, 0, exc.reset_after)
            raise
        if decision is not None:  # None: the store is down and configured to admit anyway
            exchange.response_headers += rate_limit_headers(
                decision.limit, decision.remaining, decision.reset_after
            )
