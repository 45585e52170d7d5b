"""What players get: the alert notice (``protocol.alerts``), and its signature.

A CAP message can carry many info blocks (one per language) and many areas;
a notice flattens them: one text per language, the union of the areas, the
highest severity, and how each tier shows it (``display``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lianbo.adapters.keys import Signer
from lianbo.config import Settings
from lianbo.domain.alerting.levels import warning_level
from lianbo.domain.alerting.model import Alert, Area, Circle, Severity
from lianbo.domain.canonical import canonical_json
from lianbo.domain.regions import normalise_code
from lianbo.protocol.alerts import TIERS, push_body
from lianbo.protocol.messages import Message

# Most severe first; an alert's severity is that of its most severe info.
SEVERITY_ORDER = (
    Severity.EXTREME,
    Severity.SEVERE,
    Severity.MODERATE,
    Severity.MINOR,
    Severity.UNKNOWN,
)


@dataclass(frozen=True, slots=True)
class Signed:
    """A notice as signed: its canonical JSON text, signature and key."""

    notice: str
    signature: str
    key_id: str

    def push(self, kind: str, alert_id: str, sent_at: float) -> Message:
        """The ``alert`` / ``alert-cancel`` push; ``id`` and ``sent_at``
        (server epoch seconds) ride beside the signed notice for routing
        and latency measurement only (players trust the notice alone)."""
        body = push_body(self.notice.encode("utf-8"), self.signature, self.key_id)
        return Message(kind, body | {"id": alert_id, "sent_at": sent_at})


def sign(signer: Signer, notice: dict[str, Any]) -> Signed:
    data = canonical_json(notice)
    return Signed(data.decode("utf-8"), signer.sign(data), signer.key_id)


def severity_of(alert: Alert) -> Severity:
    """The most severe info block's severity (Unknown without any)."""
    found = {info.severity for info in alert.infos}
    return next((s for s in SEVERITY_ORDER if s in found), Severity.UNKNOWN)


def level_of(severity: Severity) -> tuple[int, str]:
    """(level 1..4, colour); Unknown shows as the lowest level (IV, blue)."""
    level = warning_level(severity)
    return (level.rank, level.colour) if level else (4, "blue")


def event_of(alert: Alert) -> str:
    return alert.infos[0].event if alert.infos else alert.msg_type.value


def distinct_areas(alert: Alert) -> list[Area]:
    """Every area once (info blocks in several languages repeat them)."""
    seen: dict[tuple[Any, ...], Area] = {}
    for area in alert.areas():
        seen.setdefault((area.polygons, area.circles, area.region_codes()), area)
    return list(seen.values())


def area_json(alert: Alert) -> dict[str, Any]:
    """The union of the areas as the notice carries it."""
    regions: dict[str, None] = {}
    polygons: list[list[list[float]]] = []
    circles: list[dict[str, float]] = []
    for area in distinct_areas(alert):
        regions.update(dict.fromkeys(area.region_codes()))
        polygons += [[[lat, lon] for lat, lon in ring] for ring in area.polygons]
        circles += [{"lat": c.lat, "lon": c.lon, "radius_km": c.radius_km} for c in area.circles]
    return {"regions": list(regions), "polygons": polygons, "circles": circles}


def areas_from_json(area: dict[str, Any]) -> list[Area]:
    """The stored area as domain areas (one per kind), for targeting."""
    return [
        Area(
            area_desc="notice",
            polygons=tuple(tuple((p[0], p[1]) for p in ring) for ring in area.get("polygons", [])),
            circles=tuple(
                Circle(c["lat"], c["lon"], c["radius_km"]) for c in area.get("circles", [])
            ),
            geocodes=tuple(("GB/T2260", normalise_code(r)) for r in area.get("regions", [])),
        )
    ]


def texts_of(alert: Alert) -> dict[str, dict[str, str]]:
    """Headline, description and instruction per language."""
    texts: dict[str, dict[str, str]] = {}
    for info in alert.infos:
        texts.setdefault(
            info.language,
            {
                "headline": info.headline or info.event,
                "description": info.description or "",
                "instruction": info.instruction or "",
            },
        )
    return texts


def resources_of(alert: Alert) -> list[dict[str, Any]]:
    """Audio and images the players may fetch (first occurrence of each URI)."""
    found: dict[str, dict[str, Any]] = {}
    for info in alert.infos:
        for r in info.resources:
            if r.uri and r.uri not in found:
                found[r.uri] = {
                    "mime_type": r.mime_type,
                    "url": r.uri,
                    "sha256": r.digest if r.digest and len(r.digest) == 64 else None,
                    "size": r.size,
                }
    return list(found.values())


def onset_of(alert: Alert) -> datetime | None:
    found = [i.onset for i in alert.infos if i.onset is not None]
    return min(found) if found else None


def display_modes(settings: Settings, severity: str) -> dict[str, str]:
    """Banner where settings say so for this severity, takeover elsewhere."""
    banner = settings.alert_banner_severities
    return {tier: "banner" if severity in banner.get(tier, []) else "takeover" for tier in TIERS}


def alert_notice(
    *,
    alert_id: str,
    revision: int,
    replaces: list[str],
    alert: Alert,
    expires: datetime,
    settings: Settings,
) -> dict[str, Any]:
    """The notice of an Alert or Update (protocol.alerts)."""
    severity = severity_of(alert)
    level, colour = level_of(severity)
    onset = onset_of(alert)
    return {
        "kind": "alert",
        "id": alert_id,
        "revision": revision,
        "replaces": replaces,
        "status": alert.status.value,
        "msg_type": alert.msg_type.value,
        "severity": severity.value,
        "level": level,
        "colour": colour,
        "event": event_of(alert),
        "texts": texts_of(alert),
        "area": area_json(alert),
        "display": display_modes(settings, severity.value),
        "resources": resources_of(alert),
        "sent": alert.sent.isoformat(),
        "onset": onset.isoformat() if onset else None,
        "expires": expires.isoformat(),
    }


def cancel_notice(alert_id: str, at: datetime) -> dict[str, Any]:
    return {"kind": "cancel", "id": alert_id, "cancelled_at": at.isoformat()}


def stored_push(
    kind: str, alert_id: str, notice: str, signature: str, key_id: str
) -> dict[str, Any]:
    """A stored notice as the body ``GET /terminal/v1/alerts`` lists."""
    body = push_body(notice.encode("utf-8"), signature, key_id)
    return {"type": kind, "id": alert_id, **body}
