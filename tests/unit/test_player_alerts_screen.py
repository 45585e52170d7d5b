"""Alerts on screen: the timeline player pre-empted by a takeover, a banner
over the programme, the programme back where the timeline says; what the
headless backend records and what the mpv backend asks libmpv for."""

from __future__ import annotations

import io
import wave
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from lianbo.player.clock import ServerClock
from lianbo.player.headless import HeadlessBackend
from lianbo.player.mpv_backend import MpvBackend, alert_ass
from lianbo.player.playback import EXERCISE_MARK, AlertCue, Player
from lianbo.player.tone import attention_tone
from lianbo.protocol.reports import PlayLogEntry
from tests.unit.test_player_mpv import FakeMPV, calls, fake_mpv  # noqa: F401  (a fixture)
from tests.unit.test_player_playback import MS, START, HandClock, Shelf, plan
from tests.unit.test_protocol_manifest import SHA_A, SHA_B

ALERT = AlertCue(
    id="A1",
    revision=1,
    mode="takeover",
    level=1,
    colour="red",
    event="地震",
    headline="地震预警",
    description="强烈地震",
    instruction="就近避险",
    language="zh-CN",
    exercise=False,
    expires=START + 3500 * MS,
)


class Board:
    """An alert source the test sets by hand (the desk's decisions are
    tested in test_player_alerts.py)."""

    def __init__(self) -> None:
        self.alert: AlertCue | None = None
        self.shown_at: list[tuple[str, datetime]] = []

    def current(self, now: datetime) -> AlertCue | None:
        if self.alert and self.alert.expires and self.alert.expires <= now:
            return None
        return self.alert

    def next_change(self, now: datetime) -> datetime | None:
        return self.alert.expires if self.alert else None

    def shown(self, alert: AlertCue, at: datetime) -> None:
        self.shown_at.append((alert.id, at))


def screen(
    tmp: Path,
) -> tuple[Player, HeadlessBackend, HandClock, list[PlayLogEntry], Board]:
    clock = HandClock(START + 100 * MS)
    backend = HeadlessBackend(tmp / "headless.jsonl")
    logged: list[PlayLogEntry] = []
    board = Board()
    playing = Player(backend, Shelf(tmp, SHA_A, SHA_B), ServerClock(clock), logged.append, board)
    playing.update(plan())  # a: 2 s, then b: 3 s, from START
    return playing, backend, clock, logged, board


def events(backend: HeadlessBackend) -> list[tuple[str, str]]:
    return [(e["event"], e.get("asset_id") or e.get("alert_id") or "") for e in backend.events]


async def test_a_takeover_pre_empts_the_programme_which_resumes_where_the_timeline_is(
    tmp_path: Path,
) -> None:
    playing, backend, clock, logged, board = screen(tmp_path)
    await playing.step()
    clock.at = START + 1000 * MS
    board.alert = ALERT
    await playing.step()
    assert events(backend) == [("show", "a"), ("alert", "A1")]
    assert board.shown_at == [("A1", START + 1000 * MS)]
    # The item it pre-empted is logged as ended when the alert came.
    assert logged == [PlayLogEntry(SHA_A, logged[0].schedule_id, START + 100 * MS, clock.at)]
    assert playing.showing() == {"alert": "A1", "since": clock.at.isoformat()}
    recorded = backend.events[-1]
    assert recorded["mode"] == "takeover" and recorded["colour"] == "red"
    assert recorded["headline"] == "地震预警" and recorded["tone"] == "attention"
    assert recorded["mark"] is None
    # Item changes underneath do nothing on screen; the alert's expiry is a deadline.
    clock.at = START + 2500 * MS
    slot = await playing.step()
    assert slot.until == START + 5000 * MS
    assert playing._deadline(slot) == ALERT.expires  # wakes when the alert ends
    assert events(backend)[-1] == ("alert", "A1")
    assert ALERT.expires is not None
    clock.at = ALERT.expires
    await playing.step()
    assert events(backend)[-2:] == [("alert-end", "A1"), ("show", "b")]
    assert backend.events[-1]["seek_ms"] == 1500  # b began at 2.0 s: 1.5 s into it
    assert board.shown_at == [("A1", START + 1000 * MS)]  # shown once


async def test_a_banner_lies_over_the_programme_which_plays_on(tmp_path: Path) -> None:
    playing, backend, clock, logged, board = screen(tmp_path)
    board.alert = replace(ALERT, mode="banner", level=4, colour="blue", expires=None)
    await playing.step()
    assert events(backend) == [("show", "a"), ("alert", "A1")]
    clock.at = START + 2000 * MS
    await playing.step()
    assert events(backend)[-1] == ("show", "b")
    assert len(logged) == 1  # a played to its end
    assert playing.showing() is not None and playing.showing()["asset_id"] == "b"  # type: ignore[index]
    board.alert = None
    playing.poke()
    await playing.step()
    assert events(backend)[-1] == ("alert-end", "A1")


async def test_a_more_severe_alert_replaces_a_banner_and_audio_arrives_later(
    tmp_path: Path,
) -> None:
    playing, backend, clock, _, board = screen(tmp_path)
    board.alert = replace(ALERT, id="B", mode="banner", expires=None)
    await playing.step()
    board.alert = replace(ALERT, expires=None)
    await playing.step()
    assert events(backend)[1:] == [("alert", "B"), ("alert-end", "B"), ("alert", "A1")]
    board.alert = replace(ALERT, expires=None, audio=tmp_path / "voice.mp3", resumed=True)
    await playing.step()
    assert backend.events[-1] == {
        "at": clock.at.isoformat(),
        "event": "alert-audio",
        "alert_id": "A1",
        "audio": str(tmp_path / "voice.mp3"),
    }
    assert [a for a, _ in board.shown_at] == ["B", "A1"]


async def test_headless_records_the_exercise_mark_and_resumed_alerts_sound_no_tone(
    tmp_path: Path,
) -> None:
    backend = HeadlessBackend(tmp_path / "log.jsonl")
    await backend.show_alert(replace(ALERT, exercise=True), START)
    await backend.show_alert(replace(ALERT, resumed=True), START)
    assert backend.events[0]["mark"] == EXERCISE_MARK == "演练 EXERCISE"
    assert backend.events[1]["tone"] is None and backend.events[1]["resumed"] is True
    shot = await backend.screenshot(START)  # a takeover's stand-in is the level colour
    assert shot.stub and b"IHDR" in shot.png
    assert (tmp_path / "log.jsonl").read_text().count('"event": "alert"') == 2


def head(path: str) -> bytes:
    """The first bytes of a file (b"" when it does not exist)."""
    file = Path(path)
    return file.read_bytes()[:4] if file.exists() else b""


async def test_mpv_takeover_colour_overlay_tone_and_end(fake_mpv: None) -> None:  # noqa: F811
    backend = MpvBackend()
    await backend.start()
    await backend.show_alert(replace(ALERT, exercise=True), START)
    made = calls(backend)
    assert made[0] == ("loadfile", "av://lavfi:color=c=0xE60012:s=1920x1080", "replace", {})
    overlay = made[1]
    assert overlay[:4] == ("command", "osd-overlay", "47", "ass-events")
    assert "地震预警" in overlay[4] and EXERCISE_MARK in overlay[4]
    assert made[2][:3] == ("command", "audio-add", made[2][2])
    tone = made[2][2]
    assert tone.endswith("/attention.wav") and head(tone) == b"RIFF"
    await backend.end_alert(ALERT, START)
    assert calls(backend)[-1] == ("command", "osd-overlay", "47", "none", "")
    await backend.close()
    assert head(tone) == b""  # the temporary tone is gone with the backend


async def test_mpv_banner_resumed_and_audio(fake_mpv: None, tmp_path: Path) -> None:  # noqa: F811
    backend = MpvBackend()
    await backend.start()
    banner = replace(ALERT, mode="banner", colour="yellow", resumed=True)
    await backend.show_alert(banner, START)
    made = calls(backend)
    assert [c[1] for c in made] == ["osd-overlay"]  # no new picture, no tone on a resume
    assert "&H00F1FF&" in made[0][4] and "&H000000&" in made[0][4]  # yellow, black text
    voice = tmp_path / "voice.mp3"
    await backend.alert_audio(replace(banner, audio=voice), START)
    assert calls(backend)[-1] == ("command", "audio-add", str(voice), "select")


def test_alert_text_cannot_smuggle_ass_overrides() -> None:
    sneaky = replace(ALERT, headline="{\\fs400}大字\n第二行", description="a\\Nb")
    ass = alert_ass(sneaky)
    assert "{\\fs400}" not in ass and "｛" in ass and "大字\\N第二行" in ass
    assert "a\\Nb" not in ass


def test_the_attention_tone_is_a_three_second_wav() -> None:
    with wave.open(io.BytesIO(attention_tone()), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16_000)
        assert wav.getnframes() == 48_000
        frames = wav.readframes(wav.getnframes())
    assert frames[:2] == b"\x00\x00"  # faded in: no click
    assert max(frames[1::2]) > 0x50  # and loud in the middle
