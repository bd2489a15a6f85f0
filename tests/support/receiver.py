"""A real HTTP endpoint on 127.0.0.1 that records every webhook it receives."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Receipt:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered


@dataclass
class Receiver:
    """Answers each request with `answer(receipt_number_for_this_webhook_id)`."""

    answer: Callable[[int], int] = lambda _: 200
    receipts: list[Receipt] = field(default_factory=list)
    port: int = 0
    hold: asyncio.Event | None = None  # when set up, requests wait for it before answering
    waiting: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def per_id(self) -> Counter[str]:
        return Counter(r.headers.get("webhook-id", "") for r in self.receipts)

    def acknowledged(self) -> Counter[str]:
        return Counter(
            r.headers.get("webhook-id", "") for r in self.receipts if 200 <= r.status < 300
        )

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if self.hold is not None:
                self.waiting += 1
                await self.hold.wait()
                self.waiting -= 1
                if await _closed_by_peer(reader):
                    return  # the sender is gone: nobody gets this answer
            seen = sum(
                1 for r in self.receipts if r.headers.get("webhook-id") == headers.get("webhook-id")
            )
            status = self.answer(seen + 1)
            self.receipts.append(Receipt(method, path, headers, body, status))
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def _closed_by_peer(reader: asyncio.StreamReader) -> bool:
    """A sender waiting for its answer sends nothing more; a dead one has sent EOF."""
    try:
        return await asyncio.wait_for(reader.read(1), 0.2) == b""
    except TimeoutError:
        return False


@contextlib.asynccontextmanager
async def running_receiver(answer: Callable[[int], int] = lambda _: 200) -> AsyncIterator[Receiver]:
    receiver = Receiver(answer=answer)
    server = await asyncio.start_server(receiver._handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        # Leave no handler waiting on a hold that a test never released.
        if receiver.hold is not None:
            receiver.hold.set()
        await server.wait_closed()
