"""Resources: the entity, its validated fields, ownership and ETags.

List queries and their cursors are in domain/resource_queries.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from domain.errors import FieldError, InvalidInput, PermissionDenied
from domain.keys import Caller, Operator, UserId
from domain.storable import METADATA_MAX_DEPTH, storable_json, storable_text

NAME_MAX = 200
DESCRIPTION_MAX = 10_000
CATEGORY_MAX = 100
# Resource ids are PostgreSQL `integer`s: anything outside cannot exist.
MAX_ID = 2**31 - 1

Metadata = dict[str, Any]


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
class ResourceDraft:
    """The editable fields as a client sent them; a use case validates them once the
    caller is known to hold the right to write."""

    name: str
    description: str | None = None
    category: str | None = None
    metadata: object = None

    def validated(self) -> ResourceFields:
        return resource_fields(self.name, self.description, self.category, self.metadata)


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
