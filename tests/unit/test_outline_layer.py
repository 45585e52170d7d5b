"""Outlines as SVG paths on the console's maps (``web/outline_layer``)."""

from __future__ import annotations

from dataclasses import replace

from shapely.geometry import Polygon, box

from lianbo.adapters.geo.outlines import shipped_outline
from lianbo.services.outlines import MapOutline
from lianbo.web import outline_layer

HOME = box(104.0, 30.5, 104.2, 30.7)


def test_the_map_fits_the_jurisdiction_even_without_screens() -> None:
    projection = outline_layer.fit([], HOME, 960.0)
    assert projection is not None
    assert projection.west < 104.0 and projection.east > 104.2
    assert outline_layer.fit([], None, 960.0) is None


def test_paths_for_home_parts_and_clipped_context() -> None:
    projection = outline_layer.fit([], HOME, 960.0)
    assert projection is not None
    far = box(110.0, 40.0, 111.0, 41.0)
    beside = box(104.2, 30.5, 106.0, 30.7)  # runs far off the map's east edge
    speck = box(104.1, 30.6, 104.1000001, 30.6000001)
    drawn = outline_layer.paths(
        [
            MapOutline("5102", "far", "context", far),
            MapOutline("5103", "beside", "context", beside),
            MapOutline("510101", "speck", "part", speck, pickable=True),
            MapOutline("510107", "left", "part", box(104.0, 30.5, 104.1, 30.7), pickable=True),
            MapOutline("5101", "home", "home", HOME),
        ],
        projection,
    )
    assert [(p.code, p.role, p.pickable) for p in drawn] == [
        ("5103", "context", False),
        ("510107", "part", True),
        ("5101", "home", False),
    ]
    for path in drawn:
        assert path.d.startswith("M") and path.d.endswith("z")
        xs = [x for x, _ in absolute(path.d)]
        assert all(-1 <= x <= projection.width + 1 for x in xs)  # clipped to the box


def absolute(d: str) -> list[tuple[int, int]]:
    """The points of ``M x y l dx dy ... z`` rings, in whole pixels."""
    points: list[tuple[int, int]] = []
    for ring in d.split("M")[1:]:
        start, _, steps = ring.rstrip("z ").partition("l")
        x, y = (int(n) for n in start.split())
        points.append((x, y))
        numbers = [int(n) for n in steps.split()]
        for dx, dy in zip(numbers[::2], numbers[1::2], strict=True):
            x, y = x + dx, y + dy
            points.append((x, y))
    return points


def test_a_square_is_four_whole_pixel_corners() -> None:
    square = box(104.0, 30.5, 104.2, 30.7)
    projection = outline_layer.fit([], square, 960.0)
    assert projection is not None
    (path,) = outline_layer.paths([MapOutline("5101", "x", "home", square)], projection)
    corners = absolute(path.d)
    assert len(corners) == 4 and path.d.count("l") == 1
    xs = sorted({x for x, _ in corners})
    expected = [projection.xy(30.6, 104.0)[0], projection.xy(30.6, 104.2)[0]]
    assert xs == [round(x) for x in expected]


def test_a_province_of_counties_is_light_enough_for_a_page() -> None:
    sichuan = shipped_outline("51")
    assert sichuan is not None
    projection = outline_layer.fit([], sichuan, 960.0)
    assert projection is not None
    mine = MapOutline("51", "四川省", "home", sichuan)
    drawn = outline_layer.paths([mine], projection)
    shipped = outline_layer.paths([replace(mine, shipped=True)], projection)
    assert 1_000 < len(drawn[0].d) < 20_000
    assert shipped[0].d == drawn[0].d  # the per-process cache draws the same


def test_holes_are_drawn_as_their_own_rings() -> None:
    ring = Polygon(
        [(104.0, 30.5), (104.2, 30.5), (104.2, 30.7), (104.0, 30.7)],
        [[(104.05, 30.55), (104.15, 30.55), (104.15, 30.65), (104.05, 30.65)]],
    )
    projection = outline_layer.fit([], ring, 960.0)
    assert projection is not None
    drawn = outline_layer.paths([MapOutline("5101", "x", "home", ring)], projection)
    assert drawn[0].d.count("M") == 2
