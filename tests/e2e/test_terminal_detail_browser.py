"""A terminal's page in a real browser: the live state from its status
report, and a command button reaching a screen connected to the hub.

The screen is played by hand: its heartbeat carries a status report as the
player agent writes it (``protocol.reports.STATUS_KEYS``), and a raw
WebSocket client stands in for its push channel. The console's own rules
for commands (CSRF, role, bad input) are checked over plain HTTP.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.e2e.content import approve, terminal, unique, upload
from tests.e2e.helpers import OPERATOR, REVIEWERS, Server, screenshot, sign_in
from tests.e2e.test_console_http import csrf_of, signed_in
from tests.support.waiting import HANG_GUARD_S

GUARD_MS = HANG_GUARD_S * 1000  # a hang guard: the live card refreshes every 5 s

pytestmark = pytest.mark.e2e

REGION = "510107"


def enrol(server: Server, code: str) -> dict[str, Any]:
    with server.client() as client:
        answer = client.post("/terminal/v1/enrol", json={"code": code})
    assert answer.status_code == 200, answer.text
    reply: dict[str, Any] = answer.json()
    return reply


def report(server: Server, token: str, asset: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    status = {
        "manifest_version": "a3f1c2d4e5b6a7c8d9e0f1a2b3c4d5e6",
        "manifest_valid_until": (now + timedelta(hours=48)).isoformat(),
        "rejected": {
            "reason": "bad signature",
            "detail": "key k1",
            "at": (now - timedelta(minutes=3)).isoformat(),
        },
        "showing": {
            "asset_id": asset["id"],
            "sha256": asset["sha256"],
            "schedule_id": None,
            "since": (now - timedelta(seconds=20)).isoformat(),
        },
        "cache": {
            "bytes": 3 * 1024 * 1024,
            "budget": 8 * 1024**3,
            "files": 4,
            "failed": 1,
            "failures": {"ab" * 32: "sha256 mismatch"},
        },
        "clock_offset_ms": -12.5,
        "push": "connected",
        "backend": "headless",
    }
    with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        answer = client.post("/terminal/v1/heartbeat", json=status)
    assert answer.status_code == 200, answer.text


def next_message(ws: ClientConnection) -> dict[str, Any]:
    """The next message, the alert list after a ``hello`` (ADR 0021) skipped."""
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=HANG_GUARD_S))
        if message["type"] != "alerts":
            return message


def test_live_state_and_a_screenshot_command_reaching_the_screen(page: Any, server: Server) -> None:
    from playwright.sync_api import expect  # imported where the browser is, like conftest

    name = unique("熊猫基地宣传片") + ".png"
    asset = upload(server, name)
    approve(server, asset["id"])
    screen = terminal(server, unique("锦里大屏"), REGION)
    token = enrol(server, screen["enrolment_code"])["token"]
    report(server, token, asset)
    ws_url = server.url.replace("http://", "ws://") + f"/terminal/v1/ws?token={token}"

    with connect(ws_url) as ws:
        assert next_message(ws)["type"] == "hello"
        sign_in(page, OPERATOR, f"/terminals/{screen['id']}")
        live = page.locator("#terminal-live")
        # Heartbeats are stored in batches (the reply does not wait): the
        # live card, refreshed every 5 s, shows the report once it is in.
        expect(live.locator("[data-live-showing]")).to_contain_text(
            name, timeout=HANG_GUARD_S * 1000
        )
        assert live.locator("[data-live-clock]").inner_text() == "-12.5 ms"
        cache = live.locator("[data-live-cache]").inner_text()
        assert "3.0 MB" in cache and "8.0 GB" in cache and "4" in cache
        assert "sha256 mismatch" in cache
        assert "签名错误" in live.locator("[data-live-rejected]").inner_text()
        assert live.locator("[data-connected]").is_visible()
        assert live.locator("[data-live-backend]").inner_text() == "headless"
        assert "a3f1c2d4e5b6" in live.locator("[data-live-manifest]").inner_text()
        screenshot(page, "terminal-live")

        page.click("[data-command-button=screenshot]")
        result = page.locator("[data-command-result=delivered]")
        result.wait_for()
        assert "截屏" in result.inner_text()
        command = next_message(ws)
        assert command["type"] == "command" and command["command"] == "screenshot"

        ws.send(json.dumps({"type": "ack", "id": command["id"]}))
        # The live card refreshes every 5 s and then shows the acknowledgement.
        acked = page.locator(f"[data-command='{command['id']}'] [data-acked]")
        expect(acked).to_have_text(
            re.compile(r"^\s*\d\d:\d\d:\d\d\s*$"), timeout=HANG_GUARD_S * 1000
        )
        screenshot(page, "terminal-command-acked")


def test_console_commands_check_csrf_role_and_input(server: Server) -> None:
    screen = terminal(server, unique("春熙路大屏"), REGION)
    path = f"/terminals/{screen['id']}/command"
    with signed_in(server, OPERATOR) as operator:
        assert operator.post(path, data={"command": "reload"}).status_code == 403  # no CSRF
        csrf = {"X-CSRF-Token": csrf_of(operator)}
        htmx = csrf | {"HX-Request": "true"}
        sent = operator.post(path, data={"command": "reload"}, headers=htmx)
        assert sent.status_code == 200 and 'data-command-result="offline"' in sent.text
        bad = operator.post(path, data={"command": "format-disk"}, headers=htmx)
        assert bad.status_code == 200 and 'data-command-result="error"' in bad.text
        page = operator.post(path, data={"command": "format-disk"}, headers=csrf)
        assert page.status_code == 400 and 'data-command-result="error"' in page.text
        live = operator.get(f"/terminals/{screen['id']}/live")
        assert live.status_code == 200 and "data-commands" in live.text  # the reload is listed
        assert operator.get("/terminals/no-such-screen/live").status_code == 404
    with signed_in(server, REVIEWERS[0]) as reviewer:
        page = reviewer.get(f"/terminals/{screen['id']}")
        assert page.status_code == 200 and "data-command-button" not in page.text
        refused = reviewer.post(
            path,
            data={"command": "reload"},
            headers={"X-CSRF-Token": csrf_of(reviewer), "HX-Request": "true"},
        )
        assert 'data-command-result="error"' in refused.text
