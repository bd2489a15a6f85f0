"""The quota store: quota_lease_n (functions/quota_lease.sql), batched per event-loop
turn, with leases.

Requests that ask for a decision in the same turn of this process's event loop share
one connection checkout and one statement (quota_lease_many); a lone request still
gets its answer in one round trip. Exactness is the SQL function's: each subject's
row is locked while it is decided.

Far from a subject's limits the statement also leases this worker a block of
admissions, counted in the database at once (adapters/postgres/quota_lease.py): the
requests after it are admitted here, with no statement, until the block is used up or
its buckets end. What is left of a lease is given back with the subject's next
statement, by `return_expired` (a background task calls it every second) or, at
shutdown, by `return_all`.

The batch (adapters/batching.py) belongs to the event loop that first used the store: a
future may only be resolved on its own loop, so a caller on any other loop (a test, a
CLI) gets a statement of its own instead of joining.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from adapters.batching import TurnBatcher
from adapters.postgres.quota_lease import FIRST_WANT, Lease
from application.ports.errors import StoreUnavailable
from domain.quota import DAY, HOUR, MINUTE, QuotaDecision, QuotaPolicy, Verdict, WindowStatus

log = logging.getLogger(__name__)

COLUMNS = "admitted, remaining, retry_after, reset_after, credits_remaining,"
COLUMNS += " credits_retry_after, out_of_credits"
DECIDE = f"SELECT {COLUMNS} FROM quota_decide_n(%s, %s, %s, %s, %s, %s, %s, %s, 1, %s, %s)"
LEASE_MANY = (
    f"SELECT ord, {COLUMNS}, lease, lease_at, lease_until FROM quota_lease_many("
    + ", ".join(["%s"] * 12)
    + ")"
)
MAX_BATCH = 256
Asked = tuple[str, QuotaPolicy]


class Entry:
    """One subject's part of a batch: its decisions (their places in the batch), the
    lease asked for, the lease given back."""

    __slots__ = ("back", "places", "policy", "subject", "want")

    def __init__(self, subject: str, policy: QuotaPolicy, want: int, back: Lease | None) -> None:
        self.subject = subject
        self.policy = policy
        self.places: list[int] = []
        self.want = want
        self.back = back

    def arguments(self) -> tuple[Any, ...]:
        back = self.back
        return (
            self.subject,
            *_arguments(self.policy),
            len(self.places),
            self.want,
            back.left if back else 0,
            back.at if back else None,
        )


def _arguments(policy: QuotaPolicy) -> tuple[Any, ...]:
    """The policy as quota_decide_n's parameters after the subject."""
    limits = {rule.seconds: rule.limit for rule in policy.windows}
    credits = policy.credits
    refill = credits.refill if credits else None
    return (
        limits.get(MINUTE),
        limits[HOUR],
        limits.get(DAY),
        credits.version if credits else None,
        credits.remaining if credits else None,
        refill.interval if refill else None,
        refill.amount if refill else None,
    )


def _verdict(policy: QuotaPolicy, row: tuple[Any, ...]) -> Verdict:
    admitted, remaining, retry, reset, credits, credits_retry, out_of_credits = row
    windows = tuple(
        WindowStatus(rule.name, rule.limit, rule.seconds, remaining[i], retry[i], reset[i])
        for i, rule in enumerate(policy.windows)
    )
    return Verdict(admitted, windows, credits, credits_retry, out_of_credits)


class PostgresQuotaStore:
    def __init__(self, pool: AsyncConnectionPool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        # A request a lease made since it was queued is answered when its batch goes.
        self._batcher: TurnBatcher[Asked, Verdict] = TurnBatcher(
            self._decide_many, MAX_BATCH, at_once=lambda asked: self._from_lease(*asked)
        )
        self._leases: dict[str, Lease] = {}
        self._asking: set[str] = set()  # subjects with a lease asked for, not yet answered
        self._closing = False

    async def decide(
        self, subject: str, policy: QuotaPolicy, now: datetime | None = None
    ) -> Verdict:
        """`now` is for tests (one call, that instant, no lease); in service the
        database's clock decides, one clock for every process."""
        if not self._batcher.serves(asyncio.get_running_loop()) or now is not None:
            return await self._one(subject, policy, now, spend=True)
        leased = self._from_lease(subject, policy)
        if leased is not None:
            return leased
        # Whoever else asks during this turn of the loop joins the same statement.
        return await self._batcher.submit((subject, policy))

    async def look(self, subject: str, policy: QuotaPolicy, now: datetime | None = None) -> Verdict:
        """The database's count: what is leased to workers counts as spent until given back."""
        return await self._one(subject, policy, now, spend=False)

    async def take(self, subject: str, limit: int, now: datetime | None = None) -> QuotaDecision:
        """One hourly window alone, in the single-window shape."""
        verdict = await self.decide(subject, QuotaPolicy.hourly(limit), now)
        hour = verdict.windows[0]
        return QuotaDecision(
            verdict.admitted, limit, hour.remaining, hour.retry_after, hour.reset_after
        )

    async def return_expired(self) -> None:
        """Give back what is left of every lease whose buckets have ended."""
        now = asyncio.get_running_loop().time()
        await self._give_back(lambda lease: now >= lease.until)

    async def return_all(self) -> None:
        """At shutdown: give back every lease, and lease nothing more."""
        self._closing = True
        if in_flight := self._batcher.in_flight():  # a lease on its way goes back too
            await asyncio.wait(in_flight, timeout=self._timeout)
        await self._give_back(lambda lease: True)

    async def _give_back(self, due: Any) -> None:
        entries = []
        for subject, lease in list(self._leases.items()):
            if subject not in self._asking and due(lease):
                del self._leases[subject]
                if lease.left > 0:
                    entries.append(Entry(subject, lease.policy, 0, lease))
        if entries:
            try:
                await self._run(entries, asyncio.get_running_loop().time())
            except StoreUnavailable as exc:
                # Not given back: counted until its buckets leave the windows.
                log.warning("quota leases not given back: %s", exc)

    def _from_lease(self, subject: str, policy: QuotaPolicy) -> Verdict | None:
        lease = self._leases.get(subject)
        now = asyncio.get_running_loop().time()
        return lease.admit(now) if lease is not None and lease.usable(policy, now) else None

    async def _decide_many(self, batch: list[Asked]) -> list[Verdict]:
        entries = self._entries(batch)
        try:
            verdicts = await self._run(entries, asyncio.get_running_loop().time())
        finally:
            for entry in entries:
                if entry.want:
                    self._asking.discard(entry.subject)
        placed = dict(zip((p for e in entries for p in e.places), verdicts, strict=True))
        return [placed[place] for place in range(len(batch))]

    def _entries(self, batch: list[Asked]) -> list[Entry]:
        """The batch by subject and policy, in one order for every batch in every process
        (rows are locked in that order); a lease that can no longer be used goes back
        with its subject."""
        entries: dict[tuple[str, QuotaPolicy], Entry] = {}
        given: list[Entry] = []
        for place, (subject, policy) in enumerate(batch):
            entry = entries.get((subject, policy))
            if entry is None:
                entry = entries[(subject, policy)] = self._entry(subject, policy, given)
            entry.places.append(place)
        # Stable: a lease given back in an entry of its own goes before its subject's
        # decisions.
        return sorted(given + list(entries.values()), key=lambda e: e.subject)

    def _entry(self, subject: str, policy: QuotaPolicy, given: list[Entry]) -> Entry:
        lease = self._leases.pop(subject, None)
        want = 0
        if subject not in self._asking and not self._closing:
            want = lease.next_want() if lease else FIRST_WANT
            self._asking.add(subject)
        back = None
        if lease is not None and lease.left > 0:
            if lease.policy == policy:
                back = lease
            else:  # its counts are in the windows of the policy it was made under
                given.append(Entry(subject, lease.policy, 0, lease))
        return Entry(subject, policy, want, back)

    async def _run(self, entries: list[Entry], asked: float) -> list[Verdict]:
        """The entries' verdicts, entry after entry; the leases they were granted kept."""
        columns = list(zip(*(e.arguments() for e in entries), strict=True))
        async with self._pool.connection(timeout=self._timeout) as conn:
            cur = await conn.execute(LEASE_MANY, [list(c) for c in columns])
            rows = await cur.fetchall()
        answers = iter(rows)
        verdicts: list[Verdict] = []
        for entry in entries:
            for _ in entry.places:
                row = next(answers)
                verdicts.append(_verdict(entry.policy, row[1:8]))
            if entry.places and row[8]:
                self._leases[entry.subject] = Lease.made(entry.policy, verdicts[-1], row[8:], asked)
        return verdicts

    async def _one(
        self, subject: str, policy: QuotaPolicy, now: datetime | None, *, spend: bool
    ) -> Verdict:
        async with self._pool.connection(timeout=self._timeout) as conn:
            cur = await conn.execute(DECIDE, (subject, *_arguments(policy), now, spend))
            row = await cur.fetchone()
        assert row is not None
        return _verdict(policy, row)
