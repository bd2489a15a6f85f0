"""What a failed delivery records says nothing about internal DNS, and holds at most a
short, printable excerpt of what a receiver answered (issue 14 #10)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from adapters.http_client import SafeWebhookSender
from domain.webhook_retries import EXCERPT_MAX, REFUSED_PRIVATE
from domain.webhook_targets import AddressPolicy
from tests.support.webhooks import LOOPBACK


@pytest.mark.parametrize("answers", [["127.0.0.1"], ["10.1.2.3", "93.184.216.34"], ["::1"], []])
async def test_a_refused_name_says_private_address_and_nothing_more(answers: list[str]) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return answers

    sender = SafeWebhookSender(AddressPolicy(), resolve=resolve)
    try:
        result = await sender.send("http://vm/hook", {}, b"{}")
    finally:
        await sender.stop()
    assert result.error == REFUSED_PRIVATE


async def test_a_name_that_does_not_resolve_is_refused_the_same_way() -> None:
    async def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    sender = SafeWebhookSender(AddressPolicy(), resolve=resolve)
    try:
        result = await sender.send("http://no-such-host.internal/hook", {}, b"{}")
    finally:
        await sender.stop()
    assert result.error == REFUSED_PRIVATE


async def test_a_receivers_answer_is_kept_as_a_short_printable_excerpt() -> None:
    body = b"\x1b[31mError\r\n\t<html>" + "é".encode() * 5000 + b"\x00secret tail"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 502 X\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sender = SafeWebhookSender(AddressPolicy(LOOPBACK), timeout=2)
    try:
        result = await sender.send(f"http://127.0.0.1:{port}/", {}, b"{}")
    finally:
        await sender.stop()
        server.close()
    assert result.status_code == 502 and result.error is not None
    assert result.error.startswith("HTTP 502: [31mError <html>éé")
    assert len(result.error) <= len("HTTP 502: ") + EXCERPT_MAX
    assert result.error.isprintable() and "secret" not in result.error
