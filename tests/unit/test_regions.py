import pytest

from lianbo.domain.errors import InvalidInput
from lianbo.domain.regions import (
    ancestors,
    child_code_is_valid,
    full_form,
    is_within,
    level_of,
    normalise_code,
    parent_of,
    subtree_range,
)


@pytest.mark.parametrize(
    ("raw", "short"),
    [
        ("51", "51"),
        ("510000", "51"),
        ("5101", "5101"),
        ("510100", "5101"),
        ("510107", "510107"),
        ("510107000", "510107"),
        ("510107001", "510107001"),
        ("510107001000", "510107001"),
        ("510107001002", "510107001002"),
        (" 510107 ", "510107"),
    ],
)
def test_short_and_full_forms_name_the_same_region(raw: str, short: str) -> None:
    assert normalise_code(raw) == short


@pytest.mark.parametrize("raw", ["", "5", "abc", "5101071", "00", "000000", "５１", "51-01"])
def test_non_codes_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_code(raw, field="targets.regions")
    assert caught.value.field == "targets.regions"


def test_full_form_pads_to_six_digits_only_for_upper_levels() -> None:
    assert full_form("51") == "510000"
    assert full_form("5101") == "510100"
    assert full_form("510107001") == "510107001"


def test_levels_and_ancestors() -> None:
    assert [level_of(c) for c in ("51", "5101", "510107", "510107001", "510107001001")] == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert ancestors("510107001") == ["51", "5101", "510107"]


def test_parent_skips_missing_levels_for_municipality_districts() -> None:
    # Beijing's districts sit straight under the province-level code.
    assert parent_of("110101", {"11"}) == "11"
    assert parent_of("510107", {"51", "5101"}) == "5101"
    assert parent_of("51", {"51"}) is None


def test_subtree_is_a_prefix_and_never_a_sibling() -> None:
    assert is_within("510107", "5101")
    assert is_within("510107001001", "510107")
    assert not is_within("510104", "510107")
    assert not is_within("5102", "51010")
    low, high = subtree_range("5101")
    inside = ["5101", "510104", "510107001001"]
    outside = ["51", "5102", "510200", "5100"]
    assert all(low <= c < high for c in inside)
    assert not any(low <= c < high for c in outside)


def test_only_townships_under_counties_and_villages_under_townships() -> None:
    assert child_code_is_valid("510107", "510107001")
    assert child_code_is_valid("510107001", "510107001002")
    assert not child_code_is_valid("5101", "5101001")
    assert not child_code_is_valid("510107", "510104001")
