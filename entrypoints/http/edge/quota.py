"""The quota: each request a key makes is decided against the key's windows and
credits, and a sign-up without a key against its client IP's hourly limit. A refused
request is answered 429 here, with Retry-After (set by the error renderer) and the
rate-limit headers below."""

from __future__ import annotations

from application.quota import ip_subject, key_policy, key_subject
from domain.errors import CreditsExhausted, QuotaExceeded
from domain.quota import QuotaPolicy, Verdict
from entrypoints.http.edge.exchange import Exchange, Headers
from entrypoints.http.edge.layer import EdgeConfig, Handler, Layer


def rate_limit_headers(verdict: Verdict) -> Headers:
    """X-RateLimit-* and RateLimit for the window with the fewest left, RateLimit-Policy
    for every window, and X-Credits-Remaining for a metered key."""
    headers: Headers = []
    if verdict.windows:
        tight = verdict.tightest
        remaining = str(tight.remaining).encode()
        policy = ", ".join(f'"{w.name}";q={w.limit};w={w.seconds}' for w in verdict.windows)
        headers += [
            (b"x-ratelimit-limit", str(tight.limit).encode()),
            (b"x-ratelimit-remaining", remaining),
            (b"ratelimit-policy", policy.encode()),
            (b"ratelimit", f'"{tight.name}";r={tight.remaining};t={tight.reset_after}'.encode()),
        ]
    if verdict.credits_remaining is not None:
        headers.append((b"x-credits-remaining", str(verdict.credits_remaining).encode()))
    return headers


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
                await self._decide(exchange, key_subject(key.quota_id), key_policy(key))
            elif exchange.method in route.access.per_ip:
                ip = exchange.context.client_ip or "unknown"
                await self._decide(exchange, ip_subject(ip), QuotaPolicy.hourly(self._per_ip_limit))
        await self.inner(exchange)

    async def _decide(self, exchange: Exchange, subject: str, policy: QuotaPolicy) -> None:
        try:
            verdict = await self._check_quota(subject, policy)
        except (QuotaExceeded, CreditsExhausted) as exc:
            if isinstance(exc.verdict, Verdict):
                exchange.response_headers += rate_limit_headers(exc.verdict)
            raise
        if verdict is not None:  # None: the store is down and configured to admit anyway
            exchange.response_headers += rate_limit_headers(verdict)
