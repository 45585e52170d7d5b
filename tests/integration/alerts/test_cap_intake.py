"""What real systems send is accepted; only what is wrong is refused
(issue 16 §2): warnings on the alert, CAP 1.1 in and 1.2 out, CAP 1.0
refused naming the version, an Update or Cancel of a message never received."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest

from lianbo.adapters.cap import read_cap
from lianbo.domain.roles import Role
from tests.integration.alerts.samples import NS, SAMPLES
from tests.integration.alerts.support import CAP, at_sample_day, corner_screens, fetch
from tests.support.env import PASSWORD, Env

pytestmark = pytest.mark.integration

REAL = Path(__file__).parent / "real"


async def post(env: Env, headers: dict[str, str], data: bytes, status: int = 201) -> Any:
    response = await env.client.post("/api/v1/alerts/cap", content=data, headers=headers | CAP)
    assert response.status_code == status, response.text
    return response.json()


def codes(alert: dict[str, Any]) -> set[tuple[str, str]]:
    return {(w["path"], w["code"]) for w in alert["warnings"]}


async def test_a_cap_1_1_nws_message_is_accepted_shown_with_warnings_and_exported_as_1_2(
    env: Env,
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    data = (REAL / "nws_flash_flood_watch_1_1.xml").read_bytes()
    issued = await post(env, admin, data)
    assert issued["state"] == "active" and issued["targeted"] == 0  # no GB/T 2260 area
    assert codes(issued) == {
        ("alert", "cap_1_1"),
        ("alert/info[1]/area[1]/polygon[1]", "empty_element"),
        ("alert/info[1]/area[1]/geocode[1]", "geocode_scheme"),
        ("alert/info[1]/area[1]/geocode[2]", "geocode_scheme"),
    }
    detail = (await env.client.get(f"/api/v1/alerts/{issued['id']}", headers=admin)).json()
    assert detail["warnings"] == issued["warnings"]
    words = {w["code"]: w["message"] for w in detail["warnings"]}
    assert words["cap_1_1"] == "A CAP 1.1 message, read into CAP 1.2 and exported as CAP 1.2"
    assert any("Geocode UGC is not a scheme" in w["message"] for w in detail["warnings"])
    cap = await env.client.get(f"/api/v1/alerts/{issued['id']}/cap", headers=admin)
    exported = read_cap(cap.content)
    assert exported.version == "1.2" and f'xmlns="{NS}"'.encode() in cap.content
    assert exported.alert == read_cap(data).alert
    again = await post(env, admin, data, status=200)  # the same message: the same alert
    assert again["id"] == issued["id"] and again["warnings"] == issued["warnings"]


async def test_cap_1_0_is_refused_naming_the_version(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    old = SAMPLES["alert_multilang.xml"].replace(NS, "urn:oasis:names:tc:emergency:cap:1.0")
    refused = await post(env, admin, old.encode(), status=422)
    assert "CAP 1.0" in refused["error"]["message"] and refused["error"]["field"] == "alert"


async def test_an_empty_restriction_on_a_public_alert_reaches_the_screens(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    screens = await corner_screens(env, admin)
    data = (REAL / "public_empty_restriction.xml").read_bytes()
    issued = await post(env, admin, data)
    assert issued["state"] == "active" and issued["targeted"] == 2  # the two in 510104
    assert ("alert/restriction", "empty_element") in codes(issued)
    [shown] = await fetch(env, screens[0][1])
    assert shown["id"] == issued["id"]
    cap = await env.client.get(f"/api/v1/alerts/{issued['id']}/cap", headers=admin)
    assert cap.content == data  # a 1.2 message is kept as sent


async def test_an_update_of_a_message_never_received_stands_as_its_own_alert(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    update = await post(env, admin, SAMPLES["update.xml"].encode())
    assert update["state"] == "active" and update["msg_type"] == "Update"
    assert update["targeted"] > 0 and update["replaces"] == [] and update["revision"] == 1
    [warning] = [w for w in update["warnings"] if w["code"] == "update_unknown"]
    assert warning["path"] == "alert/references[1]"
    assert "SC-2026-0710-001" in warning["message"] and "own alert" in warning["message"]
    # The references stay in the message as sent, for the chain to be followed.
    cap = await env.client.get(f"/api/v1/alerts/{update['id']}/cap", headers=admin)
    assert read_cap(cap.content).alert.references[0].identifier == "SC-2026-0710-001"


async def test_a_cancel_of_a_message_never_received_is_recorded_and_cancels_nothing(
    env: Env,
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    other = await post(env, admin, SAMPLES["alert_multilang.xml"].encode())
    cancel = await post(env, admin, SAMPLES["cancel.xml"].encode())
    # cancel.xml names SC-2026-0710-001 (received) and -002 (never received).
    assert cancel["state"] == "recorded" and cancel["msg_type"] == "Cancel"
    assert codes(cancel) == {("alert/references[2]", "cancel_unknown")}
    assert "nothing was cancelled" in cancel["warnings"][0]["message"]
    first = (await env.client.get(f"/api/v1/alerts/{other['id']}", headers=admin)).json()
    assert first["state"] == "cancelled"
    only_unknown = SAMPLES["cancel.xml"].replace("SC-2026-0710-003", "SC-2026-0710-004")
    only_unknown = only_unknown.replace(
        "cma-sichuan@gov.cn,SC-2026-0710-001,2026-07-10T14:00:00+08:00 ", ""
    )
    lone = await post(env, admin, only_unknown.encode())
    assert lone["state"] == "recorded"
    assert codes(lone) == {("alert/references[1]", "cancel_unknown")}
    listed = (await env.client.get("/api/v1/alerts", headers=admin)).json()
    states = {a["identifier"]: a["state"] for a in listed["items"]}
    assert states["SC-2026-0710-001"] == "cancelled"


async def test_an_original_arriving_after_its_update_arrives_superseded_and_linked(
    env: Env,
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    screens = await corner_screens(env, admin)
    update = await post(env, admin, SAMPLES["update.xml"].encode())
    original = await post(env, admin, SAMPLES["alert_multilang.xml"].encode())
    assert original["state"] == "superseded" and original["superseded_by"] == update["id"]
    assert original["targeted"] == 0  # never on air: its update already is
    assert ("alert", "updated_first") in codes(original)
    detail = (await env.client.get(f"/api/v1/alerts/{update['id']}", headers=admin)).json()
    assert detail["references"] == [original["id"]]
    shown = [a["id"] for a in await fetch(env, screens[0][1])]
    assert original["id"] not in shown and update["id"] in shown
    again = await post(env, admin, SAMPLES["alert_multilang.xml"].encode(), status=200)
    assert again["id"] == original["id"] and again["state"] == "superseded"


async def test_an_original_arriving_after_its_cancel_arrives_cancelled(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    screens = await corner_screens(env, admin)
    cancel = await post(env, admin, SAMPLES["cancel.xml"].encode())
    assert codes(cancel) == {
        ("alert/references[1]", "cancel_unknown"),
        ("alert/references[2]", "cancel_unknown"),
    }
    original = await post(env, admin, SAMPLES["alert_multilang.xml"].encode())
    assert original["state"] == "cancelled" and original["targeted"] == 0
    assert ("alert", "cancelled_first") in codes(original)
    detail = (await env.client.get(f"/api/v1/alerts/{cancel['id']}", headers=admin)).json()
    assert detail["references"] == [original["id"]]
    assert await fetch(env, screens[0][1]) == []
    # The Cancel also named -002; an Update by that key now arrives cancelled too.
    update = await post(env, admin, SAMPLES["update.xml"].encode())
    assert update["state"] == "cancelled"


async def test_a_restriction_on_a_public_message_is_a_warning(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    doc = SAMPLES["update.xml"].replace(
        "<scope>Public</scope>", "<scope>Public</scope><restriction>内部</restriction>"
    )
    doc = doc.replace("SC-2026-0710-002", "SC-2026-0710-009")
    issued = await post(env, admin, doc.encode())
    assert ("alert/restriction", "restriction_scope") in codes(issued)


async def test_the_console_shows_the_warnings_on_the_alert_page(env: Env) -> None:
    at_sample_day(env)
    user = await env.user(Role.ADMIN)
    issued = await post(env, await env.login(user), (REAL / "legacy_1_1.xml").read_bytes())
    answer = await env.client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "next": "/"}
    )
    assert answer.status_code == 303, answer.text
    page = await env.client.get(f"/alerts/{issued['id']}")
    assert page.status_code == 200, page.text
    assert 'data-cap-warning="cap_1_1"' in page.text
    assert "确定性 “Very Likely”（CAP 1.0/1.1 旧值）按 Likely 读取" in page.text
    env.client.cookies.set("lang", "en")
    english = await env.client.get(f"/alerts/{issued['id']}")
    assert 'Certainty "Very Likely" (CAP 1.0/1.1) read as Likely' in html.unescape(english.text)
