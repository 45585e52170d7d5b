"""Alarm conditions a heartbeat's status reports: clock drift, a full cache,
a manifest signed by a key the screen has not pinned."""

from __future__ import annotations

from typing import Any

from lianbo.config import Settings
from lianbo.domain.monitoring.alarms import AlarmType, Observation
from lianbo.domain.monitoring.records import ScreenFacts
from lianbo.services.alarms import observation

STORAGE_FULL = "storage full"  # the player cache's reason (player/cache.py)


def status_observations(
    screen: ScreenFacts, status: dict[str, Any], settings: Settings
) -> list[Observation]:
    """What a heartbeat's status says about the screen's alarm conditions."""
    found = []
    offset = status.get("clock_offset_ms")
    if isinstance(offset, int | float) and not isinstance(offset, bool):
        drift = abs(offset) > settings.clock_drift_alarm_ms
        found.append(
            observation(
                screen.id,
                AlarmType.CLOCK_DRIFT,
                drift,
                screen.tier,
                {"clock_offset_ms": offset},
            )
        )
    cache = status.get("cache")
    if isinstance(cache, dict):
        failures = cache.get("failures")
        full = isinstance(failures, dict) and STORAGE_FULL in failures.values()
        used, budget = cache.get("bytes"), cache.get("budget")
        if isinstance(used, int) and isinstance(budget, int) and budget > 0:
            full = full or used > budget
        evidence = {"bytes": used, "budget": budget}
        found.append(observation(screen.id, AlarmType.STORAGE_LOW, full, screen.tier, evidence))
    if "untrusted_key" in status:  # players before key sets do not report it
        found.append(_untrusted(screen, status["untrusted_key"]))
    return found


def _untrusted(screen: ScreenFacts, report: object) -> Observation:
    """A screen refused a signature by a key it has not pinned (possibly a man
    in the middle re-signing manifests; ADR 0004): ``{key_id, reason, at}``."""
    if not isinstance(report, dict):
        return observation(screen.id, AlarmType.UNTRUSTED_KEY, False, screen.tier)
    evidence = {k: str(report.get(k, ""))[:64] for k in ("key_id", "reason", "at")}
    return observation(screen.id, AlarmType.UNTRUSTED_KEY, True, screen.tier, evidence)
