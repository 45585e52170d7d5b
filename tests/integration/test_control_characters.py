"""Control characters PostgreSQL cannot store are refused at the edge (issue 13 item 1)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from lianbo.domain.roles import Role
from tests.support.env import PASSWORD, Env

pytestmark = pytest.mark.integration


def _refused(response: object, field: str) -> None:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation"
    assert error["field"] == field


async def test_a_nul_in_the_login_name_is_refused_not_a_server_error(env: Env) -> None:
    response = await env.client.post(
        "/api/v1/auth/token", json={"username": "ro\u0000ot", "password": "whatever-it-is"}
    )
    _refused(response, "username")


async def test_a_nul_in_an_audit_filter_is_refused(env: Env) -> None:
    headers = await env.as_role()
    response = await env.client.get("/api/v1/audit?user=a%00b", headers=headers)
    _refused(response, "user")


async def test_a_nul_in_a_terminal_name_is_refused(env: Env) -> None:
    headers = await env.as_role()
    body = {
        "name": "屏\u0000幕",
        "tier": "outdoor",
        "region": "510107",
        "latitude": 30.64,
        "longitude": 104.04,
    }
    response = await env.client.post("/api/v1/terminals", json=body, headers=headers)
    _refused(response, "name")


async def test_a_nul_in_a_playlist_name_is_refused(env: Env) -> None:
    headers = await env.as_role()
    body = {"name": "早间\u0000", "items": []}
    response = await env.client.post("/api/v1/playlists", json=body, headers=headers)
    _refused(response, "name")


async def test_a_nul_in_a_path_parameter_is_refused(env: Env) -> None:
    headers = await env.as_role()
    response = await env.client.get("/api/v1/terminals/a%00b", headers=headers)
    _refused(response, "terminal_id")


async def test_a_lone_surrogate_is_refused_like_a_nul(env: Env) -> None:
    # pydantic refuses it as well; pinned so both layers keep saying 422 "name".
    headers = await env.as_role()
    body = b'{"name": "\\ud800", "items": []}'  # JSON may escape one; UTF-8 cannot hold it
    headers |= {"content-type": "application/json"}
    response = await env.client.post("/api/v1/playlists", content=body, headers=headers)
    _refused(response, "name")


async def test_line_breaks_pass_in_free_text_but_not_in_a_name(env: Env) -> None:
    headers = await env.as_role()
    named = await env.client.post(
        "/api/v1/playlists", json={"name": "早间\n节目", "items": []}, headers=headers
    )
    _refused(named, "name")
    ticker = {"kind": "ticker", "name": "通知", "text": "第一行\r\n第二行\t完"}
    created = await env.client.post("/api/v1/assets", json=ticker, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["text"] == "第一行\r\n第二行\t完"


async def _terminal_headers(env: Env) -> dict[str, str]:
    created = await env.terminal(await env.as_role())
    enrolled = await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    return {"Authorization": f"Bearer {enrolled.json()['token']}"}


async def test_a_heartbeat_status_with_a_nul_is_refused_on_every_path(env: Env) -> None:
    headers = await _terminal_headers(env)
    # The first beat goes through the route; once the token is cached the
    # fast path sees the second, and hands it to the route as well.
    for _ in range(2):
        response = await env.client.post(
            "/terminal/v1/heartbeat", json={"showing": {"sha256": "a\u0000b"}}, headers=headers
        )
        _refused(response, "status.showing.sha256")
    fine = await env.client.post(
        "/terminal/v1/heartbeat", json={"push": "polling"}, headers=headers
    )
    assert fine.status_code == 200, fine.text


async def test_a_play_log_row_with_a_nul_is_rejected_and_not_stored(env: Env) -> None:
    headers = await _terminal_headers(env)
    now = env.clock.now()
    entry = {
        "sha256": "a" * 64,
        "schedule_id": "s\u0000",
        "started_at": (now - timedelta(minutes=2)).isoformat(),
        "ended_at": (now - timedelta(minutes=1)).isoformat(),
    }
    response = await env.client.post(
        "/terminal/v1/playlog", json={"entries": [entry]}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 0
    [rejected] = response.json()["rejected"]
    assert "schedule_id contains a control character (U+0000)" in rejected["reason"]


async def test_a_csv_import_with_a_control_character_names_row_and_column(env: Env) -> None:
    headers = await env.as_role()
    csv = "name,tier,region,latitude,longitude\n屏\u0000幕,outdoor,510107,30.6,104.0\n"
    response = await env.client.post(
        "/api/v1/terminals/import",
        files={"file": ("t.csv", csv.encode(), "text/csv")},
        headers=headers,
    )
    assert response.status_code == 400, response.text
    assert "row 2: name: name contains a control character (U+0000)" in response.text
    listed = await env.client.get("/api/v1/terminals", headers=headers)
    assert listed.json()["total"] == 0


CAP = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>edge-1</identifier><sender>edge@example.org</sender>
  <sent>{sent}</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><category>Met</category><event>暴雨</event><urgency>Immediate</urgency><severity>Severe</severity>
    <certainty>Observed</certainty><headline>{headline}</headline>
    <expires>{expires}</expires>
    <area><areaDesc>成都</areaDesc><geocode><valueName>GB/T 2260</valueName>
      <value>510107</value></geocode></area></info>
</alert>"""


def _cap(env: Env, headline: str) -> bytes:
    now = env.clock.now().replace(microsecond=0)
    text = CAP.format(
        sent=now.isoformat(), expires=(now + timedelta(hours=2)).isoformat(), headline=headline
    )
    return text.encode("utf-8")


async def test_a_cap_text_with_a_control_character_is_refused_naming_the_element(
    env: Env,
) -> None:
    headers = await env.as_role(Role.ISSUER) | {"content-type": "application/cap+xml"}
    deleted = await env.client.post(
        "/api/v1/alerts/cap", content=_cap(env, "暴雨\u007f预警"), headers=headers
    )
    assert deleted.status_code == 422, deleted.text
    assert deleted.json()["error"]["field"] == "alert/info[1]/headline"
    # XML itself cannot hold a NUL: not well-formed, refused before CAP is read.
    nul = await env.client.post(
        "/api/v1/alerts/cap", content=_cap(env, "暴雨&#0;预警"), headers=headers
    )
    assert nul.status_code == 400, nul.text
    assert nul.json()["error"]["code"] == "xml_refused"


async def _console(env: Env) -> str:
    user = await env.user(Role.ADMIN)
    signed = await env.client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "next": "/"}
    )
    assert signed.status_code == 303, signed.text
    token = env.client.cookies["lianbo_session"]
    return hashlib.sha256(("csrf:" + token).encode()).hexdigest()


async def test_the_console_shows_an_error_page_for_a_control_character(env: Env) -> None:
    csrf = await _console(env)
    form = {
        "name": "屏\u0000幕",
        "tier": "home",
        "region": "510107",
        "latitude": "30.6",
        "longitude": "104.0",
        "csrf_token": csrf,
    }
    posted = await env.client.post("/terminals/new", data=form)
    assert posted.status_code == 422
    assert posted.headers["content-type"].startswith("text/html")
    assert "U+0000" in posted.text
    # Junk in a console query string is ignored (the page answers as without it);
    # a path value cannot be ignored: the error page.
    searched = await env.client.get("/terminals?q=a%00b&tier=home")
    assert searched.status_code == 200
    assert 'name="q" value=""' in searched.text  # dropped; the clean filter is kept
    assert '<option value="home" selected>' in searched.text
    opened = await env.client.get("/terminals/a%00b")
    assert opened.status_code == 422
    assert opened.headers["content-type"].startswith("text/html")
    login = await env.client.post("/login", data={"username": "ro\u0000ot", "password": "x"})
    assert login.status_code == 422
    listed = await env.client.get("/api/v1/terminals", headers=await env.as_role())
    assert listed.json()["total"] == 0
