"""Standard Webhooks signing (https://www.standardwebhooks.com) and message bodies.

The receiver verifies `v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>` with the
secret it was given once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

SECRET_PREFIX = "whsec_"  # noqa: S105 -- the format marker, not a secret
SECRET_BYTES = 24


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
