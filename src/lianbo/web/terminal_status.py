"""A terminal's live state as the console shows it, from its status report.

The report is what the screen said about itself (``protocol.reports
.STATUS_KEYS``): untrusted, free-form JSON. Everything here reads it
leniently — a missing or odd value shows as "—", never as an error page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lianbo.domain.ports import FleetChannel
from lianbo.domain.terminals import Terminal
from lianbo.services import asset_reads
from lianbo.services.commands import SentCommand, latest_status, recent_commands
from lianbo.services.context import UnitOfWork

FAILURES_SHOWN = 5
# Refusal reasons the player reports (player/fetch.py, protocol/manifest.py)
# that have console wording; others are shown as the player wrote them.
KNOWN_REJECTIONS = frozenset(
    {
        "unsigned",
        "unknown key",
        "bad signature",
        "version mismatch",
        "expired",
        "not yet valid",
        "audience mismatch",
        "malformed",
    }
)


@dataclass(frozen=True, slots=True)
class Showing:
    asset_id: str
    name: str  # the asset's name, or a short sha256 when unknown here
    since: datetime | None
    blank: str = ""  # why the screen shows nothing, when it does


@dataclass(frozen=True, slots=True)
class Cache:
    used: int | None
    budget: int | None
    files: int | None
    failures: list[tuple[str, str]]  # (short sha256, reason)
    failed: int


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str
    key: str  # message key when the reason is a known one, else ""
    detail: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class LiveState:
    """Everything the live card shows."""

    connected: bool  # holds a push connection to this server process now
    reported_at: datetime | None
    showing: Showing | None
    manifest_version: str
    valid_until: datetime | None
    rejected: Rejected | None
    cache: Cache | None
    clock_offset_ms: float | None
    push: str
    backend: str
    commands: list[SentCommand]


async def live_state(uow: UnitOfWork, fleet: FleetChannel, terminal: Terminal) -> LiveState:
    """The live card's facts for a terminal the console may see."""
    report = await latest_status(uow, terminal.id)
    status = report.status if report else {}
    return LiveState(
        connected=terminal.id in fleet.online(),
        reported_at=report.reported_at if report else None,
        showing=await _showing(uow, status.get("showing")),
        manifest_version=_text(status.get("manifest_version")),
        valid_until=_time(status.get("manifest_valid_until")),
        rejected=_rejected(status.get("rejected")),
        cache=_cache(status.get("cache")),
        clock_offset_ms=_number(status.get("clock_offset_ms")),
        push=_text(status.get("push")),
        backend=_text(status.get("backend")),
        commands=await recent_commands(uow, terminal.id),
    )


async def _showing(uow: UnitOfWork, value: Any) -> Showing | None:
    if not isinstance(value, dict):
        return None
    if value.get("blank"):
        return Showing("", "", None, blank=_text(value["blank"]))
    asset_id = _text(value.get("asset_id"))
    asset = await asset_reads.find(uow, asset_id) if asset_id else None
    name = asset.name if asset else _text(value.get("sha256"))[:12]
    return Showing(asset_id, name, _time(value.get("since")))


def _rejected(value: Any) -> Rejected | None:
    if not isinstance(value, dict) or not value.get("reason"):
        return None
    reason = _text(value["reason"])
    key = "rejected." + reason.replace(" ", "_") if reason in KNOWN_REJECTIONS else ""
    return Rejected(reason, key, _text(value.get("detail"))[:200], _time(value.get("at")))


def _cache(value: Any) -> Cache | None:
    if not isinstance(value, dict):
        return None
    raw = value.get("failures")
    failures = raw if isinstance(raw, dict) else {}
    shown = [(str(k)[:12], _text(v)[:120]) for k, v in list(failures.items())[:FAILURES_SHOWN]]
    failed = _number(value.get("failed"))
    return Cache(
        used=_integer(value.get("bytes")),
        budget=_integer(value.get("budget")),
        files=_integer(value.get("files")),
        failures=shown,
        failed=int(failed) if failed is not None else len(failures),
    )


def _text(value: Any) -> str:
    return value[:200] if isinstance(value, str) else ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _integer(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
