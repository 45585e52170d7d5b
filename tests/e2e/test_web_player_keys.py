"""Pinned keys in the web player (static/play/keyset.js), in a real Chromium.

The browser adopts a key set exactly when the Python player does; a network
that re-signs manifests with its own key and serves that key is refused
(the old programme plays on, the screen reports it, the server raises an
``untrusted-key`` alarm); a rotation made with ``lianbo keys rotate`` is
learnt because the old key signed it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lianbo.domain.canonical import canonical_json
from lianbo.protocol import keyset
from lianbo.protocol.keyset import KeySetRejected
from tests.e2e import test_web_player
from tests.e2e.content import headers
from tests.e2e.helpers import ADMIN
from tests.e2e.player_support import ServerProcess, cli, eventually
from tests.e2e.test_web_player import (
    any_manifest,
    at_path,
    enrol,
    programme,
    publish,
    state,
    stored_report,
    tagged_terminal,
    wait_on_stage,
)
from tests.unit.test_protocol_keyset import NEW, OLD, STRANGER, Key, signed

pytestmark = pytest.mark.e2e

# The web player tests' own server and fresh browser profiles, as fixtures here.
centre = test_web_player.centre
screen = test_web_player.screen


def python_verdict(reply: dict[str, Any], trusted: dict[str, str], serial: int) -> Any:
    try:
        found = keyset.accept(reply, trusted, pinned_serial=serial)
    except KeySetRejected as error:
        return error.reason
    return [found.serial, found.active, found.keys]


def test_the_browser_adopts_a_key_set_exactly_when_the_python_player_does(screen: Any) -> None:
    pinned = {OLD.key_id: OLD.public}
    replayed = signed(2, [OLD, NEW], [OLD], NEW)
    replayed["key_set"] = replayed["key_set"].replace('"serial":2', '"serial":9')
    cases = {
        "rotation signed by the old key": signed(2, [OLD, NEW], [OLD, NEW], NEW),
        "rotation signed by the old key only": signed(2, [OLD, NEW], [OLD], NEW),
        "old key retired, signed on its way out": signed(3, [NEW], [NEW, OLD], NEW),
        "a bare list (servers before key sets)": {
            "keys": signed(2, [STRANGER], [], STRANGER)["keys"]
        },
        "the attacker's own set": signed(2, [STRANGER], [STRANGER], STRANGER),
        "the attacker claims the old key too": signed(2, [OLD, STRANGER], [STRANGER], STRANGER),
        "an old set replayed": signed(1, [OLD, NEW], [OLD], NEW),
        "bytes changed after signing": replayed,
        "not json": {"key_set": "{", "signatures": []},
    }
    expected = {name: python_verdict(reply, pinned, 1) for name, reply in cases.items()}
    screen.goto("/play")
    verdicts = screen.evaluate(
        """async ([cases, pinned]) => {
            const { acceptKeySet } = await import('/static/play/keyset.js');
            const out = {};
            for (const [name, reply] of Object.entries(cases)) {
                try {
                    const found = await acceptKeySet(reply, pinned, 1);
                    out[name] = [found.serial, found.active, found.keys];
                } catch (error) {
                    out[name] = error.reason || `${error.name}: ${error.message}`;
                }
            }
            return out;
        }""",
        [cases, pinned],
    )
    assert verdicts == expected
    assert [n for n, v in expected.items() if isinstance(v, list)] == [
        "rotation signed by the old key",
        "rotation signed by the old key only",
        "old key retired, signed on its way out",
    ]


def test_key_pins_in_the_browser_keep_the_pinned_keys_against_a_foreign_one(
    screen: Any,
) -> None:
    screen.goto("/play")
    facts = screen.evaluate(
        """async ([pinned, forged, rotation, attacker, successor]) => {
            const { KeyPins } = await import('/static/play/keyset.js');
            let reply = forged;
            const saved = [];
            const pins = new KeyPins({ keys: pinned, serial: 1, fetch: async () => reply,
                now: () => '2026-12-07T06:00:00Z', onChange: (k, s) => saved.push([k, s]) });
            const out = {};
            out.attack = [await pins.learn(attacker), pins.keys, pins.serial, pins.untrusted];
            reply = rotation;
            out.rotation = [await pins.learn(successor), pins.serial, saved.length, pins.untrusted];
            return out;
        }""",
        [
            {OLD.key_id: OLD.public},
            signed(2, [STRANGER], [STRANGER], STRANGER),
            signed(2, [OLD, NEW], [OLD], NEW),
            STRANGER.key_id,
            NEW.key_id,
        ],
    )
    reason, keys, serial, untrusted = facts["attack"]
    assert reason == "untrusted" and keys == {OLD.key_id: OLD.public} and serial == 1
    assert untrusted["key_id"] == STRANGER.key_id and untrusted["reason"] == "untrusted"
    assert facts["rotation"] == [None, 2, 1, None]


def resign(body: str, key: Key) -> str:
    """The server's envelope re-signed with ``key`` (a man in the middle)."""
    envelope = json.loads(body)
    data = canonical_json(envelope["manifest"])  # the server embeds canonical JSON
    forged = base64.b64encode(key.private.sign(data)).decode()
    return body.replace(envelope["signature"], forged).replace(envelope["key_id"], key.key_id)


def test_a_man_in_the_middle_key_is_refused_and_raises_the_alarm(
    screen: Any, centre: ServerProcess
) -> None:
    server = centre.server
    tag = "web-mitm"
    honest, honest_schedule = programme(server, tag, "正版")
    publish(server, honest_schedule)
    terminal = tagged_terminal(server, tag)
    enrol(screen, terminal["enrolment_code"])
    wait_on_stage(screen, honest["id"])
    pinned = screen.evaluate("JSON.parse(localStorage.getItem('lianbo.player.identity')).keys")

    def hijack(route: Any) -> None:
        reply = route.fetch()
        body = reply.text()
        if reply.status == 200:
            body = resign(body, STRANGER)
        route.fulfill(response=reply, body=body)

    def foreign_keys(route: Any) -> None:
        route.fulfill(status=200, json=signed(9, [STRANGER], [STRANGER], STRANGER))

    # every manifest, the pushed version's URL too (ADR 0024)
    manifests, keys = any_manifest, at_path("/terminal/v1/keys")
    screen.route(manifests, hijack)
    screen.route(keys, foreign_keys)
    other, other_schedule = programme(server, tag, "劫持")
    publish(server, other_schedule)
    rejected = eventually(lambda: state(screen)["status"]["rejected"])
    assert rejected["reason"] == "untrusted key"
    assert screen.locator("#stage").get_attribute("data-asset-id") == honest["id"]
    stored = screen.evaluate("JSON.parse(localStorage.getItem('lianbo.player.identity'))")
    assert stored["keys"] == pinned and stored["keySerial"] == 1
    report = eventually(lambda: (stored_report(server, terminal["id"]) or {}).get("untrusted_key"))
    assert report["key_id"] == STRANGER.key_id

    def alarm() -> Any:
        with server.client(headers=headers(server, ADMIN)) as api:
            found = api.get(
                "/api/v1/alarms", params={"terminal_id": terminal["id"], "type": "untrusted-key"}
            ).json()["items"]
        return found and found[0]["state"] == "open"

    eventually(alarm)

    # The network is honest again: the new programme verifies with the pinned key.
    screen.unroute(manifests)
    screen.unroute(keys)
    eventually(lambda: state(screen)["status"]["untrusted_key"] is None, timeout=65)
    wait_on_stage(screen, other["id"])


def test_a_rotation_with_the_cli_is_learnt_by_the_screen(
    screen: Any, centre: ServerProcess
) -> None:
    server = centre.server
    tag = "web-rotate"
    first, first_schedule = programme(server, tag, "旧钥")
    publish(server, first_schedule)
    terminal = tagged_terminal(server, tag)
    enrol(screen, terminal["enrolment_code"])
    wait_on_stage(screen, first["id"])
    before = screen.evaluate("JSON.parse(localStorage.getItem('lianbo.player.identity'))")
    cli("keys", "rotate", data_dir=server.data_dir)
    second, second_schedule = programme(server, tag, "新钥")
    publish(server, second_schedule)  # signed with the new key
    wait_on_stage(screen, second["id"])
    after = screen.evaluate("JSON.parse(localStorage.getItem('lianbo.player.identity'))")
    assert after["keySerial"] == before["keySerial"] + 1
    assert set(before["keys"]) < set(after["keys"])
    assert state(screen)["status"]["untrusted_key"] is None
