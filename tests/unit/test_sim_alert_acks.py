"""Simulated screens ack alerts up their socket, as a player with a push
channel does (issue 15 §2): once per alert, sent again after a reconnect
until answered, over HTTP when the server asks to retry or the screen is
not connected."""

from __future__ import annotations

import json
from typing import Any

from lianbo.sim import wire
from lianbo.sim.transports import WsScreen
from tests.support.waiting import until
from tests.unit.test_sim_behind_proxy import _Fleet, _screen, _Transport


def connected() -> tuple[WsScreen, _Fleet, _Transport]:
    screen, fleet = _screen()
    transport = _Transport()
    screen.transport = transport  # type: ignore[assignment]
    screen.hello_at = 1.0  # greeted
    return screen, fleet, transport


def sent(transport: _Transport) -> list[dict[str, Any]]:
    """The text frames the screen wrote (masked client frames, unmasked here)."""
    buffer, messages = bytearray(transport.written), []
    while buffer:
        length = buffer[1] & 0x7F
        start = 2
        if length == 126:
            length, start = int.from_bytes(buffer[2:4], "big"), 4
        mask, payload = buffer[start : start + 4], buffer[start + 4 : start + 4 + length]
        text = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        if buffer[0] & 0x0F == wire.TEXT:
            messages.append(json.loads(text))
        del buffer[: start + 4 + length]
    return messages


def answer(screen: WsScreen, **body: Any) -> None:
    screen.on_message(json.dumps({"type": "alert-ack", **body}).encode())


def test_a_connected_screen_acks_up_its_socket_and_not_over_http() -> None:
    screen, fleet, transport = connected()
    screen.on_message(json.dumps({"type": "alert", "id": "a1", "sent_at": 0}).encode())
    screen.on_message(json.dumps({"type": "alert", "id": "a1", "sent_at": 0}).encode())
    [ack] = [m for m in sent(transport) if m["type"] == "alert-ack"]
    assert (ack["alert_id"], ack["state"], ack["ref"]) == ("a1", "displayed", "a1")
    answer(screen, ref="a1", alert_id="a1", state="displayed", changed=True)
    assert fleet.counts["ack_channel_ok"] == 1 and fleet.fetcher.acks == []
    assert screen.acking is None


def test_an_unanswered_ack_is_sent_again_after_a_reconnect() -> None:
    screen, fleet, transport = connected()
    fleet.fetch_on_hello = False  # type: ignore[attr-defined]
    screen.on_message(json.dumps({"type": "alert", "id": "a1", "sent_at": 0}).encode())
    transport.written = b""
    screen.on_message(json.dumps({"type": "hello", "terminal_id": "t"}).encode())
    assert [m["alert_id"] for m in sent(transport) if m["type"] == "alert-ack"] == ["a1"]


def test_a_refusal_to_retry_sends_the_ack_over_http_and_one_for_good_does_not() -> None:
    screen, fleet, _ = connected()
    screen.on_message(json.dumps({"type": "alert", "id": "a1", "sent_at": 0}).encode())
    answer(screen, ref="a1", alert_id="a1", refused="unavailable", retry_after=1)
    assert fleet.fetcher.acks == [("a1", "displayed")]
    screen.on_message(json.dumps({"type": "alert", "id": "a2", "sent_at": 0}).encode())
    answer(screen, ref="a2", alert_id="a2", refused="not_found", message="not yours")
    assert fleet.fetcher.acks == [("a1", "displayed")]
    assert fleet.counts["ack_channel_refused_not_found"] == 1


def hello(screen: WsScreen, **body: Any) -> None:
    screen.on_message(json.dumps({"type": "hello", "terminal_id": "t", **body}).encode())


def listed(screen: WsScreen, **body: Any) -> None:
    screen.on_message(json.dumps({"type": "alerts", **body}).encode())


def test_alerts_the_hub_lists_after_its_hello_are_taken_without_asking() -> None:
    screen, fleet, transport = connected()
    fleet.fetch_on_hello = False  # type: ignore[attr-defined]
    hello(screen, alerts_follow=True)
    listed(screen, alerts=[{"type": "alert", "id": "a1"}, {"type": "alert-cancel", "id": "a0"}])
    assert fleet.fetcher.listed == 0 and fleet.counts["alerts_listed_on_socket"] == 1
    assert screen.alert is not None and screen.alert[0] == "a1"
    assert [m["alert_id"] for m in sent(transport) if m["type"] == "alert-ack"] == ["a1"]


def test_a_hello_promising_no_list_or_an_empty_answer_asks_for_them() -> None:
    screen, fleet, _ = connected()
    fleet.fetch_on_hello = False  # type: ignore[attr-defined]
    hello(screen)
    assert fleet.fetcher.listed == 1
    hello(screen, alerts_follow=True)
    listed(screen)  # the server could not read them
    assert fleet.fetcher.listed == 2


async def test_displayed_is_acked_a_moment_after_the_alert_and_still_counted() -> None:
    screen, fleet, transport = connected()
    fleet.display_jitter_s = 0.05
    screen.on_message(json.dumps({"type": "alert", "id": "a1", "sent_at": 0}).encode())
    assert [m for m in sent(transport) if m["type"] == "alert-ack"] == []  # not at once
    await until(lambda: fleet.counts["ack_channel_sent"] == 1)
    [ack] = [m for m in sent(transport) if m["type"] == "alert-ack"]
    assert (ack["alert_id"], ack["state"]) == ("a1", "displayed")
    answer(screen, ref="a1", alert_id="a1", state="displayed", changed=True)
    assert fleet.counts["ack_channel_ok"] == 1
