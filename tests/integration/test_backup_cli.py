"""``lianbo backup`` and ``lianbo restore`` as an operator runs them, on both stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lianbo.config import Settings
from lianbo.services.audit_anchoring import anchor
from tests.integration.backup_helpers import empty_target, flip_a_byte, on_air
from tests.support.env import Env

pytestmark = pytest.mark.integration

LIANBO = str(Path(sys.executable).with_name("lianbo"))


def lianbo(*args: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIANBO_")}
    env |= {"LIANBO_DATA_DIR": str(settings.data_dir), "COLUMNS": "200"}
    if settings.database_url:
        env["LIANBO_DATABASE_URL"] = settings.database_url
    return subprocess.run([LIANBO, *args], capture_output=True, text=True, env=env, timeout=300)


def sha256sum_agrees(folder: Path) -> bool:
    checked = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=folder, check=False)
    return checked.returncode == 0


async def test_backup_restore_then_audit_verify(env: Env, tmp_path: Path) -> None:
    await on_air(env)
    assert await anchor(env.container, final=True)
    anchors = env.container.settings.audit_anchor_path
    whole = anchors.read_text()
    with anchors.open("a") as log:
        log.write('{"seq": 99, "half-writ')  # a line being appended as the backup reads
    dest = tmp_path / "backup"
    made = lianbo("backup", str(dest), settings=env.container.settings)
    assert made.returncode == 0, made.stderr
    phases = [line for line in made.stdout.splitlines() if line.startswith("backup: ")]
    assert phases[:2] == ["backup: audit anchors", "backup: database snapshot"]
    assert "backup written to" in made.stdout
    assert oct(dest.stat().st_mode & 0o777) == "0o700"
    assert {oct(p.stat().st_mode & 0o777) for p in (dest / "keys").iterdir()} == {"0o600"}
    assert sha256sum_agrees(dest)  # coreutils can check a backup too
    checked = lianbo("restore", str(dest), "--check", settings=env.container.settings)
    assert checked.returncode == 0 and "complete and intact" in checked.stdout

    target = await empty_target(env, tmp_path)
    restored = lianbo("restore", str(dest), settings=target)
    assert restored.returncode == 0, restored.stderr
    verified = lianbo("audit", "verify", settings=target)
    assert verified.returncode == 0, verified.stderr
    assert "audit chain ok" in verified.stdout and "anchors agree: 1" in verified.stdout
    assert target.audit_anchor_path.read_text() == whole
    manifest = json.loads((dest / "backup.json").read_text())
    assert manifest["store"] == ("sqlite" if env.backend == "sqlite" else "postgresql")

    again = lianbo("restore", str(dest), settings=target)
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"error: data dir {target.data_dir} is not empty: restore only into an empty one"
    )


async def test_a_damaged_backup_is_one_line_and_a_second_backup_refused(
    env: Env, tmp_path: Path
) -> None:
    dest = tmp_path / "backup"
    made = lianbo("backup", str(dest), "--no-media", settings=env.container.settings)
    assert made.returncode == 0, made.stderr  # (once failed under load, output unseen)
    database = next(dest.glob("database.*"))
    flip_a_byte(database)
    target = await empty_target(env, tmp_path)
    refused = lianbo("restore", str(dest), settings=target)
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.strip() == (
        f"error: {database.name} is damaged (its sha256 does not match SHA256SUMS)"
    )
    assert not target.data_dir.exists()
    over = lianbo("backup", str(dest), settings=env.container.settings)
    assert over.returncode == 1, over.stderr
    assert over.stderr.strip() == f"error: {dest} already exists and is not an empty folder"
