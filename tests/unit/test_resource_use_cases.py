"""Resource use cases on fakes: permissions first, ownership, If-Match, idempotency, paging."""

from __future__ import annotations

import pytest

from application.resources import (
    CreateResource,
    DeleteResource,
    GetResource,
    ListParams,
    ListResources,
    PatchResource,
    ReplaceResource,
)
from domain.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    Unprocessable,
)
from domain.keys import OPERATOR, OPERATOR_USER_ID, Permission
from domain.resources import ResourceDraft, ResourcePatch
from tests.fakes import FakeClock, FixedSecrets, InMemoryUnitOfWork, make_caller

R, W, A = Permission.READ, Permission.WRITE, Permission.ADMIN
ALICE = make_caller("alice", R, W)
BOB = make_caller("bob", R, W)
ADMIN = make_caller("root", A)
READER = make_caller("alice", R)
WRITER_ONLY = make_caller("alice", W)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def uow(clock: FakeClock) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(clock)


def create(uow: InMemoryUnitOfWork) -> CreateResource:
    return CreateResource(uow, uow.resources)


async def test_reading_needs_the_read_permission(uow: InMemoryUnitOfWork) -> None:
    made = (await create(uow)(ALICE, ResourceDraft("a"))).resource
    with pytest.raises(PermissionDenied, match="lacks the 'read' permission"):
        await ListResources(uow.resources, FixedSecrets())(WRITER_ONLY, ListParams())
    with pytest.raises(PermissionDenied, match="lacks the 'read' permission"):
        await GetResource(uow.resources)(WRITER_ONLY, made.id)
    assert (await GetResource(uow.resources)(READER, made.id)) == made
    listed = await ListResources(uow.resources, FixedSecrets())(READER, ListParams())
    assert [r.id for r in listed.items] == [made.id]


async def test_a_missing_or_impossible_id_is_not_found(uow: InMemoryUnitOfWork) -> None:
    for resource_id in (1, 0, -1, 2**31):
        with pytest.raises(NotFound):
            await GetResource(uow.resources)(READER, resource_id)


async def test_every_change_needs_the_write_permission_before_any_field_is_checked(
    uow: InMemoryUnitOfWork,
) -> None:
    made = (await create(uow)(ALICE, ResourceDraft("a"))).resource
    # An invalid name: a read-only key learns it may not write, not what is wrong.
    bad = ResourceDraft("nul\x00")
    for change in (
        create(uow)(READER, bad),
        create(uow)(READER, ResourceDraft("ok"), "idem-1"),
        ReplaceResource(uow, uow.resources)(READER, made.id, bad, None),
        PatchResource(uow)(READER, made.id, ResourcePatch({"name": "\x00"}), None),
        DeleteResource(uow, uow.resources)(READER, made.id, None),
    ):
        with pytest.raises(PermissionDenied, match="lacks the 'write' permission"):
            await change
    assert list(uow.resources.rows.values()) == [made]
    assert uow.idempotency.records == {}


async def test_fields_are_validated_for_a_writer(uow: InMemoryUnitOfWork) -> None:
    with pytest.raises(InvalidInput) as raised:
        await create(uow)(ALICE, ResourceDraft("", metadata=[1]))
    assert {d.field for d in raised.value.details} == {"name", "metadata"}


async def test_what_a_caller_creates_is_theirs_and_the_operators_is_the_operator_users(
    uow: InMemoryUnitOfWork,
) -> None:
    assert (await create(uow)(ALICE, ResourceDraft("a"))).resource.created_by == "alice"
    by_operator = (await create(uow)(OPERATOR, ResourceDraft("o"))).resource
    assert by_operator.created_by == OPERATOR_USER_ID


async def test_only_the_creator_or_an_admin_changes_a_resource(uow: InMemoryUnitOfWork) -> None:
    made = (await create(uow)(ALICE, ResourceDraft("a"))).resource
    replace = ReplaceResource(uow, uow.resources)
    with pytest.raises(PermissionDenied, match="Only the creator"):
        await replace(BOB, made.id, ResourceDraft("b"), None)
    with pytest.raises(PermissionDenied, match="Only the creator"):
        await PatchResource(uow)(BOB, made.id, ResourcePatch({"name": "b"}), None)
    with pytest.raises(PermissionDenied, match="Only the creator"):
        await DeleteResource(uow, uow.resources)(BOB, made.id, None)
    assert uow.resources.rows[made.id] == made
    assert (await replace(ALICE, made.id, ResourceDraft("a2"), None)).name == "a2"
    assert (await replace(ADMIN, made.id, ResourceDraft("a3"), None)).name == "a3"
    await DeleteResource(uow, uow.resources)(ADMIN, made.id, None)
    assert made.id not in uow.resources.rows


async def test_if_match_guards_every_change(uow: InMemoryUnitOfWork, clock: FakeClock) -> None:
    made = (await create(uow)(ALICE, ResourceDraft("a", description="d"))).resource
    clock.advance(1)
    patched = await PatchResource(uow)(ALICE, made.id, ResourcePatch({"name": "b"}), made.etag)
    assert (patched.name, patched.description) == ("b", "d")
    assert patched.etag != made.etag
    stale = made.etag
    with pytest.raises(PreconditionFailed):
        await ReplaceResource(uow, uow.resources)(ALICE, made.id, ResourceDraft("c"), stale)
    with pytest.raises(PreconditionFailed):
        await DeleteResource(uow, uow.resources)(ALICE, made.id, stale)
    assert uow.resources.rows[made.id] == patched
    await DeleteResource(uow, uow.resources)(ALICE, made.id, f"W/{stale}, {patched.etag}")
    assert uow.resources.rows == {}


async def test_an_idempotency_key_replays_the_first_create(uow: InMemoryUnitOfWork) -> None:
    first = await create(uow)(ALICE, ResourceDraft("a", metadata={"x": 1}), "k1")
    again = await create(uow)(ALICE, ResourceDraft("a", metadata={"x": 1}), "k1")
    assert (again.resource, again.replayed, first.replayed) == (first.resource, True, False)
    assert len(uow.resources.rows) == 1
    with pytest.raises(Unprocessable, match="different request body"):
        await create(uow)(ALICE, ResourceDraft("other"), "k1")
    # Keys are per user: bob's k1 is his own.
    assert not (await create(uow)(BOB, ResourceDraft("other"), "k1")).replayed
    with pytest.raises(InvalidInput, match="Idempotency-Key"):
        await create(uow)(ALICE, ResourceDraft("a"), "bad\x00key")


async def test_a_failed_unit_of_work_leaves_nothing_behind(uow: InMemoryUnitOfWork) -> None:
    made = (await create(uow)(ALICE, ResourceDraft("a"))).resource
    with pytest.raises(InvalidInput):
        await PatchResource(uow)(ALICE, made.id, ResourcePatch({"name": None}), None)
    assert uow.rollbacks == 1
    assert uow.resources.rows[made.id] == made


async def test_cursor_and_page_walks_see_the_same_rows(
    uow: InMemoryUnitOfWork, clock: FakeClock
) -> None:
    for i in range(7):
        await create(uow)(ALICE, ResourceDraft(f"n{i % 3}", category="c" if i % 2 else None))
        clock.advance(0.5)
    list_resources = ListResources(uow.resources, FixedSecrets())
    for sort in ("name", "created_at", "category"):
        by_page, page = [], 1
        while True:
            result = await list_resources(READER, ListParams(page, 3, sort, "asc"))
            by_page += [r.id for r in result.items]
            if not result.info.has_next:
                break
            page += 1
        by_cursor, cursor = [], None
        while True:
            result = await list_resources(READER, ListParams(None, 3, sort, "asc", cursor=cursor))
            by_cursor += [r.id for r in result.items]
            cursor = result.info.next_cursor
            if cursor is None:
                break
        assert by_page == by_cursor and sorted(by_page) == list(range(1, 8)), sort
