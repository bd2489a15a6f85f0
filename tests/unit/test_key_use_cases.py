from __future__ import annotations

from functools import partial

import pytest

from application.key_changes import RotateKey
from application.keys import Authenticate, IssueKey, ListKeys, RevokeKey
from application.quota import CheckQuota
from domain.audit import CLI
from domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    ServiceUnavailable,
    Unauthenticated,
)
from domain.key_requests import KeyRequest
from domain.keys import OPERATOR, Caller, IssuedKey, Permission
from domain.pagination import PageRequest, SignedCursors
from tests.fakes import FakeClock, InMemoryKeys, InMemoryQuotaStore, RecordingUsage

R, W, A = Permission.READ, Permission.WRITE, Permission.ADMIN


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def keys(clock: FakeClock) -> InMemoryKeys:
    return InMemoryKeys(clock)


async def issue(
    keys: InMemoryKeys, request: KeyRequest, caller: Caller | None, new_user_id: str
) -> IssuedKey:
    return await IssueKey(keys, keys.clock)(request, caller, new_user_id, origin=CLI)


async def test_issue_then_authenticate_and_touch(keys: InMemoryKeys, clock: FakeClock) -> None:
    usage = RecordingUsage()
    issued = await issue(keys, KeyRequest("k", frozenset({R})), None, "new")
    assert issued.key.user_id == "new"
    found = await Authenticate(keys, usage, clock)(issued.raw_key)
    assert found.id == issued.key.id
    assert usage.touched == [(found.id, clock.now())]


async def test_authenticate_refuses_empty_unknown_and_revoked(
    keys: InMemoryKeys, clock: FakeClock
) -> None:
    auth = Authenticate(keys, RecordingUsage(), clock)
    issued = await issue(keys, KeyRequest("k", frozenset({R})), None, "u")
    with pytest.raises(Unauthenticated, match="Empty"):
        await auth("")
    with pytest.raises(Unauthenticated, match="Invalid or revoked"):
        await auth("rk_" + "0" * 64)
    await RevokeKey(keys)(OPERATOR, issued.key.id, origin=CLI)
    with pytest.raises(Unauthenticated, match="Invalid or revoked"):
        await auth(issued.raw_key)


async def test_authenticate_reports_a_down_store_as_unavailable(
    keys: InMemoryKeys, clock: FakeClock
) -> None:
    keys.unavailable = True
    with pytest.raises(ServiceUnavailable, match="Authentication service unavailable"):
        await Authenticate(keys, RecordingUsage(), clock)("rk_x")


async def test_self_service_can_be_switched_off(keys: InMemoryKeys) -> None:
    with pytest.raises(PermissionDenied):
        await IssueKey(keys, keys.clock, self_service=False)(
            KeyRequest("k", frozenset({R})), None, "u", origin=CLI
        )
    assert keys.rows == {}


async def test_a_key_issues_for_its_own_user(keys: InMemoryKeys) -> None:
    first = await issue(keys, KeyRequest("k", frozenset({R, W})), None, "u1")
    second = await issue(keys, KeyRequest("k2", frozenset({R})), first.key, "ignored")
    assert second.key.user_id == "u1"


async def test_another_users_key_is_not_found(keys: InMemoryKeys) -> None:
    mine = await issue(keys, KeyRequest("k", frozenset({R})), None, "u1")
    theirs = await issue(keys, KeyRequest("k", frozenset({R})), None, "u2")
    for use_case in (RevokeKey(keys), RotateKey(keys, keys.clock)):
        with pytest.raises(NotFound):
            await use_case(mine.key, theirs.key.id, origin=CLI)
    assert (await keys.get(theirs.key.id)).is_active  # type: ignore[union-attr]


async def test_rotation_revokes_old_and_copies_everything_in_one_commit(
    keys: InMemoryKeys,
) -> None:
    admin_request = KeyRequest("k", frozenset({R, W}), user_id="u1", rate_limit=7)
    old = await issue(keys, admin_request, OPERATOR, "-")
    commits = keys.commits
    new = await RotateKey(keys, keys.clock)(old.key, old.key.id, origin=CLI)
    assert keys.commits == commits + 1
    assert not (await keys.get(old.key.id)).is_active  # type: ignore[union-attr]
    assert (new.key.user_id, new.key.name, new.key.permissions, new.key.rate_limit) == (
        "u1",
        "k",
        frozenset({R, W}),
        7,
    )
    with pytest.raises(Conflict):
        await RotateKey(keys, keys.clock)(OPERATOR, old.key.id, origin=CLI)


async def test_a_weaker_key_cannot_rotate_a_stronger_one(keys: InMemoryKeys) -> None:
    strong = await issue(keys, KeyRequest("a", frozenset({A}), user_id="u1"), OPERATOR, "-")
    weak = await issue(keys, KeyRequest("r", frozenset({R}), user_id="u1"), OPERATOR, "-")
    with pytest.raises(PermissionDenied):
        await RotateKey(keys, keys.clock)(weak.key, strong.key.id, origin=CLI)
    assert (await keys.get(strong.key.id)).is_active  # type: ignore[union-attr]


async def codec() -> SignedCursors:
    return SignedCursors("test-secret")


def list_keys(keys: InMemoryKeys) -> ListKeys:
    return ListKeys(keys, codec)


async def test_list_keys_scopes_non_admins_to_their_user(keys: InMemoryKeys) -> None:
    a = await issue(keys, KeyRequest("k", frozenset({R})), None, "u1")
    await issue(keys, KeyRequest("k", frozenset({R})), None, "u2")
    listed, info = await list_keys(keys)(a.key, None, PageRequest())
    assert [k.user_id for k in listed] == ["u1"] and info.total == 1
    with pytest.raises(PermissionDenied):
        await list_keys(keys)(a.key, "u2", PageRequest())
    everyone, _ = await list_keys(keys)(OPERATOR, None, PageRequest())
    assert len(everyone) == 2


async def test_list_keys_walks_by_cursor_without_repeats_or_gaps(keys: InMemoryKeys) -> None:
    for i in range(7):
        await issue(keys, KeyRequest(f"k{i}", frozenset({R}), user_id="u1"), OPERATOR, "-")
    seen: list[int] = []
    page, info = await list_keys(keys)(OPERATOR, "u1", PageRequest(limit=3))
    seen += [k.id for k in page]
    while info.next_cursor:
        page, info = await list_keys(keys)(OPERATOR, "u1", PageRequest(limit=3), info.next_cursor)
        assert info.page is None and info.total == 7
        seen += [k.id for k in page]
    assert seen == sorted(seen) and len(set(seen)) == 7


async def test_a_key_cursor_is_bound_to_its_user_filter_and_not_to_a_page(
    keys: InMemoryKeys,
) -> None:
    for user in ("u1", "u1", "u2"):
        await issue(keys, KeyRequest("k", frozenset({R}), user_id=user), OPERATOR, "-")
    _, info = await list_keys(keys)(OPERATOR, "u1", PageRequest(limit=1))
    assert info.next_cursor
    with pytest.raises(InvalidInput, match="cursor"):
        await list_keys(keys)(OPERATOR, "u2", PageRequest(limit=1), info.next_cursor)
    with pytest.raises(InvalidInput, match="page"):
        await list_keys(keys)(
            OPERATOR, "u1", PageRequest(limit=1), info.next_cursor, page_given=True
        )
    resource_cursor = (await codec()).seal(["name", "asc", "x", 1, None, None])
    with pytest.raises(InvalidInput, match="cursor"):
        await list_keys(keys)(OPERATOR, "u1", PageRequest(limit=1), resource_cursor)


async def test_check_quota_raises_with_retry_after_and_fails_as_configured(
    clock: FakeClock,
) -> None:
    store = InMemoryQuotaStore(clock)
    check = CheckQuota(store, fail_open=False)
    assert (await check("key:1", 1)).remaining == 0  # type: ignore[union-attr]
    with pytest.raises(QuotaExceeded) as exceeded:
        await check("key:1", 1)
    assert exceeded.value.retry_after == 3660
    assert "Limit: 1 requests/hour. Try again in 3660 seconds." in exceeded.value.message
    store.unavailable = True
    with pytest.raises(ServiceUnavailable):
        await check("key:1", 1)
    assert await CheckQuota(store, fail_open=True)("key:1", 1) is None


async def test_a_key_issued_with_a_key_gets_at_most_its_limits(keys: InMemoryKeys) -> None:
    issue = partial(IssueKey(keys, keys.clock), origin=CLI)
    read = frozenset({R})
    parent = (await issue(KeyRequest("p", read, "u", rate_limit=20), OPERATOR, "u")).key
    child = (await issue(KeyRequest("c", read), parent, "ignored")).key
    grandchild = (await issue(KeyRequest("g", read), child, "ignored")).key
    assert (child.rate_limit, grandchild.rate_limit) == (20, 20)
    generous = (await issue(KeyRequest("big", read, "u", rate_limit=5000), OPERATOR, "u")).key
    assert (await issue(KeyRequest("c", read), generous, "x")).key.rate_limit == 100
    admin = (await issue(KeyRequest("a", frozenset({A}), "root", rate_limit=1), OPERATOR, "x")).key
    chosen = await issue(KeyRequest("s", read, "u2", rate_limit=900), admin, "x")
    assert chosen.key.rate_limit == 900


async def test_a_key_issued_with_a_key_gets_at_most_its_windows_too(keys: InMemoryKeys) -> None:
    issue = partial(IssueKey(keys, keys.clock), origin=CLI)
    read = frozenset({R})
    windows = KeyRequest("p", read, "u", rate_limit_per_minute=5, rate_limit_per_day=50)
    parent = (await issue(windows, OPERATOR, "u")).key
    child = (await issue(KeyRequest("c", read), parent, "ignored")).key
    # No window asked for is no window granted beyond the issuer's: the child has its own.
    assert (child.rate_limit_per_minute, child.rate_limit_per_day) == (5, 50)
    plain = (await issue(KeyRequest("q", read, "u"), OPERATOR, "u")).key
    assert (await issue(KeyRequest("c", read), plain, "x")).key.rate_limit_per_minute is None
