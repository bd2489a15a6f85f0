"""The PostgreSQL store's batches (adapters/batching.py): what one turn of the loop asks
for goes as one statement, each caller gets its own answer, a caller that has gone
costs nothing and breaks nothing, and a lease still on its way at shutdown is given
back too. Leases themselves: tests/integration/test_quota_leases.py."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from adapters.postgres.quota import MAX_BATCH, PostgresQuotaStore
from domain.quota import QuotaPolicy
from entrypoints.container import Container

# Near its limit: 1/64 of what is left is under the least lease, so nothing is leased
# and every admission is counted in the database as it is made.
NEAR = QuotaPolicy.hourly(1000)


def stores(container: Container, n: int) -> list[PostgresQuotaStore]:
    return [PostgresQuotaStore(container.pool(), timeout=10) for _ in range(n)]


async def counted(store: PostgresQuotaStore, subject: str, policy: QuotaPolicy) -> int:
    hour = (await store.look(subject, policy)).windows[-1]
    return hour.limit - hour.remaining


@pytest.mark.parametrize("batch", [1, MAX_BATCH + 44])
async def test_every_caller_gets_its_own_subjects_answer(
    open_container: Container, batch: int
) -> None:
    """Callers in an order the statement does not keep (its subjects sorted), and more
    of them than one statement takes."""
    [worker] = stores(open_container, 1)
    asked = [(f"key:own{(i * 7) % batch}", QuotaPolicy.hourly(1 + i % 5)) for i in range(batch)]
    verdicts = await asyncio.gather(*(worker.decide(s, p) for s, p in asked))
    limits = [p.windows[0].limit for _, p in asked]
    assert [v.windows[0].limit for v in verdicts] == limits
    assert [v.remaining for v in verdicts] == [n - 1 for n in limits]


async def test_a_subject_under_two_policies_in_one_batch(open_container: Container) -> None:
    """Two entries of one subject (its key's limits changed between two requests): each
    caller is answered under its own policy, from the one row they share."""
    worker, reader = stores(open_container, 2)
    five, seven = QuotaPolicy.hourly(5), QuotaPolicy.hourly(7)
    asked = [five, seven, five, seven, five]
    verdicts = await asyncio.gather(*(worker.decide("key:both", p) for p in asked))
    assert [v.windows[0].limit for v in verdicts] == [5, 7, 5, 7, 5]
    for policy in (five, seven):
        theirs = [v.remaining for v, p in zip(verdicts, asked, strict=True) if p is policy]
        assert theirs == sorted(set(theirs), reverse=True)  # one decision after the other
    assert await counted(reader, "key:both", seven) == 5


async def test_a_caller_gone_before_its_batch_is_sent_is_not_counted(
    open_container: Container,
) -> None:
    worker, reader = stores(open_container, 2)
    callers = [asyncio.ensure_future(worker.decide("key:gone", NEAR)) for _ in range(3)]
    await asyncio.sleep(0)  # every caller has asked; the batch goes at the turn's end
    callers[1].cancel()
    first, gone, last = await asyncio.gather(*callers, return_exceptions=True)
    assert isinstance(gone, asyncio.CancelledError)
    assert [first.remaining, last.remaining] == [999, 998]  # type: ignore[union-attr]
    assert await counted(reader, "key:gone", NEAR) == 2


async def test_a_caller_gone_while_its_batch_is_on_its_way_breaks_no_other(
    open_container: Container, db: str
) -> None:
    worker, reader = stores(open_container, 2)
    async with await psycopg.AsyncConnection.connect(db) as holder:
        # The batch's statement waits on this lock: it is on its way while callers go.
        await holder.execute("LOCK TABLE quota_windows IN EXCLUSIVE MODE")
        callers = [asyncio.ensure_future(worker.decide("key:away", NEAR)) for _ in range(3)]
        await asyncio.sleep(0.2)
        callers[0].cancel()
    first, *others = await asyncio.gather(*callers, return_exceptions=True)
    assert isinstance(first, asyncio.CancelledError)
    assert sorted(v.remaining for v in others) == [997, 998]  # type: ignore[union-attr]
    assert await counted(reader, "key:away", NEAR) == 3  # decided before its caller left


async def test_shutdown_gives_back_a_lease_still_on_its_way(
    open_container: Container, db: str
) -> None:
    worker, reader = stores(open_container, 2)
    far = QuotaPolicy.hourly(100_000)
    async with await psycopg.AsyncConnection.connect(db) as holder:
        await holder.execute("LOCK TABLE quota_windows IN EXCLUSIVE MODE")
        decided = asyncio.ensure_future(worker.decide("key:late", far))
        await asyncio.sleep(0.2)  # the statement that leases is waiting on the lock
        shutdown = asyncio.ensure_future(worker.return_all())
        await asyncio.sleep(0.2)
        assert not shutdown.done()  # it waits for the lease on its way
    await shutdown
    assert (await decided).admitted
    assert await counted(reader, "key:late", far) == 1
