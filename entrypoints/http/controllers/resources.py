"""/resources: list, create, get, replace, patch, delete. Each handler reads its input,
calls one use case and presents the result."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody

from application.resources import (
    CreateResource,
    DeleteResource,
    GetResource,
    ListParams,
    ListResources,
    PatchResource,
    ReplaceResource,
)
from domain.resources import (
    CATEGORY_MAX,
    DESCRIPTION_MAX,
    NAME_MAX,
    Resource,
    ResourceDraft,
    ResourcePatch,
)
from domain.storable import METADATA_MAX_DEPTH
from entrypoints.http.controllers.common import (
    Cursor,
    Limit,
    Page,
    ResourceId,
    caller_of,
    path_id,
    query_int,
)
from entrypoints.http.controllers.list_params import (
    PREFERENCE_APPLIED_HEADER,
    CategoryFilter,
    Direction,
    Prefer,
    Search,
    SortBy,
    count_preference,
    preference_applied,
)
from entrypoints.http.error_docs import errors
from entrypoints.http.openapi import JSON_OBJECT, NO_NUL, documented
from entrypoints.http.presenter import Pagination, present

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=NAME_MAX), documented(pattern=NO_NUL)]
Description = Annotated[str, msgspec.Meta(max_length=DESCRIPTION_MAX), documented(pattern=NO_NUL)]
Category = Annotated[str, msgspec.Meta(max_length=CATEGORY_MAX), documented(pattern=NO_NUL)]
Metadata = Annotated[
    dict[str, Any],
    documented(
        **JSON_OBJECT,
        description=f"Any JSON object, nested at most {METADATA_MAX_DEPTH} levels deep",
    ),
]


class ResourceInput(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """POST and PUT: the editable fields; server-managed fields are refused."""

    name: Name
    description: Description | None = None
    category: Category | None = None
    metadata: Metadata | None = None

    def draft(self) -> ResourceDraft:
        return ResourceDraft(self.name, self.description, self.category, self.metadata)


class ResourcePatchInput(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """PATCH: only the fields given change; an explicit null clears one."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType | None = msgspec.UNSET
    category: Category | msgspec.UnsetType | None = msgspec.UNSET
    metadata: Metadata | msgspec.UnsetType | None = msgspec.UNSET

    def patch(self) -> ResourcePatch:
        given = {f: getattr(self, f) for f in self.__struct_fields__}
        return ResourcePatch({f: v for f, v in given.items() if v is not msgspec.UNSET})


class ResourceView(msgspec.Struct, rename="camel"):
    id: int
    name: str
    description: str | None
    category: str | None
    metadata: Metadata | None
    created_by: str
    # msgspec writes a UTC datetime as the API's other times are written (ISO 8601,
    # 'Z', microseconds only when there are any), without a string made per field.
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, r: Resource) -> ResourceView:
        return cls(
            id=r.id,
            name=r.name,
            description=r.description,
            category=r.category,
            metadata=r.metadata,
            created_by=r.created_by,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )


class ResourceList(msgspec.Struct):
    data: list[ResourceView]
    pagination: Pagination


IfMatch = Annotated[
    str | None,
    HeaderParameter(name="If-Match", description="An ETag from a previous response; 412 if stale"),
]
ETAG_HEADER = ResponseHeader(
    name="ETag", description="Strong entity tag of the resource", documentation_only=True
)
LOCATION_HEADER = ResponseHeader(
    name="Location", description="URL of the new resource", documentation_only=True
)


# What PUT and PATCH answer besides the changed resource.
CHANGE_DOCS: dict[str, Any] = {
    "responses": errors(403, 404, 412, 413),
    "response_headers": [ETAG_HEADER],
}


def _one(request: Request[Any, Any, Any], resource: Resource, status: int = 200) -> Response[Any]:
    headers = {"ETag": resource.etag}
    if status == 201:
        headers["Location"] = f"{request.url.path.rstrip('/')}/{resource.id}"
    return present(request, ResourceView.of(resource), status=status, headers=headers)


class ResourceController(Controller):
    path = "/resources"
    tags = ["resources"]  # noqa: RUF012

    @get(
        "/",
        summary="List resources",
        description="Paginated by `page` or by the keyset `cursor` from "
        "`pagination.nextCursor` (not both). Order is total: ties are broken by id. "
        "`Prefer: count=exact|planned|estimated` chooses how `pagination.total` is found "
        "(default: exact without `search`, estimated with it; without `search` every mode "
        "is exact); `pagination.totalIsEstimate` and `Preference-Applied` say which.",
        responses=errors(403),
        response_headers=[PREFERENCE_APPLIED_HEADER],
    )
    async def list_resources(
        self,
        request: Request[Any, Any, Any],
        list_resources: NamedDependency[ListResources],
        page: Page = None,
        limit: Limit = None,
        category: CategoryFilter = None,
        search: Search = None,
        sort: SortBy = None,
        order: Direction = None,
        cursor: Cursor = None,
        prefer: Prefer = None,
    ) -> Response[ResourceList]:
        params = ListParams(
            query_int("page", page), query_int("limit", limit), sort, order, category, search,
            cursor, count_preference(prefer),
        )  # fmt: skip
        result = await list_resources(caller_of(request), params)
        views = [ResourceView.of(r) for r in result.items]
        headers = preference_applied(result.count)
        return present(request, views, pagination=result.info, headers=headers)

    @post(
        "/",
        summary="Create a resource",
        description="Supports `Idempotency-Key`: a retry with the same key and body "
        "replays the first response; the same key with another body is a 422.",
        responses=errors(403, 413, 422),
        response_headers=[LOCATION_HEADER, ETAG_HEADER],
        status_code=201,
    )
    async def create_resource(
        self,
        request: Request[Any, Any, Any],
        create_resource: NamedDependency[CreateResource],
        data: JSONBody[ResourceInput],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                min_length=1,
                max_length=255,
                description="Makes retries safe for 24 h (per user)",
            ),
        ] = None,
    ) -> Response[ResourceView]:
        created = await create_resource(caller_of(request), data.draft(), idempotency_key)
        return _one(request, created.resource, status=201)

    @get(
        "/{resource_id:str}",
        summary="Get a resource",
        responses=errors(403, 404),
        response_headers=[ETAG_HEADER],
    )
    async def get_resource(
        self,
        request: Request[Any, Any, Any],
        get_resource: NamedDependency[GetResource],
        resource_id: ResourceId,
    ) -> Response[ResourceView]:
        return _one(
            request, await get_resource(caller_of(request), path_id(resource_id, "Resource"))
        )

    @put(
        "/{resource_id:str}",
        summary="Replace a resource",
        description="Full replacement: omitted optional fields become null.",
        **CHANGE_DOCS,
    )
    async def replace_resource(
        self,
        request: Request[Any, Any, Any],
        replace_resource: NamedDependency[ReplaceResource],
        resource_id: ResourceId,
        data: JSONBody[ResourceInput],
        if_match: IfMatch = None,
    ) -> Response[ResourceView]:
        caller = caller_of(request)
        return _one(
            request,
            await replace_resource(
                caller, path_id(resource_id, "Resource"), data.draft(), if_match
            ),
        )

    @patch(
        "/{resource_id:str}",
        summary="Change some fields of a resource",
        description="Only the fields given change; an explicit null clears a field.",
        **CHANGE_DOCS,
    )
    async def patch_resource(
        self,
        request: Request[Any, Any, Any],
        patch_resource: NamedDependency[PatchResource],
        resource_id: ResourceId,
        data: JSONBody[ResourcePatchInput],
        if_match: IfMatch = None,
    ) -> Response[ResourceView]:
        caller = caller_of(request)
        return _one(
            request,
            await patch_resource(caller, path_id(resource_id, "Resource"), data.patch(), if_match),
        )

    @delete(
        "/{resource_id:str}",
        summary="Delete a resource",
        responses=errors(403, 404, 412),
        status_code=204,
    )
    async def delete_resource(
        self,
        request: Request[Any, Any, Any],
        delete_resource: NamedDependency[DeleteResource],
        resource_id: ResourceId,
        if_match: IfMatch = None,
    ) -> None:
        await delete_resource(caller_of(request), path_id(resource_id, "Resource"), if_match)
