"""What monitoring stores and shows of a screen: its facts and latest screenshot.

Plain records the store returns and the console and API read; they live in
the domain so pages name them without reaching into the store's adapters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ScreenFacts:
    """The terminal facts monitoring labels its records with."""

    id: str
    name: str
    tier: str
    region: str
    status: str


@dataclass(frozen=True, slots=True)
class Screenshot:
    """The latest screenshot of a terminal and its verdict."""

    terminal_id: str
    sha256: str
    media_type: str
    taken_at: datetime
    received_at: datetime
    source: str
    verdict: str
    distance: int | None
    phash: int
    expected: dict[str, Any] | None
