"""The sliding window's arithmetic, with a controlled clock."""

from __future__ import annotations

import random

from domain.quota import WINDOW_SECONDS, Window, take

T0 = 1_800_000_000.0  # a minute boundary: 1_800_000_000 / 60 is whole


def run(times: list[float], limit: int) -> list[bool]:
    window: Window | None = None
    admitted = []
    for t in times:
        window, decision = take(window, limit, t)
        admitted.append(decision.admitted)
    return admitted


def test_admits_exactly_limit_then_rejects_with_headers() -> None:
    window = None
    for i in range(3):
        window, d = take(window, 3, T0 + i)
        assert d.admitted and d.remaining == 2 - i
    window, d = take(window, 3, T0 + 10)
    assert not d.admitted and d.remaining == 0
    assert d.retry_after == 3660 - 10  # the first minute's bucket leaves the window
    assert d.reset_after == 3660 - 10


def test_rejected_requests_consume_nothing() -> None:
    window, _ = take(None, 1, T0)
    for i in range(50):
        window, d = take(window, 1, T0 + 1 + i)
        assert not d.admitted
    assert sum(window.counts) == 1


def test_retry_after_is_exact_and_a_retry_then_is_admitted() -> None:
    window = None
    for i in range(5):
        window, _ = take(window, 5, T0 + 7 + i * 60)  # one per minute
    window, d = take(window, 5, T0 + 300.5)
    assert not d.admitted
    _, too_early = take(window, 5, T0 + 300.5 + d.retry_after - 1)
    assert not too_early.admitted
    _, on_time = take(window, 5, T0 + 300.5 + d.retry_after)
    assert on_time.admitted
    assert 1 <= d.retry_after <= WINDOW_SECONDS + 60


def test_quota_is_whole_again_after_the_window_plus_one_minute() -> None:
    window = None
    for i in range(10):
        window, _ = take(window, 10, T0 + i)
    _, d = take(window, 10, T0 + 3659)
    assert not d.admitted
    _, d = take(window, 10, T0 + 3660)
    assert d.admitted and d.remaining == 9


def test_never_more_than_limit_in_any_rolling_hour() -> None:
    rng = random.Random(7)
    limit = 25
    times = sorted(T0 + rng.uniform(0, 4 * 3600) for _ in range(2000))
    admitted = [t for t, ok in zip(times, run(times, limit), strict=True) if ok]
    for i, start in enumerate(admitted):
        in_window = [t for t in admitted[i:] if t < start + WINDOW_SECONDS]
        assert len(in_window) <= limit
    assert len(admitted) >= 3 * limit  # and the quota does come back


def test_a_clock_that_steps_back_counts_in_the_newest_bucket() -> None:
    window, _ = take(None, 2, T0 + 120)
    window, d = take(window, 2, T0 + 30)
    assert d.admitted and d.remaining == 0
    assert window.head_minute == (T0 + 120) // 60
