"""The quota rule (domain/quota.py, domain/credits.py): several windows, credits, refills."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from domain.credits import DAILY, MONTHLY, CreditRule, Refill
from domain.quota import DAY, HOUR, MINUTE, QuotaPolicy, QuotaState, Verdict, decide

T0 = datetime(2026, 3, 31, 23, 0, 0, tzinfo=UTC).timestamp()
SET = int(T0 * 1e6) - 1  # credits set by an admin a moment before T0 (epoch microseconds)


def run(policy: QuotaPolicy, times: list[float]) -> tuple[QuotaState | None, list[Verdict]]:
    state: QuotaState | None = None
    verdicts = []
    for t in times:
        state, verdict = decide(state, policy, t)
        verdicts.append(verdict)
    return state, verdicts


def test_each_window_holds_in_every_rolling_window_of_its_length() -> None:
    rng = random.Random(7)
    policy = QuotaPolicy.of(per_hour=40, per_minute=5, per_day=90)
    t, times = T0, []
    for _ in range(3000):
        t += rng.choice([0.1, 0.5, 3, 20, 200, 2000])
        times.append(t)
    _, verdicts = run(policy, times)
    admitted = [t for t, v in zip(times, verdicts, strict=True) if v.admitted]
    for seconds, limit in ((MINUTE, 5), (HOUR, 40), (DAY, 90)):
        for i, start in enumerate(admitted):
            inside = [a for a in admitted[i:] if a < start + seconds]
            assert len(inside) <= limit, (seconds, start)


def test_retry_after_waits_for_every_window_and_at_most_a_bucket_too_long() -> None:
    policy = QuotaPolicy.of(per_hour=3, per_minute=2)
    state, verdicts = run(policy, [T0, T0 + 1, T0 + 2])
    refused = verdicts[-1]
    assert not refused.admitted and refused.retry_after is not None
    assert refused.retry_after <= 61
    # Waiting as told admits (the hour still has room).
    _, later = decide(state, policy, T0 + 2 + refused.retry_after)
    assert later.admitted
    for seconds in (MINUTE, HOUR, DAY):
        one = QuotaPolicy(
            (next(r for r in QuotaPolicy.of(1, 1, 1).windows if r.seconds == seconds),)
        )
        _, (_, refused) = run(one, [T0, T0])
        assert refused.retry_after is not None
        assert refused.retry_after <= seconds + seconds // 60


def test_a_request_the_minute_refuses_does_not_move_the_hour() -> None:
    policy = QuotaPolicy.of(per_hour=100, per_minute=2)
    state, verdicts = run(policy, [T0] * 5)
    assert [v.admitted for v in verdicts] == [True, True, False, False, False]
    hourly = verdicts[-1].windows[1]
    assert (hourly.name, hourly.remaining) == ("hourly", 98)
    assert state is not None and sum(state.windows[HOUR].counts) == 2


def test_the_headers_window_is_the_one_with_fewest_left() -> None:
    _, verdicts = run(QuotaPolicy.of(per_hour=10, per_minute=3, per_day=1000), [T0])
    assert (verdicts[0].tightest.name, verdicts[0].remaining) == ("minute", 2)
    _, verdicts = run(QuotaPolicy.of(per_hour=3, per_minute=60), [T0])
    assert verdicts[0].tightest.name == "hourly"


def test_credits_admit_exactly_their_number_and_spend_no_window_when_out() -> None:
    policy = QuotaPolicy.of(per_hour=100, credits=CreditRule(SET, 3))
    state, verdicts = run(policy, [T0 + i for i in range(6)])
    assert [v.admitted for v in verdicts] == [True] * 3 + [False] * 3
    assert [v.credits_remaining for v in verdicts] == [2, 1, 0, 0, 0, 0]
    assert verdicts[-1].out_of_credits and verdicts[-1].retry_after is None  # no refill
    assert state is not None and sum(state.windows[HOUR].counts) == 3


def test_a_request_a_window_refuses_spends_no_credit() -> None:
    policy = QuotaPolicy.of(per_hour=2, credits=CreditRule(SET, 10))
    _, verdicts = run(policy, [T0] * 4)
    assert [v.credits_remaining for v in verdicts] == [9, 8, 8, 8]
    assert not verdicts[-1].out_of_credits


def test_a_daily_refill_sets_the_count_at_midnight_utc_and_says_when() -> None:
    policy = QuotaPolicy.of(per_hour=100, credits=CreditRule(SET, 1, Refill(DAILY, 5)))
    state, verdicts = run(policy, [T0, T0 + 10])
    assert verdicts[1].out_of_credits and verdicts[1].retry_after == 3600 - 10
    _, after = decide(state, policy, T0 + 3600)  # 00:00 UTC, April 1st
    assert after.admitted and after.credits_remaining == 4  # set to 5, not added


def test_a_monthly_refill_waits_for_the_first_of_the_month() -> None:
    start = datetime(2026, 2, 10, tzinfo=UTC).timestamp()
    set_in_february = CreditRule(int(start * 1e6), 0, Refill(MONTHLY, 7))
    policy = QuotaPolicy.of(per_hour=100, credits=set_in_february)
    state, (refused,) = run(policy, [start])
    assert refused.retry_after == datetime(2026, 3, 1, tzinfo=UTC).timestamp() - start
    _, (late,) = run(policy, [datetime(2026, 3, 1, tzinfo=UTC).timestamp() - 1])
    assert late.out_of_credits
    # Refilled whether or not the store had kept anything of the refused request.
    for kept in (state, None):
        _, refilled = decide(kept, policy, datetime(2026, 3, 1, tzinfo=UTC).timestamp())
        assert refilled.admitted and refilled.credits_remaining == 6


def test_a_top_up_is_a_newer_version_and_an_older_copy_cannot_undo_it() -> None:
    old = QuotaPolicy.of(per_hour=100, credits=CreditRule(SET, 1))
    state, _ = run(old, [T0])
    topped = QuotaPolicy.of(per_hour=100, credits=CreditRule(SET + 1, 10))
    state, verdict = decide(state, topped, T0 + 1)
    assert verdict.credits_remaining == 9
    _, stale = decide(state, old, T0 + 2)  # a process still holding version 1
    assert stale.credits_remaining == 8


def test_a_look_counts_nothing() -> None:
    policy = QuotaPolicy.of(per_hour=5, per_minute=2, credits=CreditRule(SET, 3))
    state, _ = run(policy, [T0])
    _, look = decide(state, policy, T0 + 1, spend=False)
    assert not look.admitted and not look.out_of_credits
    assert [w.remaining for w in look.windows] == [1, 4] and look.credits_remaining == 2
    _, next_one = decide(state, policy, T0 + 1)
    assert next_one.credits_remaining == 1 and next_one.windows[0].remaining == 0
