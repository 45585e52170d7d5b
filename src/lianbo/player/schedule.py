"""What a manifest says to show at a moment, and until when (pure).

The player does not poll "what now?" every so often: each answer carries
its deadline — the earliest of the item's end, the timeline entry's end and
the manifest's ``valid_until`` — and the player sleeps until then (or until
something changes). Like Anthias' scheduler, this keeps item changes on
the millisecond instead of on the next polling tick, and costs nothing in
between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lianbo.protocol.manifest import (
    Entry,
    FileRef,
    Item,
    VerifiedManifest,
    item_at,
    position_ms,
)

MS = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class Slot:
    """What the screen should show at one moment.

    ``key`` identifies one play of one item (the same item in the next round
    of the playlist has another key), so a rebuilt manifest that changes
    nothing at this moment does not restart what is on screen.
    """

    reason: str  # "playing", "no manifest", "expired", "nothing scheduled", "no programme"
    until: datetime | None  # the next deadline; None: only a new manifest changes it
    entry: Entry | None = None
    item: Item | None = None
    index: int = 0
    offset_ms: int = 0
    file: FileRef | None = None
    key: tuple[object, ...] | None = None

    @property
    def playing(self) -> bool:
        return self.item is not None


def slot_at(manifest: VerifiedManifest | None, now: datetime) -> Slot:
    """The slot at ``now`` (server time)."""
    if manifest is None:
        return Slot("no manifest", None)
    if now >= manifest.valid_until:
        return Slot("expired", None)
    entry = manifest.entry_at(now)
    if entry is None:
        later = [e.start for e in manifest.timeline if e.start > now]
        return Slot("nothing scheduled", min([*later, manifest.valid_until]))
    playlist = manifest.playlists.get(entry.playlist_id) if entry.playlist_id else None
    if playlist is None or playlist.length_ms <= 0:
        return Slot("no programme", min(entry.end, manifest.valid_until), entry)
    position = position_ms(entry, playlist.length_ms, now)
    index, offset = item_at(playlist, position)
    item = playlist.items[index]
    cycle = ((now - entry.origin) // MS) // playlist.length_ms
    item_end = now + (item.duration_ms - offset) * MS
    file = manifest.file_for(item.asset_id)
    return Slot(
        reason="playing",
        until=min(item_end, entry.end, manifest.valid_until),
        entry=entry,
        item=item,
        index=index,
        offset_ms=offset,
        file=file,
        key=(
            entry.schedule_id,
            entry.playlist_id,
            entry.origin.isoformat(),
            cycle,
            index,
            file.sha256 if file else item.asset_id,
        ),
    )


def files_by_air_time(manifest: VerifiedManifest, now: datetime) -> list[FileRef]:
    """The files still to be played, the soonest needed first (download order)."""
    ordered: dict[str, FileRef] = {}
    for entry in sorted(manifest.timeline, key=lambda e: e.start):
        if entry.end <= now or not entry.playlist_id:
            continue
        playlist = manifest.playlists.get(entry.playlist_id)
        for item in playlist.items if playlist else ():
            file = manifest.file_for(item.asset_id)
            if file is not None:
                ordered.setdefault(file.sha256, file)
    return list(ordered.values())


def needed(manifest: VerifiedManifest | None) -> set[str]:
    """Every file a manifest names (kept in the cache whatever the budget)."""
    return {f.sha256 for f in manifest.files} if manifest else set()
