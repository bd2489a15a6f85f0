"""The page math of estimated totals and the count preference, without a database."""

from __future__ import annotations

import pytest

from domain.pagination import PageRequest, Total, estimated_page_info
from domain.resource_queries import CountMode, count_mode
from entrypoints.http.controllers.list_params import count_preference


def test_an_exact_total_is_kept_as_counted() -> None:
    info = estimated_page_info(PageRequest(1, 20), Total(55), 20, True)
    assert (info.total, info.total_pages, info.has_next, info.total_is_estimate) == (
        55, 3, True, False,
    )  # fmt: skip


def test_an_estimate_below_what_the_rows_prove_is_raised() -> None:
    info = estimated_page_info(PageRequest(3, 20), Total(10, estimated=True), 20, True)
    assert info.total == 61 and info.total_is_estimate and info.has_next
    assert info.total_pages == 4


def test_the_last_page_replaces_an_estimate_by_the_count() -> None:
    info = estimated_page_info(PageRequest(3, 20), Total(5000, estimated=True), 7, False)
    assert (info.total, info.total_pages, info.has_next, info.total_is_estimate) == (
        47, 3, False, False,
    )  # fmt: skip


def test_an_empty_first_page_is_an_exact_zero() -> None:
    info = estimated_page_info(PageRequest(1, 20), Total(300, estimated=True), 0, False)
    assert (info.total, info.total_is_estimate) == (0, False)


def test_past_the_end_the_estimate_is_capped_at_the_offset() -> None:
    info = estimated_page_info(PageRequest(9, 20), Total(900, estimated=True), 0, False)
    assert info.total == 160 and info.total_is_estimate and not info.has_next


def test_has_next_comes_from_the_rows_even_against_an_estimate() -> None:
    info = estimated_page_info(PageRequest(1, 20), Total(3, estimated=True), 20, True)
    assert info.has_next and info.total == 21


@pytest.mark.parametrize(
    ("preferred", "search", "mode"),
    [
        (None, None, CountMode.EXACT),
        ("planned", None, CountMode.EXACT),
        (None, "cloud", CountMode.ESTIMATED),
        ("exact", "cloud", CountMode.EXACT),
        ("planned", "cloud", CountMode.PLANNED),
        ("bogus", "cloud", CountMode.ESTIMATED),
    ],
)
def test_count_mode(preferred: str | None, search: str | None, mode: CountMode) -> None:
    assert count_mode(preferred, search) is mode


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (None, None),
        ("", None),
        ("count=exact", "exact"),
        ("return=minimal, count=Planned", "planned"),
        ("count=estimated; strict", "estimated"),
        ('count="exact"', "exact"),
        ("handling=lenient", None),
        ("count=", None),
    ],
)
def test_count_preference(header: str | None, value: str | None) -> None:
    assert count_preference(header) == value
