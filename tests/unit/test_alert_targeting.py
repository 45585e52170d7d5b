"""Server-side targeting over a terminal index: regions, polygons, circles."""

from __future__ import annotations

import numpy as np
import pytest

from lianbo.adapters.geo import TerminalIndex
from lianbo.domain.alerting.geodesy import destination
from lianbo.domain.alerting.model import Area, Circle

SQUARE = ((30.5, 103.9), (30.5, 104.2), (30.8, 104.2), (30.8, 103.9), (30.5, 103.9))
CHENGDU = (30.6598, 104.0633)


def index(rows: list[tuple[str, float, float, str]]) -> TerminalIndex:
    ids, lats, lons, regions = zip(*rows, strict=True)
    return TerminalIndex(ids, lats, lons, regions)


FLEET = [
    ("wuhou", 30.64, 104.04, "510107"),
    ("jinjiang", 30.66, 104.08, "510104"),
    ("mianyang", 31.46, 104.68, "510703"),
    ("deyang-village", 31.13, 104.39, "510603001002"),
    ("chongqing", 29.56, 106.55, "500103"),
]


def test_region_codes_match_their_subtree_by_prefix() -> None:
    fleet = index(FLEET)
    assert fleet.target_ids([Area("成都", geocodes=(("GB/T2260", "510100"),))]) == [
        "wuhou",
        "jinjiang",
    ]
    assert fleet.target_ids([Area("川", geocodes=(("GB/T 2260", "51"),))]) == [
        "wuhou",
        "jinjiang",
        "mianyang",
        "deyang-village",
    ]
    assert fleet.target_ids([Area("德阳", geocodes=(("GBT2260", "5106"),))]) == ["deyang-village"]


def test_other_geocodes_do_not_target() -> None:
    assert index(FLEET).target_ids([Area("x", geocodes=(("SAME", "51"),))]) == []


def test_polygon_targets_points_inside_and_on_the_edge() -> None:
    fleet = index([*FLEET, ("edge", 30.5, 104.0, "9"), ("corner", 30.8, 104.2, "9")])
    assert fleet.target_ids([Area("square", polygons=(SQUARE,))]) == [
        "wuhou",
        "jinjiang",
        "edge",
        "corner",
    ]


def test_concave_polygon() -> None:
    u_shape = ((0, 0), (0, 3), (3, 3), (3, 2), (1, 2), (1, 1), (3, 1), (3, 0), (0, 0))
    fleet = index([("in-arm", 2.5, 2.5, "1"), ("notch", 2.0, 1.5, "1"), ("base", 0.5, 1.5, "1")])
    assert fleet.target_ids([Area("u", polygons=(u_shape,))]) == ["in-arm", "base"]


def test_circle_of_10_km_round_chengdu_is_measured_on_the_ellipsoid() -> None:
    rows = []
    for azimuth in range(0, 360, 15):
        rows.append((f"in-{azimuth}", *destination(*CHENGDU, azimuth, 9_900), "5101"))
        rows.append((f"out-{azimuth}", *destination(*CHENGDU, azimuth, 10_100), "5101"))
    hits = index(rows).target_ids([Area("10 km", circles=(Circle(*CHENGDU, 10.0),))])
    assert hits == [r[0] for r in rows if r[0].startswith("in-")]


def test_union_of_areas_and_kinds_in_input_order() -> None:
    fleet = index(FLEET)
    areas = [
        Area("cq", geocodes=(("GB/T2260", "50"),)),
        Area("mixed", polygons=(SQUARE,), circles=(Circle(31.46, 104.68, 1.0),)),
    ]
    assert fleet.target_ids(areas) == ["wuhou", "jinjiang", "mianyang", "chongqing"]
    mask = fleet.target_mask(areas)
    assert mask.tolist() == [True, True, True, False, True]


def test_no_areas_target_nobody_and_empty_index_works() -> None:
    assert index(FLEET).target_ids([]) == []
    empty = TerminalIndex([], np.array([]), np.array([]), [])
    assert len(empty) == 0
    assert empty.target_ids([Area("a", polygons=(SQUARE,), circles=(Circle(0, 0, 1),))]) == []


@pytest.mark.parametrize("n", [1_000, 20_000])
def test_matches_brute_force_on_random_fleet(n: int) -> None:
    from lianbo.domain.alerting.geofence import in_area

    rng = np.random.default_rng(n)
    lats, lons = rng.uniform(30.3, 31.0, n), rng.uniform(103.7, 104.4, n)
    ids = [str(i) for i in range(n)]
    area = Area("a", polygons=(SQUARE,), circles=(Circle(30.4, 103.8, 12.5),))
    expected = [ids[i] for i in range(n) if in_area(float(lats[i]), float(lons[i]), area)]
    assert TerminalIndex(ids, lats, lons, ["5101"] * n).target_ids([area]) == expected


def test_within_keeps_to_the_jurisdictions_own_terminals() -> None:
    # A circle round Chengdu wide enough for Deyang's village and Chongqing:
    # an issuer of 成都市 reaches only their own screens inside it.
    fleet = index(FLEET)
    wide = [Area("300 km", circles=(Circle(*CHENGDU, 300.0),))]
    assert fleet.target_ids(wide) == [r[0] for r in FLEET]
    assert fleet.target_ids(wide, within="5101") == ["wuhou", "jinjiang"]
    assert fleet.target_ids(wide, within="") == [r[0] for r in FLEET]  # nationwide


def test_counts_per_region_and_tier_without_a_loop_over_terminals() -> None:
    ids, lats, lons, regions = zip(*FLEET, strict=True)
    tiers = ("outdoor", "hall", "outdoor", "home", "outdoor")
    fleet = TerminalIndex(ids, lats, lons, regions, tiers)
    wide = [Area("300 km", circles=(Circle(*CHENGDU, 300.0),))]
    assert sorted(fleet.counts(fleet.selected(wide, "51"))) == [
        ("510104", "hall", 1),
        ("510107", "outdoor", 1),
        ("510603001002", "home", 1),
        ("510703", "outdoor", 1),
    ]
    assert fleet.counts(fleet.selected([], "51")) == []
    untiered = index(FLEET)
    assert untiered.counts(untiered.selected(wide, "5101")) == [
        ("510107", "", 1),
        ("510104", "", 1),
    ]
