"""JSON request bodies are typed strictly: `"rateLimit": "5"` is an error, not 5.

Litestar converts handler arguments with msgspec's lax rules (`strict=False`), which
suit query parameters, strings by nature, but also turn a JSON string into a number
or a boolean inside a body. This hook checks a body against its struct with the
strict rules before the handler's own conversion runs.
"""

from __future__ import annotations

from typing import Any, get_args

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException, ValidationException

ROOT = "$"


def _location(message: str) -> tuple[str, str]:
    """msgspec's "Expected `int`, got `str` - at `$.rateLimit`" as (field, message)."""
    text, _, where = message.partition(" - at `")
    path = where.rstrip("`").removeprefix(ROOT).removeprefix(".")
    return path or "body", text


def _struct_of(annotation: Any) -> type[msgspec.Struct] | None:
    """The body's struct, also when the body is optional (`Struct | None`)."""
    candidates = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    if len(candidates) == 1:
        struct = candidates[0]
        if isinstance(struct, type) and issubclass(struct, msgspec.Struct):
            return struct
    return None


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """A before-request hook. Bodies that fail even the lax rules are left to Litestar,
    so their errors read as they always have; only what lax rules alone let through
    is refused here, with the same error shape."""
    field = request.route_handler.parsed_data_field
    struct = _struct_of(field.annotation if field is not None else None)
    if struct is None:
        return
    try:
        raw = await request.json()
    except SerializationException:
        return
    if raw is None:  # an optional body left out; a required one Litestar refuses
        return
    try:
        msgspec.convert(raw, struct, strict=True)
    except msgspec.ValidationError as strict_error:
        try:
            msgspec.convert(raw, struct, strict=False)
        except msgspec.ValidationError:
            return
        key, message = _location(str(strict_error))
        raise ValidationException(
            detail="Validation failed", extra=[{"key": key, "source": "body", "message": message}]
        ) from None
