"""A receiver's check of a Standard Webhooks signature, written from the spec and
independent of the code under test."""

from __future__ import annotations

import base64
import hashlib
import hmac


def verify(secret: str, msg_id: str, timestamp: str, body: bytes, header: str) -> bool:
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    # The header may carry several space-separated signatures (secret rotation).
    return any(
        version == "v1" and hmac.compare_digest(signature, expected)
        for version, _, signature in (part.partition(",") for part in header.split(" "))
    )
