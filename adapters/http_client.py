"""Outbound webhook POSTs that cannot be pointed at the inside of our network.

The target's name is resolved here, every address it resolves to is checked against
the policy, and the connection goes to the checked address itself: a second lookup by
the HTTP library could answer differently (DNS rebinding). The original name still
travels in the Host header and as the TLS server name, so virtual hosts and
certificate checks work as usual.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from urllib.parse import urlsplit

import httpx

from domain.webhook_retries import REFUSED_PRIVATE, AttemptResult, failed_answer
from domain.webhook_targets import AddressPolicy, AddressRefused, IPAddress, literal_ip

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

USER_AGENT = "keygate-webhooks/1.0"
# Enough of a receiver's answer for its excerpt (domain failed_answer); the rest is
# never read.
EXCERPT_BYTES = 1024


def _host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


async def resolve_host(host: str, port: int) -> Sequence[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class SafeWebhookSender:
    def __init__(
        self,
        policy: AddressPolicy,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        max_response_bytes: int = EXCERPT_BYTES,
        resolve: Resolver = resolve_host,
    ) -> None:
        self._policy = policy
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_response_bytes = max_response_bytes
        self._resolve = resolve
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        if self._client is None:
            self._client = self._new_client()

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            follow_redirects=False,
            # Proxies from the environment would connect on our behalf to an address
            # nobody checked.
            trust_env=False,
            timeout=httpx.Timeout(self._timeout, connect=self._connect_timeout),
            # Pooled connections are keyed by IP address; reusing one made for another
            # host name would skip that name's certificate check.
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=0),
            headers={"user-agent": USER_AGENT},
        )

    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> AttemptResult:
        if self._client is None:
            self._client = self._new_client()
        started = time.perf_counter()

        def result(code: int | None, error: str | None) -> AttemptResult:
            return AttemptResult(code, error, (time.perf_counter() - started) * 1000)

        try:
            async with asyncio.timeout(self._timeout):
                return await self._post(self._client, url, headers, body, result)
        except AddressRefused as exc:
            # The detail (what a name resolved to) is the operator's, never the subscriber's.
            log.info("webhook delivery to %s refused: %s", _host_of(url), exc)
            return result(None, REFUSED_PRIVATE if exc.private else f"refused: {exc}")
        except TimeoutError:
            return result(None, f"timed out after {self._timeout:g}s")
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
            # Recorded like any failed attempt, so even a URL that can never work
            # reaches the retry window and is given up instead of leased forever.
            return result(None, f"{type(exc).__name__}: {exc}".rstrip(": "))

    async def _post(
        self,
        client: httpx.AsyncClient,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        result: Callable[[int | None, str | None], AttemptResult],
    ) -> AttemptResult:
        target = httpx.URL(url)
        if target.scheme not in {"http", "https"}:
            raise AddressRefused(f"scheme {target.scheme!r} is not allowed", private=False)
        port = target.port or (443 if target.scheme == "https" else 80)
        name = target.raw_host.decode("ascii")
        address = await self.checked_address(name, port)
        extensions = {"sni_hostname": name} if target.scheme == "https" else {}
        bracketed = f"[{name}]" if ":" in name else name
        host_header = bracketed if target.port is None else f"{bracketed}:{port}"
        async with client.stream(
            "POST",
            target.copy_with(host=str(address)),
            content=body,
            headers={**headers, "host": host_header},
            extensions=extensions,
        ) as response:
            snippet = await self._read_capped(response)
        code = response.status_code
        if 200 <= code < 300:
            return result(code, None)
        return result(code, failed_answer(code, snippet))

    async def checked_address(self, host: str, port: int) -> IPAddress:
        """The address to connect to; refused when any address of `host` is not permitted,
        so that a name cannot mix a public answer with a private one."""
        literal = literal_ip(host)
        if literal is not None:
            candidates: list[IPAddress] = [literal]
        else:
            try:
                answers = await self._resolve(host, port)
            except socket.gaierror as exc:
                raise AddressRefused(f"cannot resolve {host!r}: {exc.strerror}") from None
            candidates = [ipaddress.ip_address(a.split("%", 1)[0]) for a in answers]
        if not candidates:
            raise AddressRefused(f"{host!r} resolves to no address")
        for ip in candidates:
            if not self._policy.permits(ip):
                raise AddressRefused(f"{host!r} resolves to {ip}, which is not allowed")
        return candidates[0]

    async def _read_capped(self, response: httpx.Response) -> bytes:
        """At most the cap of the body: an endpoint cannot make us buffer a large answer."""
        received = bytearray()
        async for chunk in response.aiter_raw():
            received += chunk
            if len(received) >= self._max_response_bytes:
                break
        return bytes(received[: self._max_response_bytes])
