"""Content in a real browser: upload with progress, three-level review, playlists."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.content import approved_asset, playlist, playlist_order, png, unique
from tests.e2e.helpers import OPERATOR, REVIEWERS, Server, screenshot, sign_in

pytestmark = pytest.mark.e2e

QC_DONE = "[data-qc-status=passed], [data-qc-status=warnings], [data-qc-status=failed]"
# QC of an image runs in the server's background worker; when the media
# modules are there it finishes in seconds. The review flow does not wait for it.
QC_WAIT_S = 12.0


def switch_user(page: Any, user: tuple[str, str], next_path: str) -> None:
    page.context.clear_cookies()
    sign_in(page, user, next_path)


def decide(page: Any, asset_id: str, level: int) -> None:
    """As the signed-in reviewer: open the asset, check the level shown, pass it."""
    page.goto(f"/assets/{asset_id}")
    assert page.locator(f"[data-deciding-level='{level}']").is_visible()
    page.click("[data-action=approve]")
    page.wait_for_selector("[data-flash=approved]")


def wait_for_qc(page: Any, asset_id: str) -> bool:
    """Reload the asset until QC is done, or give up quietly after QC_WAIT_S."""
    deadline = time.monotonic() + QC_WAIT_S
    while time.monotonic() < deadline:
        page.goto(f"/assets/{asset_id}")
        if page.locator(f"#qc {QC_DONE}").count():
            return True
        time.sleep(1.0)
    return False


def test_upload_shows_progress_then_three_reviewers_approve_it(
    page: Any, server: Server, tmp_path: Path
) -> None:
    name = unique("海报") + ".png"
    path = tmp_path / name
    path.write_bytes(png((1280, 720)))
    sign_in(page, OPERATOR, "/assets")
    # The first chunk's connection drops: the uploader asks the server (HEAD)
    # where to continue and sends it again.
    seen: list[str] = []

    def flaky(route: Any) -> None:
        seen.append(route.request.method)
        if route.request.method == "PATCH" and seen.count("PATCH") == 1:
            route.abort()
        else:
            route.continue_()

    page.route("**/assets/uploads/*", flaky)
    page.set_input_files("[data-upload-input]", str(path))
    row = page.locator(".upload-row[data-state=done]", has_text=name)
    row.wait_for()
    assert row.locator(".progress").get_attribute("aria-valuenow") == "100"
    assert seen == ["PATCH", "HEAD", "PATCH"]
    page.unroute("**/assets/uploads/*")
    link = row.locator(".upload-link")
    asset_id = link.get_attribute("data-asset-id")
    assert asset_id and link.get_attribute("href") == f"/assets/{asset_id}"
    # The grid refreshed itself and shows the new card, still a draft.
    card = page.locator(f"#asset-grid [data-asset-id='{asset_id}']")
    card.wait_for()
    assert card.locator("[data-review-state=draft]").is_visible()
    screenshot(page, "media-library")

    if wait_for_qc(page, asset_id):
        assert page.locator("#qc .pill").first.is_visible()
    else:
        page.goto(f"/assets/{asset_id}")
    page.click("[data-action=submit]")
    page.wait_for_selector("[data-flash=submitted]")
    assert page.locator("h1 [data-review-state=submitted]").is_visible()

    first, second, third = REVIEWERS
    switch_user(page, first, "/review?level=1")
    queued = page.locator(f"#review-queue tr[data-asset-id='{asset_id}']")
    assert queued.is_visible()
    screenshot(page, "review-queue")
    queued.locator("a.row-link").click()
    page.wait_for_url(f"**/assets/{asset_id}")
    page.click("[data-action=approve]")
    page.wait_for_selector("[data-flash=approved]")

    # The same reviewer may not pass 复审 too: the service's refusal is a message.
    assert page.locator("[data-deciding-level='2']").is_visible()
    page.click("[data-action=approve]")
    refusal = page.locator("[data-action-error]")
    refusal.wait_for()
    assert "另一位审核员" in refusal.inner_text()
    assert page.locator("h1 [data-review-state=level1]").is_visible()

    switch_user(page, second, f"/assets/{asset_id}")
    decide(page, asset_id, 2)
    switch_user(page, third, "/review?level=3")
    assert page.locator(f"#review-queue tr[data-asset-id='{asset_id}']").is_visible()
    decide(page, asset_id, 3)
    approved = page.locator("h1 [data-review-state=approved]")
    assert approved.is_visible() and approved.inner_text().strip() == "已通过"
    history = page.locator("#history tbody tr")
    assert history.count() == 4  # submitted, then three passes
    assert re.search(r"rev51c", history.first.inner_text())
    screenshot(page, "asset-detail")


def test_playlist_editor_reorders_by_drag_and_buttons_and_saves(page: Any, server: Server) -> None:
    a, b, c = (approved_asset(server, unique(n) + ".png") for n in ("甲", "乙", "丙"))
    playlist_id = playlist(server, unique("轮播"), [a, b, c])
    sign_in(page, OPERATOR, f"/playlists/{playlist_id}")
    rows = page.locator("[data-playlist-items] [data-item]")
    assert [rows.nth(i).get_attribute("data-asset-id") for i in range(3)] == [a, b, c]

    # Drag the last item onto the top edge of the first: it becomes first.
    page.locator(f"[data-item][data-asset-id='{c}'] .pl-grip").drag_to(
        rows.nth(0), target_position={"x": 40, "y": 3}
    )
    assert [rows.nth(i).get_attribute("data-asset-id") for i in range(3)] == [c, a, b]
    # Keyboard users: move the (now) second item down with its button.
    page.locator(f"[data-item][data-asset-id='{a}'] [data-move=down]").click()
    assert [rows.nth(i).get_attribute("data-asset-id") for i in range(3)] == [c, b, a]
    page.locator(f"[data-item][data-asset-id='{b}'] [data-duration]").fill("12")
    assert page.locator("[data-total-length]").inner_text() == "0:28"
    screenshot(page, "playlist-editor")

    page.click("[data-save]")
    page.wait_for_selector("[data-flash]")
    assert playlist_order(server, playlist_id) == [c, b, a]
