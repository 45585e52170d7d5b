"""Issuing alerts over the API: JSON and CAP, dedup, chains, and every refusal."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lianbo.adapters.cap import parse_cap
from lianbo.domain.roles import Role
from lianbo.protocol.alerts import verify_notice
from tests.integration.alerts import samples
from tests.integration.alerts.samples import SAMPLES
from tests.integration.alerts.support import (
    CAP,
    alert_body,
    at_sample_day,
    corner_screens,
    fetch,
    issue,
    issuer,
    keys,
    screen,
)
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def post_cap(env: Env, headers: dict[str, str], name: str) -> dict[str, object]:
    response = await env.client.post(
        "/api/v1/alerts/cap", content=SAMPLES[name].encode(), headers=headers | CAP
    )
    assert response.status_code in (200, 201), response.text
    result: dict[str, object] = response.json()
    return result


async def test_json_alert_is_signed_and_the_notice_verifies(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    _, terminal = await screen(env, admin, region="510104", latitude=30.6, longitude=104.0)
    alert = await issue(
        env,
        await issuer(env),
        translations={"en-US": {"headline": "Earthquake", "description": "Strong shaking."}},
    )
    assert alert["state"] == "active" and alert["targeted"] == 1 and alert["level"] == 1
    assert alert["msg_type"] == "Alert" and alert["topics"] == ["510104"]
    [push] = await fetch(env, terminal)
    notice = verify_notice(push, await keys(env))
    assert push["type"] == "alert" and notice.id == alert["id"]
    body = notice.body
    assert body["colour"] == "red" and body["severity"] == "Extreme"
    assert body["display"] == {"outdoor": "takeover", "hall": "takeover", "home": "takeover"}
    assert body["texts"]["zh-CN"]["headline"] == "地震预警"
    assert body["texts"]["en-US"]["headline"] == "Earthquake"
    assert body["area"]["regions"] == ["510104"] and body["replaces"] == []
    tampered = push | {"notice": push["notice"].replace("地震预警", "演习")}
    with pytest.raises(Exception, match="bad signature"):
        verify_notice(tampered, await keys(env))


async def test_moderate_alerts_show_as_a_banner_on_home_screens(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    _, terminal = await screen(env, admin, tier="home")
    await issue(env, admin, severity="Moderate", area={"regions": ["5101"]})
    [push] = await fetch(env, terminal)
    display = json.loads(push["notice"])["display"]
    assert display == {"outdoor": "takeover", "hall": "takeover", "home": "banner"}


async def test_cap_samples_import_update_and_cancel_chain(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    screens = await corner_screens(env, admin)
    first = await post_cap(env, admin, "alert_multilang.xml")
    assert first["state"] == "active" and first["created"] is True
    assert first["targeted"] >= 1
    for name in ("exercise_restricted.xml", "test_private.xml", "system_ack.xml"):
        assert (await post_cap(env, admin, name))["created"] is True
    draft = await post_cap(env, admin, "draft_unknown.xml")
    assert draft["state"] == "recorded"
    env.clock.advance(hours=2)
    update = await post_cap(env, admin, "update.xml")
    assert update["msg_type"] == "Update" and update["replaces"] == [first["id"]]
    assert update["revision"] == 2 and update["severity"] == "Extreme"
    old = (await env.client.get(f"/api/v1/alerts/{first['id']}", headers=admin)).json()
    assert old["state"] == "superseded" and old["superseded_by"] == update["id"]
    env.clock.advance(hours=4)
    cancel = await post_cap(env, admin, "cancel.xml")
    assert cancel["state"] == "recorded" and cancel["msg_type"] == "Cancel"
    updated = (await env.client.get(f"/api/v1/alerts/{update['id']}", headers=admin)).json()
    assert updated["state"] == "cancelled"
    inside = screens[0][1]  # 510104: in the update's area
    pushes = {(p["type"], p["id"]) for p in await fetch(env, inside)}
    assert ("alert-cancel", update["id"]) in pushes  # it may still be on screen
    assert not {("alert", first["id"]), ("alert", update["id"])} & pushes
    listed = (await env.client.get("/api/v1/alerts", headers=admin)).json()
    assert listed["total"] == 7


async def test_the_same_message_twice_is_one_alert(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    first = await post_cap(env, admin, "alert_multilang.xml")
    again = await post_cap(env, admin, "alert_multilang.xml")
    assert again["id"] == first["id"] and again["created"] is False
    listed = (await env.client.get("/api/v1/alerts", headers=admin)).json()
    assert listed["total"] == 1


async def test_a_json_update_of_an_unknown_alert_id_is_a_conflict(env: Env) -> None:
    # A CAP Update of a message never received is accepted (test_cap_intake);
    # a JSON ``replaces`` names one of our own ids, so an unknown one is a mistake.
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    unknown = await env.client.post(
        "/api/v1/alerts", json=alert_body(replaces=["nope"]), headers=admin
    )
    assert unknown.status_code == 409 and unknown.json()["error"]["field"] == "replaces[0]"


async def test_a_region_outside_the_jurisdiction_is_refused_naming_it(env: Env) -> None:
    # Drawn shapes reaching outside are accepted with a warning (test_alert_areas).
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    chengdu = await issuer(env, "5101")
    response = await env.client.post(
        "/api/v1/alerts/cap", content=SAMPLES["alert_multilang.xml"].encode(), headers=chengdu | CAP
    )
    assert response.status_code == 403, response.text  # its second area names 绵阳 (510700)
    assert response.json()["error"]["field"] == "alert/info[1]/area[2]/geocode[1]"
    response = await env.client.post(
        "/api/v1/alerts/cap",
        content=SAMPLES["exercise_restricted.xml"].encode(),
        headers=chengdu | CAP,
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"]["field"] == "alert/info[1]/area[1]/geocode[1]"
    assert "510700" in response.json()["error"]["message"]
    body = alert_body(area={"regions": ["510104", "500103"]})
    response = await env.client.post("/api/v1/alerts", json=body, headers=chengdu)
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "area.regions[1]"
    assert "500103" in response.json()["error"]["message"]
    far = [[40.0, 116.0], [40.0, 116.5], [40.5, 116.5], [40.0, 116.0]]
    body = alert_body(area={"polygons": [far]})
    response = await env.client.post("/api/v1/alerts", json=body, headers=admin)
    assert response.status_code == 201, response.text  # Beijing: reaches none of 51's screens
    answer = response.json()
    assert answer["targeted"] == 0 and answer["reach"]["total"] == 0
    [warning] = answer["warnings"]
    assert warning["code"] == "area_outside"
    assert warning["path"] == "alert/info[1]/area[1]/polygon[1]"


async def test_an_alert_expired_on_arrival_is_unprocessable(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    env.clock.advance(days=2)
    admin = await env.as_role(Role.ADMIN)  # a fresh token at the new time
    response = await env.client.post(
        "/api/v1/alerts/cap", content=SAMPLES["alert_multilang.xml"].encode(), headers=admin | CAP
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "alert/info[1]/expires"
    past = (env.clock.now() - timedelta(minutes=1)).isoformat()
    response = await env.client.post(
        "/api/v1/alerts", json=alert_body(expires_at=past), headers=admin
    )
    assert response.status_code == 422 and response.json()["error"]["field"] == "expires_at"


async def test_bad_xml_and_bad_cap_are_refused(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        f'<alert xmlns="{samples.NS}">&lol2;</alert>'
    )
    external = (
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<alert xmlns="{samples.NS}">&x;</alert>'
    )
    for document in (bomb, external, "<alert><unclosed></alert>"):
        response = await env.client.post(
            "/api/v1/alerts/cap", content=document.encode(), headers=admin | CAP
        )
        assert response.status_code == 400, response.text
    no_status = SAMPLES["alert_multilang.xml"].replace("<status>Actual</status>", "")
    response = await env.client.post(
        "/api/v1/alerts/cap", content=no_status.encode(), headers=admin | CAP
    )
    assert response.status_code == 422 and response.json()["error"]["field"] == "alert/status"
    open_ring = SAMPLES["alert_multilang.xml"].replace(
        samples.CHENGDU_POLY, "30.5,103.9 30.5,104.2 30.8,104.2 30.8,103.9"
    )
    response = await env.client.post(
        "/api/v1/alerts/cap", content=open_ring.encode(), headers=admin | CAP
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "alert/info[1]/area[1]/polygon[1]"
    response = await env.client.post(
        "/api/v1/alerts/cap", content=b"{}", headers=admin | {"Content-Type": "application/json"}
    )
    assert response.status_code == 400


async def test_only_issuers_and_admins_issue(env: Env) -> None:
    at_sample_day(env)
    for role in (Role.OPERATOR, Role.VIEWER, Role.MONITOR, Role.REVIEWER):
        headers = await env.as_role(role)
        response = await env.client.post("/api/v1/alerts", json=alert_body(), headers=headers)
        assert response.status_code == 403, role
        response = await env.client.post(
            "/api/v1/alerts/cap", content=SAMPLES["update.xml"].encode(), headers=headers | CAP
        )
        assert response.status_code == 403, role
    assert (await env.client.post("/api/v1/alerts", json=alert_body())).status_code == 401


async def test_two_person_rule_for_severe_alerts(env: Env) -> None:
    at_sample_day(env, confirm=["Severe", "Moderate", "Minor"])
    admin = await env.as_role(Role.ADMIN)
    _, terminal = await screen(env, admin)
    first, second = await issuer(env), await issuer(env)
    pending = await issue(env, first, severity="Severe", area={"regions": ["5101"]})
    assert pending["state"] == "pending-confirmation" and pending["targeted"] == 0
    assert await fetch(env, terminal) == []
    url = f"/api/v1/alerts/{pending['id']}/confirm"
    assert (await env.client.post(url, headers=first)).status_code == 403
    elsewhere = await issuer(env, "5107")
    assert (await env.client.post(url, headers=elsewhere)).status_code == 404
    confirmed = await env.client.post(url, headers=second)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "active" and confirmed.json()["targeted"] == 1
    assert len(await fetch(env, terminal)) == 1
    assert (await env.client.post(url, headers=second)).status_code == 409
    extreme = await issue(env, first, severity="Extreme", area={"regions": ["5101"]})
    assert extreme["state"] == "active"
    audit = await env.client.get("/api/v1/audit", params={"action": "alert.confirm"}, headers=admin)
    assert audit.json()["total"] == 1


async def test_cancel_takes_the_alert_off_and_is_audited(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    _, terminal = await screen(env, admin)
    alert = await issue(env, admin, area={"regions": ["5101"]})
    url = f"/api/v1/alerts/{alert['id']}/cancel"
    viewer = await env.as_role(Role.VIEWER)
    assert (await env.client.post(url, headers=viewer)).status_code == 403
    response = await env.client.post(url, headers=admin)
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    [push] = await fetch(env, terminal)
    notice = verify_notice(push, await keys(env))
    assert push["type"] == "alert-cancel" and notice.kind == "cancel" and notice.id == alert["id"]
    ack = await env.client.post(
        f"/terminal/v1/alerts/{alert['id']}/ack",
        json={"state": "cancelled", "at": env.clock.now().isoformat()},
        headers=terminal,
    )
    assert ack.status_code == 200
    assert await fetch(env, terminal) == []
    assert (await env.client.post(url, headers=admin)).status_code == 409
    kept = await env.client.get("/api/v1/alerts", params={"state": "recorded"}, headers=admin)
    [message] = kept.json()["items"]
    assert message["msg_type"] == "Cancel"
    cap = await env.client.get(f"/api/v1/alerts/{message['id']}/cap", headers=admin)
    assert parse_cap(cap.content).references[0].identifier == alert["identifier"]
    for action in ("alert.issue", "alert.cancel"):
        audit = await env.client.get("/api/v1/audit", params={"action": action}, headers=admin)
        assert audit.json()["total"] == 1, action


async def test_bad_json_areas_name_the_field(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    open_ring = [[30.5, 103.9], [30.5, 104.2], [30.8, 104.2], [30.8, 103.9]]
    cases = (
        ({"polygons": [open_ring]}, 422, "area.polygons[0]"),
        ({"regions": ["5101", "abc"]}, 400, "area.regions[1]"),
        (
            {"circles": [{"lat": 30.6, "lon": 104.0, "radius_km": -1}]},
            422,
            "area.circles.0.radius_km",
        ),
    )
    for area, status, field in cases:
        response = await env.client.post(
            "/api/v1/alerts", json=alert_body(area=area), headers=admin
        )
        assert response.status_code == status, (area, response.text)
        assert response.json()["error"]["field"] == field
    naive = alert_body(expires_at="2026-07-10T20:00:00")
    response = await env.client.post("/api/v1/alerts", json=naive, headers=admin)
    assert response.status_code == 422 and response.json()["error"]["field"] == "expires_at"


async def test_a_cap_document_in_another_encoding_is_kept_as_utf8(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    text = SAMPLES["test_private.xml"].replace('encoding="UTF-8"', 'encoding="UTF-16"')
    response = await env.client.post(
        "/api/v1/alerts/cap", content=text.encode("utf-16"), headers=admin | CAP
    )
    assert response.status_code == 201, response.text
    exported = await env.client.get(f"/api/v1/alerts/{response.json()['id']}/cap", headers=admin)
    assert exported.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert parse_cap(exported.content) == parse_cap(text.encode("utf-16"))
