"""The player's alert desk: what each notice becomes (verified, geofenced,
deduplicated, replaced, cancelled, expired) and the acks it sends."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lianbo.domain.canonical import canonical_json
from lianbo.player.alert_acks import Ack
from lianbo.player.alert_view import TerminalFacts, inside_area
from lianbo.player.alerts import AlertDesk
from lianbo.player.trust import KeyPins
from lianbo.protocol.alerts import Notice
from tests.unit.test_player_fetch import key_set
from tests.unit.test_protocol_manifest import Signer

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
# A square around central Chengdu (lat, lon), and a screen inside it.
SQUARE = [[30.6, 104.0], [30.6, 104.1], [30.7, 104.1], [30.7, 104.0], [30.6, 104.0]]
INSIDE = {"id": "t1", "tier": "outdoor", "region": "510107", "latitude": 30.64, "longitude": 104.04}
OUTSIDE = {**INSIDE, "latitude": 31.2, "longitude": 104.9, "region": "510681"}


def notice(alert_id: str = "A1", **fields: Any) -> dict[str, Any]:
    """An alert notice as the server signs it (fields override)."""
    body: dict[str, Any] = {
        "kind": "alert",
        "id": alert_id,
        "revision": 1,
        "replaces": [],
        "status": "Actual",
        "msg_type": "Alert",
        "severity": "Extreme",
        "level": 1,
        "colour": "red",
        "event": "地震",
        "texts": {
            "zh-CN": {"headline": "地震预警", "description": "强烈地震", "instruction": "就近避险"},
            "en-US": {"headline": "Earthquake", "description": "Strong", "instruction": "Cover"},
        },
        "area": {"regions": ["5101"], "polygons": [], "circles": []},
        "display": {"outdoor": "takeover", "hall": "takeover", "home": "banner"},
        "resources": [],
        "sent": NOW.isoformat(),
        "onset": None,
        "expires": (NOW + timedelta(hours=1)).isoformat(),
    }
    body.update(fields)
    return body


def signed(signer: Signer, body: dict[str, Any], kind: str = "alert") -> dict[str, Any]:
    """The push body (with ``type``) the server sends for ``body``."""
    data = canonical_json(body)
    signature = base64.b64encode(signer.key.sign(data)).decode()
    return {"type": kind, "notice": data.decode(), "signature": signature, "key_id": signer.key_id}


def cancel(signer: Signer, alert_id: str) -> dict[str, Any]:
    body = {"kind": "cancel", "id": alert_id, "cancelled_at": NOW.isoformat()}
    return signed(signer, body, "alert-cancel")


class Desk:
    """A desk with a hand-moved clock and the acks it made."""

    def __init__(self, tmp: Path, signer: Signer, facts: dict[str, Any] | None = INSIDE) -> None:
        self.at = NOW
        self.mono = 100.0
        self.acks: list[Ack] = []
        self.signer = signer
        self.keys = dict(signer.keys)
        self.desk = AlertDesk(
            tmp,
            lambda: self.keys,
            lambda: self.at,
            self.acks.append,
            monotonic=lambda: self.mono,
        )
        if facts is not None:
            self.desk.facts = TerminalFacts.from_json(facts)

    def states(self, alert_id: str | None = None) -> list[str]:
        return [a.state for a in self.acks if alert_id is None or a.alert_id == alert_id]

    async def show(self) -> str | None:
        """What the screen puts up now (and tells the desk it did)."""
        cue = self.desk.current(self.at)
        if cue is None:
            return None
        self.desk.shown(cue, self.at)
        return cue.id


@pytest.fixture
def signer() -> Signer:
    return Signer()


async def test_an_alert_is_received_verified_shown_once_and_acked(
    tmp_path: Path, signer: Signer
) -> None:
    screen = Desk(tmp_path, signer)
    push = signed(signer, notice())
    await screen.desk.receive(push)
    assert screen.states() == ["received", "verified"]
    cue = screen.desk.current(NOW)
    assert cue is not None
    assert (cue.mode, cue.level, cue.colour, cue.headline) == ("takeover", 1, "red", "地震预警")
    assert not cue.exercise and not cue.resumed
    assert await screen.show() == "A1"
    assert screen.states() == ["received", "verified", "displayed"]
    # The same alert again (push and list, many times): nothing new.
    for _ in range(3):
        await screen.desk.receive(push)
        await screen.desk.fetched({"terminal": INSIDE, "alerts": [push]}, asked_at=200.0)
    await screen.show()
    assert screen.states() == ["received", "verified", "displayed"]
    assert screen.desk.status() == [{"id": "A1", "state": "displayed"}]


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda p: {**p, "signature": ""}, "unsigned"),
        (lambda p: {**p, "key_id": "someone-else"}, "unknown key"),
        (lambda p: {**p, "notice": p["notice"].replace("就近避险", "不必惊慌")}, "bad signature"),
    ],
)
async def test_a_notice_that_does_not_verify_is_acked_failed_and_never_shown(
    tmp_path: Path, signer: Signer, tamper: Any, reason: str
) -> None:
    screen = Desk(tmp_path, signer)
    honest = signed(signer, notice())
    forged = tamper(honest)
    await screen.desk.receive(forged)
    assert screen.states() == ["received", "failed"]
    assert screen.acks[-1].reason == reason
    assert screen.desk.current(NOW) is None
    await screen.desk.receive(forged)  # the same forgery again: acked once
    assert screen.states() == ["received", "failed"]
    # The honest copy still gets through (no second "received").
    await screen.desk.receive(honest)
    assert screen.states() == ["received", "failed", "verified"]
    assert await screen.show() == "A1"


async def test_a_forged_copy_of_an_alert_held_honestly_changes_nothing(
    tmp_path: Path, signer: Signer
) -> None:
    screen = Desk(tmp_path, signer)
    honest = signed(signer, notice())
    await screen.desk.receive(honest)
    await screen.show()
    await screen.desk.receive({**honest, "signature": base64.b64encode(b"x" * 64).decode()})
    assert screen.states() == ["received", "verified", "displayed"]
    assert screen.desk.current(NOW) is not None


async def test_a_notice_that_is_not_json_has_no_id_to_ack(tmp_path: Path, signer: Signer) -> None:
    screen = Desk(tmp_path, signer)
    await screen.desk.receive({"type": "alert", "notice": "{not json", "signature": "x"})
    await screen.desk.receive({"type": "alert", "notice": 42})
    assert screen.acks == [] and screen.desk.current(NOW) is None


def pins_for(screen: Desk, reply: dict[str, Any]) -> tuple[KeyPins, list[int]]:
    """The screen's pins, asking a ``/terminal/v1/keys`` that answers ``reply``."""
    asked: list[int] = []

    async def fetch() -> dict[str, Any]:
        asked.append(1)
        return reply

    pins = KeyPins(screen.keys, 1, fetch, lambda: screen.at)
    screen.desk.keys = lambda: pins.keys
    screen.desk.learn_key = pins.learn
    return pins, asked


async def test_a_rotation_signed_by_the_pinned_key_is_learnt_once(
    tmp_path: Path, signer: Signer
) -> None:
    rotated = Signer()
    screen = Desk(tmp_path, signer)
    pins, asked = pins_for(screen, key_set(2, [signer, rotated], [signer]))
    await screen.desk.receive(signed(rotated, notice()))
    assert asked == [1] and screen.states() == ["received", "verified"]
    assert pins.keys == {**signer.keys, **rotated.keys} and pins.untrusted is None


async def test_a_notice_signed_by_a_foreign_key_is_refused_and_the_pins_kept(
    tmp_path: Path, signer: Signer
) -> None:
    attacker = Signer()
    screen = Desk(tmp_path, signer)
    pins, _ = pins_for(screen, key_set(2, [signer, attacker], [attacker]))
    await screen.desk.receive(signed(attacker, notice()))
    assert screen.states() == ["received", "failed"]
    assert screen.acks[-1].reason == "untrusted key"
    assert screen.desk.current(NOW) is None
    assert pins.keys == signer.keys and pins.untrusted is not None
    assert pins.untrusted["key_id"] == attacker.key_id


async def test_a_test_alert_is_acked_but_never_shown(tmp_path: Path, signer: Signer) -> None:
    screen = Desk(tmp_path, signer)
    await screen.desk.receive(signed(signer, notice("T1", status="Test")))
    await screen.desk.receive(signed(signer, notice("S1", status="System")))
    assert screen.desk.current(NOW) is None
    assert screen.states("T1") == ["received", "verified"]
    assert screen.states("S1") == ["received", "verified"]
    assert {s["state"] for s in screen.desk.status()} == {"hidden"}


async def test_an_exercise_carries_the_exercise_mark(tmp_path: Path, signer: Signer) -> None:
    screen = Desk(tmp_path, signer)
    await screen.desk.receive(signed(signer, notice(status="Exercise")))
    cue = screen.desk.current(NOW)
    assert cue is not None and cue.exercise


async def test_a_screen_outside_the_polygon_acks_outside_area_and_shows_nothing(
    tmp_path: Path, signer: Signer
) -> None:
    screen = Desk(tmp_path, signer, facts=OUTSIDE)
    area = {"regions": [], "polygons": [SQUARE], "circles": []}
    await screen.desk.receive(signed(signer, notice(area=area)))
    assert screen.states() == ["received", "verified", "outside-area"]
    assert screen.desk.current(NOW) is None
    inside = Desk(tmp_path / "in", signer)
    await inside.desk.receive(signed(signer, notice(area=area)))
    assert await inside.show() == "A1"


def _notice(area: dict[str, Any]) -> Notice:
    return Notice("alert", "A1", notice(area=area))


@pytest.mark.parametrize(
    ("area", "facts", "inside"),
    [
        ({"regions": ["5101"]}, OUTSIDE, True),  # regions only: targeted by region
        ({}, OUTSIDE, True),  # no area at all: everyone it reached
        ({"polygons": [SQUARE]}, INSIDE, True),
        ({"polygons": [SQUARE]}, OUTSIDE, False),
        ({"circles": [{"lat": 30.64, "lon": 104.04, "radius_km": 1}]}, INSIDE, True),
        ({"circles": [{"lat": 30.66, "lon": 104.04, "radius_km": 1}]}, INSIDE, False),  # 2.2 km
        ({"regions": ["510681"], "polygons": [SQUARE]}, OUTSIDE, True),  # named region too
        ({"polygons": [SQUARE]}, {**INSIDE, "latitude": None}, False),  # no position
        ({"polygons": [SQUARE]}, None, True),  # who am I? not known yet: warn
        ({"polygons": ["junk", [[1, 2]]], "circles": [{"lat": "x"}]}, OUTSIDE, True),
    ],
)
def test_the_device_side_geofence(
    area: dict[str, Any], facts: dict[str, Any] | None, inside: bool
) -> None:
    assert inside_area(_notice(area), TerminalFacts.from_json(facts)) is inside


async def test_an_update_replaces_the_alert_it_names(tmp_path: Path, signer: Signer) -> None:
    screen = Desk(tmp_path, signer)
    first = signed(signer, notice("A1"))
    await screen.desk.receive(first)
    assert await screen.show() == "A1"
    update = notice("A2", msg_type="Update", replaces=["A1"], level=2, colour="orange")
    await screen.desk.receive(signed(signer, update))
    cue = screen.desk.current(NOW)
    assert cue is not None and (cue.id, cue.colour) == ("A2", "orange")
    await screen.show()
    await screen.desk.receive(first)  # the old one again, from a late list: never again
    assert screen.desk.current(NOW) is not None and screen.desk.current(NOW).id == "A2"  # type: ignore[union-attr]
    assert screen.states("A1") == ["received", "verified", "displayed"]
    assert screen.states("A2") == ["received", "verified", "displayed"]


async def test_an_update_that_comes_first_keeps_the_old_alert_off_screen(
    tmp_path: Path, signer: Signer
) -> None:
    screen = Desk(tmp_path, signer)
    await screen.desk.receive(signed(signer, notice("A2", msg_type="Update", replaces=["A1"])))
    await screen.desk.receive(signed(signer, notice("A1")))
    assert await screen.show() == "A2"
    assert screen.states("A1") == []


async def test_a_newer_revision_of_the_same_id_updates_the_screen_in_place(
    tmp_path: Path, signer: Signer
) -> None:
    screen = Desk(tmp_path, signer)
    await screen.desk.receive(signed(signer, notice()))
    await screen.show()
    texts = {"zh-CN": {"headline": "余震预警", "description": "", "instruction": ""}}
    await screen.desk.receive(signed(signer, notice(revision=2, texts=texts)))
    cue = screen.desk.current(NOW)
    assert cue is not None and (cue.revision, cue.headline, cue.resumed) == (2, "余震预警", True)
    assert screen.states() == ["received", "verified", "displayed"]


async def test_a_cancel_ends_the_alert(tmp_path: Path, signer: Signer) -> None:
    screen = Desk(tmp_path, signer)
    await screen.desk.receive(signed(signer, notice()))
    await screen.show()
    await screen.desk.receive(cancel(signer, "A1"))
    assert screen.desk.current(NOW) is None
    await screen.desk.receive(cancel(signer, "A1"))  # again: nothing
    await screen.desk.receive(signed(signer, notice()))  # the alert again: nothing
    assert screen.desk.current(NOW) is None
    assert screen.states() == ["received", "verified", "displayed", "cancelled"]


async def test_a_cancel_before_the_alert_keeps_it_off_screen(
    tmp_path: Path, signer: Signer
) -> None:
    screen = Desk(tmp_path, signer)
    await screen.desk.receive(cancel(signer, "A1"))
    await screen.desk.receive(signed(signer, notice()))
    assert screen.desk.current(NOW) is None and screen.acks == []


async def test_a_forged_cancel_ends_nothing(tmp_path: Path, signer: Signer) -> None:
    screen = Desk(tmp_path, signer)
    await screen.desk.receive(signed(signer, notice()))
    await screen.show()
    await screen.desk.receive(cancel(Signer(), "A1"))  # signed by a key nobody trusts
    assert screen.desk.current(NOW) is not None
    assert screen.states() == ["received", "verified", "displayed"]


async def test_expiry_ends_an_alert_and_one_expired_on_arrival_never_shows(
    tmp_path: Path, signer: Signer
) -> None:
    screen = Desk(tmp_path, signer)
    expires = NOW + timedelta(minutes=5)
    await screen.desk.receive(signed(signer, notice(expires=expires.isoformat())))
    assert screen.desk.next_change(NOW) == expires
    assert await screen.show() == "A1"
    screen.at = expires
    assert screen.desk.current(expires) is None
    assert screen.desk.next_change(expires) is None
    assert screen.desk.status()[0]["state"] == "expired"
    stale = notice("OLD", expires=(NOW - timedelta(minutes=1)).isoformat())
    await screen.desk.receive(signed(signer, stale))
    assert screen.desk.current(expires) is None
    assert screen.states("OLD") == ["received", "verified"]


async def test_several_alerts_show_the_most_severe_then_the_newest(
    tmp_path: Path, signer: Signer
) -> None:
    screen = Desk(tmp_path, signer)
    later = (NOW + timedelta(minutes=1)).isoformat()
    await screen.desk.receive(signed(signer, notice("BLUE", level=4, colour="blue", sent=later)))
    await screen.desk.receive(signed(signer, notice("RED-OLD", level=1)))
    await screen.desk.receive(signed(signer, notice("RED-NEW", level=1, sent=later)))
    assert await screen.show() == "RED-NEW"
    await screen.desk.receive(cancel(signer, "RED-NEW"))
    assert await screen.show() == "RED-OLD"
    await screen.desk.receive(cancel(signer, "RED-OLD"))
    assert await screen.show() == "BLUE"


async def test_the_terminal_language_falls_back_to_zh_cn_and_home_gets_a_banner(
    tmp_path: Path, signer: Signer
) -> None:
    screen = Desk(tmp_path, signer)
    push = signed(signer, notice(level=3, colour="yellow"))
    english_home = {**INSIDE, "tier": "home", "language": "en-US"}
    await screen.desk.fetched({"terminal": english_home, "alerts": [push]}, asked_at=0.0)
    cue = screen.desk.current(NOW)
    assert cue is not None
    assert (cue.mode, cue.headline, cue.language) == ("banner", "Earthquake", "en-US")
    gone = {"terminal": {**english_home, "language": "fr-FR"}, "alerts": []}
    await screen.desk.fetched(gone, asked_at=screen.mono + 1)
    cue = screen.desk.current(NOW)  # withdrawn by the list that no longer has it
    assert cue is None
    french = Desk(tmp_path / "fr", signer, facts={**INSIDE, "language": "fr-FR"})
    await french.desk.receive(push)
    cue = french.desk.current(NOW)
    assert cue is not None and (cue.headline, cue.language) == ("地震预警", "zh-CN")


async def test_an_alert_the_list_no_longer_has_is_withdrawn_but_not_one_newer_than_the_list(
    tmp_path: Path, signer: Signer
) -> None:
    screen = Desk(tmp_path, signer)
    asked = screen.mono
    screen.mono += 1  # A1 arrives by push while the list request is under way
    await screen.desk.receive(signed(signer, notice("A1")))
    await screen.desk.fetched({"terminal": INSIDE, "alerts": []}, asked_at=asked)
    assert await screen.show() == "A1"
    await screen.desk.fetched({"terminal": INSIDE, "alerts": []}, asked_at=screen.mono + 1)
    assert screen.desk.current(NOW) is None
    assert screen.states() == ["received", "verified", "displayed"]
    assert screen.desk.status()[0]["state"] == "withdrawn"


async def test_decisions_survive_a_restart(tmp_path: Path, signer: Signer) -> None:
    first = Desk(tmp_path, signer)
    push = signed(signer, notice())
    await first.desk.receive(push)
    await first.show()
    await first.desk.receive(signed(signer, notice("T1", status="Test")))
    await first.desk.fetched({"terminal": {**INSIDE, "tier": "hall"}, "alerts": [push]}, 0.0)
    again = Desk(tmp_path, signer, facts=None)  # a restart: what it knows comes from disk
    assert again.desk.facts.tier == "hall"
    cue = again.desk.current(NOW)
    assert cue is not None and cue.id == "A1" and cue.resumed  # still in force: back on
    await again.desk.receive(push)
    await again.desk.receive(signed(signer, notice("T1", status="Test")))
    await again.show()
    assert again.acks == []  # nothing new: no second "displayed"


async def test_a_tampered_store_is_not_trusted_after_a_restart(
    tmp_path: Path, signer: Signer
) -> None:
    first = Desk(tmp_path, signer)
    await first.desk.receive(signed(signer, notice()))
    store = tmp_path / "alerts.json"
    data = json.loads(store.read_text())
    data["alerts"][0]["body"]["notice"] = data["alerts"][0]["body"]["notice"].replace(
        "就近避险", "无需避险"
    )
    store.write_text(json.dumps(data))
    again = Desk(tmp_path, signer, facts=None)
    assert again.desk.current(NOW) is None
    await again.desk.receive(signed(signer, notice()))  # the honest one from the list
    assert await again.show() == "A1"


async def test_an_unreadable_store_starts_afresh(tmp_path: Path, signer: Signer) -> None:
    (tmp_path / "alerts.json").write_text("{cut short")
    screen = Desk(tmp_path, signer)
    await screen.desk.receive(signed(signer, notice()))
    assert await screen.show() == "A1"


async def test_the_store_forgets_alerts_long_over(tmp_path: Path, signer: Signer) -> None:
    screen = Desk(tmp_path, signer)
    await screen.desk.receive(signed(signer, notice("OLD", expires=NOW.isoformat())))
    screen.at = NOW + timedelta(days=4)
    await screen.desk.receive(
        signed(signer, notice("NEW", expires=(screen.at + timedelta(hours=1)).isoformat()))
    )
    assert [s["id"] for s in screen.desk.status()] == ["NEW"]


async def test_an_audio_resource_is_asked_for_and_used_once_verified(
    tmp_path: Path, signer: Signer
) -> None:
    screen = Desk(tmp_path, signer)
    audio = {"mime_type": "audio/mpeg", "url": "/media/" + "a" * 64, "sha256": "a" * 64, "size": 9}
    image = {"mime_type": "image/png", "url": "/x", "sha256": "b" * 64, "size": 9}
    await screen.desk.receive(signed(signer, notice(resources=[image, audio])))
    assert screen.desk.audio_wanted() == [("A1", audio)]
    screen.desk.audio_ready("A1", tmp_path / "sound")
    cue = screen.desk.current(NOW)
    assert cue is not None and cue.audio == tmp_path / "sound"
    assert screen.desk.audio_wanted() == []


async def test_a_restart_days_after_an_expiry_shows_what_is_left(
    tmp_path: Path, signer: Signer
) -> None:
    # Regression: expiring while saving pruned the records being iterated
    # (RuntimeError: dictionary changed size during iteration).
    first = Desk(tmp_path, signer)
    await first.desk.receive(signed(signer, notice("OLD")))
    later = (NOW + timedelta(days=5)).isoformat()
    await first.desk.receive(signed(signer, notice("B", expires=later)))
    again = Desk(tmp_path, signer, facts=None)
    again.at = NOW + timedelta(days=4)
    cue = again.desk.current(again.at)
    assert cue is not None and cue.id == "B"
