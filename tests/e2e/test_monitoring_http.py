"""The monitoring pages' HTTP rules against the real server: roles, CSRF,
jurisdiction, and junk in query strings and forms."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.e2e.alert_support import (
    Screen,
    add_township,
    add_user,
    alarm_of,
    csrf,
    enrolled_screen,
    unapproved_play,
)
from tests.e2e.content import unique
from tests.e2e.helpers import Server

pytestmark = pytest.mark.e2e

HOME = "510116101"  # 双流区
AWAY = "510116102"


@contextmanager
def signed_in(server: Server, user: tuple[str, str]) -> Iterator[httpx.Client]:
    with server.client(follow_redirects=False) as client:
        answer = client.post("/login", data={"username": user[0], "password": user[1]})
        assert answer.status_code == 303, answer.text
        yield client


@pytest.fixture(scope="module")
def setting(server: Server) -> dict[str, Any]:
    add_township(server, HOME, "监测测试甲镇")
    add_township(server, AWAY, "监测测试乙镇")
    here = enrolled_screen(server, unique("甲镇屏"), "hall", HOME, 30.50, 103.90)
    there = enrolled_screen(server, unique("乙镇屏"), "outdoor", AWAY, 30.52, 103.95)
    return {
        "monitor": add_user(server, "monitor", HOME),
        "viewer": add_user(server, "viewer", HOME),
        "here": here,
        "there": there,
    }


def fresh_alarm(server: Server, screen: Screen) -> str:
    unapproved_play(server, screen)
    return str(alarm_of(server, screen)["id"])


def test_ack_needs_the_monitor_role_and_the_csrf_token(
    server: Server, setting: dict[str, Any]
) -> None:
    alarm_id = fresh_alarm(server, setting["here"])
    with signed_in(server, setting["viewer"]) as viewer:
        refused = viewer.post(f"/alarms/{alarm_id}/ack", data={"csrf_token": csrf(viewer)})
        assert refused.status_code == 403
    with signed_in(server, setting["monitor"]) as monitor:
        assert monitor.post(f"/alarms/{alarm_id}/ack").status_code == 403
        done = monitor.post(f"/alarms/{alarm_id}/ack", data={"csrf_token": csrf(monitor)})
        assert done.status_code == 303 and done.headers["location"].endswith("done=acknowledged")
        again = monitor.post(f"/alarms/{alarm_id}/ack", data={"csrf_token": csrf(monitor)})
        assert again.status_code == 409
        resolved = monitor.post(
            f"/alarms/{alarm_id}/resolve",
            data={"csrf_token": csrf(monitor), "next": "//evil.example/alarms"},
        )
        assert resolved.status_code == 303
        assert resolved.headers["location"].startswith("/alarms?")


def test_alarms_outside_the_jurisdiction_look_absent(
    server: Server, setting: dict[str, Any]
) -> None:
    alarm_id = fresh_alarm(server, setting["there"])
    with signed_in(server, setting["monitor"]) as monitor:
        assert alarm_id not in monitor.get("/alarms?state=all").text
        for path in ("ack", "resolve"):
            answer = monitor.post(f"/alarms/{alarm_id}/{path}", data={"csrf_token": csrf(monitor)})
            assert answer.status_code == 404
        assert monitor.get(f"/alarms/{alarm_id}/screenshot").status_code == 404
        assert (
            monitor.post("/alarms/nope/ack", data={"csrf_token": csrf(monitor)}).status_code == 404
        )
        wall = monitor.get("/monitoring")
        assert setting["here"].name in wall.text and setting["there"].name not in wall.text
        assert setting["there"].name not in monitor.get(f"/monitoring?region={AWAY}").text


def test_evidence_without_a_screenshot_is_a_404(server: Server, setting: dict[str, Any]) -> None:
    alarm_id = fresh_alarm(server, setting["here"])
    with signed_in(server, setting["monitor"]) as monitor:
        assert monitor.get(f"/alarms/{alarm_id}/screenshot").status_code == 404
        assert monitor.get(f"/alarms/{alarm_id}/expected").status_code == 404
        assert monitor.get("/monitoring/shots/not-a-hash").status_code == 404
        assert monitor.get("/monitoring/shots/" + "0" * 64).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/monitoring?tier=tank&region=%00",
        "/monitoring?region=999999999999999",
        "/monitoring?page=-4",
        "/monitoring/wall?tier=x",
        "/monitoring/map",
        "/alarms?state=melted&type=%3Cscript%3E&page=x",
        "/alarms/live?state=all",
        "/reports?days=999&region=abc",
        "/reports?days=1",
    ],
)
def test_junk_in_query_strings_is_ignored_or_named(
    server: Server, setting: dict[str, Any], path: str
) -> None:
    with signed_in(server, setting["monitor"]) as monitor:
        answer = monitor.get(path)
    assert answer.status_code == 200, answer.text[:300]
    assert "<script>" not in answer.text.split("</head>", 1)[-1].replace("<script src", "")


def test_reports_stay_inside_the_jurisdiction_and_export_csv(
    server: Server, setting: dict[str, Any]
) -> None:
    with signed_in(server, setting["monitor"]) as monitor:
        outside = monitor.get("/reports?region=4401")
        assert outside.status_code == 200 and "data-filter-error" in outside.text
        assert monitor.get("/reports/plays.csv?region=4401").status_code == 404
        csv = monitor.get(f"/reports/plays.csv?by=region&days=30&region={HOME}")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.lstrip("\ufeff").startswith("region,name,plays,seconds")
