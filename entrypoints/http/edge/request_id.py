"""Every response carries a request id: the client's own X-Request-ID when it is a
sensible one, else a new one. The same id is in the request's log row and in a 500's
body, so a client's report can be matched to the server's records."""

from __future__ import annotations

import os
import re

from entrypoints.http.context import CURRENT
from entrypoints.http.edge.exchange import Exchange
from entrypoints.http.edge.layer import Layer

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(supplied: bytes | None) -> str:
    if supplied is not None:
        text = supplied.decode("latin-1")
        if REQUEST_ID.fullmatch(text):
            return text
    # 32 random hex digits, as uuid4().hex gave, without building a UUID object (a
    # third of the cost): this runs on every request.
    return os.urandom(16).hex()


class RequestId(Layer):
    async def __call__(self, exchange: Exchange) -> None:
        request_id = request_id_of(exchange.headers.get(b"x-request-id"))
        exchange.context.request_id = request_id
        exchange.response_headers.append((b"x-request-id", request_id.encode()))
        token = CURRENT.set(exchange.context)
        try:
            await self.inner(exchange)
        finally:
            CURRENT.reset(token)
