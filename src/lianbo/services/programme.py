"""What a terminal's manifest says should be on screen at a moment.

Read from the signed manifest stored for the terminal's audience (the very
bytes the screen plays from), with the simulcast arithmetic players use
(``protocol.manifest.position_ms`` / ``item_at``). Monitoring asks three
questions of it: which files were allowed at a moment (play-log checks),
which asset and offset should be on screen (screenshot verification), and
which scheduled slots fall in a span (off-schedule).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.protocol.manifest import Entry, Item, Playlist, item_at, parse_time, position_ms


@dataclass(frozen=True, slots=True)
class Showing:
    """The asset that should be on screen and how far into its playlist item."""

    asset_id: str
    item_offset_ms: int
    schedule_id: str | None


@dataclass(frozen=True, slots=True)
class Programme:
    """A parsed manifest plus every sha256 each of its assets may be played as."""

    version: str
    valid_from: datetime
    valid_until: datetime
    timeline: tuple[Entry, ...]
    playlists: dict[str, Playlist]
    files: dict[str, frozenset[str]]  # asset id → sha256s (original, renditions)
    in_force_from: datetime | None = None  # since when this version is in force (ADR 0006)

    def covers(self, moment: datetime) -> bool:
        return self.valid_from <= moment < self.valid_until

    def entry_at(self, moment: datetime) -> Entry | None:
        return next((e for e in self.timeline if e.start <= moment < e.end), None)

    def allowed(self, moment: datetime) -> dict[str, set[str | None]]:
        """sha256 → schedule ids that allowed it on screen at ``moment``.

        Before ``valid_from`` (a manifest starts at the top of the hour it was
        built in, and no older one is kept) the answer is what this manifest
        schedules at all: a play reported just after the hour turned is not
        called unauthorised for lack of the previous hour's timeline.
        """
        if moment < self.valid_from:
            return self._allowed_anywhere()
        entry = self.entry_at(moment)
        if entry is None or entry.playlist_id not in self.playlists:
            return {}
        found: dict[str, set[str | None]] = {}
        for item in self.playlists[entry.playlist_id].items:
            for sha256 in self.files.get(item.asset_id, ()):
                found.setdefault(sha256, set()).add(entry.schedule_id)
        return found

    def _allowed_anywhere(self) -> dict[str, set[str | None]]:
        found: dict[str, set[str | None]] = {}
        for entry in self.timeline:
            playlist = self.playlists.get(entry.playlist_id or "")
            for item in playlist.items if playlist is not None else ():
                for sha256 in self.files.get(item.asset_id, ()):
                    found.setdefault(sha256, set()).add(entry.schedule_id)
        return found

    def showing(self, moment: datetime) -> Showing | None:
        """What should be on screen at ``moment`` (None: nothing scheduled)."""
        entry = self.entry_at(moment)
        playlist = self.playlists.get(entry.playlist_id or "") if entry else None
        if entry is None or playlist is None or not playlist.items:
            return None
        index, offset = item_at(playlist, position_ms(entry, playlist.length_ms, moment))
        return Showing(playlist.items[index].asset_id, offset, entry.schedule_id)

    def slots(self, start: datetime, end: datetime) -> list[tuple[Entry, frozenset[str]]]:
        """Scheduled entries overlapping ``[start, end)`` with the sha256s they play."""
        found = []
        for entry in self.timeline:
            if entry.schedule_id is None or entry.end <= start or entry.start >= end:
                continue
            playlist = self.playlists.get(entry.playlist_id or "")
            if playlist is None:
                continue
            shas = frozenset(s for i in playlist.items for s in self.files.get(i.asset_id, ()))
            found.append((entry, shas))
        return found


def _entry(data: dict[str, Any]) -> Entry:
    return Entry(
        start=parse_time(data["start"]),
        end=parse_time(data["end"]),
        schedule_id=data.get("schedule_id"),
        playlist_id=data.get("playlist_id"),
        priority=str(data.get("priority", "")),
        sync=bool(data.get("sync")),
        origin=parse_time(data.get("origin", data["start"])),
        reason=str(data.get("reason", "")),
    )


def _playlist(data: dict[str, Any]) -> Playlist:
    items = tuple(
        Item(
            str(i["asset_id"]), str(i.get("kind", "")), int(i["duration_ms"]), str(i.get("fit", ""))
        )
        for i in data.get("items", ())
    )
    return Playlist(items, int(data.get("length_ms", sum(i.duration_ms for i in items))))


async def load(uow: UnitOfWork, audience_key: str) -> Programme | None:
    """The programme of an audience from its stored manifest (None: none built)."""
    signed = await uow.programming.manifest(audience_key)
    if signed is None:
        return None
    since = await uow.history.in_force_from(audience_key)
    return await parse(uow, signed.version, json.loads(signed.body), since)


async def parse(
    uow: UnitOfWork, version: str, body: dict[str, Any], in_force_from: datetime | None = None
) -> Programme:
    """A manifest body (or the part of one kept in the history) as a programme;
    every stored sha256 of its assets counts as theirs (any rendition)."""
    playlists = {pid: _playlist(p) for pid, p in body.get("playlists", {}).items()}
    assets = sorted({i.asset_id for p in playlists.values() for i in p.items})
    known = await uow.monitoring.files_of(assets) if assets else {}
    for file in body.get("files", ()):
        known.setdefault(file["asset_id"], set()).add(file["sha256"])
    return Programme(
        version=version,
        valid_from=parse_time(body["valid_from"]),
        valid_until=parse_time(body["valid_until"]),
        timeline=tuple(_entry(e) for e in body.get("timeline", ())),
        playlists=playlists,
        files={a: frozenset(s) for a, s in known.items()},
        in_force_from=in_force_from,
    )
