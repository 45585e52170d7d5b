"""The hub's greeting (``WebSocketHub.greet``): right after its ``hello`` a
screen gets an ``alerts`` message listing what it must show, as
``GET /terminal/v1/alerts`` does (delivery row included), so a screen that
(re)connects need not ask. Real server, real WebSockets, both stores."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect

from lianbo.domain.roles import Role
from lianbo.protocol.alerts import verify_notice
from tests.integration.alerts.support import at_sample_day, fetch, issue, keys
from tests.integration.fleet.conftest import Served, enrolled, served  # noqa: F401

pytestmark = pytest.mark.integration


async def hello(server: Served, token: str) -> dict[str, Any]:
    """The ``hello`` and the ``alerts`` message after it, as one dict."""
    async with connect(f"{server.ws_url}?token={token}") as ws:
        first: dict[str, Any] = json.loads(await ws.recv())
        assert first["type"] == "hello" and first["alerts_follow"] is True
        while (then := json.loads(await ws.recv()))["type"] != "alerts":
            pass  # a time or manifest message may come between
    return first | {k: v for k, v in then.items() if k != "type"}


async def test_a_screen_connecting_after_an_alert_is_told_of_it_after_its_hello(
    served: Served,  # noqa: F811
) -> None:
    env = served.env
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    jinjiang_id, jinjiang = await enrolled(
        env, admin, region="510104", latitude=30.6, longitude=104.05
    )
    _, wuhou = await enrolled(env, admin, region="510107", latitude=30.64, longitude=104.04)
    alert = await issue(env, admin)  # for 510104, while nobody is connected

    greeted = await hello(served, jinjiang)
    assert greeted["terminal_id"] == jinjiang_id
    assert greeted["terminal"]["region"] == "510104"
    [listed] = greeted["alerts"]
    assert (listed["type"], listed["id"]) == ("alert", alert["id"])
    assert verify_notice(listed, await keys(env)).body["id"] == alert["id"]
    assert greeted["alerts"] == await fetch(env, {"Authorization": f"Bearer {jinjiang}"})
    assert (await hello(served, wuhou))["alerts"] == []

    board = await env.client.get(f"/api/v1/alerts/{alert['id']}", headers=admin)
    assert board.json()["counts"]["sent"] == 1  # the greeting wrote its delivery row, once

    cancelled = await env.client.post(f"/api/v1/alerts/{alert['id']}/cancel", headers=admin)
    assert cancelled.status_code == 200
    [after] = (await hello(served, jinjiang))["alerts"]
    assert (after["type"], after["id"]) == ("alert-cancel", alert["id"])


async def test_screens_greeted_together_each_get_what_their_own_fetch_lists(
    served: Served,  # noqa: F811
) -> None:
    env = served.env
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    place = {"region": "510104", "latitude": 30.6, "longitude": 104.05}
    _, first = await enrolled(env, admin, **place)
    _, second = await enrolled(env, admin, **place)
    _, wuhou = await enrolled(env, admin, region="510107", latitude=30.64, longitude=104.04)
    here = await issue(env, admin)  # 510104
    there = await issue(env, admin, area={"regions": ["510107"]})
    cancelled = await env.client.post(f"/api/v1/alerts/{there['id']}/cancel", headers=admin)
    assert cancelled.status_code == 200
    _, late = await enrolled(env, admin, **place)  # enrolled after the alert: no row yet

    tokens = [first, second, wuhou, late]
    greeted = await asyncio.gather(*(hello(served, token) for token in tokens))

    kinds = [[(a["type"], a["id"]) for a in g["alerts"]] for g in greeted]
    assert kinds == [
        [("alert", here["id"])],
        [("alert", here["id"])],
        [("alert-cancel", there["id"])],
        [("alert", here["id"])],
    ]
    for token, greeting in zip(tokens, greeted, strict=True):
        assert greeting["alerts"] == await fetch(env, {"Authorization": f"Bearer {token}"})
    board = await env.client.get(f"/api/v1/alerts/{here['id']}", headers=admin)
    assert board.json()["counts"]["sent"] == 3  # the late screen's row written once
