"""The web player's alert acks (static/play/alertacks.js) in a real Chromium:
over the push socket while it is up, over HTTP when the socket drops before
the server answered (issue 15, ADR 0020)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e import test_web_player
from tests.e2e.content import headers
from tests.e2e.helpers import ADMIN, Server
from tests.e2e.player_support import ServerProcess, eventually
from tests.e2e.test_web_player import (
    alert_counts,
    earthquake_alert,
    issue_alert,
    on_air,
    path_of,
    state,
)

pytestmark = pytest.mark.e2e

# The web player tests' own server and fresh browser profiles, as fixtures here.
centre = test_web_player.centre
screen = test_web_player.screen


@pytest.fixture
def cancelled_after(centre: ServerProcess) -> Iterator[list[str]]:
    """Alert ids to cancel when the test ends: the tests share one server and
    region, and a live alert would be shown on the next test's screen."""
    issued: list[str] = []
    yield issued
    server = centre.server
    with server.client(headers=headers(server, ADMIN)) as api:
        for alert_id in issued:
            api.post(f"/api/v1/alerts/{alert_id}/cancel")


def issue(server: Server, tag: str, issued: list[str]) -> str:
    """An alert for the screen tagged ``tag``, cancelled when the test ends."""
    issued.append(issue_alert(server, earthquake_alert(tag)))
    return issued[-1]


def http_acks(page: Any) -> list[tuple[str, str]]:
    """(alert id, state) of every ack the page POSTs over HTTP, as it happens."""
    seen: list[tuple[str, str]] = []

    def record(request: Any) -> None:
        parts = path_of(request.url).split("/")
        if request.method == "POST" and parts[-1] == "ack" and "alerts" in parts:
            seen.append((parts[-2], json.loads(request.post_data)["state"]))

    page.on("request", record)
    return seen


def test_acks_go_over_the_socket_and_reach_the_board(
    screen: Any, centre: ServerProcess, cancelled_after: list[str]
) -> None:
    server = centre.server
    sent: list[dict[str, Any]] = []
    screen.on(
        "websocket",
        lambda ws: ws.on("framesent", lambda frame: sent.append(json.loads(frame))),
    )
    over_http = http_acks(screen)
    placed = on_air(server, screen, tier="outdoor")
    alert_id = issue(server, placed["tag"], cancelled_after)
    screen.locator("#takeover").wait_for(state="visible")

    eventually(lambda: alert_counts(server, alert_id)["displayed"] >= 1)
    on_socket = [
        m["state"] for m in sent if m.get("type") == "alert-ack" and m.get("alert_id") == alert_id
    ]
    assert on_socket[:3] == ["received", "verified", "displayed"]
    assert all(len(m["ref"]) == 16 for m in sent if m.get("type") == "alert-ack")
    # Answered on the socket: nothing went over HTTP (an unanswered one would).
    eventually(
        lambda: all(
            a.get("via") == "channel"
            for a in state(screen)["alerts"]["acks"]
            if a["id"] == alert_id
        )
    )
    assert [a for a in over_http if a[0] == alert_id] == []


def test_acks_stranded_by_a_dropped_socket_go_over_http(
    screen: Any, centre: ServerProcess, cancelled_after: list[str]
) -> None:
    """The socket drops before the server saw the acks: they are not lost."""
    server = centre.server
    swallowed: list[dict[str, Any]] = []
    sockets: list[Any] = []

    def hold_acks(ws: Any) -> None:
        upstream = ws.connect_to_server()
        sockets.append(ws)

        def from_page(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "alert-ack" and len(sockets) == 1:
                swallowed.append(data)  # never reaches the server
                if data["state"] == "displayed":
                    ws.close(code=1011, reason="test drops the socket")
            else:
                upstream.send(message)

        ws.on_message(from_page)

    screen.route_web_socket("**/terminal/v1/ws*", hold_acks)
    over_http = http_acks(screen)
    placed = on_air(server, screen, tier="outdoor")
    alert_id = issue(server, placed["tag"], cancelled_after)
    screen.locator("#takeover").wait_for(state="visible")

    # (state() lets Playwright deliver the page's events while we wait)
    eventually(lambda: state(screen) and (alert_id, "displayed") in over_http)
    assert [s["state"] for s in swallowed][:3] == ["received", "verified", "displayed"]
    assert {s for a, s in over_http if a == alert_id} >= {"received", "verified", "displayed"}
    eventually(lambda: alert_counts(server, alert_id)["displayed"] >= 1)


def test_an_alert_issued_while_the_socket_was_down_comes_with_the_greeting(
    screen: Any, centre: ServerProcess, cancelled_after: list[str]
) -> None:
    """On reconnect the hello says the alert list follows on the socket: the
    screen shows what was issued meanwhile without asking over HTTP."""
    server = centre.server
    held = [False]
    sockets: list[Any] = []

    def gate(ws: Any) -> None:
        if held[0]:
            ws.close(code=1013, reason="test holds the screen off")  # try again later
            return
        ws.connect_to_server()
        sockets.append(ws)

    screen.route_web_socket("**/terminal/v1/ws*", gate)
    lists: list[str] = []
    screen.on(
        "request",
        lambda r: lists.append(r.url) if path_of(r.url) == "/terminal/v1/alerts" else None,
    )
    placed = on_air(server, screen, tier="outdoor")
    asked_before = len(lists)
    taken_before = state(screen)["alertLists"]

    held[0] = True
    sockets[-1].close(code=1012, reason="test restarts the server")
    eventually(lambda: not state(screen)["push"]["connected"])
    alert_id = issue(server, placed["tag"], cancelled_after)
    held[0] = False

    takeover = screen.locator("#takeover")
    takeover.wait_for(state="visible")
    assert takeover.get_attribute("data-alert-id") == alert_id
    assert state(screen)["alertLists"] > taken_before
    assert len(lists) == asked_before  # the list came on the socket
