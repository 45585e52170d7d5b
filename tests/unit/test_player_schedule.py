"""What to show and until when: the player's deadlines (lianbo.player.schedule)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lianbo.player.schedule import files_by_air_time, needed, slot_at
from lianbo.protocol.manifest import VerifiedManifest, verify
from tests.unit.test_protocol_manifest import SHA_A, SHA_B, Signer, manifest_body

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def manifest(**options: Any) -> VerifiedManifest:
    signer = Signer()
    body = manifest_body(start=START, **options)
    return verify(signer.envelope(body), signer.keys, now=START)


def entry(start: datetime, end: datetime, playlist: str | None = "p1") -> dict[str, object]:
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "schedule_id": "s" if playlist else None,
        "playlist_id": playlist,
        "priority": "local",
        "sync": False,
        "origin": start.isoformat(),
        "reason": "",
    }


def test_the_deadline_is_the_end_of_the_current_item() -> None:
    plan = manifest(origin=START)  # items a (2 s) then b (3 s), from START
    slot = slot_at(plan, START + 500 * MS)
    assert (slot.item and slot.item.asset_id, slot.offset_ms) == ("a", 500)
    assert slot.until == START + 2000 * MS
    after = slot_at(plan, slot.until)
    assert (after.item and after.item.asset_id, after.offset_ms) == ("b", 0)
    assert after.until == START + 5000 * MS
    assert after.file is not None and after.file.sha256 == SHA_B


def test_the_next_round_of_the_playlist_is_a_new_play() -> None:
    plan = manifest(origin=START)
    first = slot_at(plan, START + 100 * MS)
    same = slot_at(plan, START + 1900 * MS)
    next_round = slot_at(plan, START + 5100 * MS)
    assert first.key == same.key
    assert next_round.item == first.item and next_round.key != first.key


def test_the_end_of_a_timeline_entry_cuts_the_item_short() -> None:
    cut = START + 1200 * MS
    plan = manifest(
        timeline=[entry(START, cut), entry(cut, START + timedelta(hours=48), playlist=None)]
    )
    slot = slot_at(plan, START + 100 * MS)
    assert slot.until == cut
    gap = slot_at(plan, cut)
    assert gap.reason == "no programme" and not gap.playing
    assert gap.until == START + timedelta(hours=48)


def test_an_unclaimed_stretch_waits_for_the_next_entry() -> None:
    later = START + timedelta(hours=1)
    plan = manifest(timeline=[entry(later, START + timedelta(hours=2))])
    slot = slot_at(plan, START + timedelta(minutes=5))
    assert slot.reason == "nothing scheduled" and slot.until == later


def test_the_manifest_end_is_a_deadline_and_then_nothing_plays() -> None:
    plan = manifest(hours=1, origin=START)
    near_end = START + timedelta(hours=1) - 300 * MS
    assert slot_at(plan, near_end).until == START + timedelta(hours=1)
    assert slot_at(plan, START + timedelta(hours=1)).reason == "expired"
    assert slot_at(None, START).reason == "no manifest"


def test_files_come_in_the_order_they_air() -> None:
    soon, later = START + timedelta(hours=1), START + timedelta(hours=2)
    plan = manifest(
        items=(("a", SHA_A, 2000), ("b", SHA_B, 3000)),
        timeline=[entry(soon, later), entry(START, soon, playlist=None)],
    )
    assert [f.sha256 for f in files_by_air_time(plan, START)] == [SHA_A, SHA_B]
    assert files_by_air_time(plan, later) == []
    assert needed(plan) == {SHA_A, SHA_B} and needed(None) == set()
