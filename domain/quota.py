"""The quota decision: sliding windows of 61 buckets each, counted conservatively, and
usage credits, decided together in one step per request.

A key has an hourly window (`rateLimit`) and may have a minute and a day window. Each
window of W seconds is 61 buckets of W/60 seconds: the 60 whole buckets of the window
and the one in progress. A request at time t fits a window when the requests admitted
in every bucket that overlaps (t - W, t] add up to less than its limit. A bucket that
overlaps the window only in part is counted whole, so a limit is never exceeded in any
rolling window of its length; the price is that quota comes back up to one bucket late
(Retry-After <= W + W/60: 61 s, 3660 s, 87840 s).

One decision over everything the key has: admitted only when every window has room
and, for a metered key, a credit is left; then it counts in every window and spends
one credit. A request refused by a window spends no credit, one refused for credits
counts in no window, and a refused request changes nothing at all.

The PostgreSQL function (adapters/postgres/functions/quota.sql) and the Redis script
(adapters/redis/quota.lua) run this same arithmetic; tests/contract/test_quota_rule.py
holds all three to the same answers over random sequences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from domain.credits import CreditRule, CreditState, current, seconds_until_refill

WINDOW_SECONDS = 3600
BUCKET_SECONDS = 60
BUCKETS = 61

MINUTE = 60
HOUR = 3600
DAY = 86400
WINDOW_NAMES = {MINUTE: "minute", HOUR: "hourly", DAY: "daily"}


@dataclass(frozen=True, slots=True)
class WindowRule:
    seconds: int  # MINUTE, HOUR or DAY
    limit: int

    @property
    def name(self) -> str:
        return WINDOW_NAMES[self.seconds]

    @property
    def bucket_seconds(self) -> int:
        return self.seconds // (BUCKETS - 1)


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    """Everything one subject is held to: its windows, shortest first, and credits."""

    windows: tuple[WindowRule, ...]
    credits: CreditRule | None = None

    @classmethod
    def hourly(cls, limit: int) -> QuotaPolicy:
        return cls((WindowRule(HOUR, limit),))

    @classmethod
    def of(
        cls,
        per_hour: int,
        per_minute: int | None = None,
        per_day: int | None = None,
        credits: CreditRule | None = None,
    ) -> QuotaPolicy:
        pairs = ((MINUTE, per_minute), (HOUR, per_hour), (DAY, per_day))
        return cls(tuple(WindowRule(s, n) for s, n in pairs if n is not None), credits)


@dataclass(frozen=True, slots=True)
class Window:
    """Counts of admitted requests for the BUCKETS buckets ending at bucket `head`."""

    head: int
    counts: tuple[int, ...]

    @property
    def head_minute(self) -> int:  # the hourly window's buckets are minutes
        return self.head

    @classmethod
    def empty(cls, head: int) -> Window:
        return cls(head, (0,) * BUCKETS)

    def advanced_to(self, head: int) -> Window:
        shift = head - self.head
        if shift <= 0:
            return self
        if shift >= BUCKETS:
            return Window.empty(head)
        return Window(head, self.counts[shift:] + (0,) * shift)

    def counted(self) -> Window:
        return Window(self.head, (*self.counts[:-1], self.counts[-1] + 1))


@dataclass(frozen=True, slots=True)
class QuotaState:
    """What a store keeps for one subject: a Window per window length, and credits."""

    windows: dict[int, Window]
    credits: CreditState | None = None

    @classmethod
    def empty(cls) -> QuotaState:
        return cls({})


@dataclass(frozen=True, slots=True)
class WindowStatus:
    name: str
    limit: int
    seconds: int
    remaining: int
    # Seconds until one more request would fit (0 while some remain).
    retry_after: int
    # Seconds until every counted request has left the window.
    reset_after: int


@dataclass(frozen=True, slots=True)
class Verdict:
    admitted: bool
    windows: tuple[WindowStatus, ...]
    # None: unmetered. Otherwise what is left after this request.
    credits_remaining: int | None = None
    # Set when refused for credits: seconds until the refill (None: no refill).
    credits_retry_after: int | None = None
    out_of_credits: bool = False

    @property
    def tightest(self) -> WindowStatus:
        """The window with the fewest left; of equals, the longest (the longest wait)."""
        return min(self.windows, key=lambda w: (w.remaining, -w.seconds))

    @property
    def limit(self) -> int:
        return self.tightest.limit

    @property
    def remaining(self) -> int:
        return self.tightest.remaining

    @property
    def retry_after(self) -> int | None:
        """Seconds until this subject may be admitted again (None: not by waiting)."""
        if self.out_of_credits:
            return self.credits_retry_after
        return max(w.retry_after for w in self.windows)


@dataclass(frozen=True, slots=True)
class QuotaDecision:
    """One hourly window's answer (the shape of the single-window API)."""

    admitted: bool
    limit: int
    remaining: int
    retry_after: int
    reset_after: int


def _expiry(rule: WindowRule, bucket: int, now: float) -> int:
    # A bucket stops overlapping the window once (bucket + 1) * width <= t - W.
    expires = bucket * rule.bucket_seconds + rule.bucket_seconds + rule.seconds
    return max(1, math.ceil(expires - now))


def _status(rule: WindowRule, window: Window, now: float) -> WindowStatus:
    used = sum(window.counts)
    remaining = max(0, rule.limit - used)
    oldest = window.head - BUCKETS + 1
    retry_after = 0
    if remaining == 0:
        total = used
        for i, count in enumerate(window.counts):  # the oldest buckets leave first
            total -= count
            if total < rule.limit:
                retry_after = _expiry(rule, oldest + i, now)
                break
    reset_after = 0
    for i in range(BUCKETS - 1, -1, -1):
        if window.counts[i]:
            reset_after = _expiry(rule, oldest + i, now)
            break
    return WindowStatus(rule.name, rule.limit, rule.seconds, remaining, retry_after, reset_after)


def _slid(state: QuotaState, rule: WindowRule, now: float) -> Window:
    head = math.floor(now / rule.bucket_seconds)
    window = state.windows.get(rule.seconds)
    return (window or Window.empty(head)).advanced_to(head)


def decide(
    state: QuotaState | None, policy: QuotaPolicy, now: float, *, spend: bool = True
) -> tuple[QuotaState, Verdict]:
    """Admit one request at `now` (epoch seconds) if every window and the credits allow,
    and count it. With spend=False, a look: what a request would meet, counting nothing
    (the state returned is then only the slid one, for the caller to discard)."""
    state = state or QuotaState.empty()
    windows = {rule.seconds: _slid(state, rule, now) for rule in policy.windows}
    fits = all(sum(windows[r.seconds].counts) < r.limit for r in policy.windows)
    credits = current(state.credits, policy.credits, now) if policy.credits else None
    has_credit = credits is None or credits.remaining > 0
    admitted = spend and fits and has_credit
    if admitted:
        windows = {seconds: w.counted() for seconds, w in windows.items()}
        if credits is not None:
            credits = replace(credits, remaining=credits.remaining - 1)
    statuses = tuple(_status(rule, windows[rule.seconds], now) for rule in policy.windows)
    out_of_credits = spend and fits and not has_credit
    verdict = Verdict(
        admitted=admitted,
        windows=statuses,
        credits_remaining=None if credits is None else credits.remaining,
        credits_retry_after=(
            seconds_until_refill(policy.credits, now) if policy.credits and out_of_credits else None
        ),
        out_of_credits=out_of_credits,
    )
    # A refused request changes nothing a store keeps (sliding is only the clock's).
    kept = QuotaState({**state.windows, **windows}, credits if admitted else state.credits)
    return kept, verdict


def take(window: Window | None, limit: int, now: float) -> tuple[Window, QuotaDecision]:
    """Admit one request at `now` against an hourly `limit` alone: `decide` for the
    policy of a key with only `rateLimit`."""
    state = QuotaState({HOUR: window}) if window is not None else None
    after, verdict = decide(state, QuotaPolicy.hourly(limit), now)
    hour = verdict.windows[0]
    decision = QuotaDecision(
        verdict.admitted, limit, hour.remaining, hour.retry_after, hour.reset_after
    )
    return after.windows[HOUR], decision
