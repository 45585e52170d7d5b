"""Query parameters shared by list endpoints."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import AwareDatetime, BeforeValidator

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _rfc3339(value: object) -> object:
    """Only RFC 3339 text is a time: pydantic alone reads ``0.5`` as Unix seconds."""
    if isinstance(value, str) and not _DATE.match(value):
        raise ValueError("not a time: send RFC 3339, e.g. 2026-12-07T08:00:00+08:00")
    return value


Moment = Annotated[datetime, BeforeValidator(_rfc3339)]
"""A time in a query string; without an offset the route decides the zone."""
AwareMoment = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
"""A time in a query string, with its offset."""
