"""An issuer's geocodes must lie in their jurisdiction; their drawn shapes
may cross it, with a warning (they reach only the issuer's own screens)."""

from __future__ import annotations

import pytest
import shapely

from lianbo.adapters.cap import parse_cap
from lianbo.adapters.geo import (
    alert_warnings,
    area_warnings,
    check_alert_jurisdiction,
    check_area_jurisdiction,
)
from lianbo.adapters.geo.jurisdiction import hull_of_positions
from lianbo.domain.alerting.model import Area, Circle
from lianbo.domain.alerting.warnings import CapWarning, WarningCode
from lianbo.domain.errors import Forbidden
from tests.integration.alerts.samples import SAMPLES

# 成都市 approximated by a box (x = lon, y = lat).
CHENGDU_SHAPE = shapely.box(102.9, 30.0, 104.9, 31.5)
SQUARE = ((30.5, 103.9), (30.5, 104.2), (30.8, 104.2), (30.8, 103.9), (30.5, 103.9))
# A chemical plant in 武侯区: a small ring south of the centre.
PLANT = ((30.62, 104.03), (30.62, 104.05), (30.63, 104.05), (30.63, 104.03), (30.62, 104.03))
PARTLY = WarningCode.AREA_PARTLY_OUTSIDE


def test_regions_inside_the_subtree_pass_in_either_form() -> None:
    area = Area("a", geocodes=(("GB/T2260", "510107"), ("GB/T 2260", "510100"), ("SAME", "9")))
    check_area_jurisdiction("area", area, "510100")
    check_area_jurisdiction("area", area, "5101")


def test_region_outside_is_refused_naming_the_geocode() -> None:
    area = Area("a", geocodes=(("GB/T2260", "510107"), ("GB/T2260", "510703")))
    with pytest.raises(Forbidden) as caught:
        check_area_jurisdiction("alert/info[1]/area[2]", area, "5101")
    assert caught.value.field == "alert/info[1]/area[2]/geocode[2]"


def test_a_parent_region_is_outside_a_child_jurisdiction() -> None:
    with pytest.raises(Forbidden):
        check_area_jurisdiction("a", Area("a", geocodes=(("GB/T2260", "51"),)), "5101")


def test_a_nationwide_jurisdiction_holds_every_region() -> None:
    check_area_jurisdiction("a", Area("a", geocodes=(("GB/T2260", "500103"),)), "")


def test_shapes_are_never_refused_even_far_away() -> None:
    far = ((40.0, 116.0), (40.0, 116.5), (40.5, 116.5), (40.0, 116.0))
    check_area_jurisdiction("a", Area("a", polygons=(far,), circles=(Circle(40, 116, 9),)), "51")


def test_polygon_and_circle_inside_the_outline_warn_nothing() -> None:
    area = Area("a", polygons=(SQUARE, PLANT), circles=(Circle(30.66, 104.06, 10),))
    assert area_warnings("a", area, "5101", CHENGDU_SHAPE) == []


def test_polygon_reaching_outside_is_a_warning_naming_it() -> None:
    wide = ((30.5, 103.9), (30.5, 105.2), (30.8, 105.2), (30.5, 103.9))
    found = area_warnings("a", Area("a", polygons=(SQUARE, wide)), "510100", CHENGDU_SHAPE)
    assert found == [CapWarning("a/polygon[2]", PARTLY, "5101")]


def test_circle_reaching_outside_is_measured_as_its_geodesic_ring() -> None:
    # 30.66N 104.80E is 9.6 km inside the east edge (104.9E): 10 km reaches out.
    area = Area("a", circles=(Circle(30.66, 104.8, 9.0), Circle(30.66, 104.8, 10.0)))
    assert area_warnings("a", area, "5101", CHENGDU_SHAPE) == [
        CapWarning("a/circle[2]", PARTLY, "5101")
    ]


def test_a_shape_wholly_outside_says_it_reaches_nothing() -> None:
    far = ((40.0, 116.0), (40.0, 116.5), (40.5, 116.5), (40.0, 116.0))
    [found] = area_warnings("a", Area("a", polygons=(far,)), "5101", CHENGDU_SHAPE)
    assert found.code is WarningCode.AREA_OUTSIDE


def test_without_an_outline_or_for_a_nationwide_issuer_nothing_is_said() -> None:
    area = Area("a", circles=(Circle(30.66, 104.06, 500),))
    assert area_warnings("a", area, "5101", None) == []
    assert area_warnings("a", area, "", CHENGDU_SHAPE) == []


def test_hull_of_terminal_positions_stands_in_for_the_outline() -> None:
    hull = hull_of_positions([30.4, 30.4, 30.9, 30.9], [103.8, 104.3, 104.3, 103.8])
    assert area_warnings("a", Area("a", polygons=(SQUARE,)), "5101", hull) == []
    [found] = area_warnings("a", Area("a", circles=(Circle(30.66, 104.06, 30),)), "5101", hull)
    assert found == CapWarning("a/circle[1]", PARTLY, "5101")


def test_whole_alert_names_info_and_area() -> None:
    alert = parse_cap(SAMPLES["alert_multilang.xml"])
    with pytest.raises(Forbidden) as caught:
        check_alert_jurisdiction(alert, "5101")
    assert caught.value.field == "alert/info[1]/area[2]/geocode[1]"
    check_alert_jurisdiction(alert, "51")
    assert alert_warnings(alert, "51", shapely.box(97, 26, 109, 35)) == ()


def test_an_area_repeated_by_each_language_is_warned_about_once() -> None:
    alert = parse_cap(SAMPLES["alert_multilang.xml"])
    assert len(alert.infos) > 1 and alert.infos[0].areas == alert.infos[1].areas
    found = alert_warnings(alert, "51", shapely.box(104.0, 30.5, 104.1, 30.6))
    assert found and all(w.path.startswith("alert/info[1]/") for w in found)
