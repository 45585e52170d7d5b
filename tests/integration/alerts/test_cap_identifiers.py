"""Alerts written here take identifiers in China's CAP profile when a
sender code is configured: unique per second, across processes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from lianbo.adapters.cap import read_cap
from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from lianbo.domain.alerting.china import read_identifier
from lianbo.domain.roles import Role
from tests.integration.alerts.support import alert_body, at_sample_day
from tests.support.env import Env

pytestmark = pytest.mark.integration

CODE = "51000041600000"


async def _issue(client: httpx.AsyncClient, headers: dict[str, str], n: int) -> Any:
    body = alert_body(headline=f"地震预警 {n}")
    response = await client.post("/api/v1/alerts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_identifiers_in_chinas_form_number_the_messages_of_each_second(env: Env) -> None:
    at_sample_day(env)
    env.container.settings.cap_sender_code = CODE
    issuer = await env.as_role(Role.ISSUER)
    other = bootstrap(env.container.settings, clock=env.clock)  # a second process
    transport = httpx.ASGITransport(app=create_app(container=other))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://b.test") as b:
            clients = [env.client, b] * 6
            issued = await asyncio.gather(*(_issue(c, issuer, n) for n, c in enumerate(clients)))
    finally:
        await other.close()
    identifiers = sorted(a["identifier"] for a in issued)
    parts = [read_identifier(i) for i in identifiers]
    assert all(p is not None and p.sender_code == CODE for p in parts)
    stamp = env.clock.now().strftime("%Y%m%d")  # the clock's second, in Beijing time
    assert [i.rsplit("_", 1)[1] for i in identifiers] == [str(n) for n in range(10)] + ["0", "1"]
    first, second = (
        {i.split("_")[1] for i in identifiers[:10]},
        {i.split("_")[1] for i in identifiers[10:]},
    )
    assert len(first) == len(second) == 1 and first != second and stamp in next(iter(first))
    cancelled = await env.client.post(f"/api/v1/alerts/{issued[0]['id']}/cancel", headers=issuer)
    assert cancelled.status_code == 200, cancelled.text
    async with env.container.uow() as uow:
        rows, _ = await uow.alerts.search("51", None, limit=50, offset=0)
    cancels = [r for r in rows if r.msg_type == "Cancel"]
    assert len(cancels) == 1 and read_identifier(cancels[0].identifier) is not None
    assert read_cap(cancels[0].cap_xml).alert.identifier == cancels[0].identifier


async def test_without_a_sender_code_identifiers_stay_random(env: Env) -> None:
    at_sample_day(env)
    issuer = await env.as_role(Role.ISSUER)
    issued = await _issue(env.client, issuer, 0)
    assert read_identifier(issued["identifier"]) is None and len(issued["identifier"]) == 32
