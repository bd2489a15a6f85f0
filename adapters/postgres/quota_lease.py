"""A lease: admissions quota_lease_n (functions/quota_lease.sql) counted in advance for
this worker, handed out without a statement until the buckets they were counted in end.

The verdict of a leased admission is the last decision the database made for this worker
on the subject, counted down by what the worker has admitted from the lease since: every
window's `remaining` one less per admission, `retry_after` 0 (a lease is
at most 1/64 of what was left, so it never reaches a limit), `reset_after` from the
bucket in progress. What other workers admitted meanwhile is not in it (docs/internals.md).
A metered key is never leased: its verdicts all come from the database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from domain.quota import QuotaPolicy, Verdict, WindowStatus

# The first lease asked for; then twice what the last one handed out, within these.
FIRST_WANT = 64
MAX_WANT = 4096
# Seconds taken off a lease's end: the database's clock and this one's tick apart.
MARGIN = 0.002


@dataclass(slots=True)
class Lease:
    policy: QuotaPolicy
    base: Verdict  # the database's last answer, before the lease was counted
    granted: int
    at: float  # the database's clock (epoch s) when it counted the lease
    asked: float  # this event loop's clock when the statement was sent
    until: float  # this event loop's clock: the lease may be used before it
    used: int = 0

    @classmethod
    def made(
        cls,
        policy: QuotaPolicy,
        base: Verdict,
        row: tuple[int, float, float],
        asked: float,
    ) -> Lease:
        """From quota_lease_n's lease columns. The database counted the lease after
        `asked`, so its buckets end no sooner than `asked` + (lease_until - lease_at)."""
        granted, at, until = row
        return cls(policy, base, granted, at, asked, asked + until - at - MARGIN)

    @property
    def left(self) -> int:
        return self.granted - self.used

    def usable(self, policy: QuotaPolicy, now: float) -> bool:
        return self.used < self.granted and now < self.until and self.policy == policy

    def admit(self, now: float) -> Verdict:
        """One admission from the lease at `now` (this loop's clock)."""
        self.used += 1
        db_now = self.at + now - self.asked
        windows = tuple(
            WindowStatus(
                w.name,
                w.limit,
                w.seconds,
                w.remaining - self.used,
                0,
                max(1, math.ceil(_bucket_end(self.at, w.seconds) + w.seconds - db_now)),
            )
            for w in self.base.windows
        )
        return Verdict(True, windows)

    def next_want(self) -> int:
        return min(MAX_WANT, max(FIRST_WANT, 2 * self.used))


def _bucket_end(at: float, window: int) -> float:
    """When the bucket of a window of `window` seconds in progress at `at` ends."""
    width = window // 60
    return (math.floor(at / width) + 1) * width
