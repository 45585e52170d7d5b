"""Screens an alert reaches, counted per region and tier (domain.alerting.reach)."""

from __future__ import annotations

from lianbo.domain.alerting.reach import Reach, reach_region


def test_screens_count_in_their_county_or_the_deeper_jurisdiction() -> None:
    assert reach_region("510107003001", "51") == "510107"
    assert reach_region("510107", "5101") == "510107"
    assert reach_region("5101", "51") == "5101"  # a screen filed at city level
    assert reach_region("510107003001", "510107003") == "510107003"
    assert reach_region("510107003001", "") == "510107"


def test_counted_rows_add_up_per_region_and_tier() -> None:
    reach = Reach.counted(
        [
            ("510107001001", "outdoor", 2),
            ("510107002", "outdoor", 1),
            ("510107", "home", 4),
            ("510104", "hall", 3),
        ],
        "51",
    )
    assert reach.total == 10
    assert reach.by_tier() == {"outdoor": 3, "hall": 3, "home": 4}
    assert reach.as_json() == {
        "total": 10,
        "by_tier": {"outdoor": 3, "hall": 3, "home": 4},
        "by_region": {
            "510104": {"total": 3, "outdoor": 0, "hall": 3, "home": 0},
            "510107": {"total": 7, "outdoor": 3, "hall": 0, "home": 4},
        },
    }
    assert [code for code, _, _ in reach.rows()] == ["510104", "510107"]


def test_nothing_reached_is_zero_everywhere() -> None:
    assert Reach().as_json() == {
        "total": 0,
        "by_tier": {"outdoor": 0, "hall": 0, "home": 0},
        "by_region": {},
    }
