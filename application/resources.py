"""Resource use cases: list, get, create (idempotently), replace, patch, delete.

Each takes the Caller and checks its permission first: read to list and get, write
to change; who may change which resource is the domain's rule (authorize_change).

A change that is one statement (a plain create, a replace or delete without If-Match)
goes through the ResourceWriter and commits on its own; one that must read first, or
must commit with something else (an Idempotency-Key record), runs in a UnitOfWork.
Webhook events are recorded by the store in the same transaction as every change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from application.ports.resources import ResourceReader, ResourceRepository, ResourceWriter
from application.ports.secrets import SecretStore
from application.ports.uow import UnitOfWorkFactory
from domain.errors import FieldError, InvalidInput, NotFound, PreconditionFailed, Unprocessable
from domain.keys import Caller, Permission, acting_user, require
from domain.pagination import PageInfo, estimated_page_info, page_request
from domain.resource_queries import CountMode, CursorCodec, count_mode, resource_query
from domain.resources import (
    Resource,
    ResourceDraft,
    ResourceFields,
    ResourcePatch,
    authorize_change,
    change_owner,
    if_match_allows,
    valid_id,
)
from domain.storable import storable_text

IDEMPOTENCY_TTL = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class ResourcePage:
    items: Sequence[Resource]
    info: PageInfo
    count: CountMode = CountMode.EXACT  # how `info.total` was found


@dataclass(frozen=True, slots=True)
class ListParams:
    """The list query as a client stated it; None means not given."""

    page: int | None = None
    limit: int | None = None
    sort: str | None = None
    order: str | None = None
    category: str | None = None
    search: str | None = None
    cursor: str | None = None
    count: str | None = None  # the preferred count mode, CountMode's values


class ListResources:
    def __init__(self, reader: ResourceReader, secrets: SecretStore) -> None:
        self._reader = reader
        self._secrets = secrets
        self._codec: CursorCodec | None = None

    async def codec(self) -> CursorCodec:
        if self._codec is None:
            self._codec = CursorCodec(await self._secrets.cursor_secret())
        return self._codec

    async def __call__(self, caller: Caller, params: ListParams) -> ResourcePage:
        require(caller, Permission.READ)
        codec = await self.codec()
        query = resource_query(
            page_request(params.page, params.limit),
            page_given=params.page is not None,
            sort=params.sort,
            order=params.order,
            category=params.category,
            search=params.search,
            # A cursor sent with a page is refused before it is even decoded.
            cursor=None
            if params.cursor is None or params.page is not None
            else codec.decode(params.cursor),
            cursor_given=params.cursor is not None,
        )
        query = replace(query, count=count_mode(params.count, query.search))
        limit = query.page.limit
        # One row more than the page says whether another page follows, in every mode.
        rows, total = await self._reader.list(query, limit + 1)
        items = rows[:limit]
        info = estimated_page_info(query.page, total, len(items), len(rows) > limit)
        if query.after is not None:
            info = replace(info, page=None)
        if info.has_next and items:
            info = replace(info, next_cursor=codec.after(query, items[-1]))
        return ResourcePage(items, info, query.count)


class GetResource:
    def __init__(self, reader: ResourceReader) -> None:
        self._reader = reader

    async def __call__(self, caller: Caller, resource_id: int) -> Resource:
        require(caller, Permission.READ)
        resource = await self._reader.get(resource_id) if valid_id(resource_id) else None
        if resource is None:
            raise NotFound("Resource not found")
        return resource


@dataclass(frozen=True, slots=True)
class Created:
    resource: Resource
    replayed: bool = False


class CreateResource:
    def __init__(self, uow: UnitOfWorkFactory, writer: ResourceWriter) -> None:
        self._uow = uow
        self._writer = writer

    async def __call__(
        self, caller: Caller, draft: ResourceDraft, idempotency_key: str | None = None
    ) -> Created:
        require(caller, Permission.WRITE)
        fields = draft.validated()
        user_id = acting_user(caller)
        if idempotency_key is not None and not storable_text(idempotency_key):
            raise InvalidInput(
                "Invalid Idempotency-Key header",
                [FieldError("Idempotency-Key", "must be 1-255 printable characters")],
            )
        if idempotency_key is None:
            return Created(await self._writer.add(fields, user_id))
        async with self._uow() as uow:
            fingerprint = fields.fingerprint()
            claimed = await uow.idempotency.claim(
                user_id, idempotency_key, fingerprint, IDEMPOTENCY_TTL
            )
            if not claimed:
                first = await uow.idempotency.existing(user_id, idempotency_key)
                if first.fingerprint != fingerprint or first.resource is None:
                    raise Unprocessable(
                        "Idempotency-Key was already used with a different request body"
                    )
                return Created(first.resource, replayed=True)
            resource = await uow.resources.add(fields, user_id)
            await uow.idempotency.complete(user_id, idempotency_key, resource)
        return Created(resource)


async def _changeable(
    repo: ResourceRepository, caller: Caller, resource_id: int, if_match: str | None
) -> Resource:
    """The locked row, once the caller may change it and If-Match holds."""
    resource = await repo.get_for_update(resource_id) if valid_id(resource_id) else None
    if resource is None:
        raise NotFound("Resource not found")
    authorize_change(caller, resource)
    if not if_match_allows(if_match, resource.etag):
        raise PreconditionFailed("If-Match does not match the resource's current ETag")
    return resource


class _ChangeResource:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def _change(
        self,
        caller: Caller,
        resource_id: int,
        if_match: str | None,
        new_fields: Callable[[ResourceFields], ResourceFields],
    ) -> Resource:
        async with self._uow() as uow:
            current = await _changeable(uow.resources, caller, resource_id, if_match)
            return await uow.resources.update(resource_id, new_fields(current.fields))


class ReplaceResource(_ChangeResource):
    def __init__(self, uow: UnitOfWorkFactory, writer: ResourceWriter) -> None:
        super().__init__(uow)
        self._writer = writer

    async def __call__(
        self, caller: Caller, resource_id: int, draft: ResourceDraft, if_match: str | None
    ) -> Resource:
        require(caller, Permission.WRITE)
        fields = draft.validated()
        if if_match is None and valid_id(resource_id):
            # The common case in one statement; when it finds nothing to change, the
            # locked read below says why (missing or not the caller's).
            changed = await self._writer.replace_owned(resource_id, fields, change_owner(caller))
            if changed is not None:
                return changed
        return await self._change(caller, resource_id, if_match, lambda _: fields)


class PatchResource(_ChangeResource):
    async def __call__(
        self, caller: Caller, resource_id: int, patch: ResourcePatch, if_match: str | None
    ) -> Resource:
        require(caller, Permission.WRITE)
        return await self._change(caller, resource_id, if_match, patch.applied_to)


class DeleteResource:
    def __init__(self, uow: UnitOfWorkFactory, writer: ResourceWriter) -> None:
        self._uow = uow
        self._writer = writer

    async def __call__(self, caller: Caller, resource_id: int, if_match: str | None) -> None:
        require(caller, Permission.WRITE)
        owner = change_owner(caller)
        if (
            if_match is None
            and valid_id(resource_id)
            and await self._writer.delete_owned(resource_id, owner)
        ):
            return
        async with self._uow() as uow:
            await _changeable(uow.resources, caller, resource_id, if_match)
            await uow.resources.delete(resource_id)
