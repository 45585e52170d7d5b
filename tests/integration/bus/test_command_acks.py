"""What a screen answered reaches the console through every process: two
processes on one PostgreSQL database, the screen's socket on B, the
command sent and the console read on A (``terminal_commands`` and the
status report in the store, not in B's memory)."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect

from lianbo.domain.roles import Role
from lianbo.services import commands
from tests.integration.alerts.test_alert_push import next_push
from tests.integration.bus.conftest import ServedPair
from tests.integration.programming.test_publish_to_manifest import screen
from tests.integration.test_keys_console import signed_in
from tests.support.env import Env
from tests.support.waiting import until

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


async def live_card(env: Env, terminal_id: str) -> str:
    page = await env.client.get(f"/terminals/{terminal_id}/live")
    assert page.status_code == 200, page.text
    return page.text


async def test_a_command_sent_on_a_and_acked_on_b_shows_acked_on_a(
    served_pair: ServedPair,
) -> None:
    a = served_pair.pair.a
    admin = await a.as_role(Role.ADMIN)
    terminal_id, on_b = await screen(a, admin, region="510104")
    token = on_b["Authorization"].removeprefix("Bearer ")
    await signed_in(a)  # the console on A
    async with connect(f"{served_pair.ws_url('b')}?token={token}") as socket_b:
        await next_push(socket_b, "hello")
        sent = await a.client.post(
            f"/api/v1/terminals/{terminal_id}/commands",
            json={"command": "screenshot"},
            headers=admin,
        )
        assert sent.status_code == 202, sent.text
        assert sent.json()["delivered"] is False  # A does not hold the screen: B does
        command_id = (await next_push(socket_b, "command"))["id"]
        assert command_id == sent.json()["id"]
        await socket_b.send(json.dumps({"type": "ack", "id": command_id}))
        await socket_b.send(json.dumps({"type": "status", "backend": "held-by-b"}))

        async def heard_on_a() -> bool:
            async with a.container.uow() as uow:
                [found] = await commands.recent_commands(uow, terminal_id)
                report = await commands.latest_status(uow, terminal_id)
            return found.acked_at is not None and report is not None

        await until(heard_on_a, "A reads the ack and the status B heard")
    async with a.container.uow() as uow:
        [found] = await commands.recent_commands(uow, terminal_id)
        report = await commands.latest_status(uow, terminal_id)
    assert found.delivered and found.acked_at == a.clock.now()  # B handed it over
    assert report is not None and report.status == {"backend": "held-by-b"}
    card = await live_card(a, terminal_id)
    assert f'data-command="{command_id}"' in card and "未回执" not in card
    assert "data-undelivered" not in card and "held-by-b" in card
