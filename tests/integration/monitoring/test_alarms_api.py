"""Alarm lifecycle over the API: acknowledge and resolve, audited and scoped; /metrics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from lianbo.domain.roles import Role
from tests.integration.monitoring.helpers import screen
from tests.support.env import Env
from tests.support.metrics import value

pytestmark = pytest.mark.integration


async def offline_alarm(env: Env, region: str = "510107") -> tuple[str, str]:
    """A screen that went silent; (terminal id, its open offline alarm id)."""
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin, region=region)
    await env.client.post("/terminal/v1/heartbeat", headers=headers)
    env.clock.advance(seconds=61)
    await env.container.monitor.sweep()
    listed = await env.client.get(
        "/api/v1/alarms", params={"terminal_id": terminal_id}, headers=admin
    )
    return terminal_id, str(listed.json()["items"][0]["id"])


async def audit_of(env: Env, alarm_id: str) -> list[dict[str, Any]]:
    admin = await env.as_role()
    found = await env.client.get("/api/v1/audit", params={"target_id": alarm_id}, headers=admin)
    items: list[dict[str, Any]] = found.json()["items"]
    return items


async def test_acknowledge_then_resolve_is_audited(env: Env) -> None:
    _, alarm_id = await offline_alarm(env)
    monitor = await env.as_role(Role.MONITOR, "5101")
    acked = await env.client.post(f"/api/v1/alarms/{alarm_id}/ack", headers=monitor)
    assert acked.status_code == 200, acked.text
    assert acked.json()["state"] == "acknowledged" and acked.json()["acknowledged_by"]
    again = await env.client.post(f"/api/v1/alarms/{alarm_id}/ack", headers=monitor)
    assert again.status_code == 409
    resolved = await env.client.post(f"/api/v1/alarms/{alarm_id}/resolve", headers=monitor)
    assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
    assert (
        await env.client.post(f"/api/v1/alarms/{alarm_id}/resolve", headers=monitor)
    ).status_code == 409
    entries = await audit_of(env, alarm_id)
    assert {e["action"] for e in entries} == {"alarm.acknowledge", "alarm.resolve"}
    assert all(e["region"] == "510107" for e in entries)
    state = (await env.client.get(f"/api/v1/alarms/{alarm_id}", headers=monitor)).json()
    assert state["state"] == "resolved" and state["resolved_by"] == acked.json()["acknowledged_by"]


async def test_only_monitoring_roles_inside_the_jurisdiction_act(env: Env) -> None:
    _, alarm_id = await offline_alarm(env)
    viewer = await env.as_role(Role.VIEWER, "51")
    assert (await env.client.get(f"/api/v1/alarms/{alarm_id}", headers=viewer)).status_code == 200
    refused = await env.client.post(f"/api/v1/alarms/{alarm_id}/ack", headers=viewer)
    assert refused.status_code == 403
    outsider = await env.as_role(Role.MONITOR, "510104")
    hidden = await env.client.post(f"/api/v1/alarms/{alarm_id}/ack", headers=outsider)
    assert hidden.status_code == 404
    assert (await env.client.get(f"/api/v1/alarms/{alarm_id}", headers=outsider)).status_code == 404
    assert (await env.client.post("/api/v1/alarms/nope/ack", headers=outsider)).status_code == 404
    operator = await env.as_role(Role.OPERATOR, "510107")
    assert (
        await env.client.post(f"/api/v1/alarms/{alarm_id}/ack", headers=operator)
    ).status_code == 200
    assert await audit_of(env, alarm_id)


async def test_a_condition_still_present_after_a_manual_resolve_opens_a_new_alarm(env: Env) -> None:
    terminal_id, alarm_id = await offline_alarm(env)
    admin = await env.as_role()
    await env.client.post(f"/api/v1/alarms/{alarm_id}/resolve", headers=admin)
    async with env.container.uow() as uow:  # still silent: the sweep sees it again next time
        await uow.terminals.mark_seen([terminal_id], env.clock.now() - timedelta(seconds=61))
        await uow.commit()
    await env.container.monitor.sweep()
    listed = (
        await env.client.get("/api/v1/alarms", params={"terminal_id": terminal_id}, headers=admin)
    ).json()
    assert sorted(a["state"] for a in listed["items"]) == ["open", "resolved"]


async def test_metrics_show_online_counts_alarms_and_ingest(env: Env) -> None:
    await offline_alarm(env)
    admin = await env.as_role()
    _, headers = await screen(env, admin, tier="home")
    await env.client.post("/terminal/v1/heartbeat", headers=headers)
    text = (await env.client.get("/metrics")).text
    assert value(text, "lianbo_terminals", status="online", tier="home") == 1
    assert value(text, "lianbo_terminals", status="offline", tier="outdoor") == 1
    assert value(text, "lianbo_alarms_open", severity="critical", type="offline") == 1
    assert value(text, "lianbo_heartbeats_ingested_total") == 2
    assert value(text, "lianbo_playlog_rows_ingested_total") == 0
    assert value(text, "lianbo_webhooks_delivered_total") is not None
