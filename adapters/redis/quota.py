"""The quota store on Redis: one Lua script per decision (quota.lua), atomic.

Chosen by QUOTA_STORE_URL=redis://... or rediss://... (a Valkey server or a Redis
Cluster node included: a cluster is recognised at the first decision and its client
used from then on). Every subject is one hash, named
`keygate:{<deployment>:<subject>}`: the braces are a hash tag, so whatever the store
keeps for a subject is in one slot; <deployment> is this keygate database's own id
(keygate_secrets 'deployment', made by migration 0015), so two deployments on one
Redis, or a database dropped and made again, never share counters.

Decisions asked for in one turn of the event loop go to Redis as one pipeline (each
still its own atomic script); a cluster's go one by one, each to its slot's node.

Any failure to reach Redis is StoreUnavailable; redis-py reconnects on the next
command, so the store recovers by itself when Redis is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from adapters.batching import TurnBatcher
from application.ports.errors import StoreUnavailable
from domain.quota import DAY, HOUR, MINUTE, QuotaDecision, QuotaPolicy, Verdict, WindowStatus

SCRIPT = resources.files(__package__).joinpath("quota.lua").read_text()
# A pipeline's length: long enough for a full loop turn, short enough to keep the
# decisions of one batch from waiting on each other's replies for long.
MAX_BATCH = 256
Asked = tuple[str, QuotaPolicy]


def _arguments(policy: QuotaPolicy, now: datetime | None, spend: bool) -> list[str]:
    limits = {rule.seconds: str(rule.limit) for rule in policy.windows}
    credits = policy.credits
    refill = credits.refill if credits else None
    # Microseconds, as the model's float epoch is made from them (datetime.timestamp).
    now_us = "" if now is None else str(round(now.timestamp() * 1e6))
    return [
        now_us,
        "1" if spend else "0",
        limits.get(MINUTE, ""),
        limits[HOUR],
        limits.get(DAY, ""),
        str(credits.version) if credits else "",
        str(credits.remaining) if credits else "",
        refill.interval if refill else "",
        str(refill.amount) if refill else "",
    ]


def _verdict(policy: QuotaPolicy, answer: bytes) -> Verdict:
    admitted, out_of_credits, credits, credits_retry, *figures = map(int, answer.split(b","))
    windows = tuple(
        WindowStatus(rule.name, rule.limit, rule.seconds, *figures[3 * i : 3 * i + 3])
        for i, rule in enumerate(policy.windows)
    )
    return Verdict(
        admitted=bool(admitted),
        windows=windows,
        credits_remaining=None if credits < 0 else credits,
        credits_retry_after=None if credits_retry < 0 else credits_retry,
        out_of_credits=bool(out_of_credits),
    )


class RedisQuotaStore:
    def __init__(
        self,
        url: str,
        deployment: Callable[[], Awaitable[str]],
        timeout: float,
        prefix: str = "keygate",
    ) -> None:
        self._url = url
        self._deployment = deployment
        self._timeout = timeout
        self._prefix = prefix
        self._client: Any = None
        self._script: Any = None
        self._namespace: str | None = None
        self._connecting = asyncio.Lock()
        self._batcher: TurnBatcher[Asked, Verdict] = TurnBatcher(self._pipelined, MAX_BATCH)
        self._cluster = False

    def key_of(self, subject: str, namespace: str) -> str:
        return f"{self._prefix}:{{{namespace}:{subject}}}"

    async def decide(
        self, subject: str, policy: QuotaPolicy, now: datetime | None = None
    ) -> Verdict:
        """`now` is for tests; in service Redis's clock decides, one for every process."""
        if now is None and self._batcher.serves(asyncio.get_running_loop()):
            try:
                await self._connected()  # a cluster is known before the first batch
            except (RedisError, OSError) as exc:
                raise StoreUnavailable(f"quota store unreachable: {exc}") from None
            if not self._cluster:
                return await self._batcher.submit((subject, policy))
        return await self._run(subject, policy, now, spend=True)

    async def look(self, subject: str, policy: QuotaPolicy, now: datetime | None = None) -> Verdict:
        return await self._run(subject, policy, now, spend=False)

    async def return_expired(self) -> None:
        """Nothing to give back: the script decides every request (no leases here)."""

    async def return_all(self) -> None:
        """Nothing to give back: the script decides every request (no leases here)."""

    async def take(self, subject: str, limit: int, now: datetime | None = None) -> QuotaDecision:
        verdict = await self.decide(subject, QuotaPolicy.hourly(limit), now)
        hour = verdict.windows[0]
        return QuotaDecision(
            verdict.admitted, limit, hour.remaining, hour.retry_after, hour.reset_after
        )

    async def ping(self) -> None:
        try:
            await (await self._connected()).ping()
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"quota store unreachable: {exc}") from None

    async def is_reachable(self) -> bool:
        """Readiness's quota-store check."""
        try:
            await self.ping()
        except StoreUnavailable:
            return False
        return True

    async def _run(
        self, subject: str, policy: QuotaPolicy, now: datetime | None, *, spend: bool
    ) -> Verdict:
        if self._namespace is None:
            self._namespace = await self._deployment()
        try:
            await self._connected()
            answer = await self._script(
                keys=[self.key_of(subject, self._namespace)],
                args=_arguments(policy, now, spend),
            )
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"quota store unreachable: {exc}") from None
        return _verdict(policy, answer)

    async def _pipelined(self, asked: list[Asked]) -> list[Verdict]:
        if self._namespace is None:
            self._namespace = await self._deployment()
        try:
            pipe = (await self._connected()).pipeline(transaction=False)
            for subject, policy in asked:
                keys = [self.key_of(subject, self._namespace)]
                await self._script(keys=keys, args=_arguments(policy, None, True), client=pipe)
            answers = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"quota store unreachable: {exc}") from None
        return [_verdict(policy, a) for (_, policy), a in zip(asked, answers, strict=True)]

    async def _connected(self) -> Any:
        if self._client is None:  # the lock only while connecting, not on every decision
            async with self._connecting:
                if self._client is None:
                    await self._connect()
        return self._client

    async def _connect(self) -> None:
        options: dict[str, Any] = {
            "socket_timeout": self._timeout,
            "socket_connect_timeout": self._timeout,
        }
        client: Any = Redis.from_url(self._url, **options)
        try:
            info = await client.info("cluster")
        except BaseException:
            await client.aclose()
            raise
        if info.get("cluster_enabled"):
            # A cluster node: its own client, which follows slots (one per subject here).
            await client.aclose()
            client = RedisCluster.from_url(self._url, **options)
            self._cluster = True
        self._client = client
        self._script = client.register_script(SCRIPT)

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
