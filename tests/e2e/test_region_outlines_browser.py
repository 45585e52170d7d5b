"""Region outlines in a real browser (ADR 0026): the composer draws the
issuer's jurisdiction (成都市) with its counties and its neighbours, and a
click on a county's outline picks that county for the alert's area (and a
second click puts it back); the screen map and the dashboard draw them too.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.alert_support import add_user, enrolled_screen, map_point
from tests.e2e.content import unique
from tests.e2e.helpers import ADMIN, Server, screenshot, sign_in

pytestmark = pytest.mark.e2e

CITY = "5101"  # 成都市
WUHOU = (30.642, 104.043)  # inside 武侯区 510107, away from its borders


def picked(page: Any, code: str) -> bool:
    return bool(
        page.evaluate(
            """code => {
                const box = document.querySelector(`input[name=region][value="${code}"]`);
                const typed = document.querySelector("input[name=region_codes]").value;
                return box ? box.checked : typed.split(/[\\s,;]+/).includes(code);
            }""",
            code,
        )
    )


def test_the_composer_draws_outlines_and_a_click_picks_a_county(page: Any, server: Server) -> None:
    issuer = add_user(server, "issuer", CITY)
    enrolled_screen(server, unique("武侯屏"), "outdoor", "510107", *WUHOU)
    sign_in(page, issuer, "/alerts/new")
    page.goto("/alerts/new")
    home = page.locator("svg.map-base path[data-role=home]")
    assert home.get_attribute("data-outline") == CITY
    assert page.locator("svg.map-base path[data-pick]").count() >= 10  # Chengdu's counties
    assert page.locator("svg.map-base path[data-role=context]").count() >= 5  # other cities
    wuhou = page.locator("svg.map-base path[data-pick='510107']")
    assert not picked(page, "510107")

    x, y = map_point(page, *WUHOU)
    page.mouse.click(x, y)
    page.wait_for_selector("svg.map-base path[data-pick='510107'].picked")
    assert picked(page, "510107")
    page.wait_for_selector("[data-preview-total]")
    screenshot(page, "outlines-composer-picked")

    page.mouse.click(x, y)
    page.wait_for_selector("svg.map-base path[data-pick='510107']:not(.picked)")
    assert not picked(page, "510107") and wuhou.count() == 1


def test_the_screen_map_and_the_dashboard_outline_the_jurisdiction(
    page: Any, server: Server
) -> None:
    sign_in(page, ADMIN, "/")
    page.goto("/")
    page.wait_for_selector("svg.map path[data-role=home][data-outline='51']")
    screenshot(page, "outlines-dashboard")
    page.goto("/monitoring/map")
    page.wait_for_selector("svg.map path[data-role=home][data-outline='51']")
    assert page.locator("svg.map path[data-role=part]").count() >= 15  # 四川's cities
    screenshot(page, "outlines-screen-map")
