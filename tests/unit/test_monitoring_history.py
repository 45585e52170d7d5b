"""What was in force when (pure): manifest parts, version lookups, outages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lianbo.domain.monitoring.history import in_force_part, offline_cutoff, outage
from lianbo.protocol.manifest import Entry, Item, Playlist
from lianbo.services.playlog import allowed_by
from lianbo.services.programme import Programme
from lianbo.services.programme_history import InForce, ManifestHistory, Past

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
OLD, NEW = "a" * 64, "b" * 64


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def programme(schedule: str, asset: str, sha256: str, since: datetime | None) -> Programme:
    """A whole-horizon programme of one schedule playing one asset."""
    entry = Entry(at(0), at(48 * 60), schedule, "p", "local", False, at(0), "")
    playlist = Playlist((Item(asset, "image", 10_000, "fit"),), 10_000)
    files = {asset: frozenset({sha256})}
    return Programme("v", at(0), at(48 * 60), (entry,), {"p": playlist}, files, since)


def test_the_part_in_force_keeps_overlapping_entries_and_what_they_play() -> None:
    def entry(start: int, end: int, playlist: str | None) -> dict[str, object]:
        return {
            "start": at(start).isoformat(),
            "end": at(end).isoformat(),
            "playlist_id": playlist,
            "schedule_id": playlist,
        }

    body = {
        "valid_from": at(0).isoformat(),
        "valid_until": at(2880).isoformat(),
        "timeline": [entry(0, 20, "p1"), entry(20, 40, None), entry(40, 2880, "p2")],
        "playlists": {"p1": {"items": [{"asset_id": "a1"}]}, "p2": {"items": [{"asset_id": "a2"}]}},
        "files": [
            {"asset_id": "a1", "sha256": OLD, "url": "http://x/media/a", "size": 1},
            {"asset_id": "a2", "sha256": NEW, "url": "http://x/media/b", "size": 1},
        ],
        "alerts": [],
    }
    part = in_force_part(body, at(10), at(30))
    assert [e["playlist_id"] for e in part["timeline"]] == ["p1", None]
    assert list(part["playlists"]) == ["p1"]
    assert part["files"] == [{"asset_id": "a1", "sha256": OLD}]
    assert part["valid_from"] == body["valid_from"]
    assert in_force_part(body, at(20), at(40))["playlists"] == {}


def test_a_play_is_judged_by_the_version_in_force_at_its_moment() -> None:
    old = programme("s1", "a1", OLD, at(10))
    current = programme("s2", "a2", NEW, at(30))  # built at 30: in force from then on
    lookup = allowed_by(InForce(current, (Past(at(10), at(30), old),), at(0)))
    assert lookup(at(29)) == {OLD: {"s1"}}
    assert lookup(at(30)) == {NEW: {"s2"}}
    assert lookup(at(5)) == {NEW: {"s2"}}  # no kept version covers it: the current one judges
    assert allowed_by(current)(at(29)) == {NEW: {"s2"}}  # without history: history rewritten


def test_slots_are_cut_to_the_span_each_version_was_in_force() -> None:
    old = programme("s1", "a1", OLD, at(10))
    current = programme("s2", "a2", NEW, at(30))
    plan = InForce(current, (Past(at(10), at(30), old),), at(0))
    found = [(e.schedule_id, e.start, e.end, set(shas)) for e, shas in plan.slots(at(0), at(40))]
    assert found == [
        ("s2", at(0), at(10), {NEW}),
        ("s1", at(10), at(30), {OLD}),
        ("s2", at(30), at(40), {NEW}),
    ]


def test_the_programme_at_a_moment_is_the_version_then_in_force() -> None:
    old = programme("s1", "a1", OLD, at(10))
    current = programme("s2", "a2", NEW, at(30))
    plan = InForce(current, (Past(at(10), at(30), old),), at(0))
    assert [plan.at(at(m)) for m in (5, 10, 29, 30)] == [current, old, old, current]


def test_only_moments_before_the_current_version_and_the_loaded_ones_are_missing() -> None:
    current = programme("s2", "a2", NEW, at(30))
    assert InForce(current).missing(at(29))
    assert not InForce(current).missing(at(30))
    assert not InForce(current, (), at(20)).missing(at(25))
    assert InForce(current, (), at(20)).missing(at(15))
    assert not InForce(programme("s", "a", OLD, None)).missing(at(0))  # since unknown


def test_loaded_versions_are_kept_until_the_current_version_changes() -> None:
    history = ManifestHistory()
    current = programme("s2", "a2", NEW, at(30))
    past = (Past(at(10), at(30), programme("s1", "a1", OLD, at(10))),)
    history._loaded["k"] = InForce(current, past, at(5))
    assert history.in_force("k", current).past == past
    newer = programme("s3", "a3", "c" * 64, at(45))
    assert history.in_force("k", newer) == InForce(newer)


def test_an_outage_is_a_gap_in_every_alive_stamp() -> None:
    every = timedelta(seconds=10)
    assert outage(None, at(1), every) is None  # the first start
    assert outage(at(1) - 2 * every, at(1), every) is None  # another process was alive
    found = outage(at(0), at(1), every)
    assert found is not None and found.seconds == 60.0
    assert found.as_json()["down_s"] == 60.0


def test_no_screen_is_offline_before_a_hold_off_from_ready() -> None:
    hold_off = timedelta(seconds=60)
    ready = at(0)
    assert offline_cutoff(ready + hold_off, hold_off, ready) is None
    assert offline_cutoff(ready + hold_off + timedelta(seconds=1), hold_off, ready) == ready + (
        timedelta(seconds=1)
    )
    assert offline_cutoff(ready, hold_off, None) == ready - hold_off  # no run started: plain rule
