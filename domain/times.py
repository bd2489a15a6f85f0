"""Times as clients write them: ISO 8601 with a zone in, UTC with a `Z` out."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.errors import FieldError, InvalidInput

# Longer than any ISO 8601 time ("2026-12-01T10:00:00.123456+05:30" is 32).
TIME_TEXT_MAX = 64
TIME_FORMAT_HINT = "an ISO 8601 time with a zone, e.g. 2027-01-31T12:00:00Z"


def parse_time(text: str | datetime, field: str) -> datetime:
    """An instant from its ISO 8601 text (or a datetime a decoder already made), in UTC;
    anything without a zone is refused: "12:00" alone would be a different instant on
    every server."""
    try:
        if isinstance(text, datetime):
            value = text
        elif len(text) > TIME_TEXT_MAX:
            raise ValueError(text)
        else:
            # RFC 3339 allows a lower-case t and z; Python's parser does not.
            value = datetime.fromisoformat(text.strip().upper())
    except ValueError:
        raise InvalidInput(
            f"Invalid {field}", [FieldError(field, f"must be {TIME_FORMAT_HINT}")]
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"Invalid {field}",
            [FieldError(field, f"needs a zone (Z or an offset): {TIME_FORMAT_HINT}")],
        )
    return value.astimezone(UTC)


def wire_time(value: datetime | None) -> str | None:
    """How every time goes out: ISO 8601 UTC with a `Z`."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
