"""Resources: the entity, validated inputs, list queries, ownership, ETags and cursors."""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from domain.errors import FieldError, InvalidInput, PermissionDenied
from domain.keys import Caller, Operator, UserId
from domain.pagination import PageRequest, SignedCursors, cursor_error, page_with_cursor

NAME_MAX = 200
DESCRIPTION_MAX = 10_000
CATEGORY_MAX = 100
SEARCH_MAX = 200
# Resource ids are PostgreSQL `integer`s: anything outside cannot exist.
MAX_ID = 2**31 - 1

Metadata = dict[str, Any]


class Sort(enum.StrEnum):
    NAME = "name"
    CREATED_AT = "created_at"
    CATEGORY = "category"


class Order(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True, slots=True)
class Resource:
    id: int
    name: str
    description: str | None
    category: str | None
    metadata: Metadata | None
    created_by: UserId
    created_at: datetime
    updated_at: datetime

    @property
    def fields(self) -> ResourceFields:
        return ResourceFields(self.name, self.description, self.category, self.metadata)

    @property
    def etag(self) -> str:
        """Strong: every change bumps updated_at (strictly, see the adapter)."""
        stamp = f"{self.id}:{self.updated_at.isoformat()}".encode()
        return '"' + hashlib.sha256(stamp).hexdigest()[:32] + '"'

    def sort_value(self, sort: Sort) -> str:
        """The row's key under `sort`, as the list query orders it (NULL category as '')."""
        if sort is Sort.NAME:
            return self.name
        if sort is Sort.CATEGORY:
            return self.category or ""
        return self.created_at.isoformat()


@dataclass(frozen=True, slots=True)
class ResourceFields:
    """The editable fields, validated."""

    name: str
    description: str | None = None
    category: str | None = None
    metadata: Metadata | None = None

    def fingerprint(self) -> str:
        """Equal for equal requests, whatever the key order of the JSON they came in."""
        canonical = json.dumps(
            [self.name, self.description, self.category, self.metadata],
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _too_long(field_name: str, value: str | None, limit: int) -> FieldError | None:
    if value is not None and len(value) > limit:
        return FieldError(field_name, f"must be at most {limit} characters")
    return None


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


def resource_fields(
    name: str,
    description: str | None = None,
    category: str | None = None,
    metadata: object = None,
) -> ResourceFields:
    """Validate every field and report all problems at once."""
    errors: list[FieldError] = []
    if not 1 <= len(name) <= NAME_MAX:
        errors.append(FieldError("name", f"must be 1-{NAME_MAX} characters"))
    for problem in (
        _too_long("description", description, DESCRIPTION_MAX),
        _too_long("category", category, CATEGORY_MAX),
    ):
        if problem:
            errors.append(problem)
    for name_, text in (("name", name), ("description", description), ("category", category)):
        if text is not None and not storable_text(text):
            errors.append(FieldError(name_, "must not contain NUL or unpaired surrogates"))
    if metadata is not None and not isinstance(metadata, dict):
        errors.append(FieldError("metadata", "must be a JSON object or null"))
    elif not storable_json(metadata):
        errors.append(
            FieldError(
                "metadata",
                f"must not contain NUL, unpaired surrogates or non-finite numbers, nor nest"
                f" deeper than {METADATA_MAX_DEPTH} levels",
            )
        )
    if errors:
        raise InvalidInput("Validation failed", errors)
    return ResourceFields(name, description, category, metadata)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ResourcePatch:
    """The fields a PATCH gave; an absent field keeps its value, a given null clears it."""

    values: Mapping[str, Any] = field(default_factory=dict)

    def applied_to(self, current: ResourceFields) -> ResourceFields:
        unknown = set(self.values) - {"name", "description", "category", "metadata"}
        if unknown:
            raise InvalidInput(
                "Validation failed",
                [FieldError(name, "unknown field") for name in sorted(unknown)],
            )
        if "name" in self.values and self.values["name"] is None:
            raise InvalidInput("Validation failed", [FieldError("name", "must not be null")])
        merged = replace(current, **self.values)
        return resource_fields(merged.name, merged.description, merged.category, merged.metadata)


def change_owner(caller: Caller) -> UserId | None:
    """Whose resources the caller may change or delete: None for anyone's (an admin or
    the operator), else the caller's own only."""
    if isinstance(caller, Operator) or caller.is_admin:
        return None
    return caller.user_id


def authorize_change(caller: Caller, resource: Resource) -> None:
    owner = change_owner(caller)
    if owner is not None and owner != resource.created_by:
        raise PermissionDenied("Only the creator of this resource or an admin may change it")


def if_match_allows(if_match: str | None, etag: str) -> bool:
    """RFC 9110 If-Match with strong comparison: weak tags never match."""
    if if_match is None:
        return True
    candidates = [tag.strip() for tag in if_match.split(",")]
    return "*" in candidates or etag in candidates


def valid_id(resource_id: int) -> bool:
    return 1 <= resource_id <= MAX_ID


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the previous page ended, and the query it belongs to."""

    sort: Sort
    order: Order
    value: str
    last_id: int
    category: str | None
    search: str | None


@dataclass(frozen=True, slots=True)
class ResourceQuery:
    page: PageRequest
    sort: Sort = Sort.CREATED_AT
    order: Order = Order.DESC
    category: str | None = None
    search: str | None = None
    # With a cursor, page.page is ignored: rows start after the cursor's row.
    after: Cursor | None = None


def _choice(enum_type: type[Sort] | type[Order], name: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_type)
        raise InvalidInput(
            f"Invalid query parameter '{name}'",
            [FieldError(name, f"must be one of: {allowed}")],
        ) from None


def _check_filter(param: str, text: str | None, max_length: int) -> None:
    if text is None:
        return
    if not storable_text(text):
        raise InvalidInput(
            f"Invalid query parameter '{param}'",
            [FieldError(param, "must not contain NUL or unpaired surrogates")],
        )
    if len(text) > max_length:
        raise InvalidInput(
            f"Invalid query parameter '{param}'",
            [FieldError(param, f"must be at most {max_length} characters")],
        )


def resource_query(
    page_request: PageRequest,
    *,
    page_given: bool,
    sort: str | None,
    order: str | None,
    category: str | None,
    search: str | None,
    cursor: Cursor | None,
    cursor_given: bool = False,
) -> ResourceQuery:
    """The list query. With a cursor, unstated sort/order/filters default to the
    cursor's and stated ones must agree; `cursor_given` says one was sent undecoded."""
    sort_value: Sort | None = _choice(Sort, "sort", sort)
    order_value: Order | None = _choice(Order, "order", order)
    _check_filter("category", category, CATEGORY_MAX)
    _check_filter("search", search, SEARCH_MAX)
    if cursor is None:
        if page_given and cursor_given:
            raise page_with_cursor()
        return ResourceQuery(
            page=page_request,
            sort=sort_value or Sort.CREATED_AT,
            order=order_value or Order.DESC,
            category=category,
            search=search or None,
        )
    if page_given:
        raise page_with_cursor()
    stated = (sort_value, order_value, category, search or None)
    issued = (cursor.sort, cursor.order, cursor.category, cursor.search)
    if any(
        mine is not None and mine != theirs for mine, theirs in zip(stated, issued, strict=True)
    ):
        raise cursor_error("was issued for a different sort, order, category or search")
    return ResourceQuery(
        page=PageRequest(1, page_request.limit),
        sort=cursor.sort,
        order=cursor.order,
        category=cursor.category,
        search=cursor.search,
        after=cursor,
    )


class CursorCodec(SignedCursors):
    """Resource cursors: sort, order, the last row's sort value and id, and filters."""

    def encode(self, cursor: Cursor) -> str:
        return self.seal(
            [
                cursor.sort.value,
                cursor.order.value,
                cursor.value,
                cursor.last_id,
                cursor.category,
                cursor.search,
            ]
        )

    def decode(self, token: str) -> Cursor:
        items = self.open(token)
        try:
            sort, order, value, last_id, category, search = items
            cursor = Cursor(Sort(sort), Order(order), value, last_id, category, search)
        except (ValueError, TypeError):
            raise cursor_error() from None
        if not (
            isinstance(cursor.value, str)
            and type(cursor.last_id) is int
            and all(v is None or isinstance(v, str) for v in (cursor.category, cursor.search))
        ):
            raise cursor_error()
        return cursor

    def after(self, query: ResourceQuery, last: Resource) -> str:
        return self.encode(
            Cursor(
                query.sort,
                query.order,
                last.sort_value(query.sort),
                last.id,
                query.category,
                query.search,
            )
        )
