"""Reading a dashboard form: text fields in UTF-8, or a 400 page saying what is wrong.

The pages are served as UTF-8 and their forms post in it and hold no file field, so a
form in another charset (declared for the body or for a part), bytes that are not UTF-8,
a NUL or a file did not come from one of our pages. Such a form is refused whole, never
read with replacement characters: the handlers see text only.

Multipart bodies are parsed here (with `multipart`, the parser Litestar itself uses)
rather than by `Request.form()`, which decodes each part in whatever charset the part
names and spools files to disk before any handler could refuse them."""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.enums import RequestEncodingType
from multipart import MultipartSegment, ParserError, ParserLimitReached, PushMultipartParser

# What a charset may be declared as: these decode exactly as UTF-8 does.
READABLE = frozenset({"utf-8", "ascii"})
# Well above any dashboard form; a body of a thousand empty fields costs nothing.
MAX_FIELDS = 100


class BadForm(Exception):
    """The form cannot be read as this site's forms are written; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Form:
    """A form's fields, every one of them text."""

    fields: Mapping[str, Sequence[str]]

    def text(self, name: str) -> str:
        """The field's first value; "" when the form lacks it."""
        values = self.fields.get(name)
        return values[0] if values else ""

    def texts(self, name: str) -> list[str]:
        return list(self.fields.get(name, ()))


async def read_form(request: Request[Any, Any, Any]) -> Form:
    """The request's form; an empty one for a body that is no form (its CSRF check fails)."""
    content_type, options = request.content_type
    _check_charset(options.get("charset"))
    if content_type == RequestEncodingType.URL_ENCODED:
        return _url_encoded(await request.body())
    if content_type == RequestEncodingType.MULTI_PART:
        return await _multipart(request, options.get("boundary"))
    return Form({})


def _check_charset(charset: str | None) -> None:
    if charset is None:
        return
    try:
        readable = codecs.lookup(charset).name in READABLE
    except LookupError:
        readable = False
    if not readable:
        raise BadForm(f"Forms must be sent in UTF-8, not {charset[:40]!r}")


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadForm("A form field is not UTF-8 text") from None


def _url_encoded(body: bytes) -> Form:
    try:
        pairs = parse_qsl(
            _utf8(body),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise BadForm("A form field is not UTF-8 text") from None
    except ValueError:
        raise BadForm("The form has too many fields") from None
    return _text_only(pairs)


async def _multipart(request: Request[Any, Any, Any], boundary: str | None) -> Form:
    if not boundary:
        raise BadForm("The multipart form names no boundary")
    fields: list[tuple[str, str]] = []
    try:
        with PushMultipartParser(boundary.encode(), max_segment_count=MAX_FIELDS) as parser:
            segment: MultipartSegment | None = None
            data = bytearray()
            async for chunk in _chunks_then_end(request):
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        segment, data = _text_segment(event), bytearray()
                    elif event:
                        data += event
                    elif segment is not None:
                        fields.append((segment.name, _utf8(bytes(data))))
                if parser.closed:
                    break
    except ParserLimitReached:
        raise BadForm("The form has too many fields") from None
    except (ParserError, UnicodeError):
        raise BadForm("The body is not a valid multipart form") from None
    return _text_only(fields)


async def _chunks_then_end(request: Request[Any, Any, Any]) -> Any:
    """The body's chunks, then the empty chunk that tells the parser the body has ended."""
    async for chunk in request.stream():
        if chunk:
            yield chunk
    yield b""


def _text_segment(segment: MultipartSegment) -> MultipartSegment:
    if segment.filename is not None:
        raise BadForm(f"The field {segment.name!r} must be text, not a file")
    _check_charset(segment.charset)
    return segment


def _text_only(items: Iterable[tuple[str, str]]) -> Form:
    fields: dict[str, list[str]] = {}
    for name, value in items:
        if "\x00" in value:
            raise BadForm(f"The field {name!r} contains a NUL character")
        fields.setdefault(name, []).append(value)
    return Form(fields)
