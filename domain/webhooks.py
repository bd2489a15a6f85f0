"""Webhooks: subscriptions, Standard Webhooks signing, the address policy and retry timing.

Signing follows https://www.standardwebhooks.com: the receiver verifies
`v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>` with the secret it was given once.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import ipaddress
import json
import math
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from domain.errors import FieldError, InvalidInput
from domain.keys import UserId

SECRET_PREFIX = "whsec_"  # noqa: S105 -- the format marker, not a secret
SECRET_BYTES = 24
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


class EventType(enum.StrEnum):
    RESOURCE_CREATED = "resource.created"
    RESOURCE_UPDATED = "resource.updated"
    RESOURCE_DELETED = "resource.deleted"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    user_id: UserId
    url: str
    event_types: frozenset[EventType]
    is_active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Subscription:
    """A webhook just created: the only moment its signing secret is handed out."""

    webhook: Webhook
    secret: str


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    webhook_id: int
    event_id: int
    event_type: str
    message_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime


# --- signing -------------------------------------------------------------------------


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one attempt."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return iso_utc(value)
    raise TypeError(f"cannot encode {type(value).__name__} in a webhook payload")


def iso_utc(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def encode_data(data: Mapping[str, Any]) -> str:
    """Event data as JSON text; datetimes become ISO 8601 UTC like every API time, and a
    number beyond a double (read back as infinity) becomes null, as the API writes it,
    since JSON has no Infinity."""
    return json.dumps(
        _finite(data), default=_json_default, ensure_ascii=False, separators=(",", ":")
    )


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def message_body(event_type: str, occurred_at: datetime, data: Mapping[str, Any]) -> bytes:
    payload = {"type": event_type, "timestamp": iso_utc(occurred_at), "data": data}
    return encode_data(payload).encode("utf-8")


# --- what may be subscribed, and where deliveries may go --------------------------------

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
    """A delivery target resolved to an address the policy does not permit."""


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


def parse_event_types(values: Iterable[str]) -> frozenset[EventType]:
    allowed = ", ".join(e.value for e in EventType)
    result: set[EventType] = set()
    for value in values:
        try:
            result.add(EventType(value))
        except ValueError:
            raise InvalidInput(
                "Invalid webhook",
                [FieldError("eventTypes", f"unknown event type {value!r}; allowed: {allowed}")],
            ) from None
    if not result:
        raise InvalidInput(
            "Invalid webhook",
            [FieldError("eventTypes", f"at least one event type is required; allowed: {allowed}")],
        )
    return frozenset(result)


# --- retries ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, given up once the next try would fall outside
    `window` seconds of the event: by default about 11 attempts over a day."""

    base: float = 5.0
    factor: float = 4.0
    cap: float = 4 * 3600.0
    window: float = 24 * 3600.0
    jitter: float = 0.25

    def delay(self, attempts: int, rand: float) -> float:
        """Seconds before the next try after `attempts` tries; `rand` is uniform in [0, 1)."""
        exponent = min(max(attempts - 1, 0), 64)
        raw = min(self.cap, self.base * self.factor**exponent)
        # Spread so that endpoints coming back from an outage are not hit all at once.
        return raw * (1 - self.jitter + 2 * self.jitter * rand)

    def next_delay(self, attempts: int, age: float, rand: float) -> float | None:
        """The delay before another try, or None when it is time to give up."""
        delay = self.delay(attempts, rand)
        return None if age + delay > self.window else delay


@dataclass(frozen=True, slots=True)
class AttemptResult:
    status_code: int | None
    error: str | None
    latency_ms: float


@dataclass(frozen=True, slots=True)
class Outcome:
    status: DeliveryStatus
    retry_in: float = 0.0
    disable_webhook: bool = False


GONE = 410


def decide(
    result: AttemptResult, attempts: int, age: float, policy: RetryPolicy, rand: float
) -> Outcome:
    code = result.status_code
    if code is not None and 200 <= code < 300:
        return Outcome(DeliveryStatus.SUCCEEDED)
    if code == GONE:
        # Standard Webhooks: 410 means the receiver wants no more deliveries at all.
        return Outcome(DeliveryStatus.FAILED, disable_webhook=True)
    delay = policy.next_delay(attempts, age, rand)
    if delay is None:
        return Outcome(DeliveryStatus.FAILED)
    return Outcome(DeliveryStatus.PENDING, retry_in=delay)
