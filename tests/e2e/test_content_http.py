"""The content and programming pages' HTTP rules, against the real server."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.content import approved_asset, playlist, png, today_at, unique, upload
from tests.e2e.helpers import ADMIN, OPERATOR, REVIEWERS, Server
from tests.e2e.test_console_http import csrf_of, signed_in

pytestmark = pytest.mark.e2e

TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def operator(server: Server) -> Iterator[httpx.Client]:
    with signed_in(server, OPERATOR) as client:
        yield client


def _tus_create(client: httpx.Client, length: int, name: str, **headers: str) -> httpx.Response:
    metadata = "name " + base64.b64encode(name.encode()).decode()
    return client.post(
        "/assets/uploads",
        headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata, **headers},
    )


def test_console_upload_refuses_a_missing_or_wrong_csrf_token(operator: httpx.Client) -> None:
    assert _tus_create(operator, 100, "x.png").status_code == 403
    assert _tus_create(operator, 100, "x.png", **{"X-CSRF-Token": "0" * 64}).status_code == 403
    patch = operator.patch(
        "/assets/uploads/abc",
        content=b"x",
        headers={**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    )
    assert patch.status_code == 403


def test_console_upload_speaks_tus_and_resumes_from_the_server_offset(
    operator: httpx.Client,
) -> None:
    data = png()
    token = {"X-CSRF-Token": csrf_of(operator)}
    created = _tus_create(operator, len(data), unique("续传") + ".png", **token)
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    chunk = {**TUS, **token, "Content-Type": "application/offset+octet-stream"}
    first = operator.patch(url, content=data[:100], headers={**chunk, "Upload-Offset": "0"})
    assert first.status_code == 204 and first.headers["upload-offset"] == "100"
    # A retry from a stale offset is refused; HEAD says where to continue.
    stale = operator.patch(url, content=data[:100], headers={**chunk, "Upload-Offset": "0"})
    assert stale.status_code == 409 and "error" in stale.json()
    assert operator.head(url).headers["upload-offset"] == "100"
    last = operator.patch(url, content=data[100:], headers={**chunk, "Upload-Offset": "100"})
    assert last.status_code == 204, last.text
    asset_id = last.headers["lianbo-asset-id"]
    assert operator.get(f"/assets/{asset_id}").status_code == 200


def test_not_media_is_refused_with_a_message_not_a_500(operator: httpx.Client) -> None:
    token = {"X-CSRF-Token": csrf_of(operator)}
    data = b"this is not a picture"
    url = _tus_create(operator, len(data), "notes.png", **token).headers["location"]
    answer = operator.patch(
        url,
        content=data,
        headers={
            **TUS,
            **token,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert answer.status_code == 400
    assert "不支持或无法读取的媒体文件" in answer.json()["error"]


def test_schedule_form_with_the_end_before_the_start_shows_the_field_error(
    operator: httpx.Client, server: Server
) -> None:
    asset = approved_asset(server, unique("片头") + ".png")
    playlist_id = playlist(server, unique("节目"), [asset])
    form = {
        "name": "倒序排期",
        "playlist_id": playlist_id,
        "regions": "510107",
        "starts_at": today_at(10, days=1).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": today_at(10).strftime("%Y-%m-%dT%H:%M"),
        "priority": "local",
        "csrf_token": csrf_of(operator),
    }
    answer = operator.post("/schedules", data=form)
    assert answer.status_code == 400
    assert 'data-field-error="ends_at"' in answer.text and "结束时间须晚于开始时间" in answer.text
    assert "倒序排期" in answer.text  # what was typed is kept

    outside = operator.post("/schedules", data={**form, "ends_at": "", "regions": "5101"})
    assert outside.status_code == 400 and 'data-field-error="ends_at"' in outside.text
    window = {**form, "ends_at": today_at(10, days=2).strftime("%Y-%m-%dT%H:%M")}
    half = operator.post("/schedules", data={**window, "window_start": "08:00"})
    assert half.status_code == 400 and 'data-field-error="window"' in half.text
    reach = operator.post("/schedules", data={**window, "regions": "510104"})
    assert reach.status_code == 404 and 'data-field-error="regions"' in reach.text


def test_a_draft_asset_in_a_playlist_is_a_409_naming_it(
    operator: httpx.Client, server: Server
) -> None:
    draft = upload(server, unique("未审") + ".png")
    form = {"name": "含草稿", "asset_id": draft["id"], "duration": "5", "fit": "cover"}
    answer = operator.post("/playlists/new", data={**form, "csrf_token": csrf_of(operator)})
    assert answer.status_code == 409
    assert draft["name"] in answer.text and "尚未通过三审" in answer.text
    bad = operator.post(
        "/playlists/new", data={**form, "duration": "soon", "csrf_token": csrf_of(operator)}
    )
    assert bad.status_code == 400 and 'data-field-error="items.0.duration_ms"' in bad.text


@pytest.mark.parametrize(
    "path",
    [
        "/assets?state=lost&kind=hologram&tier=moon&page=-4&q=%00",
        "/assets/grid?page=abc",
        "/schedules?week=someday&region=abc&tier=tank",
        "/schedules?week=2026-02-30&region=5101",
        "/schedules?week=9999-12-31",
        "/what-plays?at=tomorrow&hours=many",
        "/what-plays?at=9999-12-31T23:59&hours=168",
        "/what-plays?q=%E5%A4%A7%E5%B1%8F&hours=-5",
        "/playlists?page=zz",
        "/playlists/picker?q=%25_",
    ],
)
def test_bad_query_values_never_fail_the_content_pages(operator: httpx.Client, path: str) -> None:
    assert operator.get(path).status_code == 200


def test_review_queue_is_for_reviewers(operator: httpx.Client, server: Server) -> None:
    assert operator.get("/review").status_code == 403
    with signed_in(server, REVIEWERS[0]) as reviewer:
        assert reviewer.get("/review?level=9").status_code == 200


def test_pages_outside_the_jurisdiction_are_404(operator: httpx.Client, server: Server) -> None:
    # The admin's content lives in 51, above the operator's 510107.
    asset = approved_asset(server, unique("省级素材") + ".png", ADMIN)
    playlist_id = playlist(server, unique("省级节目单"), [asset], ADMIN)
    with server.client(headers=server.api_headers(ADMIN)) as api:
        schedule = api.post(
            "/api/v1/schedules",
            json={
                "name": unique("省级排期"),
                "playlist_id": playlist_id,
                "targets": {"regions": ["5101"]},
                "starts_at": today_at(0).isoformat(),
                "ends_at": today_at(0, days=1).isoformat(),
                "priority": "local",
            },
        )
        assert schedule.status_code == 201, schedule.text
        screen = api.post(
            "/api/v1/terminals",
            json={
                "name": unique("锦江屏"),
                "tier": "home",
                "region": "510104",
                "latitude": 30.6,
                "longitude": 104.1,
            },
        )
        assert screen.status_code == 201, screen.text
    for path in (
        f"/assets/{asset}",
        f"/playlists/{playlist_id}",
        f"/schedules/{schedule.json()['id']}",
        f"/what-plays?terminal={screen.json()['id']}",
    ):
        answer = operator.get(path)
        assert answer.status_code == 404, path
        assert "text/html" in answer.headers["content-type"]
    token = csrf_of(operator)
    assert operator.post(f"/assets/{asset}/submit", data={"csrf_token": token}).status_code == 404
    publish = operator.post(
        f"/schedules/{schedule.json()['id']}/publish", data={"csrf_token": token}
    )
    assert publish.status_code == 404
