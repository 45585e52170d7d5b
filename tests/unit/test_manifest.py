"""Manifest building (pure): stable versions, simulcast origin, tier files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lianbo.domain.canonical import canonical_json
from lianbo.domain.manifest import AssetFacts, MediaFile, PlaylistFacts, build, version_of
from lianbo.domain.schedules import PriorityClass, Schedule, ScheduleState, Targets
from lianbo.domain.targeting import Audience, ScheduleIndex, specificity
from lianbo.domain.terminals import Tier

NOW = datetime(2026, 11, 23, 10, 17, tzinfo=UTC)
UHD = MediaFile("a" * 64, 9_000_000, "video/mp4")
HD = MediaFile("b" * 64, 2_000_000, "video/mp4")
ASSETS = {
    "clip": AssetFacts("clip", "video", "宣传片", UHD, ("outdoor", "hall"), {"home": HD}),
    "tick": AssetFacts("tick", "ticker", "天气", None, text="今晚有雨"),
}
PLAYLISTS = {"p": PlaylistFacts("p", (("clip", 30_000, "contain"), ("tick", 10_000, "contain")))}


def schedule(sid: str, region: str, cls: PriorityClass, **extra: object) -> Schedule:
    base = dict(
        id=sid,
        name=sid,
        playlist_id="p",
        targets=Targets((region,)),
        starts_at=NOW - timedelta(hours=2),
        ends_at=NOW + timedelta(days=3),
        priority=cls,
        state=ScheduleState.PUBLISHED,
        published_at=NOW - timedelta(hours=3),
    )
    return Schedule(**(base | extra))  # type: ignore[arg-type]


def audience(tier: Tier = Tier.OUTDOOR, region: str = "510107") -> Audience:
    return Audience(region, tier, (), ("landmark",))


def test_the_same_inputs_give_the_same_version_within_the_hour() -> None:
    s = [schedule("s", "51", PriorityClass.LOCAL)]
    first = build(audience(), s, PLAYLISTS, ASSETS, now=NOW, media_base="http://c")
    later = build(
        audience(), s, PLAYLISTS, ASSETS, now=NOW + timedelta(minutes=40), media_base="http://c"
    )
    assert first == later and first["version"] == version_of(first)
    next_hour = build(
        audience(), s, PLAYLISTS, ASSETS, now=NOW + timedelta(hours=1), media_base="http://c"
    )
    assert next_hour["version"] != first["version"]
    assert canonical_json(first) == canonical_json(later)


def test_files_follow_the_tier_and_tickers_carry_text() -> None:
    s = [schedule("s", "51", PriorityClass.LOCAL)]
    outdoor = build(audience(Tier.OUTDOOR), s, PLAYLISTS, ASSETS, now=NOW, media_base="http://c")
    home = build(audience(Tier.HOME), s, PLAYLISTS, ASSETS, now=NOW, media_base="http://c")
    assert [f["sha256"] for f in outdoor["files"]] == [UHD.sha256]
    assert [f["sha256"] for f in home["files"]] == [HD.sha256]
    assert home["files"][0]["url"] == f"http://c/media/{HD.sha256}"
    assert home["playlists"]["p"]["items"][1]["text"] == "今晚有雨"
    assert home["playlists"]["p"]["length_ms"] == 40_000


def test_simulcast_entries_carry_the_anchor_and_local_ones_their_occurrence() -> None:
    anchor = NOW - timedelta(hours=2)
    s = [schedule("sim", "51", PriorityClass.SIMULCAST, sync=True, starts_at=anchor)]
    body = build(audience(), s, PLAYLISTS, ASSETS, now=NOW, media_base="")
    entry = next(e for e in body["timeline"] if e["schedule_id"] == "sim")
    assert entry["sync"] is True and entry["origin"] == anchor.isoformat()
    assert body["timeline"][0]["start"] == NOW.replace(minute=0).isoformat()
    assert body["timeline"][-1]["end"] == (NOW.replace(minute=0) + timedelta(hours=48)).isoformat()


def test_audiences_outside_the_target_get_only_filler() -> None:
    s = [schedule("s", "510104", PriorityClass.PUBLIC)]
    body = build(audience(region="510107"), s, PLAYLISTS, ASSETS, now=NOW, media_base="")
    assert body["playlists"] == {} and body["files"] == []
    assert {e["priority"] for e in body["timeline"]} == {"filler"}


def test_specificity_and_the_index() -> None:
    targets = Targets(("51", "510107"), tiers=(Tier.OUTDOOR,), tags=("landmark",))
    assert specificity(targets, audience()) == 3
    assert specificity(targets, audience(Tier.HOME)) == 0
    assert specificity(Targets(("51",), tags=("stb",)), audience()) == 0
    index = ScheduleIndex(
        [schedule("a", "5101", PriorityClass.LOCAL), schedule("b", "5103", PriorityClass.LOCAL)]
    )
    assert [s.id for s in index.candidates(audience())] == ["a"]
    assert audience().key() == Audience("510107", Tier.OUTDOOR, (), ("landmark",)).key()
    assert audience().key() != audience(Tier.HOME).key()
