"""The delivery board's shaping of service figures (pure, no server)."""

from __future__ import annotations

from lianbo.services.area_preview import Screen
from lianbo.web import charts
from lianbo.web.pages import alert_board


def test_bars_count_displayed_of_those_the_alert_applies_to() -> None:
    counted = {
        "home": {"total": 10, "displayed": 6, "outside-area": 2, "failed": 1, "sent": 1},
        "hall": {"total": 3, "outside-area": 3},
    }
    hall, home = alert_board.progress(counted, {"home": "家庭终端"})
    assert (home.label, home.displayed, home.aside, home.failed, home.waiting) == (
        "家庭终端",
        6,
        2,
        1,
        1,
    )
    assert home.percent == 75.0
    assert hall.percent == 100.0  # nothing applies: nothing is missing


def test_map_fits_screens_and_the_drawn_area_and_colours_dots_by_state() -> None:
    screens = [
        Screen("a", "甲", "home", "online", "510104", 30.60, 104.05),
        Screen("b", "乙", "hall", "online", "510104", 30.62, 104.07),
        Screen("c", "丙", "hall", "online", "510104", 31.50, 105.00),  # not targeted
    ]
    area = {
        "polygons": [[[30.55, 104.0], [30.55, 104.1], [30.65, 104.1], [30.55, 104.0]]],
        "circles": [{"lat": 30.61, "lon": 104.06, "radius_km": 3.0}],
    }
    view = alert_board.map_view(screens, {"a": "displayed", "b": "sent"}, area)
    assert view is not None
    projection: charts.Projection = view["projection"]
    assert projection.south < 30.55 and projection.north > 30.65  # the polygon fits
    assert {d.status for d in view["dots"]} == {"displayed", "sent"}
    outline = view["outline"]
    assert outline.paths[0].startswith("M") and outline.paths[0].endswith("Z")
    ((cx, cy, r),) = outline.circles
    assert r > 0 and 0 <= cx <= projection.width and 0 <= cy <= projection.height
    assert alert_board.map_view([], {}, {}) is None
