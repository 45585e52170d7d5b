"""Drawn areas do what the issuer means (issue #16 §1): polygons and circles
are geography, reaching the issuer's own screens inside them; the part
outside the jurisdiction reaches no screen and is warned about; a geocode
outside is still refused. The answer says who is reached per region and tier."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from lianbo.adapters.cap import to_cap_xml
from lianbo.domain.alerting.model import Circle, Severity
from lianbo.domain.roles import Role
from lianbo.services.alert_compose import AlertDraft, Texts, compose
from tests.integration.alerts.samples import SAMPLES
from tests.integration.alerts.support import (
    CAP,
    SAMPLE_DAY,
    alert_body,
    at_sample_day,
    fetch,
    issuer,
    screen,
)
from tests.support.env import Env

pytestmark = pytest.mark.integration

CHENGDU_CENTRE = (30.66, 104.06)
XINDU = (30.82, 104.16)  # 新都区, 20 km from 德阳's 广汉
# (name, region, tier, lat, lon)
FLEET = (
    ("wuhou", "510107", "outdoor", 30.64, 104.04),
    ("wuhou-home", "510107", "home", 30.63, 104.05),
    ("jinjiang", "510104", "hall", 30.66, 104.08),
    ("xindu", "510114", "outdoor", 30.82, 104.16),
    ("guanghan", "510681", "outdoor", 30.98, 104.28),  # 德阳: 41 km from the centre
    ("jingyang", "510603", "hall", 31.13, 104.39),  # 德阳: 61 km from the centre
    ("mianyang", "510703", "home", 31.46, 104.68),
    ("guang-an", "511602", "outdoor", 30.46, 106.63),  # 广安, by the 重庆 border
)
HECHUAN = ("hechuan", "500117", "outdoor", 29.97, 106.28)  # 重庆 合川区


class Outlines:
    """Region boundaries known to this test (the port bootstrap wires)."""

    def __init__(self, known: dict[str, BaseGeometry]) -> None:
        self.known = known

    async def outline(self, uow: object, code: str) -> BaseGeometry | None:
        del uow
        return self.known.get(code)


# Rough stand-ins for the shipped boundaries: 四川 without 重庆, 成都 without 德阳.
OUTLINES = {
    "51": shapely.box(97.3, 26.0, 106.0, 34.3),
    "5101": shapely.box(102.9, 30.05, 104.9, 31.0),
}


async def fleet(env: Env) -> dict[str, dict[str, str]]:
    """The screens above, enrolled; name → their bearer headers."""
    at_sample_day(env)
    sichuan = await env.as_role(Role.ADMIN, "51")
    chongqing = await env.as_role(Role.ADMIN, "50")
    found = {}
    for name, region, tier, lat, lon in (*FLEET, HECHUAN):
        admin = chongqing if region.startswith("50") else sichuan
        fields = {"region": region, "tier": tier, "latitude": lat, "longitude": lon}
        _, found[name] = await screen(env, admin, name=name, **fields)
    return found


def circle(centre: tuple[float, float], radius_km: float) -> dict[str, Any]:
    return {"circles": [{"lat": centre[0], "lon": centre[1], "radius_km": radius_km}]}


async def send(env: Env, headers: dict[str, str], area: dict[str, Any]) -> dict[str, Any]:
    response = await env.client.post("/api/v1/alerts", json=alert_body(area=area), headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def area_warnings(alert: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (w["path"], w["code"], w["message"])
        for w in alert["warnings"]
        if w["code"].startswith("area_")
    ]


async def test_a_50_km_circle_round_chengdu_reaches_sichuans_screens_in_it(env: Env) -> None:
    screens = await fleet(env)
    env.container.outlines = Outlines(OUTLINES)
    alert = await send(env, await issuer(env, "51"), circle(CHENGDU_CENTRE, 50))
    assert alert["state"] == "active" and alert["targeted"] == 5
    assert area_warnings(alert) == []
    assert alert["reach"] == {
        "total": 5,
        "by_tier": {"outdoor": 3, "hall": 1, "home": 1},
        "by_region": {
            "510104": {"total": 1, "outdoor": 0, "hall": 1, "home": 0},
            "510107": {"total": 2, "outdoor": 1, "hall": 0, "home": 1},
            "510114": {"total": 1, "outdoor": 1, "hall": 0, "home": 0},
            "510681": {"total": 1, "outdoor": 1, "hall": 0, "home": 0},
        },
    }
    assert [p["id"] for p in await fetch(env, screens["guanghan"])] == [alert["id"]]
    assert await fetch(env, screens["jingyang"]) == []


async def test_a_rectangle_drawn_tightly_round_chengdus_screens_reaches_them_all(
    env: Env,
) -> None:
    await fleet(env)
    env.container.outlines = Outlines(OUTLINES)
    south, north, west, east = 30.63, 30.82, 104.04, 104.16  # screens on its edges
    rectangle = [[south, west], [south, east], [north, east], [north, west], [south, west]]
    alert = await send(env, await issuer(env, "5101"), {"polygons": [rectangle]})
    assert alert["targeted"] == 4 and alert["reach"]["total"] == 4
    assert set(alert["reach"]["by_region"]) == {"510104", "510107", "510114"}
    assert area_warnings(alert) == []


async def test_a_chemical_plant_polygon_inside_wuhou_reaches_its_screens_without_warning(
    env: Env,
) -> None:
    await fleet(env)
    env.container.outlines = Outlines(OUTLINES)
    south, north, west, east = 30.625, 30.645, 104.035, 104.055
    plant = [[south, west], [south, east], [north, east], [north, west], [south, west]]
    alert = await send(env, await issuer(env, "51"), {"polygons": [plant]})
    assert alert["targeted"] == 2 and alert["topics"] == ["510107"]
    assert alert["reach"]["by_region"] == {
        "510107": {"total": 2, "outdoor": 1, "hall": 0, "home": 1}
    }
    assert area_warnings(alert) == []


async def test_a_circle_crossing_into_deyang_warns_and_reaches_only_chengdu(env: Env) -> None:
    screens = await fleet(env)
    env.container.outlines = Outlines(OUTLINES)
    headers = await issuer(env, "5101")
    alert = await send(env, headers, circle(XINDU, 50))  # 广汉 and 旌阳 lie inside it
    assert alert["targeted"] == 4
    assert set(alert["reach"]["by_region"]) == {"510104", "510107", "510114"}
    assert all(topic.startswith("5101") for topic in alert["topics"])
    [(path, code, message)] = area_warnings(alert)
    assert (path, code) == ("alert/info[1]/area[1]/circle[1]", "area_partly_outside")
    assert "5101" in message
    for outside in ("guanghan", "jingyang"):
        assert await fetch(env, screens[outside]) == []
        ack = await env.client.post(
            f"/terminal/v1/alerts/{alert['id']}/ack",
            json={"state": "displayed"},
            headers=screens[outside],
        )
        assert ack.status_code == 404, ack.text
    progress = await env.client.get(f"/api/v1/alerts/{alert['id']}/progress", headers=headers)
    assert set(progress.json()["by_region"]) == {"510104", "510107", "510114"}
    shown = await env.client.get(f"/api/v1/alerts/{alert['id']}", headers=headers)
    assert area_warnings(shown.json()) == area_warnings(alert)  # kept with the alert


async def test_by_the_chongqing_border_a_screen_of_chongqing_is_never_targeted(
    env: Env,
) -> None:
    # No outline known here: the hull of Sichuan's screens stands in, and
    # the circle reaching past them is warned about, never refused.
    screens = await fleet(env)
    alert = await send(env, await issuer(env, "51"), circle((30.2, 106.45), 40))
    assert alert["targeted"] == 1 and list(alert["reach"]["by_region"]) == ["511602"]
    assert [code for _, code, _ in area_warnings(alert)] == ["area_partly_outside"]
    assert [p["id"] for p in await fetch(env, screens["guang-an"])] == [alert["id"]]
    assert await fetch(env, screens["hechuan"]) == []


async def test_a_geocode_naming_a_region_outside_is_still_refused(env: Env) -> None:
    await fleet(env)
    chengdu = await issuer(env, "5101")
    body = alert_body(area={"regions": ["510104", "510603"], **circle(XINDU, 50)})
    response = await env.client.post("/api/v1/alerts", json=body, headers=chengdu)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["field"] == "area.regions[1]"
    response = await env.client.post(
        "/api/v1/alerts/cap",
        content=SAMPLES["exercise_restricted.xml"].encode(),
        headers=chengdu | CAP,
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"]["field"] == "alert/info[1]/area[1]/geocode[1]"


async def test_a_cap_import_answers_with_its_reach_and_the_warning(env: Env) -> None:
    await fleet(env)
    env.container.outlines = Outlines(OUTLINES)
    draft = AlertDraft(
        severity=Severity.EXTREME,
        event="地震",
        texts=Texts("地震预警", "强烈震感"),
        expires=SAMPLE_DAY.replace(hour=13),
        circles=(Circle(*XINDU, 50.0),),
    )
    alert = compose(draft, identifier="quake-1", sender="cea.example.cn", sent=SAMPLE_DAY)
    response = await env.client.post(
        "/api/v1/alerts/cap", content=to_cap_xml(alert), headers=await issuer(env, "5101") | CAP
    )
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["reach"]["total"] == 4 and answer["reach"]["by_tier"]["outdoor"] == 2
    assert [code for _, code, _ in area_warnings(answer)] == ["area_partly_outside"]


async def test_an_alert_awaiting_confirmation_says_whom_it_will_reach(env: Env) -> None:
    await fleet(env)
    env.container.settings.alert_confirm_severities = ["Extreme"]
    alert = await send(env, await issuer(env, "5101"), circle(XINDU, 50))
    assert alert["state"] == "pending-confirmation" and alert["targeted"] == 0
    assert alert["reach"]["total"] == 4
    assert set(alert["reach"]["by_region"]) == {"510104", "510107", "510114"}
