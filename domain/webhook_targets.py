"""Where webhook deliveries may go: URL validation and the address policy."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.errors import FieldError, InvalidInput

URL_MAX = 2048
HOST_MAX = 253
# RFC 3986: unreserved and reserved characters, and '%' for percent-encoding. Anything
# else (spaces, controls, quotes, non-ASCII) is read differently by different parsers,
# so a URL containing one could be delivered somewhere other than where it appears to go.
URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Underscores are not in RFC 1123 but do occur in real host names; hyphens may not
# start or end a label.
HOST_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
METADATA = ipaddress.ip_address("169.254.169.254")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one tunnels to, which is where packets really end up."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _forbidden(ip: IPAddress) -> bool:
    return (
        ip == METADATA
        or ip in CGNAT
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Where deliveries may connect: public addresses, plus ranges the operator allows."""

    allowed: tuple[Network, ...] = ()

    def permits(self, ip: IPAddress) -> bool:
        targets: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(ip)
            if embedded is not None:
                targets.append(embedded)
        if any(t in net for t in targets for net in self.allowed if t.version == net.version):
            return True
        return not any(_forbidden(t) for t in targets)


class AddressRefused(Exception):
    """A delivery target resolved to an address the policy does not permit (or to
    none); `private` is False for a refusal that says nothing about addresses."""

    def __init__(self, detail: str, *, private: bool = True) -> None:
        super().__init__(detail)
        self.private = private


def literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _character_problem(url: str) -> str | None:
    if URL_CHARACTERS.fullmatch(url):
        bad = BAD_PERCENT.search(url)
        if bad is None:
            return None
        return f"has a '%' not followed by two hex digits at position {bad.start()}"
    position, char = next((i, c) for i, c in enumerate(url) if not URL_CHARACTERS.fullmatch(c))
    if char == " ":
        what = "a space"
    elif char.isascii() and not char.isprintable():
        what = "a control character"
    elif not char.isascii():
        return (
            f"contains the non-ASCII character {char!r} at position {position}: percent-encode"
            " it, and write an international domain name in its xn-- form"
        )
    else:
        what = repr(char)
    return f"contains {what} at position {position}, which is not allowed in a URL"


def _host_problem(name: str) -> str | None:
    """What is wrong with a host name (not an IP literal), if anything."""
    if len(name) > HOST_MAX:
        return f"host name must be at most {HOST_MAX} characters"
    labels = name.split(".")
    if not all(HOST_LABEL.fullmatch(label) for label in labels):
        return "host name must be dot-separated labels of 1-63 letters, digits, '-' or '_'"
    # No top-level domain is numeric: such a host is an IPv4 address, and resolvers
    # also read forms like 2130706433 or 0x7f.1 (127.0.0.1); only the dotted quad is
    # accepted, so the address checked here is the address connected to.
    if NUMERIC_LABEL.fullmatch(labels[-1]) and literal_ip(name) is None:
        return (
            "a host ending in a number must be an IPv4 address: four decimal numbers 0-255,"
            " without leading zeros"
        )
    return None


def validate_url(url: str, policy: AddressPolicy) -> str:
    """Checks what can be known without DNS; the delivery-time check is the real guard."""

    def invalid(message: str) -> InvalidInput:
        return InvalidInput("Invalid webhook", [FieldError("url", message)])

    if not 1 <= len(url) <= URL_MAX:
        raise invalid(f"must be 1-{URL_MAX} characters")
    problem = _character_problem(url)
    if problem:
        raise invalid(problem)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise invalid(f"not a valid URL ({exc})") from None
    if parts.scheme not in {"http", "https"}:
        raise invalid("must be an http or https URL")
    host = parts.hostname
    if not host:
        raise invalid("must name a host")
    if "@" in parts.netloc:
        raise invalid("must not carry credentials")
    if port == 0:
        raise invalid("must not use port 0")
    # A trailing dot (the DNS root) changes nothing about where the name leads.
    name = host.removesuffix(".")
    ip = literal_ip(name)
    if ip is None and "[" in parts.netloc:
        raise invalid("a bracketed host must be an IPv6 address")
    if ip is None:
        problem = _host_problem(name)
        if problem:
            raise invalid(problem)
    obviously_local = name == "localhost" or name.endswith((".localhost", ".local", ".internal"))
    if obviously_local and not policy.allowed:
        raise invalid("private, loopback and link-local targets are not allowed")
    if ip is not None and not policy.permits(ip):
        raise invalid("private, loopback and link-local targets are not allowed")
    return url


DEFAULT_PORTS = {"http": 80, "https": 443}


def delivery_target(url: str) -> str:
    """The place a (validated) URL delivers to, spelled one way: scheme and host in lower
    case without the DNS root's trailing dot, no default port, '/' for an empty path and
    no fragment (never sent). Two subscriptions with one target are one subscription."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removesuffix(".")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS.get(parts.scheme.lower())) else f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{netloc}{parts.path or '/'}{query}"
