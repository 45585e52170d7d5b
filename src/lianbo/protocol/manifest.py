"""Verifying a signed manifest, and the simulcast arithmetic players share.

The server answers ``GET /terminal/v1/manifest`` with an envelope
``{"manifest":<canonical JSON>,"signature":"<b64>","key_id":"…","server_time":"…"}``
in which the manifest is embedded byte for byte as signed. ``verify`` cuts
those bytes out of the envelope text (``envelope.py``) and checks the
Ed25519 signature over them before parsing anything else: re-serialising
first would verify our own bytes, not the server's.

Everything here is pure (standard library and ``cryptography``): the
player, the simulator and the tests call it with their own clock.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lianbo.domain.canonical import canonical_json
from lianbo.protocol import PROTOCOL_VERSION
from lianbo.protocol.envelope import (
    Envelope,
    MalformedEnvelope,
    Rejected,
    signature_valid,
    split,
)

SKEW = timedelta(minutes=5)
"""How far ahead of our clock a manifest's ``valid_from`` may be (clock skew)."""

_SHA256 = re.compile(r"[0-9a-f]{64}")


class ManifestRejected(Rejected):
    """A manifest the player must not play ("bad signature", "expired", ...)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One stretch of the timeline; ``origin`` is where position 0 lies."""

    start: datetime
    end: datetime
    schedule_id: str | None
    playlist_id: str | None
    priority: str
    sync: bool
    origin: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Item:
    asset_id: str
    kind: str
    duration_ms: int
    fit: str
    text: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Playlist:
    items: tuple[Item, ...]
    length_ms: int


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file the manifest needs; its bytes must hash to ``sha256``."""

    asset_id: str
    sha256: str
    size: int
    media_type: str
    url: str


@dataclass(frozen=True, slots=True)
class VerifiedManifest:
    """A manifest whose signature, version and validity were checked."""

    envelope: str  # the text as received, kept to verify again after a restart
    body: dict[str, Any]
    version: str
    key_id: str
    valid_from: datetime
    valid_until: datetime
    server_time: datetime | None
    timeline: tuple[Entry, ...]
    playlists: dict[str, Playlist]
    files: tuple[FileRef, ...]

    def file_for(self, asset_id: str) -> FileRef | None:
        return next((f for f in self.files if f.asset_id == asset_id), None)

    def entry_at(self, now: datetime) -> Entry | None:
        return next((e for e in self.timeline if e.start <= now < e.end), None)


def verify(
    envelope_text: str | bytes,
    keys: dict[str, str],
    *,
    now: datetime,
    audience: dict[str, Any] | None = None,
) -> VerifiedManifest:
    """Check an envelope and return its manifest, or raise ManifestRejected.

    ``keys`` maps key ids to raw 32-byte Ed25519 public keys in base64;
    ``audience``, when given, must equal the manifest's own.
    """
    try:
        envelope = split(envelope_text)
    except MalformedEnvelope as error:
        raise ManifestRejected("malformed", str(error)) from None
    if envelope.manifest is None:
        raise ManifestRejected("malformed", "no manifest in the envelope")
    if not envelope.signature or not envelope.key_id:
        raise ManifestRejected("unsigned")
    if envelope.key_id not in keys:
        raise ManifestRejected("unknown key", envelope.key_id)
    data = envelope.manifest.encode("utf-8")
    if not signature_valid(data, envelope.signature, keys[envelope.key_id]):
        raise ManifestRejected("bad signature")
    body = json.loads(envelope.manifest)
    if not isinstance(body, dict):
        raise ManifestRejected("malformed", "the manifest is not an object")
    return _checked(envelope.text, body, envelope.key_id, _server_time(envelope), now, audience)


def position_ms(entry: Entry, playlist_length_ms: int, now: datetime) -> int:
    """Where in the playlist ``entry`` is at ``now`` (server time).

    The simulcast rule: ``(now - origin) mod length``. A sync entry's origin
    is its schedule's anchor, so every screen lands on the same frame; other
    entries count from the start of their occurrence.
    """
    if playlist_length_ms <= 0:
        return 0
    elapsed = (now - entry.origin) // timedelta(milliseconds=1)
    return elapsed % playlist_length_ms


def item_at(playlist: Playlist, position_ms: int) -> tuple[int, int]:
    """The item playing at ``position_ms`` into the playlist, and the offset into it."""
    remaining = position_ms
    for index, item in enumerate(playlist.items):
        if remaining < item.duration_ms:
            return index, remaining
        remaining -= item.duration_ms
    raise ValueError(f"position {position_ms} ms is past the playlist's end")


def parse_time(value: Any, field: str = "time") -> datetime:
    """An RFC 3339 time with an offset (naive times are refused)."""
    if not isinstance(value, str):
        raise ManifestRejected("malformed", f"{field} is not a time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ManifestRejected("malformed", f"{field} is not a time: {value!r}") from None
    if moment.tzinfo is None:
        raise ManifestRejected("malformed", f"{field} has no UTC offset")
    return moment


def _server_time(envelope: Envelope) -> datetime | None:
    """The server's clock at sending (unsigned, informational: never fatal)."""
    try:
        return parse_time(envelope.server_time) if envelope.server_time else None
    except ManifestRejected:
        return None


def _checked(
    envelope: str,
    body: dict[str, Any],
    key_id: str,
    server_time: datetime | None,
    now: datetime,
    audience: dict[str, Any] | None,
) -> VerifiedManifest:
    """The signed body's own checks: protocol, version, validity, audience, shape."""
    if body.get("protocol") != PROTOCOL_VERSION:
        raise ManifestRejected("unsupported protocol", repr(body.get("protocol")))
    unversioned = {k: v for k, v in body.items() if k != "version"}
    version = hashlib.sha256(canonical_json(unversioned)).hexdigest()
    if body.get("version") != version:
        raise ManifestRejected("version mismatch", f"{body.get('version')!r} != {version}")
    valid_from = parse_time(body.get("valid_from"), "valid_from")
    valid_until = parse_time(body.get("valid_until"), "valid_until")
    if valid_until <= now:
        raise ManifestRejected("expired", f"valid until {valid_until.isoformat()}")
    if valid_from > now + SKEW:
        raise ManifestRejected("not yet valid", f"valid from {valid_from.isoformat()}")
    if audience is not None and _audience(body.get("audience")) != _audience(audience):
        raise ManifestRejected("audience mismatch", f"{body.get('audience')!r}")
    timeline, playlists, files = _content(body)
    return VerifiedManifest(
        envelope=envelope,
        body=body,
        version=version,
        key_id=key_id,
        valid_from=valid_from,
        valid_until=valid_until,
        server_time=server_time,
        timeline=timeline,
        playlists=playlists,
        files=files,
    )


def _content(
    body: dict[str, Any],
) -> tuple[tuple[Entry, ...], dict[str, Playlist], tuple[FileRef, ...]]:
    try:
        timeline = tuple(_entry(e) for e in body["timeline"])
        playlists = {str(k): _playlist(p) for k, p in body["playlists"].items()}
        files = tuple(_file(f) for f in body["files"])
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise ManifestRejected("malformed", f"{type(error).__name__}: {error}") from None
    missing = {e.playlist_id for e in timeline if e.playlist_id} - set(playlists)
    if missing:
        raise ManifestRejected("malformed", f"unknown playlists {sorted(missing)}")
    return timeline, playlists, files


def _audience(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {
        "region": value.get("region"),
        "tier": value.get("tier"),
        "groups": sorted(value.get("groups") or []),
        "tags": sorted(value.get("tags") or []),
    }


def _entry(data: dict[str, Any]) -> Entry:
    playlist_id = data.get("playlist_id")
    return Entry(
        start=parse_time(data["start"], "timeline.start"),
        end=parse_time(data["end"], "timeline.end"),
        schedule_id=str(data["schedule_id"]) if data.get("schedule_id") else None,
        playlist_id=str(playlist_id) if playlist_id else None,
        priority=str(data.get("priority", "")),
        sync=bool(data.get("sync")),
        origin=parse_time(data["origin"], "timeline.origin"),
        reason=str(data.get("reason", "")),
    )


def _playlist(data: dict[str, Any]) -> Playlist:
    items = tuple(
        Item(
            asset_id=str(i["asset_id"]),
            kind=str(i["kind"]),
            duration_ms=_positive(i["duration_ms"], "duration_ms"),
            fit=str(i.get("fit", "contain")),
            text=i.get("text"),
            url=i.get("url"),
        )
        for i in data["items"]
    )
    length = sum(i.duration_ms for i in items)
    if data.get("length_ms", length) != length:
        raise ManifestRejected("malformed", "length_ms is not the sum of the items")
    return Playlist(items, length)


def _file(data: dict[str, Any]) -> FileRef:
    sha = data["sha256"]
    # The hash names a file in the cache: refuse anything but 64 hex digits.
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        raise ManifestRejected("malformed", f"bad sha256 {sha!r}")
    return FileRef(
        asset_id=str(data["asset_id"]),
        sha256=sha,
        size=_positive(data["size"], "size", allow_zero=True),
        media_type=str(data.get("media_type", "application/octet-stream")),
        url=str(data.get("url", "")),
    )


def _positive(value: Any, field: str, *, allow_zero: bool = False) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if allow_zero else 1):
        raise ManifestRejected("malformed", f"{field} must be a positive integer")
    return value
