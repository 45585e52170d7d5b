"""Console routes (filled in by the console module)."""

from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    """Add the console's pages and static files to ``app``."""
