"""Audit anchoring on both stores: anchors are written every N entries and
every T minutes, and a chain cut short behind its anchors no longer verifies."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from lianbo.adapters.db.tables import AuditHeadRow, AuditRow
from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from lianbo.domain.users import SYSTEM
from lianbo.services import audit, audit_anchoring
from tests.support.env import PASSWORD, Env

pytestmark = pytest.mark.integration

LIANBO = str(Path(sys.executable).with_name("lianbo"))


async def act(env: Env, count: int = 1, action: str = "test.act") -> None:
    """Append ``count`` control acts to the chain (committed)."""
    async with env.container.uow() as uow:
        for _ in range(count):
            await audit.record(uow, env.clock, SYSTEM, action, ("thing", "t1"), region="51")
        await uow.commit()


def anchored(env: Env) -> list[int]:
    path = env.container.settings.audit_anchor_path
    if not path.exists():
        return []
    return [json.loads(line)["seq"] for line in path.read_text().splitlines()]


async def rewind(env: Env, to: int) -> None:
    """What an intruder with the database does: delete the newest rows and
    point the head at the entry before them, so the chain alone verifies."""
    async with env.container.uow() as uow:
        await uow.session.execute(delete(AuditRow).where(AuditRow.seq > to))
        digest = await uow.session.scalar(select(AuditRow.hash).where(AuditRow.seq == to))
        if digest is None:
            await uow.session.execute(delete(AuditHeadRow))
        else:
            await uow.session.execute(update(AuditHeadRow).values(seq=to, hash=digest))
        await uow.commit()


async def test_an_anchor_is_written_every_n_entries(env: Env) -> None:
    env.container.settings.audit_anchor_every = 3
    assert await audit_anchoring.anchor(env.container) is None  # an empty chain: nothing
    await act(env)
    assert await audit_anchoring.anchor(env.container) is not None  # the first: at once
    await act(env, 2)
    assert await audit_anchoring.anchor(env.container) is None
    await act(env)
    await audit_anchoring.anchor(env.container)
    assert anchored(env) == [1, 4]
    line = json.loads(env.container.settings.audit_anchor_path.read_text().splitlines()[-1])
    assert line["key_id"] == (await env.container.keys.signer()).key_id and line["signature"]


async def test_an_anchor_is_written_every_t_minutes_while_the_chain_grows(env: Env) -> None:
    await act(env)
    await audit_anchoring.anchor(env.container)
    await act(env)
    env.clock.advance(minutes=4, seconds=59)
    assert await audit_anchoring.anchor(env.container) is None
    env.clock.advance(seconds=1)
    written = await audit_anchoring.anchor(env.container)
    assert written is not None and written.at == env.clock.now()
    env.clock.advance(minutes=60)  # an idle chain adds no lines
    assert await audit_anchoring.anchor(env.container) is None
    assert anchored(env) == [1, 2]


async def test_a_healthy_chain_with_newer_entries_than_its_last_anchor_verifies(
    env: Env,
) -> None:
    await act(env, 10)
    await audit_anchoring.anchor(env.container)
    await act(env, 5)
    admin = await env.as_role()
    report = (await env.client.get("/api/v1/audit/verify", headers=admin)).json()
    assert report == {
        "ok": True,
        "checked": 17,  # 15 acts, the admin's creation and login
        "broken_seq": None,
        "reason": None,
        "anchors": 1,
        "anchored_seq": 10,
    }


async def test_truncating_and_rewinding_the_head_is_caught_from_the_first_missing_entry(
    env: Env,
) -> None:
    await act(env, 10)
    await audit_anchoring.anchor(env.container)
    await act(env, 5)
    await rewind(env, 7)
    async with env.container.uow() as uow:
        assert (await audit.verify(uow)).ok  # the chain alone cannot tell
    report = await audit_anchoring.verify(env.container)
    assert not report.ok and report.broken_seq == 8
    assert report.reason is not None
    assert report.reason.startswith("entries 8-10 are missing: the anchor of ")
    assert report.reason.endswith("signed seq 10 but the chain ends at 7")


async def test_deleting_everything_is_caught(env: Env) -> None:
    await act(env, 4)
    await audit_anchoring.anchor(env.container)
    await rewind(env, 0)
    report = await audit_anchoring.verify(env.container)
    assert report.broken_seq == 1 and report.checked == 0
    assert report.reason is not None and report.reason.endswith("but the chain is empty")


async def test_a_rewound_and_rewritten_chain_is_caught(env: Env) -> None:
    await act(env, 10)
    await audit_anchoring.anchor(env.container)
    await rewind(env, 6)
    env.clock.advance(minutes=1)
    await act(env, 8, action="test.rewritten")  # seq 7..14 again, other content
    report = await audit_anchoring.verify(env.container)
    assert report.broken_seq == 1  # no earlier anchor vouches for entries 1-6
    assert report.reason is not None
    assert report.reason.startswith("entries 1-10 differ from the anchored chain: the anchor of ")


async def test_a_tampered_or_forged_anchor_line_is_reported(env: Env) -> None:
    await act(env, 3)
    await audit_anchoring.anchor(env.container)
    path = env.container.settings.audit_anchor_path
    genuine = json.loads(path.read_text())
    tampered = genuine | {"seq": 2}
    path.write_text(json.dumps(tampered) + "\n")
    report = await audit_anchoring.verify(env.container)
    assert not report.ok and report.broken_seq is None and report.anchors == 0
    assert report.reason == (
        "anchor line 1 is not signed by a control-centre key (forged or altered)"
    )
    path.write_text(json.dumps(genuine) + "\n" + "not json\n")
    report = await audit_anchoring.verify(env.container)
    assert report.reason == "anchor line 2 is not a readable anchor" and report.anchors == 1


async def test_verifying_writes_nothing(env: Env) -> None:
    await act(env, 3)
    path = env.container.settings.audit_anchor_path
    assert (await audit_anchoring.verify(env.container)).ok
    assert not path.exists()


async def test_the_job_anchors_what_is_left_when_the_server_stops(env: Env) -> None:
    await act(env)
    await audit_anchoring.anchor(env.container)
    await act(env, 2)  # not due: 2 entries, no time passed
    job = asyncio.create_task(audit_anchoring.run(env.container, tick_s=3600))
    await asyncio.sleep(0)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert anchored(env) == [1, 3]


async def test_lianbo_audit_verify_names_the_missing_range(env: Env) -> None:
    await act(env, 10)
    await audit_anchoring.anchor(env.container)
    await act(env, 2)
    ok = await asyncio.to_thread(verify_command, env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == (
        "audit chain ok: 12 entries verified; anchors agree: 1 (newest: entry 10)"
    )
    await rewind(env, 4)
    broken = await asyncio.to_thread(verify_command, env)
    assert broken.returncode == 1 and len(broken.stderr.strip().splitlines()) == 1
    assert broken.stderr.startswith("error: audit chain broken: entries 5-10 are missing: ")


def verify_command(env: Env) -> subprocess.CompletedProcess[str]:
    settings = env.container.settings
    extra = {"LIANBO_DATABASE_URL": settings.database_url} if settings.database_url else {}
    return subprocess.run(
        [LIANBO, "audit", "verify"],
        capture_output=True,
        text=True,
        env=os.environ | {"LIANBO_DATA_DIR": str(settings.data_dir), "COLUMNS": "300"} | extra,
        timeout=120,
    )


async def test_the_console_names_the_missing_range_and_a_forged_line(env: Env) -> None:
    admin = await env.user()
    answer = await env.client.post(
        "/login", data={"username": admin.username, "password": PASSWORD, "next": "/"}
    )
    assert answer.status_code == 303
    csrf = hashlib.sha256(("csrf:" + env.client.cookies["lianbo_session"]).encode()).hexdigest()
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    await act(env, 3)
    await audit_anchoring.anchor(env.container)
    healthy = await env.client.post("/audit/verify", headers=headers)
    assert 'data-chain="ok"' in healthy.text and "1 个库外锚点" in healthy.text
    await rewind(env, 2)
    broken = await env.client.post("/audit/verify", headers=headers)
    assert 'data-chain="broken"' in broken.text and "首个异常记录 #3" in broken.text
    assert "缺失" in broken.text
    path = env.container.settings.audit_anchor_path
    path.write_text(path.read_text().replace('"seq": 5', '"seq": 2'))
    forged = await env.client.post("/audit/verify", headers=headers)
    assert "锚点日志异常" in forged.text and "伪造" in forged.text


async def test_the_server_anchors_the_chain_when_it_stops_cleanly(env: Env) -> None:
    app = create_app(container=env.container)
    await act(env)
    async with app.router.lifespan_context(app):
        await act(env, 2)
    assert anchored(env)[-1] == 3


async def test_a_forged_line_claiming_a_later_head_does_not_stop_anchoring(env: Env) -> None:
    await act(env)
    await audit_anchoring.anchor(env.container)
    path = env.container.settings.audit_anchor_path
    forged = json.loads(path.read_text()) | {"seq": 999}
    with path.open("a") as handle:
        handle.write(json.dumps(forged) + "\n")
    await act(env)
    env.clock.advance(minutes=5)
    written = await audit_anchoring.anchor(env.container)
    assert written is not None and written.seq == 2
    assert anchored(env) == [1, 999, 2]
    report = await audit_anchoring.verify(env.container)
    assert report.reason == (
        "anchor line 2 is not signed by a control-centre key (forged or altered)"
    )


async def test_two_server_processes_anchor_a_head_once(env: Env) -> None:
    other = bootstrap(env.container.settings, clock=env.clock)  # a second process's container
    try:
        await act(env, 5)
        written = await asyncio.gather(
            audit_anchoring.anchor(env.container), audit_anchoring.anchor(other)
        )
        assert sum(anchor is not None for anchor in written) == 1
        assert anchored(env) == [5]
    finally:
        await other.close()


def test_lianbo_audit_verify_without_a_database_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [LIANBO, "audit", "verify", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=os.environ | {"COLUMNS": "300"},
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: no database in {tmp_path} (run lianbo init first)"
    assert list(tmp_path.iterdir()) == []  # verifying writes nothing
