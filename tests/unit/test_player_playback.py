"""The timeline player on the headless backend, with a clock moved by hand."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from lianbo.player import playback
from lianbo.player.clock import ServerClock
from lianbo.player.headless import HeadlessBackend, solid_png
from lianbo.player.playback import Player
from lianbo.protocol.manifest import VerifiedManifest, verify
from lianbo.protocol.reports import PlayLogEntry
from tests.support.waiting import until
from tests.unit.test_protocol_manifest import SHA_A, SHA_B, Signer, manifest_body

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)


class HandClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def time(self) -> float:
        return self.at.timestamp()

    def monotonic(self) -> float:
        return self.at.timestamp()


class Shelf:
    """A media cache stand-in: the files it holds, and which were used."""

    def __init__(self, tmp: Path, *shas: str) -> None:
        self.tmp = tmp
        self.held = set(shas)
        self.touched: list[str] = []

    def path_of(self, sha256: str) -> Path | None:
        return self.tmp / sha256 if sha256 in self.held else None

    def touch(self, sha256: str) -> None:
        self.touched.append(sha256)


def plan(first_ms: int = 2000) -> VerifiedManifest:
    signer = Signer()
    items = (("a", SHA_A, first_ms), ("b", SHA_B, 3000))  # a: 2 s, then b: 3 s
    body = manifest_body(start=START, origin=START, items=items)
    return verify(signer.envelope(body), signer.keys, now=START)


def player(tmp: Path, *held: str) -> tuple[Player, HeadlessBackend, HandClock, list[PlayLogEntry]]:
    clock = HandClock(START + 100 * MS)
    backend = HeadlessBackend(tmp / "headless.jsonl")
    logged: list[PlayLogEntry] = []
    playing = Player(backend, Shelf(tmp, *held), ServerClock(clock), logged.append)
    playing.update(plan())
    return playing, backend, clock, logged


async def test_items_show_on_their_deadlines_and_become_play_logs(tmp_path: Path) -> None:
    playing, backend, clock, logged = player(tmp_path, SHA_A, SHA_B)
    slot = await playing.step()
    assert slot.until == START + 2000 * MS
    clock.at = START + 1500 * MS
    await playing.step()  # nothing changed: nothing new on screen
    clock.at = slot.until
    await playing.step()
    shown = [(e["asset_id"], e["seek_ms"], e["at"]) for e in backend.events]
    assert shown == [
        ("a", 100, (START + 100 * MS).isoformat()),
        ("b", 0, (START + 2000 * MS).isoformat()),
    ]
    assert logged == [PlayLogEntry(SHA_A, "s1", START + 100 * MS, START + 2000 * MS)]
    assert playing.showing() == {
        "asset_id": "b",
        "sha256": SHA_B,
        "schedule_id": "s1",
        "since": (START + 2000 * MS).isoformat(),
    }
    lines = (tmp_path / "headless.jsonl").read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["show", "show"]


async def test_an_item_without_a_verified_file_is_not_shown(tmp_path: Path) -> None:
    playing, backend, clock, logged = player(tmp_path)  # nothing cached
    await playing.step()
    assert backend.events[-1] == {
        "at": (START + 100 * MS).isoformat(),
        "event": "blank",
        "reason": "not cached",
    }
    # The file arrives mid-item: the screen joins where the item stands.
    assert isinstance(playing.media, Shelf)
    playing.media.held.add(SHA_A)
    clock.at = START + 800 * MS
    await playing.step()
    assert (backend.events[-1]["asset_id"], backend.events[-1]["seek_ms"]) == ("a", 800)
    assert logged == []


async def test_the_player_sleeps_until_the_deadline_or_a_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The item ends in an hour and the re-check is made as rare: within the
    # hang guard only the change can wake the player, however slow the machine.
    monkeypatch.setattr(playback, "MAX_SLEEP", 3600.0)
    playing, backend, _, _ = player(tmp_path, SHA_A, SHA_B)
    playing.update(plan(first_ms=3_600_000))
    task = asyncio.create_task(playing.run())
    try:
        await until(lambda: len(backend.events) == 1, "the first item on screen")
        playing.update(None)  # the manifest goes away: re-evaluated at once
        await until(lambda: backend.events[-1]["event"] == "blank", "the change on screen")
    finally:
        task.cancel()
    assert len(backend.events) == 2  # asleep in between: nothing re-shown
    assert backend.events[-1]["reason"] == "no manifest"


async def test_stopping_logs_what_was_on_screen(tmp_path: Path) -> None:
    playing, _, clock, logged = player(tmp_path, SHA_A, SHA_B)
    await playing.step()
    clock.at = START + 1000 * MS
    await playing.finish()
    assert logged == [PlayLogEntry(SHA_A, "s1", START + 100 * MS, START + 1000 * MS)]


async def test_headless_screenshots_are_small_pngs_marked_as_stubs(tmp_path: Path) -> None:
    playing, backend, _, _ = player(tmp_path, SHA_A, SHA_B)
    await playing.step()
    shot = await backend.screenshot(START)
    assert shot.stub
    image = Image.open(io.BytesIO(shot.png))
    assert image.size == (16, 9)
    assert image.getpixel((3, 3)) == tuple(bytes.fromhex(SHA_A[:6]))
    black = Image.open(io.BytesIO(solid_png(2, 2, b"\x00\x00\x00")))
    assert black.getpixel((0, 0)) == (0, 0, 0)
