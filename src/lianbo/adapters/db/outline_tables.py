"""Region outlines an admin loaded (``lianbo regions outlines load``).

Kept apart from ``tables.py`` (same ``Base``, one metadata). The outlines
that ship with the package are not rows: they are a file in the package
(``adapters/geo/outlines.py``); a row here overrides or adds to them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lianbo.adapters.db.tables import Base


class RegionOutlineRow(Base):
    __tablename__ = "region_outlines"

    # Short-form GB/T 2260 code (2..12 digits), so a subtree is a range scan.
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    geometry: Mapped[dict[str, Any]]  # GeoJSON geometry, lon/lat (WGS 84 / GCJ-02 as loaded)
    loaded_at: Mapped[datetime]
    loaded_by: Mapped[str] = mapped_column(String(64))
