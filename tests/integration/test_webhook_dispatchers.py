"""Real `keygate webhooks dispatch` processes: killed ones lose nothing, several at once
never send one delivery twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from entrypoints.container import Container
from tests.support.receiver import running_receiver
from tests.support.signatures import verify
from tests.support.waiting import eventually
from tests.support.webhooks import RESOURCE, hooks, record, rows, subscribe

__all__ = ["hooks"]  # a fixture, used by name

pytestmark = pytest.mark.slow
READY = "dispatching webhooks"


class Dispatcher:
    def __init__(self, db: str, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(
            DATABASE_URL=db,
            WEBHOOK_ALLOW_PRIVATE="127.0.0.0/8",
            WEBHOOK_DISPATCH_INTERVAL="0.02",
            WEBHOOK_RETRY_BASE="0.05",
            WEBHOOK_RETRY_CAP="0.2",
            WEBHOOK_TIMEOUT="2",
            WEBHOOK_LEASE="3",
        )
        self.log = log
        # A file, not a pipe: a pipe nobody reads would stall the process once full.
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "entrypoints.cli.main", "webhooks", "dispatch"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def ready(self) -> None:
        deadline = time.monotonic() + 30
        while READY not in self.log.read_text():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "the dispatcher never became ready"
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def dispatchers(db: str, tmp_path: Path) -> Iterator[Callable[[], Dispatcher]]:
    started: list[Dispatcher] = []

    def start() -> Dispatcher:
        started.append(Dispatcher(db, tmp_path / f"dispatcher-{len(started)}.log"))
        return started[-1]

    yield start
    for dispatcher in started:
        dispatcher.kill()


async def test_a_dispatcher_killed_after_the_commit_loses_nothing_and_sends_once(
    hooks: Container, db: str, dispatchers: Callable[[], Dispatcher]
) -> None:
    async with running_receiver() as receiver:
        _, secret = await subscribe(hooks, receiver.url)
        first = dispatchers()
        await first.ready()
        # Frozen, it can neither deliver nor record: the events sit committed in the outbox
        # when it dies.
        first.process.send_signal(signal.SIGSTOP)
        for i in range(3):
            await record(hooks, "resource.created", {**RESOURCE, "id": i})
        first.process.send_signal(signal.SIGKILL)
        first.kill()
        await asyncio.sleep(0.3)
        assert receiver.receipts == []
        assert rows(db, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'") == [
            (3,)
        ]

        second = dispatchers()
        await second.ready()
        await eventually(lambda: len(receiver.acknowledged()) == 3, within=20)
        await asyncio.sleep(0.5)  # time enough for any repeat to show up
        second.process.send_signal(signal.SIGTERM)
        assert second.process.wait(timeout=10) == 0

    assert sorted(receiver.per_id().values()) == [1, 1, 1]
    for r in receiver.receipts:
        h = r.headers
        assert verify(secret, h["webhook-id"], h["webhook-timestamp"], r.body,
                      h["webhook-signature"])  # fmt: skip
    assert rows(db, "SELECT DISTINCT status, attempts FROM webhook_deliveries") == [
        ("succeeded", 1)
    ]


async def test_a_dispatcher_killed_mid_delivery_is_replaced_after_its_lease(
    hooks: Container, db: str, dispatchers: Callable[[], Dispatcher]
) -> None:
    async with running_receiver() as receiver:
        receiver.hold = asyncio.Event()
        await subscribe(hooks, receiver.url)
        first = dispatchers()
        await first.ready()
        await record(hooks, "resource.created", RESOURCE)
        await eventually(lambda: receiver.waiting == 1, within=20)
        first.kill()  # SIGKILL while the request is unanswered: no outcome recorded
        receiver.hold.set()
        second = dispatchers()
        await second.ready()
        await eventually(lambda: len(receiver.acknowledged()) == 1, within=20)
        await asyncio.sleep(0.5)

    # At-least-once: the attempt that died unanswered is repeated once, after the lease,
    # under the same webhook-id (the receiver dropped the first: its sender was gone).
    [(message_id, count)] = receiver.per_id().items()
    assert count == 1 and receiver.receipts[0].status == 200
    assert rows(db, "SELECT message_id, status, attempts FROM webhook_deliveries") == [
        (message_id, "succeeded", 2)
    ]


async def test_concurrent_dispatchers_never_send_a_delivery_twice(
    hooks: Container, db: str, dispatchers: Callable[[], Dispatcher]
) -> None:
    async with running_receiver() as receiver:
        await subscribe(hooks, receiver.url)
        await subscribe(hooks, receiver.url)
        running = [dispatchers() for _ in range(3)]
        for dispatcher in running:
            await dispatcher.ready()
        for i in range(60):
            await record(hooks, "resource.updated", {**RESOURCE, "id": i})
        await eventually(lambda: len(receiver.acknowledged()) == 120, within=20)
        await asyncio.sleep(0.5)

    counts = receiver.per_id()
    assert len(counts) == 120 and set(counts.values()) == {1}
    assert rows(db, "SELECT status, attempts, count(*) FROM webhook_deliveries GROUP BY 1, 2") == [
        ("succeeded", 1, 120)
    ]


def test_dispatch_without_a_reachable_database_is_a_one_line_error() -> None:
    # (With no DATABASE_URL at all the dispatcher runs on the embedded server, as every
    # command does: tests/cli/test_embedded_default.py.)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    for database_url, status in [
        ("postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=2", 1),
    ]:
        env["DATABASE_URL"] = database_url
        result = subprocess.run(
            [sys.executable, "-m", "entrypoints.cli.main", "webhooks", "dispatch"],
            env={**env, "DB_TIMEOUT": "2"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == status, result.stderr
        assert result.stderr.startswith("keygate: error:") and result.stderr.count("\n") == 1
