"""Dissemination over MQTT (a real mosquitto): one publish per region topic."""

from __future__ import annotations

import pytest

from lianbo.adapters.fleet.mqtt import MqttFleet
from lianbo.domain.roles import Role
from lianbo.protocol.alerts import verify_notice
from tests.integration.alerts.support import at_sample_day, issue, keys
from tests.integration.fleet.conftest import Mosquitto, broker  # noqa: F401
from tests.integration.fleet.test_mqtt import fleet, screen, three_screens  # noqa: F401
from tests.support.env import Env

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]


async def test_an_alert_and_its_cancel_reach_the_region_topic_only(
    env: Env,
    broker: Mosquitto,  # noqa: F811
    fleet: MqttFleet,  # noqa: F811
) -> None:
    at_sample_day(env)
    (a, ta, ra), (b, tb, rb), (c, tc, rc) = await three_screens(env, broker)
    admin = await env.as_role(Role.ADMIN)
    async with (
        screen(broker, a, ta, ra) as wuhou,
        screen(broker, b, tb, rb) as jinjiang,
        screen(broker, c, tc, rc) as mianyang,
    ):
        alert = await issue(env, admin)
        topic, push = await jinjiang.next()
        assert topic == "lianbo/r/510104/push" and push["type"] == "alert"
        assert verify_notice(push, await keys(env)).id == alert["id"]
        await wuhou.nothing()
        await mianyang.nothing()
        await env.client.post(f"/api/v1/alerts/{alert['id']}/cancel", headers=admin)
        topic, push = await jinjiang.next()
        assert push["type"] == "alert-cancel" and push["id"] == alert["id"]
