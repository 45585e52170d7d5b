"""Benchmark ``alerts_core``: alert targeting and CAP import speed.

Targets (issue "Emergency alerts"): targeting a 200-polygon area of 20,000
vertices over 1,000,000 terminal positions in ≤ 200 ms; CAP import of a
~1 MB message in 9 languages in ≤ 100 ms. The terminal index is built once
per fleet snapshot (reported separately); the query is what an alert pays.
For comparison the run also times an STRtree over the polygons queried with
the terminal points (point geometries built beforehand, not timed).
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import shapely

from lianbo.adapters.cap import parse_cap, to_cap_xml
from lianbo.adapters.geo import TerminalIndex, ring_polygon
from lianbo.domain.alerting.model import (
    Alert,
    Area,
    Category,
    Certainty,
    Circle,
    Info,
    MsgType,
    Scope,
    Severity,
    Status,
    Urgency,
)

DEFAULT_SIZE = 1_000_000
BOX = (26.0, 34.0, 97.5, 108.5)  # Sichuan-ish: lat_min, lat_max, lon_min, lon_max
LANGUAGES = ("zh-CN", "en-US", "bo", "ii", "ug", "mn", "ko", "ja", "fr")
CST = timezone(timedelta(hours=8))
T = TypeVar("T")


def _ms(action: Callable[[], T], repeats: int) -> tuple[float, float, T]:
    """Median and worst wall time in ms over ``repeats`` runs, and the result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2), round(max(times), 2), result


def _star(
    rng: np.random.Generator, vertices: int, radius: float
) -> tuple[tuple[float, float], ...]:
    lat0 = rng.uniform(BOX[0] + 1, BOX[1] - 1)
    lon0 = rng.uniform(BOX[2] + 1, BOX[3] - 1)
    angles = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    radii = radius * rng.uniform(0.6, 1.0, vertices)
    ring = [
        (float(lat0 + r * math.sin(a)), float(lon0 + r * math.cos(a)))
        for a, r in zip(angles, radii, strict=True)
    ]
    return (*ring, ring[0])


def polygons_area(polygons: int = 200, vertices: int = 20_000, seed: int = 1) -> Area:
    """One area of ``polygons`` star-shaped rings with ``vertices`` in total."""
    rng = np.random.default_rng(seed)
    per = vertices // polygons - 1  # the closing point repeats the first
    rings = tuple(_star(rng, per, float(rng.uniform(0.05, 0.4))) for _ in range(polygons))
    return Area("bench", polygons=rings)


def fleet(size: int, seed: int = 2) -> TerminalIndex:
    """``size`` random terminals across the box, in 183 counties."""
    rng = np.random.default_rng(seed)
    lats = rng.uniform(BOX[0], BOX[1], size)
    lons = rng.uniform(BOX[2], BOX[3], size)
    counties = np.array([f"51{c:02d}{d:02d}" for c in range(1, 22) for d in range(1, 10)])
    regions = counties[rng.integers(0, len(counties), size)]
    return TerminalIndex([f"t{i}" for i in range(size)], lats, lons, regions.tolist())


def big_alert(target_bytes: int = 1_000_000, seed: int = 3, *, distinct: bool = False) -> Alert:
    """A CAP alert of about ``target_bytes`` in 9 languages, mostly polygons.

    Real multi-language messages repeat the same areas in every info block;
    ``distinct`` gives each language its own polygons (the reader's worst case).
    """
    rng = np.random.default_rng(seed)
    per_info = target_bytes // len(LANGUAGES)
    shared = tuple(_star(rng, 249, 0.2) for _ in range(per_info // 10_000))

    def rings() -> tuple[tuple[tuple[float, float], ...], ...]:
        return tuple(_star(rng, 249, 0.2) for _ in shared) if distinct else shared

    sent = datetime(2026, 7, 10, 14, tzinfo=CST)
    infos = tuple(
        Info(
            (Category.MET,),
            "暴雨",
            Urgency.IMMEDIATE,
            Severity.EXTREME,
            Certainty.OBSERVED,
            language,
            headline="暴雨红色预警",
            description="预计降雨量将达100毫米以上。" * 100,
            expires=sent + timedelta(hours=6),
            areas=(
                Area(
                    "四川",
                    polygons=rings(),
                    circles=(Circle(30.66, 104.06, 10.0),),
                    geocodes=(("GB/T2260", "510100"),),
                ),
            ),
        )
        for language in LANGUAGES
    )
    return Alert(
        "BENCH-1", "bench@lianbo", sent, Status.TEST, MsgType.ALERT, Scope.PUBLIC, infos=infos
    )


def _targeting(size: int, repeats: int, compare_strtree: bool) -> dict[str, Any]:
    area = polygons_area()
    start = time.perf_counter()
    index = fleet(size)
    build_ms = round((time.perf_counter() - start) * 1000, 1)
    median, worst, mask = _ms(lambda: index.target_mask([area]), repeats)
    circles = Area(
        "circles", circles=tuple(Circle(30 + i * 0.1, 100 + i * 0.3, 5 + i) for i in range(20))
    )
    circle_ms, _, _ = _ms(lambda: index.target_mask([circles]), repeats)
    ids_ms, _, ids = _ms(lambda: index.target_ids([area]), 1)
    figures: dict[str, Any] = {
        "terminals": size,
        "polygons": len(area.polygons),
        "vertices": sum(len(r) for r in area.polygons),
        "index_build_ms": build_ms,
        "targeting_ms": median,
        "targeting_max_ms": worst,
        "targeted": int(np.count_nonzero(mask)),
        "targeting_with_ids_ms": ids_ms,
        "circles_20_ms": circle_ms,
    }
    assert isinstance(ids, list) and len(ids) == figures["targeted"]
    if compare_strtree:
        figures["strtree_query_ms"] = _strtree(index, area, size)
    return figures


def _strtree(index: TerminalIndex, area: Area, size: int) -> float:
    rng = np.random.default_rng(2)
    lats, lons = rng.uniform(BOX[0], BOX[1], size), rng.uniform(BOX[2], BOX[3], size)
    points = shapely.points(lons, lats)
    tree = shapely.STRtree([ring_polygon(r) for r in area.polygons])
    median, _, _ = _ms(lambda: tree.query(points, predicate="intersects"), 1)
    return median


def _cap_import(repeats: int) -> dict[str, Any]:
    document = to_cap_xml(big_alert())
    median, worst, parsed = _ms(lambda: parse_cap(document), repeats)
    assert isinstance(parsed, Alert) and len(parsed.infos) == len(LANGUAGES)
    export_ms, _, _ = _ms(lambda: to_cap_xml(parsed), repeats)
    distinct = to_cap_xml(big_alert(distinct=True))
    distinct_ms, _, _ = _ms(lambda: parse_cap(distinct), repeats)
    return {
        "cap_bytes": len(document),
        "cap_languages": len(parsed.infos),
        "cap_import_ms": median,
        "cap_import_max_ms": worst,
        "cap_export_ms": export_ms,
        "cap_distinct_bytes": len(distinct),
        "cap_import_distinct_polygons_ms": distinct_ms,
    }


def run(size: int, data_dir: Path | None = None, **options: Any) -> dict[str, Any]:
    """Run both measurements; ``repeats`` (5) and ``compare_strtree`` options."""
    repeats = int(options.get("repeats", 5))
    compare = bool(options.get("compare_strtree", True))
    return {
        "bench": "alerts_core",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        **_targeting(size, repeats, compare),
        **_cap_import(repeats),
        "target_targeting_ms": 200,
        "target_cap_import_ms": 100,
    }
