"""Geometry for alerts: server-side targeting and jurisdiction checks."""

from lianbo.adapters.geo.index import TerminalIndex, ring_polygon
from lianbo.adapters.geo.jurisdiction import (
    alert_warnings,
    area_warnings,
    check_alert_jurisdiction,
    check_area_jurisdiction,
)

__all__ = [
    "TerminalIndex",
    "alert_warnings",
    "area_warnings",
    "check_alert_jurisdiction",
    "check_area_jurisdiction",
    "ring_polygon",
]
