"""CAP severity → the four Chinese warning levels (预警级别)."""

from __future__ import annotations

from dataclasses import dataclass

from lianbo.domain.alerting.model import Severity


@dataclass(frozen=True, slots=True)
class WarningLevel:
    """One of the four levels: I 红 red (most severe) to IV 蓝 blue."""

    rank: int
    numeral: str
    colour_zh: str
    colour: str

    @property
    def label_zh(self) -> str:
        """e.g. "I级 红色预警"."""
        return f"{self.numeral}级 {self.colour_zh}色预警"


RED = WarningLevel(1, "I", "红", "red")
ORANGE = WarningLevel(2, "II", "橙", "orange")
YELLOW = WarningLevel(3, "III", "黄", "yellow")
BLUE = WarningLevel(4, "IV", "蓝", "blue")

_BY_SEVERITY = {
    Severity.EXTREME: RED,
    Severity.SEVERE: ORANGE,
    Severity.MODERATE: YELLOW,
    Severity.MINOR: BLUE,
}


def warning_level(severity: Severity) -> WarningLevel | None:
    """The Chinese level for a CAP severity; ``None`` for Unknown."""
    return _BY_SEVERITY.get(severity)
