"""What a webhook delivery attempt records, when a failed one is tried again, and
when it is given up."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.webhooks import DeliveryStatus


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, given up once the next try would fall outside
    `window` seconds of the event: by default about 11 attempts over a day."""

    base: float = 5.0
    factor: float = 4.0
    cap: float = 4 * 3600.0
    window: float = 24 * 3600.0
    jitter: float = 0.25

    def delay(self, attempts: int, rand: float) -> float:
        """Seconds before the next try after `attempts` tries; `rand` is uniform in [0, 1)."""
        exponent = min(max(attempts - 1, 0), 64)
        raw = min(self.cap, self.base * self.factor**exponent)
        # Spread so that endpoints coming back from an outage are not hit all at once.
        return raw * (1 - self.jitter + 2 * self.jitter * rand)

    def next_delay(self, attempts: int, age: float, rand: float) -> float | None:
        """The delay before another try, or None when it is time to give up."""
        delay = self.delay(attempts, rand)
        return None if age + delay > self.window else delay


@dataclass(frozen=True, slots=True)
class AttemptResult:
    status_code: int | None
    error: str | None
    latency_ms: float

    def sanitised(self) -> AttemptResult:
        """The result as it may be stored and shown to the subscriber: a short,
        printable error, whatever the receiver or the network said."""
        return self if self.error is None else replace(self, error=short_text(self.error))


# The one thing a refused delivery says: neither what a name resolved to nor whether
# it resolved at all, which would let any write key probe internal DNS.
REFUSED_PRIVATE = "refused: private address"
ERROR_MAX = 200
EXCERPT_MAX = 100


def short_text(text: str, limit: int = ERROR_MAX) -> str:
    """`text` on one line of printable characters, at most `limit` of them: a receiver's
    answer may hold anything (markup, escapes, megabytes), none of which belongs in a
    delivery log."""
    printable = "".join(c if c.isprintable() else " " for c in text)
    flat = " ".join(printable.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def failed_answer(status_code: int, body: bytes) -> str:
    """The error of an attempt the receiver answered with a non-2xx status."""
    excerpt = short_text(body[: EXCERPT_MAX * 4].decode("utf-8", "replace"), EXCERPT_MAX)
    return f"HTTP {status_code}" + (f": {excerpt}" if excerpt else "")


@dataclass(frozen=True, slots=True)
class Outcome:
    status: DeliveryStatus
    retry_in: float = 0.0
    disable_webhook: bool = False


GONE = 410


def decide(
    result: AttemptResult, attempts: int, age: float, policy: RetryPolicy, rand: float
) -> Outcome:
    code = result.status_code
    if code is not None and 200 <= code < 300:
        return Outcome(DeliveryStatus.SUCCEEDED)
    if code == GONE:
        # Standard Webhooks: 410 means the receiver wants no more deliveries at all.
        return Outcome(DeliveryStatus.FAILED, disable_webhook=True)
    delay = policy.next_delay(attempts, age, rand)
    if delay is None:
        return Outcome(DeliveryStatus.FAILED)
    return Outcome(DeliveryStatus.PENDING, retry_in=delay)
