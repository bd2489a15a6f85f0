"""What PostgreSQL can store: text and JSON a client may send but a column cannot hold."""

from __future__ import annotations

import math


def storable_text(value: str) -> bool:
    """PostgreSQL text holds neither NUL nor lone surrogates (not UTF-8 encodable)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


METADATA_MAX_DEPTH = 64


def storable_json(value: object, depth: int = 0) -> bool:
    """What jsonb accepts, no deeper than METADATA_MAX_DEPTH: storable text everywhere
    and finite numbers."""
    if depth > METADATA_MAX_DEPTH:
        return False
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(storable_text(k) and storable_json(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(storable_json(v, depth + 1) for v in value)
    return True
