"""The client's IP behind trusted proxies: X-Forwarded-For is believed only as far as
trusted proxies vouch for it. Without trusted proxies the peer address stands (the
exchange starts with it) and this layer is left out."""

from __future__ import annotations

import ipaddress

from entrypoints.http.edge.exchange import Exchange
from entrypoints.http.edge.layer import EdgeConfig, Handler, Layer, Network


def client_address(
    peer: str | None, forwarded: str | None, trusted: tuple[Network, ...]
) -> str | None:
    if not trusted or not forwarded or peer is None or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


class ClientAddress(Layer):
    def __init__(self, inner: Handler, config: EdgeConfig) -> None:
        super().__init__(inner, config)
        self._trusted = config.trusted_proxies

    @staticmethod
    def needed(config: EdgeConfig) -> bool:
        return bool(config.trusted_proxies)

    async def __call__(self, exchange: Exchange) -> None:
        forwarded = exchange.headers.get(b"x-forwarded-for")
        if forwarded:
            ctx = exchange.context
            text = forwarded.decode("latin-1")
            ctx.client_ip = client_address(ctx.client_ip, text, self._trusted)
        await self.inner(exchange)
