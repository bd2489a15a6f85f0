"""Raw ASGI calls, for what an HTTP client cannot easily send or do: paths it would
normalise first (`//api`, `/./`), bytes it would re-encode, vanishing, cancelling, or
coming through a proxy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Message = dict[str, Any]
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def scope_for(
    method: str, path: str, client: tuple[str, int] = ("203.0.113.9", 4000), **headers: str
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()],
        "client": client,
        "server": ("127.0.0.1", 8000),
    }


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


async def call(app: ASGIApp, method: str, path: str, body: bytes = b"", **headers: str) -> Answer:
    """One whole request with `body`; the response as status, headers and body."""
    sent = Recorder()
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    await app(scope_for(method, path, **headers), receive, sent)
    start = sent.messages[0]
    return Answer(
        status=start["status"],
        headers={k.decode(): v.decode("latin-1") for k, v in start["headers"]},
        body=b"".join(m.get("body", b"") for m in sent.messages[1:]),
    )
