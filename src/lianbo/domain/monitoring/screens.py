"""Screenshot verdicts as alarm observations (verification → alarms).

Every verification reports on three conditions at once, so a screen that
goes back to normal clears its black, frozen and mismatch alarms. An
``unknown`` verdict (grey zone, nothing expected) is evidence for nothing:
it neither raises nor clears a content mismatch, but it does show the
screen is neither black nor frozen.
"""

from __future__ import annotations

from lianbo.domain.monitoring.alarms import AlarmType, Observation
from lianbo.domain.monitoring.verification import Verdict, Verification

_CONDITIONS = {
    Verdict.BLACK: AlarmType.BLACK,
    Verdict.FROZEN: AlarmType.FROZEN,
    Verdict.MISMATCH: AlarmType.CONTENT_MISMATCH,
}


def observations(result: Verification, terminal_id: str, tier: str) -> list[Observation]:
    """The observations one verification makes about ``terminal_id``."""
    evidence: dict[str, object] = {
        "verdict": result.verdict.value,
        "distance": result.distance,
        "at_s": result.at_s,
    }
    found: list[Observation] = []
    for verdict, kind in _CONDITIONS.items():
        if kind is AlarmType.CONTENT_MISMATCH and result.verdict is Verdict.UNKNOWN:
            continue
        active = result.verdict is verdict and result.alarming
        found.append(Observation(terminal_id, kind, active, tier, evidence))
    return found
