"""Building a manifest: what one audience plays for the next 48 hours.

The manifest is canonical JSON (see ``canonical.py``). Its ``version`` is
the sha256 of the body without the version, so identical inputs give an
identical version: the horizon starts on the hour, and rebuilding within the
hour changes nothing a screen would download again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lianbo.domain.canonical import canonical_json
from lianbo.domain.priority import Claim, Slot, resolve
from lianbo.domain.schedules import Schedule, occurrences
from lianbo.domain.targeting import Audience, specificity

PROTOCOL = 1
HORIZON = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class MediaFile:
    """One playable file: the original or a tier rendition."""

    sha256: str
    size: int
    media_type: str


@dataclass(frozen=True, slots=True)
class AssetFacts:
    """What the manifest needs to know about an asset."""

    id: str
    kind: str
    name: str
    original: MediaFile | None
    fit_tiers: tuple[str, ...] = ()
    renditions: dict[str, MediaFile] = field(default_factory=dict)  # tier → rendition
    text: str | None = None
    url: str | None = None

    def file_for(self, tier: str) -> MediaFile | None:
        """The original when it fits the tier, else the tier's rendition."""
        if self.original is None or tier in self.fit_tiers:
            return self.original
        return self.renditions.get(tier, self.original)


@dataclass(frozen=True, slots=True)
class PlaylistFacts:
    id: str
    items: tuple[tuple[str, int, str], ...]  # (asset_id, duration_ms, fit), playable only


def horizon(now: datetime) -> tuple[datetime, datetime]:
    start = now.replace(minute=0, second=0, microsecond=0)
    return start, start + HORIZON


Spans = dict[str, list[tuple[datetime, datetime]]]


def spans_of(schedules: list[Schedule], start: datetime, end: datetime) -> Spans:
    """Each schedule's on-air intervals in the horizon, computed once for
    every audience that shares the build."""
    return {s.id: occurrences(s, start, end) for s in schedules}


def claims_for(
    audience: Audience,
    schedules: list[Schedule],
    start: datetime,
    end: datetime,
    spans: Spans | None = None,
) -> list[Claim]:
    """Each reaching schedule's claim on this audience's timeline."""
    found = []
    for schedule in schedules:
        level = specificity(schedule.targets, audience)
        if not level or schedule.published_at is None:
            continue
        on_air = spans[schedule.id] if spans is not None else occurrences(schedule, start, end)
        if on_air:
            found.append(
                Claim(schedule.id, schedule.priority, level, schedule.published_at, tuple(on_air))
            )
    return found


def build(
    audience: Audience,
    schedules: list[Schedule],
    playlists: dict[str, PlaylistFacts],
    assets: dict[str, AssetFacts],
    *,
    now: datetime,
    media_base: str,
    filler: str | None = None,
    alerts: list[dict[str, Any]] | None = None,
    spans: Spans | None = None,
    memo: dict[tuple[tuple[str, int], ...], list[Slot]] | None = None,
) -> dict[str, Any]:
    """The manifest body (with its version) for one audience.

    ``memo`` shares resolutions between audiences of one build: screens of
    different tiers in one county usually face the very same claims.
    """
    start, end = horizon(now)
    by_id = {s.id: s for s in schedules}
    claims = claims_for(audience, schedules, start, end, spans)
    memo_key = tuple(sorted((c.schedule_id, c.specificity) for c in claims))
    slots = memo.get(memo_key) if memo is not None else None
    if slots is None:
        slots = resolve(start, end, claims)
        if memo is not None:
            memo[memo_key] = slots
    timeline, used = [], set()
    for slot in slots:
        schedule = by_id[slot.claim.schedule_id] if slot.claim else None
        playlist_id = schedule.playlist_id if schedule else filler
        if playlist_id and playlist_id in playlists:
            used.add(playlist_id)
        else:
            playlist_id = None
        timeline.append(
            _entry(slot.start, slot.end, schedule, playlist_id, slot.reason, slot.claim)
        )
    body: dict[str, Any] = {
        "protocol": PROTOCOL,
        "audience": audience.as_json(),
        "valid_from": _time(start),
        "valid_until": _time(end),
        "timeline": timeline,
        "playlists": {pid: _playlist(playlists[pid], assets) for pid in sorted(used)},
        "files": _files(audience, [playlists[p] for p in sorted(used)], assets, media_base),
        "alerts": alerts or [],
    }
    body["version"] = version_of(body)
    return body


def version_of(body: dict[str, Any]) -> str:
    unversioned = {k: v for k, v in body.items() if k != "version"}
    return hashlib.sha256(canonical_json(unversioned)).hexdigest()


def _time(moment: datetime) -> str:
    return moment.astimezone().isoformat() if moment.tzinfo is None else moment.isoformat()


def _entry(
    start: datetime,
    end: datetime,
    schedule: Schedule | None,
    playlist_id: str | None,
    reason: str,
    claim: Claim | None,
) -> dict[str, Any]:
    origin = start
    if schedule is not None and claim is not None:
        origin = (
            schedule.anchor
            if schedule.sync
            else next(a for a, b in claim.intervals if a <= start < b)
        )
    return {
        "start": _time(start),
        "end": _time(end),
        "schedule_id": schedule.id if schedule else None,
        "playlist_id": playlist_id,
        "priority": schedule.priority.value if schedule else "filler",
        "sync": bool(schedule and schedule.sync),
        "origin": _time(origin),
        "reason": reason,
    }


def _playlist(playlist: PlaylistFacts, assets: dict[str, AssetFacts]) -> dict[str, Any]:
    items = []
    for asset_id, duration_ms, fit in playlist.items:
        asset = assets[asset_id]
        item: dict[str, Any] = {
            "asset_id": asset_id,
            "kind": asset.kind,
            "duration_ms": duration_ms,
            "fit": fit,
        }
        if asset.text is not None:
            item["text"] = asset.text
        if asset.url is not None:
            item["url"] = asset.url
        items.append(item)
    return {"items": items, "length_ms": sum(i["duration_ms"] for i in items)}


def _files(
    audience: Audience, used: list[PlaylistFacts], assets: dict[str, AssetFacts], media_base: str
) -> list[dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    for playlist in used:
        for asset_id, _, _ in playlist.items:
            chosen = assets[asset_id].file_for(audience.tier.value)
            if chosen is not None:
                files[asset_id] = {
                    "asset_id": asset_id,
                    "sha256": chosen.sha256,
                    "size": chosen.size,
                    "media_type": chosen.media_type,
                    "url": f"{media_base}/media/{chosen.sha256}",
                }
    return [files[k] for k in sorted(files)]
