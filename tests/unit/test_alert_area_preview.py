"""The composer's live preview: who a drawn area reaches, per region and
tier, and which shapes reach past the jurisdiction (web.pages.alert_area)."""

from __future__ import annotations

import json

import shapely

from lianbo.domain.alerting.warnings import WarningCode
from lianbo.domain.roles import Role
from lianbo.domain.users import Actor
from lianbo.services.area_preview import Screen
from lianbo.web.pages.alert_area import part_name, preview, read_area

CHENGDU_ISSUER = Actor("u1", "chengdu", Role.ISSUER, "5101")
CHENGDU_OUTLINE = shapely.box(102.9, 30.05, 104.9, 31.0)  # 成都市, roughly
SCREENS = [
    Screen("a", "新都屏", "outdoor", "online", "510114", 30.82, 104.16),
    Screen("b", "武侯屏", "hall", "online", "510107", 30.64, 104.04),
    Screen("c", "武侯家", "home", "offline", "510107", 30.63, 104.04),
    Screen("d", "旌阳屏", "outdoor", "online", "510603", 31.13, 104.39),  # 德阳
]


def form(**fields: object) -> dict[str, str]:
    return {name: json.dumps(value) for name, value in fields.items()}


def test_a_circle_crossing_into_deyang_reaches_chengdus_screens_and_warns() -> None:
    circle = {"lat": 30.82, "lon": 104.16, "radius_km": 50}
    area = read_area(form(circles=[circle]), [])
    shown = preview(CHENGDU_ISSUER, area, SCREENS, CHENGDU_OUTLINE)
    assert shown.refused is None
    assert [s.id for s in shown.targeted] == ["a", "b", "c"]  # never 旌阳
    assert shown.by_tier == {"outdoor": 1, "hall": 1, "home": 1}
    assert shown.reach.rows() == [
        ("510107", {"outdoor": 0, "hall": 1, "home": 1}, 2),
        ("510114", {"outdoor": 1, "hall": 0, "home": 0}, 1),
    ]
    [warning] = shown.warnings
    assert warning.code is WarningCode.AREA_PARTLY_OUTSIDE and warning.detail == "5101"
    assert part_name(warning.path) == ("circle", "1")


def test_a_plant_polygon_inside_wuhou_warns_nothing() -> None:
    plant = [[30.62, 104.03], [30.62, 104.05], [30.65, 104.05], [30.65, 104.03]]
    shown = preview(CHENGDU_ISSUER, read_area(form(polygons=[plant]), []), SCREENS, CHENGDU_OUTLINE)
    assert [s.id for s in shown.targeted] == ["b", "c"] and shown.warnings == []


def test_a_region_outside_is_still_refused() -> None:
    shown = preview(CHENGDU_ISSUER, read_area({}, ["510603"]), SCREENS, CHENGDU_OUTLINE)
    assert shown.refused is not None and shown.refused.field == "area/geocode[1]"
    assert shown.targeted == []
