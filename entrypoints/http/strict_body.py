"""JSON request bodies are read strictly: UTF-8 text, each key once per object, and
types as declared (`"rateLimit": "5"` is an error, not 5).

Litestar converts handler arguments with msgspec's lax rules (`strict=False`), which
suit query parameters, strings by nature, but also turn a JSON string into a number
or a boolean inside a body. msgspec raises UnicodeDecodeError (which Litestar lets
through as a 500) for invalid UTF-8 inside a string, and keeps the last of a
duplicated key. This hook refuses all three before the handler's own conversion
runs, so also before any permission is checked. (A \\u escape of half a surrogate
pair is malformed JSON to msgspec already.)
"""

from __future__ import annotations

import json
from typing import Any, get_args

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException, ValidationException

from domain.errors import FieldError, InvalidInput

ROOT = "$"


def _location(message: str) -> tuple[str, str]:
    """msgspec's "Expected `int`, got `str` - at `$.rateLimit`" as (field, message)."""
    text, _, where = message.partition(" - at `")
    path = where.rstrip("`").removeprefix(ROOT).removeprefix(".")
    return path or "body", text


def _not_utf8(problem: str) -> InvalidInput:
    # JSON is UTF-8 (RFC 8259, 8.1) whatever charset a Content-Type declares.
    return InvalidInput("Request body is not valid UTF-8", [FieldError("body", problem)])


def utf8_text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(f"invalid byte 0x{body[exc.start]:02x} at position {exc.start}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise InvalidInput(
                "Duplicate key in a JSON object", [FieldError(key, "appears more than once")]
            )
        seen.add(key)


def check_unique_keys(text: str) -> None:
    """msgspec cannot tell; the standard library's parser shows each object's pairs.
    What it cannot parse at all is left to msgspec, whose errors read as always."""
    try:
        json.loads(text, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):
        return


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
    body = await request.body()
    check_unique_keys(utf8_text(body))
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
