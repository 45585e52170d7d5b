"""An issuer may only alert inside their jurisdiction."""

from __future__ import annotations

import pytest
import shapely

from lianbo.adapters.cap import parse_cap
from lianbo.adapters.geo import check_alert_jurisdiction, check_area_jurisdiction
from lianbo.adapters.geo.jurisdiction import hull_of_positions
from lianbo.domain.alerting.model import Area, Circle
from lianbo.domain.errors import Forbidden
from tests.integration.alerts.samples import SAMPLES

# 成都市 approximated by a box (x = lon, y = lat).
CHENGDU_SHAPE = shapely.box(102.9, 30.0, 104.9, 31.5)
SQUARE = ((30.5, 103.9), (30.5, 104.2), (30.8, 104.2), (30.8, 103.9), (30.5, 103.9))


def test_regions_inside_the_subtree_pass_in_either_form() -> None:
    area = Area("a", geocodes=(("GB/T2260", "510107"), ("GB/T 2260", "510100"), ("SAME", "9")))
    check_area_jurisdiction("area", area, "510100", None)
    check_area_jurisdiction("area", area, "5101", None)


def test_region_outside_is_refused_naming_the_geocode() -> None:
    area = Area("a", geocodes=(("GB/T2260", "510107"), ("GB/T2260", "510703")))
    with pytest.raises(Forbidden) as caught:
        check_area_jurisdiction("alert/info[1]/area[2]", area, "5101", None)
    assert caught.value.field == "alert/info[1]/area[2]/geocode[2]"


def test_a_parent_region_is_outside_a_child_jurisdiction() -> None:
    with pytest.raises(Forbidden):
        check_area_jurisdiction("a", Area("a", geocodes=(("GB/T2260", "51"),)), "5101", None)


def test_polygon_and_circle_inside_the_shape_pass() -> None:
    area = Area("a", polygons=(SQUARE,), circles=(Circle(30.66, 104.06, 10),))
    check_area_jurisdiction("a", area, "5101", CHENGDU_SHAPE)


def test_polygon_reaching_outside_is_refused() -> None:
    wide = ((30.5, 103.9), (30.5, 105.2), (30.8, 105.2), (30.5, 103.9))
    with pytest.raises(Forbidden) as caught:
        check_area_jurisdiction("a", Area("a", polygons=(SQUARE, wide)), "5101", CHENGDU_SHAPE)
    assert caught.value.field == "a/polygon[2]"


def test_circle_reaching_outside_is_refused() -> None:
    # 30.66N 104.80E is 9.6 km inside the east edge (104.9E): 10 km reaches out.
    area = Area("a", circles=(Circle(30.66, 104.8, 9.0), Circle(30.66, 104.8, 10.0)))
    with pytest.raises(Forbidden) as caught:
        check_area_jurisdiction("a", area, "5101", CHENGDU_SHAPE)
    assert caught.value.field == "a/circle[2]"


def test_geometry_without_a_known_shape_is_refused() -> None:
    with pytest.raises(Forbidden):
        check_area_jurisdiction("a", Area("a", polygons=(SQUARE,)), "5101", None)


def test_hull_of_terminal_positions_as_the_shape() -> None:
    hull = hull_of_positions([30.4, 30.4, 30.9, 30.9], [103.8, 104.3, 104.3, 103.8])
    check_area_jurisdiction("a", Area("a", polygons=(SQUARE,)), "5101", hull)
    with pytest.raises(Forbidden):
        check_area_jurisdiction("a", Area("a", circles=(Circle(30.66, 104.06, 30),)), "5101", hull)


def test_whole_alert_names_info_and_area() -> None:
    alert = parse_cap(SAMPLES["alert_multilang.xml"])
    with pytest.raises(Forbidden) as caught:
        check_alert_jurisdiction(alert, "5101", CHENGDU_SHAPE)
    assert caught.value.field == "alert/info[1]/area[2]/geocode[1]"
    check_alert_jurisdiction(alert, "51", shapely.box(97, 26, 109, 35))
