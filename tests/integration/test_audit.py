import pytest
from sqlalchemy import delete, update

from lianbo.adapters.db.tables import AuditRow
from lianbo.services.audit import verify
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def test_the_chain_verifies_then_an_edit_is_named(env: Env) -> None:
    admin = await env.as_role()
    for i in range(4):
        await env.terminal(admin, name=f"审计屏{i}")
    report = (await env.client.get("/api/v1/audit/verify", headers=admin)).json()
    assert report["ok"] and report["checked"] == 6  # user.create, login, 4 creates
    async with env.container.uow() as uow:
        await uow.session.execute(update(AuditRow).where(AuditRow.seq == 4).values(actor="mallory"))
        await uow.commit()
    broken = (await env.client.get("/api/v1/audit/verify", headers=admin)).json()
    assert broken == {
        "ok": False,
        "checked": 3,
        "broken_seq": 4,
        "reason": "entry 4 was edited",
        "anchors": 0,
        "anchored_seq": 0,
    }


async def test_a_deleted_row_is_named(env: Env) -> None:
    admin = await env.as_role()
    await env.terminal(admin)
    await env.terminal(admin)
    async with env.container.uow() as uow:
        await uow.session.execute(delete(AuditRow).where(AuditRow.seq == 2))
        await uow.commit()
        report = await verify(uow)
    assert report.broken_seq == 2 and "deleted" in (report.reason or "")


async def test_filters(env: Env) -> None:
    admin = await env.as_role()
    t = await env.terminal(admin)
    by_target = (await env.client.get(f"/api/v1/audit?target_id={t['id']}", headers=admin)).json()
    assert [e["action"] for e in by_target["items"]] == ["terminal.create"]
    naive = await env.client.get("/api/v1/audit?since=2000-01-01T00:00:00", headers=admin)
    assert naive.status_code == 200 and naive.json()["total"] >= 3
    bad = await env.client.get("/api/v1/audit?since=yesterday", headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "since"
