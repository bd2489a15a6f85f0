"""One HTTP request as the outer layers see it: its scope, its declared route, and what
has happened to its response so far.

One Exchange is made per request and handed down the layers, so no layer wraps `send`
or `receive` again: layers add response headers to `response_headers` before the
response starts, and this object's one `send` puts them on the status line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from entrypoints.http import routes
from entrypoints.http.context import SCOPE_KEY, RequestContext

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]


class Exchange:
    __slots__ = (
        "_receive",
        "client_gone",
        "complete",
        "context",
        "downstream",
        "headers",
        "method",
        "path",
        "response_headers",
        "route",
        "scope",
        "started",
        "status",
    )

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.method: str = scope["method"]
        self._receive = receive
        # The server's send; a layer may put a filter in front of it for one request.
        self.downstream = send
        # Request headers by lower-case name (the ASGI server lower-cases them).
        self.headers: dict[bytes, bytes] = dict(scope["headers"])
        # Litestar routes on the spelling every layer here reads too.
        self.path: str = routes.canonical(scope["path"])
        scope["path"] = self.path
        self.route = routes.match(self.path)  # None outside /api
        peer = scope.get("client")
        self.context = scope[SCOPE_KEY] = RequestContext(
            request_id="-", client_ip=peer[0] if peer else None
        )
        self.response_headers: Headers = []
        self.status = 500  # until a status line goes out
        self.started = False  # the status line went out
        self.complete = False  # the last body chunk went out
        self.client_gone = False  # the client left before the response was complete

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.disconnect" and not self.complete:
            self.client_gone = True
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.started = True
            message = {**message, "headers": [*message.get("headers", ()), *self.response_headers]}
        await self.downstream(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            self.complete = True

    async def send_json(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        """A whole JSON response from the outer layer itself: a refusal or a failure."""
        raw_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await self.send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await self.send({"type": "http.response.body", "body": body})
