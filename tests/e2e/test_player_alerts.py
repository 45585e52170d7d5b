"""Emergency alerts from the JSON API to the headless player, against a real
``lianbo serve``: takeover within 2 s with the ``displayed`` ack counted,
cancel → the programme back, an alert sent while the screen was cut off
arrives within 2 s of its reconnect, a duplicate submission shows once, a
screen outside the polygon acks ``outside-area``, a forged notice is
refused (``failed`` with the reason) and nothing is shown.

The agents run in-process (their own thread and event loop), each behind a
``Cable``: a TCP relay the test can cut (the network failing) and splice.
"""

from __future__ import annotations

import asyncio
import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lianbo.player import identity as store
from lianbo.player.agent import Agent, AgentConfig
from lianbo.player.headless import HeadlessBackend
from tests.e2e import player_support
from tests.e2e.content import headers
from tests.e2e.helpers import ADMIN, OPERATOR, REVIEWERS, Server
from tests.e2e.player_support import (
    AgentThread,
    Interceptor,
    ServerProcess,
    approved_image,
    cli,
    close_quietly,
    eventually,
    playlist,
    pump,
    schedule,
)
from tests.support.services import free_port
from tests.support.waiting import HANG_GUARD_S

pytestmark = pytest.mark.e2e

ISSUER = ("issuer107", "e2e-issuer-107")
ITEM_MS = 1000
HERE = (30.64, 104.04)  # where the screens under test stand (510107)
# A small square north-east of them, inside the issuer's reach (the hull of
# the district's screens, widened by CORNERS).
SQUARE = [[30.68, 104.18], [30.68, 104.22], [30.72, 104.22], [30.72, 104.18], [30.68, 104.18]]
CORNERS = ((30.5, 103.9), (30.5, 104.3), (30.8, 104.3), (30.8, 103.9), (30.70, 104.20))


class Cable:
    """A TCP relay in front of the server that the test can cut and splice.

    Cut: every open connection is dropped and new ones are refused, as when
    a screen's network fails. ``spliced_at`` records when the first
    connection after a splice came through (the screen reconnecting)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.cut = False
        self.first_after_splice: float | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        cable = self

        class Relay(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                cable.relay(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Relay)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.disconnect()
        self.server.shutdown()
        self.server.server_close()

    def disconnect(self) -> None:
        with self._lock:
            self.cut = True
            for sock in list(self._open):
                close_quietly(sock)
            self._open.clear()

    def splice(self) -> None:
        with self._lock:
            self.first_after_splice = None
            self.cut = False

    def relay(self, client: socket.socket) -> None:
        with self._lock:
            if self.cut:
                return  # the handler's return closes it: refused
            if self.first_after_splice is None:
                self.first_after_splice = time.monotonic()
            try:
                upstream = socket.create_connection(self.upstream)
            except OSError:
                return
            self._open.update((client, upstream))
        try:
            pump(client, upstream)
        finally:
            with self._lock:
                self._open.discard(client)
                self._open.discard(upstream)
            close_quietly(upstream)


class ForgingInterceptor(Interceptor):
    """The player's network rewrites the instruction in every alert notice
    it relays (the signature no longer matches)."""

    forge_alerts = False

    def _tamper(self, path: str, status: int, content: bytes) -> bytes:
        if path == "/terminal/v1/alerts" and self.forge_alerts and status == 200:
            return content.replace("就近避险".encode(), "原地等待".encode())
        return super()._tamper(path, status, content)


@pytest.fixture(scope="module")
def interceptor() -> Iterator[ForgingInterceptor]:
    relay = ForgingInterceptor()
    try:
        yield relay
    finally:
        relay.close()


@pytest.fixture(scope="module")
def centre(interceptor: ForgingInterceptor) -> Iterator[ServerProcess]:
    """A fresh server (heartbeats every second) with an operator, reviewers
    and an issuer for district 510107, and screens spread over it."""
    with tempfile.TemporaryDirectory(prefix="lianbo-alerts-e2e-") as tmp:
        data_dir = Path(tmp) / "data"
        cli("init", data_dir=data_dir)
        admin = ("user", "add", ADMIN[0], "--role", "admin", "--region", "51")
        cli(*admin, "--password", ADMIN[1], data_dir=data_dir)
        env = {
            "LIANBO_PUBLIC_URL": interceptor.url,
            "LIANBO_HEARTBEAT_SECONDS": "1",
            "LIANBO_ALERT_CONFIRM_SEVERITIES": "[]",  # one issuer suffices here
        }
        process = ServerProcess(data_dir, free_port(), Path(tmp) / "serve.log", env)
        interceptor.upstream = process.url
        with pytest.MonkeyPatch.context() as patch:
            # Seven people share two cores: give a loaded machine time to start.
            patch.setattr(player_support, "START_TIMEOUT", 120.0)
            process.start()
        try:
            users = [(OPERATOR, "operator", "510107"), (ISSUER, "issuer", "510107")]
            users += [(reviewer, "reviewer", "51") for reviewer in REVIEWERS]
            with process.server.client(headers=headers(process.server, ADMIN)) as api:
                for (name, password), role, region in users:
                    body = {"username": name, "password": password, "role": role, "region": region}
                    made = api.post("/api/v1/users", json=body)
                    assert made.status_code == 201, made.text
            for n, (lat, lon) in enumerate(CORNERS):
                screen(process.server, f"角落{n}", "outdoor", lat, lon)
            yield process
        finally:
            process.stop()


@pytest.fixture(scope="module")
def programme(centre: ServerProcess) -> dict[str, Any]:
    """One image playing on every outdoor and home screen of 510107."""
    server = centre.server
    image = approved_image(server, "日常节目.png")
    made = playlist(server, "日常单", [image["id"]], ITEM_MS)
    return {
        "asset_id": image["id"],
        "schedules": [
            schedule(server, f"日常-{t}", made, t, sync=False) for t in ("outdoor", "home")
        ],
    }


# -- helpers -----------------------------------------------------------------


def screen(server: Server, name: str, tier: str, lat: float, lon: float) -> dict[str, Any]:
    body = {"name": name, "tier": tier, "region": "510107", "latitude": lat, "longitude": lon}
    with server.client(headers=headers(server, OPERATOR)) as api:
        made = api.post("/api/v1/terminals", json=body)
    assert made.status_code == 201, made.text
    created: dict[str, Any] = made.json()
    return created


def enrolled(
    server: Server,
    url: str,
    state_dir: Path,
    *,
    tier: str = "outdoor",
    at: tuple[float, float] = HERE,
) -> Agent:
    """A new screen enrolled through ``url``; polls only every 5 minutes, so
    anything quicker came by push or by the alert list on (re)connect."""
    created = screen(server, f"屏-{state_dir.name}", tier, *at)

    async def enrol() -> store.Identity:
        async with httpx.AsyncClient() as client:
            return await store.enrol(url, created["enrolment_code"], client)

    identity = asyncio.run(enrol())
    store.save(identity, state_dir)
    return agent_for(identity, state_dir)


def agent_for(identity: store.Identity, state_dir: Path, poll: float = 300.0) -> Agent:
    config = AgentConfig(
        state_dir=state_dir,
        poll_seconds=poll,
        push_poll_seconds=poll,
        backoff_base=0.2,
        backoff_cap=1.0,
    )
    return Agent(identity, config, HeadlessBackend(state_dir / "headless.jsonl"))


def alert_body(**fields: Any) -> dict[str, Any]:
    return {
        "severity": "Extreme",
        "event": "地震",
        "headline": "地震预警",
        "description": "预计30秒后有强烈震感。",
        "instruction": "请立即就近避险。",
        "area": {"regions": ["510107"]},
        "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    } | fields


def issue(server: Server, **fields: Any) -> dict[str, Any]:
    with server.client(headers=headers(server, ISSUER)) as api:
        made = api.post("/api/v1/alerts", json=alert_body(**fields))
    assert made.status_code in (200, 201), made.text
    issued: dict[str, Any] = made.json()
    return issued


def cancel(server: Server, alert_id: str) -> None:
    with server.client(headers=headers(server, ISSUER)) as api:
        done = api.post(f"/api/v1/alerts/{alert_id}/cancel")
    assert done.status_code == 200, done.text


def board(server: Server, alert_id: str) -> dict[str, Any]:
    with server.client(headers=headers(server, ISSUER)) as api:
        got = api.get(f"/api/v1/alerts/{alert_id}")
    assert got.status_code == 200, got.text
    found: dict[str, Any] = got.json()
    return found


def deliveries(server: Server, alert_id: str) -> list[dict[str, Any]]:
    with server.client(headers=headers(server, ISSUER)) as api:
        got = api.get(f"/api/v1/alerts/{alert_id}/deliveries")
    assert got.status_code == 200, got.text
    items: list[dict[str, Any]] = got.json()["items"]
    return items


def of_terminal(agent: Agent, items: list[dict[str, Any]]) -> dict[str, Any]:
    return next(d for d in items if d["terminal_id"] == agent.identity.terminal_id)


def alert_events(running: AgentThread, alert_id: str | None = None) -> list[dict[str, Any]]:
    return [
        e
        for e in running.log()
        if e["event"].startswith("alert") and alert_id in (None, e.get("alert_id"))
    ]


def displays(running: AgentThread, alert_id: str) -> list[dict[str, Any]]:
    """Times the screen put ``alert_id`` up as new (not resumed after a restart)."""
    return [
        e for e in alert_events(running, alert_id) if e["event"] == "alert" and not e["resumed"]
    ]


def connected(agent: Agent) -> bool:
    return bool(agent.status()["push"] == "connected")


@pytest.fixture
def cable(centre: ServerProcess) -> Iterator[Cable]:
    relay = Cable(centre.port)
    try:
        yield relay
    finally:
        relay.close()


def cap_document(identifier: str, sent: datetime) -> str:
    """A CAP 1.2 message as an outside sender (a weather service) writes it."""
    expires = (sent + timedelta(hours=1)).isoformat(timespec="seconds")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>{identifier}</identifier><sender>cma-sichuan@gov.cn</sender>"
        f"<sent>{sent.isoformat(timespec='seconds')}</sent><status>Actual</status>"
        "<msgType>Alert</msgType><scope>Public</scope>"
        "<info><language>zh-CN</language><category>Met</category><event>大风</event>"
        "<urgency>Expected</urgency><severity>Minor</severity><certainty>Likely</certainty>"
        f"<expires>{expires}</expires><headline>大风蓝色预警</headline>"
        "<description>预计阵风7级。</description><instruction>请收好阳台物品。</instruction>"
        "<area><areaDesc>武侯区</areaDesc>"
        "<geocode><valueName>GB/T2260</valueName><value>510107</value></geocode>"
        "</area></info></alert>"
    )


def import_cap(server: Server, document: str) -> httpx.Response:
    with server.client(headers=headers(server, ISSUER)) as api:
        return api.post(
            "/api/v1/alerts/cap",
            content=document.encode(),
            headers={"Content-Type": "application/cap+xml"},
        )


# -- the tests ---------------------------------------------------------------


def test_a_pushed_alert_takes_over_is_counted_displayed_and_cancel_brings_back_the_programme(
    centre: ServerProcess, programme: dict[str, Any], tmp_path: Path
) -> None:
    server = centre.server
    agent = enrolled(server, server.url, tmp_path / "plaza")
    # The ack's answer on the socket may be slow on a busy machine: this test
    # checks that it goes over the socket, not how soon it is answered.
    agent.ack_sender.reply_seconds = HANG_GUARD_S
    with AgentThread(agent) as running:
        eventually(lambda: agent.status()["push"] == "connected")
        eventually(lambda: any(s["asset_id"] == programme["asset_id"] for s in running.shows()))
        alert = issue(server, status="Exercise")
        # Shown well before the five-minute poll: it came by push. (How fast
        # is a figure for ``lianbo bench alerts``, not a verdict here.)
        eventually(lambda: displays(running, alert["id"]))
        shown = displays(running, alert["id"])[0]
        assert (shown["mode"], shown["colour"], shown["level"]) == ("takeover", "red", 1)
        assert shown["headline"] == "地震预警" and shown["instruction"] == "请立即就近避险。"
        assert shown["mark"] == "演练 EXERCISE" and shown["tone"] == "attention"
        assert agent.status()["showing"]["alert"] == alert["id"]
        eventually(lambda: board(server, alert["id"])["counts"]["displayed"] == 1)
        latency = board(server, alert["id"])["latency_ms"]  # the server's sent → displayed
        assert latency["max"] is not None and latency["max"] >= 0, latency
        row = of_terminal(agent, deliveries(server, alert["id"]))
        assert row["state"] == "displayed" and row["received_at"] and row["verified_at"]
        # Acked up the push socket (issue 15 §2); its answer follows the commit.
        eventually(lambda: agent.ack_sender.via["channel"] >= 1)

        shows_before = len(running.shows())
        cancel(server, alert["id"])
        eventually(lambda: alert_events(running, alert["id"])[-1]["event"] == "alert-end")
        eventually(lambda: len(running.shows()) > shows_before)
        back = running.shows()[-1]
        assert back["asset_id"] == programme["asset_id"]
        assert back["schedule_id"] in programme["schedules"]
        assert agent.status()["alerts"][0] == {"id": alert["id"], "state": "cancelled"}
        eventually(lambda: of_terminal(agent, deliveries(server, alert["id"]))["cancelled_at"])


def test_a_screen_cut_off_when_the_alert_went_out_gets_it_on_reconnecting(
    centre: ServerProcess, programme: dict[str, Any], cable: Cable, tmp_path: Path
) -> None:
    server = centre.server
    agent = enrolled(server, cable.url, tmp_path / "station")
    with AgentThread(agent) as running:
        eventually(lambda: agent.status()["push"] == "connected")
        cable.disconnect()
        eventually(lambda: agent.status()["push"] == "polling")
        alert = issue(server, headline="暴雨红色预警", event="暴雨")
        time.sleep(1.0)
        assert alert_events(running) == []  # it cannot have heard
        cable.splice()
        eventually(lambda: cable.first_after_splice is not None)
        # Shown well before the five-minute poll: the reconnect asked for the list.
        eventually(lambda: displays(running, alert["id"]))
        eventually(lambda: board(server, alert["id"])["counts"]["displayed"] >= 1)
    # Powered off when another goes out: on power-up, at once (and the
    # first one, still in force, comes back without counting as new).
    second = issue(server, headline="山洪预警", event="山洪", severity="Extreme")
    again = agent_for(agent.identity, tmp_path / "station")
    with AgentThread(again) as running:
        eventually(lambda: displays(running, second["id"]))  # at start-up, not a poll
        # (the same headless log: the first run's display is the only one)
        assert len(displays(running, alert["id"])) == 1
    cancel(server, alert["id"])
    cancel(server, second["id"])


def test_a_duplicate_submission_shows_once(
    centre: ServerProcess, programme: dict[str, Any], tmp_path: Path
) -> None:
    server = centre.server
    agent = enrolled(server, server.url, tmp_path / "home", tier="home")
    with AgentThread(agent) as running:
        eventually(lambda: agent.status()["push"] == "connected")
        document = cap_document(f"SC-WIND-{time.time_ns()}", datetime.now(UTC))
        made = import_cap(server, document)
        assert made.status_code == 201, made.text
        first = made.json()
        eventually(lambda: displays(running, first["id"]))
        repeated = import_cap(server, document)  # the same message again
        assert repeated.status_code == 200, repeated.text
        assert repeated.json()["id"] == first["id"] and repeated.json()["created"] is False
        drill = issue(server, headline="测试", event="测试", status="Test")
        eventually(lambda: board(server, drill["id"])["counts"]["verified"] == 1)
        time.sleep(1.0)  # room for a second display, were there one
        shown = displays(running, first["id"])
        assert len(shown) == 1 and shown[0]["mode"] == "banner"  # Minor on a home screen
        assert shown[0]["colour"] == "blue"
        assert alert_events(running, drill["id"]) == []  # Test: delivered, never shown
        assert board(server, drill["id"])["counts"]["displayed"] == 0
        # The programme plays on under a banner.
        count = len(running.shows())
        eventually(lambda: len(running.shows()) > count)
    cancel(server, first["id"])


def test_a_screen_outside_the_polygon_acks_outside_area_and_shows_nothing(
    centre: ServerProcess, programme: dict[str, Any], tmp_path: Path
) -> None:
    server = centre.server
    outside = enrolled(server, server.url, tmp_path / "outside")
    inside = enrolled(server, server.url, tmp_path / "inside", at=(30.70, 104.20))
    with AgentThread(outside) as far, AgentThread(inside) as near:
        for agent in (outside, inside):
            eventually(lambda: connected(agent))  # noqa: B023  (called at once)
        alert = issue(server, area={"polygons": [SQUARE]}, headline="危化品泄漏")
        assert alert["topics"] == ["510107"]  # the whole district hears it
        eventually(lambda: displays(near, alert["id"]))
        eventually(
            lambda: outside.status()["alerts"][:1] == [{"id": alert["id"], "state": "outside-area"}]
        )
        eventually(lambda: not outside.acks.pending)  # the server took every ack
        assert outside.ack_sender.refused == 0
        time.sleep(0.5)
        assert alert_events(far) == []
        assert board(server, alert["id"])["counts"]["displayed"] >= 1
    cancel(server, alert["id"])


def test_a_forged_notice_is_refused_with_the_reason_and_nothing_is_shown(
    centre: ServerProcess,
    programme: dict[str, Any],
    interceptor: ForgingInterceptor,
    tmp_path: Path,
) -> None:
    server = centre.server
    interceptor.forge_alerts = True
    try:
        # Behind the interceptor: no push, the alert list only (polled each second).
        agent = enrolled(server, interceptor.url, tmp_path / "forged")
        agent = agent_for(agent.identity, tmp_path / "forged", poll=1.0)
        with AgentThread(agent) as running:
            eventually(lambda: agent.http_link.up is True)
            alert = issue(server, headline="虚假预警测试")
            row = eventually(
                lambda: (
                    of_terminal(agent, deliveries(server, alert["id"]))["failed_at"]
                    and of_terminal(agent, deliveries(server, alert["id"]))
                )
            )
            assert row["state"] == "failed" and row["reason"] == "bad signature"
            assert board(server, alert["id"])["counts"]["failed"] >= 1
            time.sleep(1.5)  # more polls: the same forgery is refused, not re-acked
            assert alert_events(running) == []
            assert agent.status()["alerts"][0] == {"id": alert["id"], "state": "failed"}
            # The real notice, once the network is honest again: taken and shown.
            interceptor.forge_alerts = False
            eventually(lambda: displays(running, alert["id"]))
    finally:
        interceptor.forge_alerts = False
    cancel(server, alert["id"])
