from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidInput, PermissionDenied
from domain.keys import OPERATOR, ApiKey, Permission
from domain.pagination import PageRequest
from domain.resource_queries import Cursor, CursorCodec, Order, Sort, resource_query
from domain.resources import (
    Resource,
    ResourceFields,
    ResourcePatch,
    authorize_change,
    if_match_allows,
    resource_fields,
    valid_id,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def key(user: str, *permissions: str) -> ApiKey:
    return ApiKey(
        id=1,
        user_id=user,
        name="k",
        prefix="rk_00000000",
        permissions=frozenset(Permission(p) for p in permissions),
        rate_limit=100,
        is_active=True,
        created_at=NOW,
    )


def resource(**changes: object) -> Resource:
    values: dict[str, object] = {
        "id": 7,
        "name": "n",
        "description": None,
        "category": None,
        "metadata": None,
        "created_by": "alice",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(changes)
    return Resource(**values)  # type: ignore[arg-type]


def fields_of(exc: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [d.field for d in exc.value.details]


# --- cursors


CURSOR = Cursor(Sort.NAME, Order.ASC, "ä name", 41, "cat", "50%")


def test_cursor_round_trips() -> None:
    codec = CursorCodec("secret")
    assert codec.decode(codec.encode(CURSOR)) == CURSOR


def test_cursor_signed_with_another_secret_is_refused() -> None:
    token = CursorCodec("one").encode(CURSOR)
    with pytest.raises(InvalidInput) as exc:
        CursorCodec("two").decode(token)
    assert fields_of(exc) == ["cursor"]
    assert "not issued" in exc.value.details[0].message


def test_cursor_with_tampered_payload_is_refused() -> None:
    codec = CursorCodec("secret")
    body, signature = codec.encode(CURSOR).split(".")
    forged = CursorCodec("secret").encode(Cursor(Sort.NAME, Order.ASC, "a", 1, None, None))
    with pytest.raises(InvalidInput) as exc:
        codec.decode(forged.split(".")[0] + "." + signature)
    assert fields_of(exc) == ["cursor"]
    flipped = body[:-1] + ("A" if body[-1] != "A" else "B")
    with pytest.raises(InvalidInput):
        codec.decode(flipped + "." + signature)


@pytest.mark.parametrize("token", ["", ".", "abc", "a.b", "!!!.???", "é.é", "a" * 500])
def test_malformed_cursor_is_invalid_input_naming_cursor(token: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        CursorCodec("secret").decode(token)
    assert fields_of(exc) == ["cursor"]


def test_signed_but_ill_typed_cursor_is_refused() -> None:
    codec = CursorCodec("secret")
    # A correctly signed payload of the wrong shape (e.g. an older format).
    import base64
    import hashlib
    import hmac

    payload = b'["name","asc",5,"x",null,null]'
    signature = hmac.new(b"secret", payload, hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    with pytest.raises(InvalidInput) as exc:
        codec.decode(b64(payload) + "." + b64(signature))
    assert fields_of(exc) == ["cursor"]


# --- validation


def test_valid_fields_pass_and_lengths_count_code_points() -> None:
    fields = resource_fields("é" * 200, "d" * 10_000, "c" * 100, {"a": [1]})
    assert fields == ResourceFields("é" * 200, "d" * 10_000, "c" * 100, {"a": [1]})


def test_every_invalid_field_is_reported() -> None:
    with pytest.raises(InvalidInput) as exc:
        resource_fields("", "d" * 10_001, "c" * 101, [1, 2])
    assert fields_of(exc) == ["name", "description", "category", "metadata"]


def test_name_over_200_is_invalid() -> None:
    with pytest.raises(InvalidInput):
        resource_fields("x" * 201)


def test_fingerprint_ignores_key_order_but_not_values() -> None:
    a = ResourceFields("n", metadata={"a": 1, "b": 2})
    b = ResourceFields("n", metadata={"b": 2, "a": 1})
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != ResourceFields("n", metadata={"a": 1}).fingerprint()


def test_patch_changes_only_given_fields_and_null_clears() -> None:
    current = ResourceFields("n", "d", "c", {"k": 1})
    patched = ResourcePatch({"description": None, "name": "m"}).applied_to(current)
    assert patched == ResourceFields("m", None, "c", {"k": 1})


def test_patch_cannot_null_the_name_and_is_validated() -> None:
    with pytest.raises(InvalidInput) as exc:
        ResourcePatch({"name": None}).applied_to(ResourceFields("n"))
    assert fields_of(exc) == ["name"]
    with pytest.raises(InvalidInput) as exc:
        ResourcePatch({"category": "c" * 101}).applied_to(ResourceFields("n"))
    assert fields_of(exc) == ["category"]


# --- ownership, ETags, ids


def test_creator_and_admin_may_change_others_may_not() -> None:
    r = resource(created_by="alice")
    authorize_change(key("alice", "write"), r)
    authorize_change(key("bob", "admin"), r)
    authorize_change(OPERATOR, r)
    with pytest.raises(PermissionDenied):
        authorize_change(key("bob", "read", "write"), r)


def test_etag_is_strong_and_changes_with_updated_at() -> None:
    r = resource()
    assert r.etag.startswith('"') and not r.etag.startswith("W/")
    assert r.etag == resource().etag
    assert r.etag != resource(updated_at=NOW + timedelta(microseconds=1)).etag
    assert r.etag != resource(id=8).etag


def test_if_match_uses_strong_comparison() -> None:
    tag = resource().etag
    assert if_match_allows(None, tag)
    assert if_match_allows("*", tag)
    assert if_match_allows(f'"other", {tag}', tag)
    assert not if_match_allows('"other"', tag)
    assert not if_match_allows(f"W/{tag}", tag)


@pytest.mark.parametrize(("value", "ok"), [(0, False), (-1, False), (1, True), (2**31 - 1, True)])
def test_valid_ids_are_positive_int32(value: int, ok: bool) -> None:
    assert valid_id(value) is ok
    assert valid_id(2**31) is False


# --- list queries


def query(**kwargs: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "page_given": False,
        "sort": None,
        "order": None,
        "category": None,
        "search": None,
        "cursor": None,
    }
    values.update(kwargs)
    return resource_query(PageRequest(1, 20), **values)  # type: ignore[arg-type]


def test_defaults_are_created_at_desc() -> None:
    q = query()
    assert (q.sort, q.order, q.after) == (Sort.CREATED_AT, Order.DESC, None)


@pytest.mark.parametrize(("name", "value"), [("sort", "id"), ("order", "up")])
def test_unknown_sort_or_order_names_the_parameter_and_allowed_values(
    name: str, value: str
) -> None:
    with pytest.raises(InvalidInput) as exc:
        query(**{name: value})
    assert fields_of(exc) == [name]
    assert ("created_at" if name == "sort" else "desc") in exc.value.details[0].message


def test_cursor_and_page_together_are_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        query(page_given=True, cursor=CURSOR)
    assert fields_of(exc) == ["page"]


def test_cursor_supplies_the_query_and_a_contradiction_is_refused() -> None:
    q = query(cursor=CURSOR)
    assert (q.sort, q.order, q.category, q.search, q.after) == (
        Sort.NAME,
        Order.ASC,
        "cat",
        "50%",
        CURSOR,
    )
    assert query(cursor=CURSOR, sort="name", category="cat").after == CURSOR
    with pytest.raises(InvalidInput) as exc:
        query(cursor=CURSOR, order="desc")
    assert fields_of(exc) == ["cursor"]
