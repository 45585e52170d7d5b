"""Settings: the media dir (LIANBO_MEDIA_DIR) and its default."""

from __future__ import annotations

from pathlib import Path

import pytest

from lianbo.config import Settings


def test_media_lives_in_the_data_dir_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIANBO_MEDIA_DIR", raising=False)
    monkeypatch.delenv("LIANBO_DATA_DIR", raising=False)
    assert Settings().media_dir == Path("lianbo-data/media")
    assert Settings(data_dir=Path("/srv/lianbo")).media_dir == Path("/srv/lianbo/media")
    monkeypatch.setenv("LIANBO_DATA_DIR", "/var/lib/lianbo")
    assert Settings().media_dir == Path("/var/lib/lianbo/media")


def test_media_dir_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANBO_DATA_DIR", "/var/lib/lianbo")
    monkeypatch.setenv("LIANBO_MEDIA_DIR", "/mnt/shared/media")
    assert Settings().media_dir == Path("/mnt/shared/media")


def test_media_dir_from_the_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIANBO_MEDIA_DIR", raising=False)
    config = tmp_path / "lianbo.toml"
    config.write_text('data_dir = "/d"\nmedia_dir = "/nfs/media"\n', encoding="utf-8")
    assert Settings(config=config).media_dir == Path("/nfs/media")
    config.write_text('data_dir = "/d"\n', encoding="utf-8")
    assert Settings(config=config).media_dir == Path("/d/media")
