"""The rate-limit decision: a sliding hour of per-minute buckets, counted conservatively.

A request at time t is admitted when the requests admitted in every minute bucket
that overlaps (t - 3600, t] add up to less than the limit. A bucket overlapping the
window only in part is counted whole, so a limit is never exceeded in any rolling
hour; the price is that quota comes back up to one minute late (Retry-After <= 3660).

The PostgreSQL adapter runs the same arithmetic inside one statement (quota_take in
the migrations); tests hold the two to the same answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WINDOW_SECONDS = 3600
BUCKET_SECONDS = 60
BUCKETS = WINDOW_SECONDS // BUCKET_SECONDS + 1


@dataclass(frozen=True, slots=True)
class QuotaDecision:
    admitted: bool
    limit: int
    remaining: int
    # Seconds until one more request would be admitted (0 while some remain).
    retry_after: int
    # Seconds until every counted request has left the window.
    reset_after: int


@dataclass(frozen=True, slots=True)
class Window:
    """Counts of admitted requests for the BUCKETS minutes ending at head_minute."""

    head_minute: int
    counts: tuple[int, ...]

    @classmethod
    def empty(cls, minute: int) -> Window:
        return cls(minute, (0,) * BUCKETS)

    def advanced_to(self, minute: int) -> Window:
        shift = minute - self.head_minute
        if shift <= 0:
            return self
        if shift >= BUCKETS:
            return Window.empty(minute)
        return Window(minute, self.counts[shift:] + (0,) * shift)


def _seconds_until_expiry(bucket_minute: int, now: float) -> int:
    # A bucket stops overlapping the window once (minute + 1) * 60 <= t - 3600.
    expires = bucket_minute * BUCKET_SECONDS + BUCKET_SECONDS + WINDOW_SECONDS
    return max(1, math.ceil(expires - now))


def _seconds_until_below(window: Window, limit: int, now: float) -> int:
    """Seconds until fewer than `limit` requests are counted, the oldest leaving first."""
    total = sum(window.counts)
    oldest_minute = window.head_minute - BUCKETS + 1
    for i, count in enumerate(window.counts):
        total -= count
        if total < limit:
            return _seconds_until_expiry(oldest_minute + i, now)
    return 0


def _seconds_until_whole(window: Window, now: float) -> int:
    oldest_minute = window.head_minute - BUCKETS + 1
    for i in range(BUCKETS - 1, -1, -1):
        if window.counts[i]:
            return _seconds_until_expiry(oldest_minute + i, now)
    return 0


def take(window: Window | None, limit: int, now: float) -> tuple[Window, QuotaDecision]:
    """Admit one request at `now` (epoch seconds) if the limit allows; count it if so."""
    minute = math.floor(now / BUCKET_SECONDS)
    current = (window or Window.empty(minute)).advanced_to(minute)
    used = sum(current.counts)
    admitted = used < limit
    if admitted:
        counts = list(current.counts)
        counts[-1] += 1
        current = Window(current.head_minute, tuple(counts))
        used += 1
    remaining = max(0, limit - used)
    retry_after = 0 if remaining > 0 else _seconds_until_below(current, limit, now)
    decision = QuotaDecision(
        admitted=admitted,
        limit=limit,
        remaining=remaining,
        retry_after=retry_after,
        reset_after=_seconds_until_whole(current, now),
    )
    return current, decision
