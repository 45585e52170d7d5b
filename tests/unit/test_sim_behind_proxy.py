"""The simulator speaks like the player behind HAProxy: every call and the
socket name the terminal (``?terminal=<id>``), alerts listed on (re)connect
are acked ``displayed`` once, and a bad CA file is refused in one line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from lianbo.sim.cli import sim_app
from lianbo.sim.fetch import ALERTS_PATH, PATH, Call, Fetcher
from lianbo.sim.screens import Credential, Screen
from lianbo.sim.transports import WsScreen

CREDENTIAL = Credential("t-51-0001", "secret-token", "510107")


class _Transport:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return False


class _Fetcher:
    def __init__(self) -> None:
        self.acks: list[tuple[str, str]] = []
        self.listed = 0

    def ack(self, screen: Screen, alert_id: str, state: str, at: str) -> None:
        self.acks.append((alert_id, state))

    def alerts(self, screen: Screen) -> None:
        self.listed += 1


class _Fleet:
    host, port, path = "127.0.0.1", 8443, "/terminal/v1/ws"
    tls = None
    answers_alerts = True
    acks_over = "channel"  # a screen not connected acks over HTTP all the same
    display_jitter_s = 0.0  # acked at once (``test_sim_alert_acks`` spreads them)

    def __init__(self) -> None:
        self.fetcher = _Fetcher()
        self.counts: Counter[str] = Counter()


def _screen() -> tuple[WsScreen, _Fleet]:
    fleet = _Fleet()
    screen = WsScreen(fleet, CREDENTIAL, "127.0.1.1")  # type: ignore[arg-type]
    return screen, fleet


def _head(request: bytes) -> str:
    return request.split(b"\r\n", 1)[0].decode()


def test_every_call_names_the_terminal_never_its_token_in_the_url() -> None:
    fetcher = Fetcher("127.0.0.1", 8443, 1)
    screen, _ = _screen()
    for path in (PATH, ALERTS_PATH):
        head = _head(fetcher._request(Call(screen, "GET", path, screen.fetched)))
        assert head == f"GET {path}?terminal=t-51-0001 HTTP/1.1"
        assert "secret-token" not in head


def test_an_ack_is_a_json_post_with_its_length() -> None:
    fetcher = Fetcher("127.0.0.1", 8443, 1)
    screen, _ = _screen()
    body = json.dumps({"state": "displayed", "at": "2026-12-07T10:00:00+00:00"}).encode()
    request = fetcher._request(Call(screen, "POST", f"{ALERTS_PATH}/a1/ack", screen.acked, body))
    assert _head(request) == f"POST {ALERTS_PATH}/a1/ack?terminal=t-51-0001 HTTP/1.1"
    assert f"Content-Length: {len(body)}".encode() in request and request.endswith(body)


def test_the_socket_names_the_terminal() -> None:
    screen, _ = _screen()
    transport = _Transport()
    screen.transport = transport  # type: ignore[assignment]
    screen.opened()
    assert _head(transport.written) == "GET /terminal/v1/ws?terminal=t-51-0001 HTTP/1.1"


def test_alerts_listed_on_reconnect_are_acked_displayed_once() -> None:
    screen, fleet = _screen()
    listing: dict[str, Any] = {
        "terminal": {},
        "alerts": [{"type": "alert", "id": "a1"}, {"type": "alert-cancel", "id": "a0"}],
    }
    screen.alerts_fetched(200, None, json.dumps(listing).encode())
    screen.alerts_fetched(200, None, json.dumps(listing).encode())
    screen.on_message(json.dumps({"type": "alert", "id": "a1", "sent_at": 0}).encode())
    assert fleet.fetcher.acks == [("a1", "displayed")]
    assert screen.alert is not None and screen.alert[0] == "a1" and screen.alert_at > 0


def test_a_bad_ca_file_is_refused_in_one_line(tmp_path: Path) -> None:
    not_a_ca = tmp_path / "ca.pem"
    not_a_ca.write_text("hello")
    result = CliRunner().invoke(
        sim_app,
        ["--terminals", "5", "--server", "https://127.0.0.1:9", "--ca-file", str(not_a_ca)],
    )
    assert result.exit_code == 1
    assert result.output.startswith("error:") and len(result.output.splitlines()) == 1
