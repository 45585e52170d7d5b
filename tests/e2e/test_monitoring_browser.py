"""Monitoring in a real browser: the wall lists the screens of the monitor's
jurisdiction (filtered by tier), the map colours them, and an alarm is
acknowledged and resolved in the page, with the audit entries to show it.

The screens live in a township of their own (温江区 510115101); the alarm
is raised the way a real one is: a screen reports playing a file nobody
approved (``unauthorised-content``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.alert_support import (
    Screen,
    add_township,
    add_user,
    alarm_of,
    enrolled_screen,
    unapproved_play,
)
from tests.e2e.content import headers, unique
from tests.e2e.helpers import ADMIN, Server, screenshot, sign_in

pytestmark = pytest.mark.e2e

TOWN = "510115101"
SCREENS = (("outdoor", 30.69, 103.83), ("hall", 30.68, 103.85), ("home", 30.70, 103.86))


@dataclass(frozen=True)
class Watched:
    monitor: tuple[str, str]
    viewer: tuple[str, str]
    screens: list[Screen]


@pytest.fixture(scope="module")
def watched(server: Server) -> Iterator[Watched]:
    add_township(server, TOWN, "监测测试镇")
    screens = [
        enrolled_screen(server, unique(f"监测{tier}"), tier, TOWN, lat, lon)
        for tier, lat, lon in SCREENS
    ]
    yield Watched(add_user(server, "monitor", TOWN), add_user(server, "viewer", TOWN), screens)


def audit_actions(server: Server, alarm_id: str) -> list[tuple[str, str]]:
    with server.client(headers=headers(server, ADMIN)) as api:
        items = api.get("/api/v1/audit", params={"target_id": alarm_id}).json()["items"]
    return [(item["action"], item["actor"]) for item in items]


def test_wall_lists_the_screens_and_filters_by_tier(page: Any, watched: Watched) -> None:
    sign_in(page, watched.monitor, "/monitoring")
    wall = page.locator("[data-wall]")
    for screen in watched.screens:
        tile = wall.locator(f"[data-terminal-id='{screen.id}']")
        assert screen.name in tile.inner_text()
        assert tile.get_attribute("data-verdict") == "none"
    assert page.locator("[data-wall-total]").get_attribute("data-wall-total") == "3"
    screenshot(page, "monitoring-wall")

    page.select_option("select[name=tier]", "hall")
    page.click("[data-wall-filter] button[type=submit]")
    page.wait_for_url("**tier=hall**")
    tiles = page.locator("[data-wall] [data-terminal-id]")
    assert tiles.count() == 1
    assert watched.screens[1].name in tiles.first.inner_text()
    # The live refresh keeps the filter.
    assert "tier=hall" in (page.locator("#wall").get_attribute("hx-get") or "")

    page.goto("/monitoring?region=not-a-code")
    assert page.locator("[data-filter-error]").is_visible()


def test_alarm_is_acknowledged_and_resolved_in_the_page(
    page: Any, server: Server, watched: Watched
) -> None:
    screen = watched.screens[0]
    unapproved_play(server, screen)
    alarm = alarm_of(server, screen)
    assert alarm["type"] == "unauthorised-content" and alarm["state"] == "open"

    sign_in(page, watched.monitor, "/alarms")
    row = page.locator(f"tr[data-alarm-id='{alarm['id']}']")
    assert screen.name in row.inner_text()
    assert row.locator("[data-alarm-state]").get_attribute("data-alarm-state") == "open"

    # The map shows the screen in alarm.
    page.goto("/monitoring/map")
    assert page.locator("[data-map-count=alarm]").get_attribute("data-count") == "1"
    assert page.locator("svg.map circle.s-alarm").count() == 1

    page.goto("/alarms")
    page.locator(f"tr[data-alarm-id='{alarm['id']}'] [data-ack]").click()
    page.wait_for_selector("[data-flash=acknowledged]")
    row = page.locator(f"tr[data-alarm-id='{alarm['id']}']")
    assert row.locator("[data-alarm-state]").get_attribute("data-alarm-state") == "acknowledged"
    assert watched.monitor[0] in row.locator("[data-acknowledged-by]").inner_text()
    assert ("alarm.acknowledge", watched.monitor[0]) in audit_actions(server, alarm["id"])
    screenshot(page, "alarms-acknowledged")

    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("[data-resolve]").click()
    page.wait_for_selector("[data-flash=resolved]")
    # Resolved alarms leave the default ("not resolved") list ...
    assert not page.locator(f"tr[data-alarm-id='{alarm['id']}']").count()
    page.goto("/alarms?state=resolved")
    assert page.locator(f"tr[data-alarm-id='{alarm['id']}'] [data-alarm-state=resolved]").count()
    assert ("alarm.resolve", watched.monitor[0]) in audit_actions(server, alarm["id"])


def test_viewer_sees_alarms_but_no_buttons(page: Any, server: Server, watched: Watched) -> None:
    screen = watched.screens[2]
    unapproved_play(server, screen)
    alarm = alarm_of(server, screen)
    sign_in(page, watched.viewer, "/alarms")
    row = page.locator(f"tr[data-alarm-id='{alarm['id']}']")
    assert screen.name in row.inner_text()
    assert not row.locator("[data-ack]").count()
