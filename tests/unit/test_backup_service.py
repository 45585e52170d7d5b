"""services/backup.py and services/restore.py over a fake store (the StoreDump port)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from lianbo.adapters.blobs import LocalBlobStore
from lianbo.adapters.keys import KeyRing
from lianbo.config import Settings
from lianbo.domain.backup import BackupRefused, StoreFacts
from lianbo.services.backup import backup
from lianbo.services.restore import check_backup, restore
from tests.support.clock import FakeClock

COUNTS = {"audit_log": 3, "terminals": 1}


class FakeDump:
    """A store whose snapshot is a few bytes; ``during`` runs while it is taken."""

    kind = "sqlite"

    def __init__(self, blobs: set[str], during: Callable[[], None] = lambda: None) -> None:
        self.blobs, self.during, self.loaded = frozenset(blobs), during, b""

    async def dump(self, target: Path) -> StoreFacts:
        self.during()
        await asyncio.to_thread(target.write_bytes, b"snapshot")
        return StoreFacts("0006", dict(COUNTS), self.blobs)

    async def is_empty(self) -> bool:
        return not self.loaded

    async def restore(self, source: Path) -> StoreFacts:
        self.loaded = await asyncio.to_thread(source.read_bytes)
        return StoreFacts("0006", dict(COUNTS), frozenset())

    async def discard(self) -> None:
        self.loaded = b""


def deployment(tmp_path: Path) -> tuple[Settings, list[str]]:
    """A data dir with a key, an anchor log and two media files."""
    settings = Settings(data_dir=tmp_path / "data")
    KeyRing(settings.keys_dir).ensure()
    (settings.data_dir / "audit-anchors.jsonl").write_text('{"seq": 10}\n')
    store = LocalBlobStore(settings.media_dir)
    shas = []
    for data in (b"first file", b"second file"):
        temp = store.temp_path()
        temp.write_bytes(data)
        shas.append(store.adopt(temp).sha256)
    return settings, shas


async def test_anchors_are_copied_before_the_snapshot_and_keys_after(tmp_path: Path) -> None:
    settings, shas = deployment(tmp_path)
    anchors = settings.data_dir / "audit-anchors.jsonl"

    def meanwhile() -> None:  # the server goes on while the snapshot is taken
        with anchors.open("a") as log:
            log.write('{"seq": 20}\n')  # names entries the snapshot may not hold
        KeyRing(settings.keys_dir).rotate()  # a key the snapshot's manifests may use

    dest = tmp_path / "b"
    made = await backup(settings, FakeDump(set(shas), meanwhile), dest, FakeClock())
    assert (dest / "audit-anchors.jsonl").read_text() == '{"seq": 10}\n'
    assert made.keys == 2 and len(list((dest / "keys").glob("*.pem"))) == 2
    assert (dest / "keys" / "active").read_text() == (settings.keys_dir / "active").read_text()


async def test_the_key_folder_round_trips_whole(tmp_path: Path) -> None:
    settings, shas = deployment(tmp_path)
    ring = KeyRing(settings.keys_dir)
    old = ring.ensure()
    ring.rotate()
    ring.retire(old)  # its private half goes; the public half and the signed set stay
    await backup(settings, FakeDump(set(shas)), tmp_path / "b", FakeClock())
    target = Settings(data_dir=tmp_path / "restored")
    await restore(target, FakeDump(set()), tmp_path / "b")
    assert files(target.keys_dir) == files(settings.keys_dir)
    assert KeyRing(target.keys_dir).current_set() == ring.current_set()
    assert KeyRing(target.keys_dir).retired() == [old]


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


async def test_a_damaged_media_file_is_left_out_listed_and_the_rest_restores(
    tmp_path: Path,
) -> None:
    settings, shas = deployment(tmp_path)
    gone = "f" * 64  # referenced, never stored
    damaged = LocalBlobStore(settings.media_dir).path(shas[0])
    damaged.write_bytes(b"rotted on disk")
    made = await backup(settings, FakeDump({*shas, gone}), tmp_path / "b", FakeClock())
    assert made.media.listed == 3
    assert set(made.media.missing) == {gone, shas[0]}
    assert not (tmp_path / "b" / "media" / shas[0][:2] / shas[0]).exists()
    assert check_backup(tmp_path / "b")[1] == sorted({*shas, gone})

    target = Settings(data_dir=tmp_path / "restored")
    store = FakeDump(set())
    await restore(target, store, tmp_path / "b")
    assert store.loaded == b"snapshot"
    restored = LocalBlobStore(target.media_dir)
    assert restored.path(shas[1]).read_bytes() == b"second file"
    assert not restored.exists(shas[0]) and not restored.exists(gone)
    assert (target.data_dir / "audit-anchors.jsonl").read_text() == '{"seq": 10}\n'
    assert {oct(p.stat().st_mode & 0o777) for p in target.keys_dir.iterdir()} == {"0o600"}


async def test_a_backup_of_another_store_kind_is_refused(tmp_path: Path) -> None:
    settings, shas = deployment(tmp_path)
    await backup(settings, FakeDump(set(shas)), tmp_path / "b", FakeClock())
    other = FakeDump(set())
    other.kind = "postgresql"
    with pytest.raises(BackupRefused) as refused:
        await restore(Settings(data_dir=tmp_path / "r"), other, tmp_path / "b")
    assert refused.value.message == (
        "this is a backup of a SQLite store; the settings name a PostgreSQL one"
    )
    assert not (tmp_path / "r").exists()
