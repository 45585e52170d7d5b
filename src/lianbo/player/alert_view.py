"""What a screen makes of a verified alert notice: whether it is inside the
area (device-side geofence) and what to put on screen (mode, colour, texts).

The terminal's facts (tier, region, position, language) come from the
``terminal`` block of ``GET /terminal/v1/alerts`` and are kept in the
player's state dir, so a screen that restarts offline still knows them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lianbo.domain.alerting.geofence import in_circle, in_polygon
from lianbo.domain.alerting.model import Circle, Point
from lianbo.player.playback import AlertCue
from lianbo.protocol.alerts import FALLBACK_LANGUAGE, TIERS, Notice

COLOURS = {1: "red", 2: "orange", 3: "yellow", 4: "blue"}


@dataclass(frozen=True, slots=True)
class TerminalFacts:
    """Who this screen is, as the control centre knows it."""

    id: str | None = None
    tier: str = "outdoor"  # unknown: the tier that shows alerts in full
    region: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    language: str = FALLBACK_LANGUAGE

    @property
    def known(self) -> bool:
        return self.id is not None

    @property
    def position(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude

    @classmethod
    def from_json(cls, data: Any) -> TerminalFacts:
        """Tolerant: a missing or odd field keeps its default."""
        if not isinstance(data, dict):
            return cls()
        tier = data.get("tier")
        language = data.get("language")
        return cls(
            id=str(data["id"]) if data.get("id") is not None else None,
            tier=tier if tier in TIERS else "outdoor",
            region=str(data["region"]) if data.get("region") else None,
            latitude=_coordinate(data.get("latitude"), 90),
            longitude=_coordinate(data.get("longitude"), 180),
            language=language if isinstance(language, str) and language else FALLBACK_LANGUAGE,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tier": self.tier,
            "region": self.region,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "language": self.language,
        }


def _coordinate(value: Any, limit: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and -limit <= number <= limit else None


def inside_area(notice: Notice, facts: TerminalFacts) -> bool:
    """The device-side geofence: True → show (``displayed``), False → ``outside-area``.

    An area of regions only was targeted by region: inside. With polygons
    or circles, the screen tests its own position; being in one of the
    area's regions also counts (the issuer named both). A screen that
    knows no position cannot place itself in a polygon; one that does not
    even know who it is (no terminal block yet) shows the alert: better a
    warning too many than one missing.
    """
    area = notice.body.get("area")
    area = area if isinstance(area, dict) else {}
    polygons, circles = _polygons(area.get("polygons")), _circles(area.get("circles"))
    if not polygons and not circles:
        return True
    region = facts.region
    regions = [str(code) for code in area.get("regions") or [] if isinstance(code, str | int)]
    if region is not None and any(region.startswith(code) for code in regions):
        return True
    position = facts.position
    if position is None:
        return not facts.known
    lat, lon = position
    return any(in_polygon(lat, lon, ring) for ring in polygons) or any(
        in_circle(lat, lon, circle) for circle in circles
    )


def _polygons(value: Any) -> list[tuple[Point, ...]]:
    rings = []
    for ring in value if isinstance(value, list) else []:
        try:
            points = tuple((float(p[0]), float(p[1])) for p in ring)
        except (TypeError, ValueError, IndexError):
            continue
        if len(points) >= 3:
            rings.append(points)
    return rings


def _circles(value: Any) -> list[Circle]:
    circles = []
    for item in value if isinstance(value, list) else []:
        try:
            circles.append(Circle(float(item["lat"]), float(item["lon"]), float(item["radius_km"])))
        except (TypeError, ValueError, KeyError):
            continue
    return circles


def level_of(notice: Notice) -> int:
    """1 (most severe) .. 4; an odd value counts as the most severe."""
    level = notice.body.get("level")
    return level if isinstance(level, int) and level in COLOURS else 1


def sent_of(notice: Notice) -> str:
    """The ``sent`` time as an ISO string (sorts newest last), or ""."""
    try:
        return datetime.fromisoformat(str(notice.body.get("sent"))).isoformat()
    except ValueError:
        return ""


def expiry_of(notice: Notice) -> datetime | None:
    """``expires`` as an aware datetime; None when missing or unreadable."""
    value = notice.body.get("expires")
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def revision_of(notice: Notice) -> int:
    revision = notice.body.get("revision")
    return revision if isinstance(revision, int) else 0


def cue_for(notice: Notice, facts: TerminalFacts, *, resumed: bool = False) -> AlertCue:
    """What the screen shows for ``notice``, in the terminal's language."""
    texts = notice.text_for(facts.language)
    body = notice.body
    texts_by_language: dict[str, Any] = body["texts"] if isinstance(body.get("texts"), dict) else {}
    language = next(
        (lang for lang in (facts.language, FALLBACK_LANGUAGE) if lang in texts_by_language),
        next(iter(texts_by_language), FALLBACK_LANGUAGE),
    )
    level = level_of(notice)
    colour = str(body.get("colour"))
    return AlertCue(
        id=notice.id,
        revision=revision_of(notice),
        mode=notice.display_for(facts.tier),
        level=level,
        colour=colour if colour in COLOURS.values() else COLOURS[level],
        event=str(body.get("event") or ""),
        headline=str(texts.get("headline") or ""),
        description=str(texts.get("description") or ""),
        instruction=str(texts.get("instruction") or ""),
        language=language,
        exercise=notice.exercise,
        expires=expiry_of(notice),
        resumed=resumed,
    )
