"""The region outlines that ship with the package (``adapters/geo/outlines``)."""

from __future__ import annotations

import shapely
from shapely.geometry import Point, Polygon

from lianbo.adapters.geo.outlines import (
    SHIPPED_TOLERANCE,
    decode,
    display_tolerance,
    for_display,
    from_geojson,
    shipped_codes,
    shipped_for_display,
    shipped_outline,
    to_geojson,
)

WUHOU_CENTRE = Point(104.043, 30.642)  # 武侯区, Chengdu (lon, lat)


def test_every_level_of_china_ships_keyed_by_short_code() -> None:
    codes = shipped_codes()
    assert len(codes) > 3000
    assert {"51", "5101", "510107", "11", "110101"} <= codes
    assert all(len(c) in (2, 4, 6) for c in codes)


def test_an_outline_is_valid_lon_lat_and_holds_its_region() -> None:
    wuhou = shipped_outline("510107")
    chengdu = shipped_outline("5101")
    sichuan = shipped_outline("51")
    assert wuhou is not None and chengdu is not None and sichuan is not None
    assert wuhou.is_valid and wuhou.contains(WUHOU_CENTRE)
    assert chengdu.contains(WUHOU_CENTRE) and sichuan.contains(WUHOU_CENTRE)
    assert not (shipped_outline("510104") or Polygon()).contains(WUHOU_CENTRE)
    # Neighbours share their border to within the simplification (~100 m):
    # the county is inside its city but for slivers.
    assert wuhou.difference(chengdu).area < 0.01 * wuhou.area
    assert shipped_outline("999999") is None


def test_the_delta_rings_decode_to_a_closed_polygon() -> None:
    square = decode([[[1040000, 306000, 500, 0, 0, 500, -500, 0]]])
    assert square.equals(Polygon([(104, 30.6), (104.05, 30.6), (104.05, 30.65), (104, 30.65)]))


def test_a_shape_that_snapping_made_invalid_is_repaired_to_areas() -> None:
    bowtie = decode([[[0, 0, 10, 10, 0, -10, -10, 10]]])
    assert bowtie.is_valid and bowtie.area > 0
    assert bowtie.geom_type in ("Polygon", "MultiPolygon")


def test_drawing_simplifies_further_and_geojson_round_trips() -> None:
    sichuan = shipped_outline("51")
    assert sichuan is not None
    coarse = for_display(sichuan, 0.01)
    assert shapely.get_num_coordinates(coarse) < shapely.get_num_coordinates(sichuan) / 3
    assert for_display(sichuan, 0.0005) is sichuan  # finer than shipped: as is
    again = from_geojson(to_geojson(coarse))
    assert again.symmetric_difference(coarse).area < 1e-6


def test_drawing_tolerances_snap_to_powers_of_two_and_share_the_cache() -> None:
    assert display_tolerance(0.0002) == SHIPPED_TOLERANCE
    assert display_tolerance(0.0067) == 0.008  # 6.7x → 8x, within a factor of 1.4
    assert display_tolerance(0.0055) == 0.004
    first = shipped_for_display("51", display_tolerance(0.0067))
    again = shipped_for_display("51", display_tolerance(0.007))
    assert first is not None and first is again
    assert shipped_for_display("999999", 0.008) is None
