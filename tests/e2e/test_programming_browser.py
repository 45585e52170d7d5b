"""Programming in a real browser: the week calendar and what plays where.

The data is set up through the API as the admin (jurisdiction 51) in
成华区 510108, a county no other e2e test schedules anything for, so the
terminal there sees exactly this one schedule.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.content import (
    approved_asset,
    playlist,
    published_schedule,
    terminal,
    today_at,
    unique,
)
from tests.e2e.helpers import ADMIN, Server, screenshot, sign_in

pytestmark = pytest.mark.e2e

REGION = "510108"
PUBLIC_ORANGE = "rgb(234, 88, 12)"  # --p-public in content.css


def test_week_calendar_and_what_plays_where_show_a_published_schedule(
    page: Any, server: Server
) -> None:
    asset = approved_asset(server, unique("公益海报") + ".png", ADMIN)
    playlist_id = playlist(server, unique("公益轮播"), [asset], ADMIN)
    name = unique("防汛宣传")
    schedule_id = published_schedule(
        server, name, playlist_id, REGION, priority="public", window=("08:00", "10:00"), owner=ADMIN
    )
    screen = terminal(server, unique("建设路大屏"), REGION, ADMIN)

    sign_in(page, ADMIN, "/schedules")
    today = today_at(0).date().isoformat()
    block = page.locator(f".cal-day[data-day='{today}'] [data-schedule-id='{schedule_id}']")
    assert block.is_visible()
    assert block.get_attribute("data-priority") == "public"
    colour = block.evaluate("el => getComputedStyle(el).borderLeftColor")
    assert colour == PUBLIC_ORANGE
    assert "08:00–10:00" in block.inner_text()
    # 08:00 is a third of the way down the day column.
    top = block.evaluate("el => el.offsetTop / el.parentElement.clientHeight")
    assert abs(top - 8 / 24) < 0.01
    row = page.locator(f"#schedule-table tr[data-schedule-id='{schedule_id}']")
    assert row.locator(".pill-sched-published").is_visible()
    screenshot(page, "week-calendar")

    page.goto(f"/terminals/{screen['id']}")
    page.click("[data-what-plays]")
    page.wait_for_url(f"**/what-plays?terminal={screen['id']}")
    # From 07:00 today for 24 h: the window 08:00–10:00 is inside it.
    at = today_at(7).strftime("%Y-%m-%dT%H:%M")
    page.goto(f"/what-plays?terminal={screen['id']}&at={at}&hours=24")
    entry = page.locator(f"#plays-table tr[data-schedule-id='{schedule_id}']")
    assert entry.count() == 1
    assert name in entry.inner_text()
    assert "08:00" in entry.inner_text() and "10:00" in entry.inner_text()
    assert entry.locator("[data-reason]").inner_text().strip() == "此时仅有这一个公共服务排期"
    assert entry.locator(".item-chip").count() == 1
    segment = page.locator(f"#plays-bar [data-schedule-id='{schedule_id}']")
    assert segment.get_attribute("data-priority") == "public"
    # Before and after the window the tier's default filler plays.
    assert page.locator("#plays-table tr[data-entry]").count() == 3
    screenshot(page, "what-plays-where")

    page.click("a[hreflang=en]")
    page.wait_for_selector("#plays-table")
    reason = entry.locator("[data-reason]").inner_text().strip()
    assert reason == "the only public service schedule on air"
    page.click("a[hreflang=zh-CN]")
