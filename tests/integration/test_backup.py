"""Backup under write load, restore into an empty deployment, on both stores."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap, store_dump
from lianbo.config import Settings
from lianbo.domain.backup import BackupFailed, BackupRefused, TargetNotEmpty
from lianbo.services.audit_anchoring import anchor, verify
from lianbo.services.backup import backup
from lianbo.services.restore import restore
from tests.integration.backup_helpers import empty_target, flip_a_byte, on_air
from tests.support.clock import FakeClock
from tests.support.content import png, upload
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def audit_count(env: Env) -> int:
    async with env.container.uow() as uow:
        return (await uow.audit.head())[0]


async def test_a_backup_under_writes_restores_whole(env: Env, tmp_path: Path) -> None:
    admin, operator, token = await on_air(env)
    before = await env.client.get("/terminal/v1/manifest", headers=token)
    assert before.status_code == 200
    first = await audit_count(env)
    started, done = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        """Control acts and uploads from before the snapshot until after it."""
        while not done.is_set():
            await env.terminal(admin)
            assert (await upload(env, operator, png())).status_code == 201
            assert await anchor(env.container, final=True)  # the anchor log grows too
            started.set()

    writing = asyncio.create_task(writer())
    await started.wait()
    settings = env.container.settings
    try:
        manifest = await backup(settings, store_dump(settings), tmp_path / "b", env.clock)
    finally:
        done.set()
        await writing
    last = await audit_count(env)

    target = await empty_target(env, tmp_path)
    restored = await restore(target, store_dump(target), tmp_path / "b")
    assert restored == manifest
    container = bootstrap(target, clock=FakeClock(env.clock.now()))
    try:
        report = await verify(container)
        async with container.uow() as uow:
            head = (await uow.audit.head())[0]
        assert report.ok, report.reason
        assert report.anchors >= 1 and report.anchored_seq <= head  # no anchor past the copy
        assert first < head <= last  # one moment among the writes
        assert manifest.counts["audit_log"] == head
        listed = (tmp_path / "b" / "media.txt").read_text().split()
        assert len(listed) == manifest.media.listed >= 3  # asset, screenshot, an upload
        for sha in listed:
            data = container.blobs.path(sha).read_bytes()
            assert hashlib.sha256(data).hexdigest() == sha
        assert names(target.keys_dir) == names(env.container.settings.keys_dir)
        after = await manifest_of(container, token)
        assert after == before.text  # the same signed bytes
    finally:
        await container.close()


async def manifest_of(container: Any, token: dict[str, str]) -> str:
    app = create_app(container=container)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lianbo.test") as client:
        response = await client.get("/terminal/v1/manifest", headers=token)
        assert response.status_code == 200, response.text
        return response.text


@pytest.fixture
async def made(env: Env, tmp_path: Path) -> Path:
    await on_air(env)
    settings = env.container.settings
    await backup(settings, store_dump(settings), tmp_path / "made", env.clock)
    return tmp_path / "made"


def database_file(folder: Path) -> Path:
    return next(folder.glob("database.*"))


def first_media(folder: Path) -> Path:
    return next(p for p in (folder / "media").rglob("*") if p.is_file())


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


DAMAGE = {
    "SHA256SUMS is missing": lambda b: (b / "SHA256SUMS").unlink(),
    "keys/active is missing from the backup": lambda b: (b / "keys" / "active").unlink(),
    "is missing from the backup": lambda b: first_media(b).unlink(),
    "is damaged (its sha256 does not match SHA256SUMS)": lambda b: flip_a_byte(database_file(b)),
    "is damaged": lambda b: flip_a_byte(first_media(b)),
    "backup.json is damaged": lambda b: flip_a_byte(b / "backup.json"),
    "(the active signing key) is missing": lambda b: unlist(next((b / "keys").glob("*.pem"))),
}


def unlist(path: Path) -> None:
    """Delete a file and its line in SHA256SUMS, as a careless copy might."""
    folder = path.parent.parent
    sums = folder / "SHA256SUMS"
    name = path.relative_to(folder).as_posix()
    kept = [line for line in sums.read_text().splitlines() if not line.endswith(f"  {name}")]
    sums.write_text("".join(f"{line}\n" for line in kept))
    path.unlink()


async def test_a_damaged_backup_is_refused_and_nothing_changes(
    env: Env, made: Path, tmp_path: Path
) -> None:
    for number, (message, damage) in enumerate(DAMAGE.items()):  # damaged copies of one backup
        copy = tmp_path / f"damaged-{number}"
        shutil.copytree(made, copy)
        damage(copy)
        target = await empty_target(env, tmp_path)
        with pytest.raises(BackupRefused) as refused:
            await restore(target, store_dump(target), copy)
        assert message in refused.value.message and "\n" not in refused.value.message
        assert not target.data_dir.exists()
        assert await store_dump(target).is_empty()


def rewrite(path: Path, data: bytes) -> None:
    """Change a file and its line in SHA256SUMS to match (a consistent forgery)."""
    folder = path.parent
    sums = folder / "SHA256SUMS"
    old, new = hashlib.sha256(path.read_bytes()).hexdigest(), hashlib.sha256(data).hexdigest()
    sums.write_text(sums.read_text().replace(f"{old}  {path.name}", f"{new}  {path.name}"))
    path.write_bytes(data)


async def test_a_restore_that_fails_half_way_leaves_the_target_empty(
    env: Env, made: Path, tmp_path: Path
) -> None:
    manifest = json.loads((made / "backup.json").read_text())
    manifest["counts"]["terminals"] += 1
    rewrite(made / "backup.json", json.dumps(manifest).encode())
    target = await empty_target(env, tmp_path)
    with pytest.raises(BackupFailed, match="restored table terminals has 1 rows, the backup 2"):
        await restore(target, store_dump(target), made)
    assert not target.data_dir.exists()
    assert await store_dump(target).is_empty()


async def test_a_restore_refuses_a_data_dir_or_database_in_use(
    env: Env, made: Path, tmp_path: Path
) -> None:
    target = await empty_target(env, tmp_path)
    target.data_dir.mkdir()
    (target.data_dir / "notes.txt").write_text("mine")
    with pytest.raises(TargetNotEmpty, match="is not empty"):
        await restore(target, store_dump(target), made)
    assert names(target.data_dir) == ["notes.txt"]
    if env.backend == "postgres":  # an empty data dir, but the test's own (full) database
        in_use = Settings(
            data_dir=tmp_path / "fresh", database_url=env.container.settings.database_url
        )
        with pytest.raises(TargetNotEmpty, match="the database is not empty"):
            await restore(in_use, store_dump(in_use), made)
        assert not in_use.data_dir.exists()


async def test_a_backup_without_media_lists_them_and_restores(env: Env, tmp_path: Path) -> None:
    await on_air(env)
    settings = env.container.settings
    manifest = await backup(settings, store_dump(settings), tmp_path / "b", env.clock, media=False)
    assert not manifest.media.included and manifest.media.listed >= 2
    assert not (tmp_path / "b" / "media").exists()
    assert len((tmp_path / "b" / "media.txt").read_text().split()) == manifest.media.listed
    target = await empty_target(env, tmp_path)
    await restore(target, store_dump(target), tmp_path / "b")
    assert (target.data_dir / "keys" / "active").is_file()


async def test_a_backup_never_overwrites_and_leaves_nothing_half_written(
    env: Env, tmp_path: Path
) -> None:
    settings = env.container.settings
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old").write_text("keep")
    with pytest.raises(BackupRefused, match="already exists and is not an empty folder"):
        await backup(settings, store_dump(settings), tmp_path / "full", env.clock)
    shutil.rmtree(settings.keys_dir)
    with pytest.raises(BackupRefused, match="no signing keys"):
        await backup(settings, store_dump(settings), tmp_path / "b", env.clock)
    assert names(tmp_path) == ["data", "full"]  # no half-written backup left behind
