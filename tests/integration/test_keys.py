"""Key rotation and retirement: signed key sets, audit entries, re-signed manifests."""

from __future__ import annotations

import pytest

from lianbo.domain.audit import AuditQuery
from lianbo.domain.errors import Conflict, Forbidden, NotFound
from lianbo.domain.roles import Role
from lianbo.domain.users import SYSTEM, Actor
from lianbo.protocol import keyset
from lianbo.protocol.envelope import split
from lianbo.services import keys
from tests.integration.alerts.support import at_sample_day, issue, issuer
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def _enrolled(env: Env) -> tuple[dict[str, object], str]:
    admin = await env.as_role()
    created = await env.terminal(admin)
    reply = (
        await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    ).json()
    return reply, reply["token"]


async def test_the_enrolment_reply_carries_a_self_signed_key_set(env: Env) -> None:
    reply, _ = await _enrolled(env)
    pinned = keyset.self_signed(reply)
    assert pinned.serial == 1
    assert {k["key_id"]: k["public_key"] for k in reply["keys"]} == pinned.keys  # type: ignore[attr-defined]


async def test_a_rotation_is_signed_by_the_old_key_and_re_signs_manifests(env: Env) -> None:
    reply, token = await _enrolled(env)
    pinned = keyset.self_signed(reply)
    old = pinned.active
    rotated = await keys.rotate(env.container, SYSTEM)
    served = (await env.client.get("/terminal/v1/keys")).json()
    learnt = keyset.accept(served, pinned.keys, pinned_serial=pinned.serial)
    assert learnt.serial == 2 and learnt.active == rotated.active != old
    assert set(learnt.keys) == {old, rotated.active}
    assert served["keys"][0]["key_id"] == rotated.active  # the old field, active first
    manifest = await env.client.get(
        "/terminal/v1/manifest", headers={"Authorization": f"Bearer {token}"}
    )
    assert split(manifest.content).key_id == rotated.active

    retired = await keys.retire(env.container, SYSTEM, old)
    served = (await env.client.get("/terminal/v1/keys")).json()
    # A screen that only ever pinned the old key still learns its successor.
    learnt = keyset.accept(served, pinned.keys, pinned_serial=pinned.serial)
    assert learnt == retired and set(learnt.keys) == {rotated.active}
    assert [k["key_id"] for k in served["keys"]] == [rotated.active]
    async with env.container.uow() as uow:
        entries, _ = await uow.audit.search(AuditQuery(target_id=old), limit=10, offset=0)
    assert [e.action for e in entries] == ["keys.retire"]
    assert entries[0].after == {"serial": 3, "active": rotated.active, "keys": [rotated.active]}


async def test_the_active_key_cannot_be_retired(env: Env) -> None:
    active = await env.container.keys.ensure()
    with pytest.raises(Conflict):
        await keys.retire(env.container, SYSTEM, active)
    with pytest.raises(NotFound):
        await keys.retire(env.container, SYSTEM, "0123456789abcdef")
    assert (await env.container.keys.current_set()).keys.keys() == {active}


async def test_only_an_admin_manages_keys(env: Env) -> None:
    operator = Actor(user_id="u1", username="op", role=Role.OPERATOR, jurisdiction="51")
    with pytest.raises(Forbidden):
        await keys.rotate(env.container, operator)
    with pytest.raises(Forbidden):
        await keys.listing(env.container, operator)


async def test_a_key_signing_an_alert_in_force_is_retired_only_after_it_ends(env: Env) -> None:
    at_sample_day(env)
    old = await env.container.keys.ensure()
    alert = await issue(env, await issuer(env))
    await keys.rotate(env.container, SYSTEM)
    with pytest.raises(Conflict) as refused:
        await keys.retire(env.container, SYSTEM, old)
    assert alert["id"] in refused.value.message
    env.clock.advance(hours=7)  # the alert expired
    assert set((await keys.retire(env.container, SYSTEM, old)).keys) == {
        (await env.container.keys.ensure())
    }
