"""Emergency alerts in a real browser: the composer's targeting preview (by
region and by a polygon drawn on the map), the jurisdiction refusal naming
the part outside, sending, the live delivery board, the two-person rule and
cancelling.

Everything happens in a township of its own (龙泉驿区 510112101) with five
screens: four corners of a box and one in the middle.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.e2e.alert_support import Screen, add_township, add_user, enrolled_screen, map_point
from tests.e2e.content import unique
from tests.e2e.helpers import Server, screenshot, sign_in
from tests.support.waiting import HANG_GUARD_S

pytestmark = pytest.mark.e2e

TOWN = "510112101"
CENTRE = (30.56, 104.27)
CORNERS = (
    ("outdoor", 30.50, 104.20),
    ("hall", 30.50, 104.34),
    ("home", 30.62, 104.34),
    ("hall", 30.62, 104.20),
)


@dataclass(frozen=True)
class Town:
    first: tuple[str, str]
    second: tuple[str, str]
    centre: Screen
    corners: list[Screen]


@pytest.fixture(scope="module")
def town(server: Server) -> Iterator[Town]:
    add_township(server, TOWN, "联播测试镇")
    first = add_user(server, "issuer", TOWN)
    second = add_user(server, "issuer", TOWN)
    corners = [
        enrolled_screen(server, unique(f"角落{tier}"), tier, TOWN, lat, lon)
        for tier, lat, lon in CORNERS
    ]
    centre = enrolled_screen(server, unique("镇中心屏"), "home", TOWN, *CENTRE)
    yield Town(first, second, centre, corners)


def wait_total(page: Any, total: int) -> None:
    page.wait_for_selector(f"[data-preview-total]:text-is('{total}')")


def dots_in_preview(page: Any) -> int:
    counts = page.locator("#preview-layer circle[data-dot=targeted]").evaluate_all(
        "els => els.map(e => parseInt(e.getAttribute('data-count')))"
    )
    return sum(counts)


def draw_polygon(page: Any, corners: list[tuple[float, float]]) -> None:
    page.click("[data-draw=polygon]")
    for lat, lon in corners:
        x, y = map_point(page, lat, lon)
        page.mouse.click(x, y)
    page.click("[data-draw=finish]")


def draw_circle(page: Any, centre: tuple[float, float], edge: tuple[float, float]) -> None:
    page.click("[data-draw=circle]")
    x0, y0 = map_point(page, *centre)
    x1, y1 = map_point(page, *edge)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2)
    page.mouse.move(x1, y1)
    page.mouse.up()


def ack(server: Server, screen: Screen, alert_id: str, state: str) -> None:
    """What the player does once the alert is on screen."""
    body = {"state": state, "at": datetime.now(UTC).isoformat()}
    answer = httpx.post(
        f"{server.url}/terminal/v1/alerts/{alert_id}/ack",
        json=body,
        headers={"Authorization": f"Bearer {screen.token}"},
        timeout=HANG_GUARD_S,
    )
    assert answer.status_code == 200, answer.text


def fill_text(page: Any, event: str) -> None:
    page.fill("input[name=event]", event)
    page.fill("input[name=headline]", f"{event}预警")
    page.fill("textarea[name=description]", "请注意防范。")


def test_preview_by_region_and_by_drawn_polygon_then_send_and_watch_delivery(
    page: Any, server: Server, town: Town
) -> None:
    sign_in(page, town.first, "/alerts/new")
    page.wait_for_selector("[data-preview-empty]")

    page.check(f"input[name=region][value='{TOWN}']")
    wait_total(page, 5)
    assert page.locator("[data-preview-tier=outdoor]").inner_text() == "1"
    assert page.locator("[data-preview-tier=hall]").inner_text() == "2"
    assert page.locator("[data-preview-tier=home]").inner_text() == "2"
    assert dots_in_preview(page) == 5

    page.uncheck(f"input[name=region][value='{TOWN}']")
    page.wait_for_selector("[data-preview-empty]")
    draw_polygon(page, [(30.54, 104.25), (30.54, 104.29), (30.58, 104.29), (30.58, 104.25)])
    wait_total(page, 1)
    assert page.locator("[data-preview-tier=home]").inner_text() == "1"
    assert dots_in_preview(page) == 1
    assert town.centre.name in page.locator("#preview").inner_text()
    screenshot(page, "alert-composer-polygon")

    # A circle reaching past the township's screens is accepted with a
    # warning naming it: the part outside reaches no screen.
    draw_circle(page, CENTRE, (30.56, 104.45))
    warning = page.locator("[data-preview-warning]")
    warning.wait_for()
    assert warning.get_attribute("data-part") == "circle1"
    assert "圆形 1" in warning.inner_text()
    screenshot(page, "alert-composer-outside")
    page.click("[data-draw=undo]")
    wait_total(page, 1)

    page.click("label.level-extreme")  # no second issuer for Extreme
    event = unique("山洪")
    fill_text(page, event)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button.btn-issue")
    page.wait_for_url(lambda url: "/alerts/new" not in url)
    board = page.locator("[data-board]")
    assert board.get_attribute("data-state") == "active"
    assert page.locator("[data-count=sent]").inner_text() == "1"
    assert town.centre.name in page.locator("[data-missing]").inner_text()
    alert_id = page.url.rstrip("/").split("/")[-1].split("?")[0]

    # The screen shows it: the board turns green by itself (HTMX poll).
    ack(server, town.centre, alert_id, "displayed")
    page.wait_for_selector("[data-count=displayed]:text-is('1')")
    page.wait_for_selector("[data-all-displayed]")
    assert page.locator(".board-map circle.s-displayed").count() == 1
    assert page.locator("[data-area-outline] path").count() == 1  # the drawn polygon
    bar = page.locator("[data-progress-tier=home]")
    assert bar.get_attribute("data-displayed") == "1"
    assert page.locator("[data-latency]").inner_text().endswith("ms")
    screenshot(page, "alert-board")

    page.goto("/alerts")
    assert event in page.locator("[data-alert-list]").inner_text()


def test_two_person_rule_and_cancel(page: Any, browser: Any, server: Server, town: Town) -> None:
    sign_in(page, town.first, "/alerts/new")
    page.check(f"input[name=region][value='{TOWN}']")
    wait_total(page, 5)
    page.click("label.level-severe")
    fill_text(page, unique("暴雨"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button.btn-issue")
    page.wait_for_url(lambda url: "/alerts/new" not in url)
    assert page.locator("[data-board]").get_attribute("data-state") == "pending-confirmation"
    assert page.locator("[data-waiting]").is_visible()
    assert not page.locator("[data-confirm-alert]").count()  # not by the one who issued it
    url = page.url

    other = browser.new_context(base_url=server.url, viewport={"width": 1440, "height": 900})
    try:
        second = other.new_page()
        sign_in(second, town.second, url.removeprefix(server.url))
        second.click("[data-confirm-alert]")
        second.wait_for_selector("[data-board][data-state=active]")
        assert second.locator("[data-count=sent]").inner_text() == "5"
    finally:
        other.close()

    page.wait_for_selector("[data-board][data-state=active]")  # live poll
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-cancel-alert]")
    page.wait_for_selector("[data-board][data-state=cancelled]")
    assert page.locator("[data-flash]").is_visible()
    assert not page.locator("[data-cancel-alert]").count()


def test_english_composer(page: Any, town: Town) -> None:
    sign_in(page, town.first, "/alerts/new")
    page.click("a[hreflang=en]")
    page.wait_for_selector("text=Targeting preview")
    assert page.locator("nav.nav").get_by_text("Issue alert", exact=True).is_visible()
    assert "Level I · Red" in page.locator(".levels").inner_text()
    page.click("a[hreflang=zh-CN]")
