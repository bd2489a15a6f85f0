"""Which version of the API a request speaks: the path's (/api/v1, /api/v2), else the
Accept-Version header's, else 1. Handlers shape their bodies by it (presenter.py)."""

from __future__ import annotations

from domain.errors import InvalidInput
from entrypoints.http.edge.exchange import Exchange
from entrypoints.http.edge.layer import Layer

SUPPORTED = {b"": 1, b"1": 1, b"2": 2}


def accepted_version(value: bytes | None) -> int:
    if value is None:
        return 1
    version = SUPPORTED.get(value.strip())
    if version is None:
        raise InvalidInput("Unsupported Accept-Version; supported versions: 1, 2")
    return version


class ApiVersion(Layer):
    async def __call__(self, exchange: Exchange) -> None:
        route = exchange.route
        if route is not None:
            exchange.context.version = route.version or accepted_version(
                exchange.headers.get(b"accept-version")
            )
        await self.inner(exchange)
