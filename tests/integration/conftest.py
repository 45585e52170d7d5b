"""Generated media for the media tests: made on first use, once per session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.media import factory
from tests.integration.media.signals import FONT
from tests.integration.migrations import empty_store
from tests.support.services import missing


class Media:
    """Lazily generated files: ``media.get("black_clip")`` runs the factory once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: dict[str, Path] = {}

    def get(self, name: str) -> Path:
        if name not in self._made:
            make: Callable[[Path], Path] = getattr(factory, name)
            self._made[name] = make(self.root)
        return self._made[name]


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return Media(tmp_path_factory.mktemp("media"))


@pytest.fixture
def cjk_font() -> Path:
    """The CJK font the text pictures need; skip (fail in CI) without it."""
    if not FONT.exists():
        missing(f"CJK font {FONT} missing (apt-get install fonts-wqy-microhei)")
    return FONT


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty store of each kind, for the migration tests."""
    async for found in empty_store(request, tmp_path):
        yield found
