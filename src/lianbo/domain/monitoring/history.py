"""What was in force when: manifest versions over time, and the server's own
outages (pure).

A manifest covers 48 hours from the top of the hour it was built in, so a
rebuild at ``T`` (a publish, a revoke, the hourly roll) also says something
about ``[hour, T)``, which screens already played by the version before.
Proof of play must not be judged by that rewritten past: each version is
kept with the span it was in force, ``[built at T, superseded at T')``, cut
to what matters for that span (``in_force_part``), and a play is judged by
the version in force at its moment (ADR 0006).

A server outage is the gap between the last alive stamp of the previous run
and the moment this run was ready (``outage``); screens are not judged
offline for it (one hold-off from ready, ``offline_cutoff``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


def in_force_part(body: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
    """The part of a manifest ``body`` in force in ``[start, end)``: its
    horizon, the timeline entries overlapping the span (whole, so simulcast
    positions stay right), the playlists they name and those playlists'
    files (asset id and sha256 only)."""
    timeline = [
        entry
        for entry in body.get("timeline", ())
        if datetime.fromisoformat(entry["start"]) < end
        and datetime.fromisoformat(entry["end"]) > start
    ]
    used = {entry.get("playlist_id") for entry in timeline} - {None}
    playlists = {pid: p for pid, p in body.get("playlists", {}).items() if pid in used}
    assets = {item["asset_id"] for p in playlists.values() for item in p.get("items", ())}
    files = [
        {"asset_id": f["asset_id"], "sha256": f["sha256"]}
        for f in body.get("files", ())
        if f.get("asset_id") in assets
    ]
    return {
        "valid_from": body["valid_from"],
        "valid_until": body["valid_until"],
        "timeline": timeline,
        "playlists": playlists,
        "files": files,
    }


@dataclass(frozen=True, slots=True)
class Outage:
    """The server (every process of it) was down from ``down_from`` (the last
    alive stamp seen) until ``back_at`` (this run ready)."""

    down_from: datetime
    back_at: datetime

    @property
    def seconds(self) -> float:
        return (self.back_at - self.down_from).total_seconds()

    def as_json(self) -> dict[str, Any]:
        return {
            "down_from": self.down_from.isoformat(),
            "back_at": self.back_at.isoformat(),
            "down_s": round(self.seconds, 1),
        }


def outage(last_alive: datetime | None, ready: datetime, stamp_every: timedelta) -> Outage | None:
    """The outage before a run ready at ``ready``, given the newest alive stamp
    of any earlier run; None for a first start, or when some process stamped
    within two stamping intervals (another process was serving: a restart of
    one of several is no outage)."""
    if last_alive is None or ready - last_alive <= 2 * stamp_every:
        return None
    return Outage(last_alive, ready)


def offline_cutoff(now: datetime, hold_off: timedelta, ready: datetime | None) -> datetime | None:
    """Screens last seen before this are offline at ``now``; None: nobody is yet.

    A screen counts as seen when the server was ready (it could not have
    reached a server that was down), so no screen is offline before one
    hold-off from ready; after that the plain rule holds.
    """
    cutoff = now - hold_off
    if ready is not None and cutoff <= ready:
        return None
    return cutoff
