"""Delivery tracking: the terminal's fetch and acks, counts, latency, the
board by tier and region, expiry, CAP export and the Atom feed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from lianbo.adapters.cap import parse_cap
from lianbo.adapters.db.repos.alerts import DuplicateAlert
from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from lianbo.domain.roles import Role
from lianbo.services.alerts import expire_due
from tests.integration.alerts.samples import SAMPLES
from tests.integration.alerts.support import (
    CAP,
    at_sample_day,
    corner_screens,
    fetch,
    issue,
    screen,
)
from tests.support.env import Env

pytestmark = pytest.mark.integration
XSD = Path(__file__).with_name("CAP-v1.2.xsd")


async def ack(env: Env, terminal: dict[str, str], alert_id: str, state: str, **extra: Any) -> Any:
    body = {"state": state, "at": env.clock.now().isoformat()} | extra
    return await env.client.post(f"/terminal/v1/alerts/{alert_id}/ack", json=body, headers=terminal)


async def test_acks_move_forward_and_counts_and_latency_follow(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    screens = [
        await screen(env, admin, region="510104", tier=tier, latitude=30.6, longitude=104.0)
        for tier in ("outdoor", "hall", "home", "home")
    ]
    alert = await issue(env, admin)
    assert alert["targeted"] == 4
    (_, a), (_, b), (_, c), _ = screens
    env.clock.advance(seconds=1)
    assert (await ack(env, a, alert["id"], "received")).json()["changed"] is True
    env.clock.advance(seconds=1)
    assert (await ack(env, a, alert["id"], "displayed")).json()["state"] == "displayed"
    back = await ack(env, a, alert["id"], "received")
    assert back.status_code == 200 and back.json() == {
        "alert_id": alert["id"],
        "state": "displayed",
        "changed": False,
    }
    env.clock.advance(seconds=2)
    assert (await ack(env, b, alert["id"], "displayed")).status_code == 200
    failed = await ack(env, c, alert["id"], "failed", reason="bad signature")
    assert failed.json()["state"] == "failed"
    board = (await env.client.get(f"/api/v1/alerts/{alert['id']}", headers=admin)).json()
    assert board["targeted"] == 4
    assert board["counts"] == {
        "sent": 4,
        "received": 3,
        "verified": 2,
        "displayed": 2,
        "outside_area": 0,
        "failed": 1,
        "cancelled": 0,
    }
    assert board["latency_ms"] == {"p50": 2000.0, "p99": 4000.0, "max": 4000.0}
    waiting = await env.client.get(
        f"/api/v1/alerts/{alert['id']}/deliveries", params={"state": ["sent"]}, headers=admin
    )
    assert waiting.json()["total"] == 1 and waiting.json()["items"][0]["tier"] == "home"
    failures = await env.client.get(
        f"/api/v1/alerts/{alert['id']}/deliveries",
        params={"state": "failed", "limit": 1},
        headers=admin,
    )
    assert failures.json()["items"][0]["reason"] == "bad signature"
    progress = (
        await env.client.get(f"/api/v1/alerts/{alert['id']}/progress", headers=admin)
    ).json()
    assert progress["by_tier"]["home"] == {"total": 2, "failed": 1, "sent": 1}
    assert progress["by_region"]["510104"]["displayed"] == 2


async def test_bad_acks_are_refused(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    _, inside = await screen(env, admin, region="510104")
    _, elsewhere = await screen(env, admin, region="510107")
    alert = await issue(env, admin)
    assert (await ack(env, inside, alert["id"], "launched")).status_code == 400
    assert (await ack(env, inside, "no-such-alert", "received")).status_code == 404
    assert (await ack(env, elsewhere, alert["id"], "displayed")).status_code == 404
    missing = await env.client.post(
        f"/terminal/v1/alerts/{alert['id']}/ack", json={"state": "received"}
    )
    assert missing.status_code == 401


async def test_a_terminal_fetches_only_its_alerts_and_late_ones_get_a_row(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    _, jinjiang = await screen(env, admin, region="510104", latitude=30.60, longitude=104.05)
    _, qingyang = await screen(env, admin, region="510105", latitude=30.67, longitude=104.00)
    _, far = await screen(env, admin, region="510703", latitude=31.46, longitude=104.68)
    await corner_screens(env, admin)  # room for polygons: the hull of the issuer's screens
    regional = await issue(env, admin)
    ring = [[30.55, 103.95], [30.55, 104.10], [30.70, 104.10], [30.70, 103.95], [30.55, 103.95]]
    drawn = await issue(env, admin, area={"polygons": [ring]})
    assert drawn["topics"] == ["510104", "510105"]
    assert {p["id"] for p in await fetch(env, jinjiang)} == {regional["id"], drawn["id"]}
    assert {p["id"] for p in await fetch(env, qingyang)} == {drawn["id"]}
    assert await fetch(env, far) == []
    terminal = (await env.client.get("/terminal/v1/alerts", headers=far)).json()["terminal"]
    assert terminal["region"] == "510703" and terminal["language"] == "zh-CN"
    _, english = await screen(env, admin, region="510703", tags=["outdoor", "lang:en"])
    assert (await env.client.get("/terminal/v1/alerts", headers=english)).json()["terminal"][
        "language"
    ] == "en"
    late_id, late = await screen(env, admin, region="510104", latitude=30.60, longitude=104.06)
    assert {p["id"] for p in await fetch(env, late)} == {regional["id"], drawn["id"]}
    rows = await env.client.get(f"/api/v1/alerts/{regional['id']}/deliveries", headers=admin)
    assert late_id in {d["terminal_id"] for d in rows.json()["items"]}
    outside = await ack(env, far, drawn["id"], "outside-area")
    assert outside.status_code == 404  # neither its area nor its topics


async def test_expired_alerts_stop_being_delivered(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    _, terminal = await screen(env, admin, region="510104")
    alert = await issue(env, admin)
    assert len(await fetch(env, terminal)) == 1
    env.clock.advance(hours=7)
    assert await fetch(env, terminal) == []
    assert await expire_due(env.container) == [alert["id"]]
    admin = await env.as_role(Role.ADMIN)
    listed = await env.client.get("/api/v1/alerts", params={"state": "expired"}, headers=admin)
    assert [a["id"] for a in listed.json()["items"]] == [alert["id"]]
    bad = await env.client.get("/api/v1/alerts", params={"state": "gone"}, headers=admin)
    assert bad.status_code == 400


async def test_reads_are_limited_to_the_jurisdiction(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    alert = await issue(env, await env.as_role(Role.ISSUER, "5101"))
    other = await env.as_role(Role.VIEWER, "5107")
    assert (await env.client.get(f"/api/v1/alerts/{alert['id']}", headers=other)).status_code == 404
    assert (await env.client.get("/api/v1/alerts", headers=other)).json()["total"] == 0
    viewer = await env.as_role(Role.VIEWER, "51")
    assert (
        await env.client.get(f"/api/v1/alerts/{alert['id']}", headers=viewer)
    ).status_code == 200
    assert (await env.client.get("/api/v1/alerts/nope", headers=admin)).status_code == 404
    for tail in ("deliveries", "progress", "cap"):
        url = f"/api/v1/alerts/{alert['id']}/{tail}"
        assert (await env.client.get(url, headers=other)).status_code == 404, tail
        assert (await env.client.get(url, headers=viewer)).status_code == 200, tail
    bad = await env.client.get(
        f"/api/v1/alerts/{alert['id']}/deliveries", params={"state": "lost"}, headers=admin
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "state"
    assert (await env.client.get("/api/v1/alerts")).status_code == 401


async def test_cap_export_validates_and_round_trips(env: Env) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(XSD))
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    ring = [[30.5, 103.9], [30.5, 104.2], [30.8, 104.2], [30.5, 103.9]]
    written = await issue(
        env,
        admin,
        area={
            "regions": ["5101"],
            "polygons": [ring],
            "circles": [{"lat": 30.6, "lon": 104.0, "radius_km": 5}],
        },
        translations={"en-US": {"headline": "Quake", "description": "Shaking."}},
    )
    imported = await env.client.post(
        "/api/v1/alerts/cap", content=SAMPLES["alert_multilang.xml"].encode(), headers=admin | CAP
    )
    for alert_id in (written["id"], imported.json()["id"]):
        response = await env.client.get(f"/api/v1/alerts/{alert_id}/cap", headers=admin)
        assert response.headers["content-type"].startswith("application/cap+xml")
        schema.validate(response.content)
        parsed = parse_cap(response.content)
        assert parse_cap(response.content.decode()) == parsed
    original = parse_cap(SAMPLES["alert_multilang.xml"])
    exported = await env.client.get(f"/api/v1/alerts/{imported.json()['id']}/cap", headers=admin)
    assert parse_cap(exported.content) == original
    written_cap = parse_cap(
        (await env.client.get(f"/api/v1/alerts/{written['id']}/cap", headers=admin)).content
    )
    assert written_cap.infos[0].areas[0].polygons[0][0] == (30.5, 103.9)
    assert [i.language for i in written_cap.infos] == ["zh-CN", "en-US"]


async def test_the_atom_feed_lists_active_actual_alerts(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    live = await issue(env, admin, headline="公开预警")
    await issue(env, admin, status="Exercise", headline="演练")
    cancelled = await issue(env, admin, headline="已撤销")
    await env.client.post(f"/api/v1/alerts/{cancelled['id']}/cancel", headers=admin)
    response = await env.client.get("/feeds/alerts.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    text = response.text
    assert text.count("<entry>") == 1 and "公开预警" in text
    assert f"/api/v1/alerts/{live['id']}/cap" in text
    assert "urn:oasis:names:tc:emergency:cap:1.2" in text


async def test_a_second_insert_of_the_same_message_is_a_duplicate(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    alert = await issue(env, admin)
    async with env.container.uow() as uow:
        stored = await uow.alerts.get(alert["id"])
    assert stored is not None
    async with env.container.uow() as uow:
        with pytest.raises(DuplicateAlert):
            await uow.alerts.add(replace(stored, id="another"))


async def test_an_update_that_narrows_the_area_clears_the_screens_it_leaves(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    _, stays = await screen(env, admin, region="510104")
    _, leaves = await screen(env, admin, region="510107")
    first = await issue(env, admin, area={"regions": ["5101"]})
    update = await issue(env, admin, area={"regions": ["510104"]}, replaces=[first["id"]])
    assert update["msg_type"] == "Update" and update["replaces"] == [first["id"]]
    kept = {(p["type"], p["id"]) for p in await fetch(env, stays)}
    assert ("alert", update["id"]) in kept and ("alert", first["id"]) not in kept
    assert [(p["type"], p["id"]) for p in await fetch(env, leaves)] == [
        ("alert-cancel", first["id"])
    ]
    board = (await env.client.get(f"/api/v1/alerts/{first['id']}", headers=admin)).json()
    assert board["state"] == "superseded" and board["superseded_by"] == update["id"]


async def test_an_active_alert_survives_a_server_restart(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    _, terminal = await screen(env, admin, region="510104")
    alert = await issue(env, admin)
    restarted = bootstrap(env.container.settings, clock=env.clock)
    transport = httpx.ASGITransport(app=create_app(container=restarted))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://lianbo.test") as client:
            response = await client.get("/terminal/v1/alerts", headers=terminal)
            assert [p["id"] for p in response.json()["alerts"]] == [alert["id"]]
    finally:
        await restarted.close()
