"""Commands to terminals (screenshot, reload, restart) over both fleet
channels, their delivery and acknowledgement kept in the store, and the
audience a terminal learns from its enrol and heartbeat replies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect

from lianbo.adapters.fleet import topics
from lianbo.adapters.fleet.directory import DbDirectory
from lianbo.adapters.fleet.mqtt import MqttFleet
from lianbo.domain.roles import Role
from lianbo.protocol.manifest import ManifestRejected, verify
from lianbo.services import commands
from lianbo.services.commands import CommandAcks, SentCommand
from tests.integration.fleet.conftest import Mosquitto, Served, enrolled
from tests.integration.fleet.test_hub import next_message
from tests.integration.fleet.test_mqtt import screen
from tests.integration.test_keys_console import signed_in
from tests.support.env import Env
from tests.support.waiting import HANG_GUARD_S, until

pytestmark = pytest.mark.integration


async def history(env: Env, terminal_id: str) -> list[SentCommand]:
    async with env.container.uow() as uow:
        return await commands.recent_commands(uow, terminal_id)


async def send(
    env: Env, headers: dict[str, str], terminal_id: str, body: Any
) -> tuple[int, dict[str, Any]]:
    response = await env.client.post(
        f"/api/v1/terminals/{terminal_id}/commands", json=body, headers=headers
    )
    answer: dict[str, Any] = response.json()
    return response.status_code, answer


async def test_a_connected_screen_gets_the_command_and_its_ack_is_stored(served: Served) -> None:
    env = served.env
    operator = await env.as_role(Role.OPERATOR, "510107")
    terminal_id, token = await served.screen(operator)
    async with connect(f"{served.ws_url}?token={token}") as ws:
        assert (await next_message(ws))["type"] == "hello"
        status, sent = await send(env, operator, terminal_id, {"command": "screenshot"})
        assert status == 202, sent
        assert sent["command"] == "screenshot" and sent["delivered"] is True
        pushed = await next_message(ws)
        assert pushed == {"type": "command", "id": sent["id"], "command": "screenshot"}
        [before] = await history(env, terminal_id)
        assert before.id == sent["id"] and before.acked_at is None
        await until(lambda: _delivered(env, terminal_id))  # marked by the pushing process

        await ws.send(json.dumps({"type": "ack", "id": sent["id"]}))

        async def acked() -> bool:
            return (await history(env, terminal_id))[0].acked_at is not None

        await until(acked)
    [after] = await history(env, terminal_id)
    assert after.acked_at == env.clock.now() and after.command == "screenshot"
    assert after.delivered and after.actor.startswith("operator")
    viewer = await env.as_role(Role.VIEWER, "5101")
    listed = await env.client.get(f"/api/v1/terminals/{terminal_id}/commands", headers=viewer)
    assert listed.status_code == 200, listed.text
    [shown] = listed.json()
    assert shown["id"] == sent["id"] and shown["delivered"] is True
    assert shown["acked_at"] is not None and shown["actor"] == after.actor

    admin = await env.as_role(Role.ADMIN)
    audit = await env.client.get(
        "/api/v1/audit", params={"action": "terminal.command"}, headers=admin
    )
    [entry] = [e for e in audit.json()["items"] if e["target_id"] == terminal_id]
    assert entry["after"] == {"id": sent["id"], "command": "screenshot"}
    assert entry["region"] == "510107" and entry["actor"].startswith("operator")


async def _delivered(env: Env, terminal_id: str) -> bool:
    return (await history(env, terminal_id))[0].delivered


async def test_an_ack_for_another_screens_command_is_not_counted(served: Served) -> None:
    env = served.env
    admin = await env.as_role(Role.ADMIN)
    a, _ = await served.screen(admin)
    b, token_b = await served.screen(admin)
    _, for_a = await send(env, admin, a, {"command": "reload"})
    async with connect(f"{served.ws_url}?token={token_b}") as ws:
        await next_message(ws)
        _, for_b = await send(env, admin, b, {"command": "reload"})
        await next_message(ws)  # its own command
        for command_id in (for_a["id"], "f" * 32, for_b["id"]):
            await ws.send(json.dumps({"type": "ack", "id": command_id}))

        async def own_acked() -> bool:
            return (await history(env, b))[0].acked_at is not None

        await until(own_acked)  # written after (or with) the one before it
    assert (await history(env, a))[0].acked_at is None


async def test_the_newer_of_pushed_and_http_status_is_shown_from_the_store(
    served: Served,
) -> None:
    env = served.env
    admin = await env.as_role(Role.ADMIN)
    terminal_id, token = await served.screen(admin)
    bearer = {"Authorization": f"Bearer {token}"}
    beat = await env.client.post("/terminal/v1/heartbeat", json={"backend": "mpv"}, headers=bearer)
    assert beat.status_code == 200

    async def latest() -> dict[str, Any]:
        async with env.container.uow() as uow:
            found = await commands.latest_status(uow, terminal_id)
        return found.status if found else {}

    await until(lambda: _has(latest, "backend", "mpv"))
    async with connect(f"{served.ws_url}?token={token}") as ws:
        await ws.recv()
        env.clock.advance(seconds=5)
        await ws.send(json.dumps({"type": "status", "backend": "headless"}))
        await until(lambda: _has(latest, "backend", "headless"))
        # The socket's heartbeat is stored in the background: let it land
        # first, or it could overwrite the newer HTTP one below.
        await env.container.monitor.settle()
        env.clock.advance(seconds=5)
        beat = await env.client.post(
            "/terminal/v1/heartbeat", json={"backend": "mpv"}, headers=bearer
        )
        assert beat.status_code == 200, beat.text
        await until(lambda: _has(latest, "backend", "mpv"))


async def _has(read: Callable[[], Any], key: str, value: object) -> bool:
    return bool((await read()).get(key) == value)


async def test_a_disconnected_screen_is_recorded_but_not_delivered(served: Served) -> None:
    env = served.env
    admin = await env.as_role(Role.ADMIN)
    terminal_id, _ = await served.screen(admin)
    status, sent = await send(env, admin, terminal_id, {"command": "restart"})
    assert status == 202 and sent["delivered"] is False
    assert [c.command for c in await history(env, terminal_id)] == ["restart"]
    await signed_in(env)
    card = await env.client.get(f"/terminals/{terminal_id}/live")
    assert card.status_code == 200 and f'data-command="{sent["id"]}"' in card.text
    assert "data-undelivered" in card.text and "未送达" in card.text


async def test_bad_commands_are_refused_and_not_recorded(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN)
    terminal_id, _ = await enrolled(env, admin)
    status, answer = await send(env, admin, terminal_id, {"command": "self-destruct"})
    assert status == 400 and answer["error"]["field"] == "command"
    assert "screenshot, reload, restart" in answer["error"]["message"]
    for body in ({}, {"command": 5}, {"command": "x" * 65}, {"command": "reload", "at": 1}, []):
        status, answer = await send(env, admin, terminal_id, body)
        assert status == 422, (body, answer)
    response = await env.client.post(
        f"/api/v1/terminals/{terminal_id}/commands", content=b"{not json", headers=admin
    )
    assert response.status_code == 422
    assert await history(env, terminal_id) == []


async def test_the_command_list_follows_jurisdiction_and_its_limit(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN)
    terminal_id, _ = await enrolled(env, admin, region="510107")
    for name in ("reload", "restart", "screenshot"):
        env.clock.advance(seconds=1)
        assert (await send(env, admin, terminal_id, {"command": name}))[0] == 202
    path = f"/api/v1/terminals/{terminal_id}/commands"
    listed = await env.client.get(path, params={"limit": 2}, headers=admin)
    assert [c["command"] for c in listed.json()] == ["screenshot", "restart"]
    assert all(c["acked_at"] is None and c["delivered"] is False for c in listed.json())
    elsewhere = await env.as_role(Role.OPERATOR, "5107")
    assert (await env.client.get(path, headers=elsewhere)).status_code == 404
    for limit in (0, 51, "x"):
        refused = await env.client.get(path, params={"limit": limit}, headers=admin)
        assert refused.status_code == 422, limit
    assert (await env.client.get(path)).status_code == 401


async def test_commands_follow_role_and_jurisdiction(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN)
    terminal_id, _ = await enrolled(env, admin, region="510107")
    body = {"command": "reload"}
    elsewhere = await env.as_role(Role.OPERATOR, "5107")
    assert (await send(env, elsewhere, terminal_id, body))[0] == 404
    viewer = await env.as_role(Role.VIEWER, "51")
    status, answer = await send(env, viewer, terminal_id, body)
    assert status == 403 and answer["error"]["code"]
    assert (await send(env, admin, "no-such-terminal", body))[0] == 404
    unauthenticated = await env.client.post(f"/api/v1/terminals/{terminal_id}/commands", json=body)
    assert unauthenticated.status_code == 401
    retired = await env.client.post(f"/api/v1/terminals/{terminal_id}/retire", headers=admin)
    assert retired.status_code == 200
    assert (await send(env, admin, terminal_id, body))[0] == 409
    assert await history(env, terminal_id) == []


@pytest.fixture
async def mqtt_fleet(env: Env, broker: Mosquitto) -> AsyncIterator[MqttFleet]:
    async def nobody(ids: list[str]) -> None:
        return None

    channel = MqttFleet(
        broker.broker(),
        DbDirectory(env.container.uow),
        nobody,
        env.clock,
        acks=CommandAcks(env.container.uow),
    )
    env.container.fleet = channel
    await channel.start()
    async with asyncio.timeout(HANG_GUARD_S):
        await channel.connected()
    yield channel
    await channel.stop()


@pytest.mark.mqtt
async def test_over_mqtt_the_command_reaches_the_screen_and_its_ack_is_stored(
    env: Env, broker: Mosquitto, mqtt_fleet: MqttFleet
) -> None:
    admin = await env.as_role(Role.ADMIN)
    terminal_id, token = await enrolled(env, admin, region="510107")
    broker.accounts([(terminal_id, token)])
    async with screen(broker, terminal_id, token, "510107") as wuhou:

        async def online() -> bool:
            return terminal_id in mqtt_fleet.online()

        await until(online)
        status, sent = await send(env, admin, terminal_id, {"command": "reload"})
        assert status == 202 and sent["delivered"] is True
        assert await wuhou.next() == (
            topics.terminal(terminal_id),
            {"type": "command", "id": sent["id"], "command": "reload"},
        )
        ack = json.dumps({"type": "ack", "id": sent["id"]}).encode()
        await wuhou.client.publish(topics.terminal(terminal_id, topics.UP), ack)

        async def acked() -> bool:
            return (await history(env, terminal_id))[0].acked_at is not None

        await until(acked)
    [stored] = await history(env, terminal_id)
    assert stored.delivered and stored.acked_at == env.clock.now()


async def test_enrol_and_heartbeat_replies_carry_the_manifest_audience(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN)
    created = await env.terminal(admin, tier="hall", tags=["4k", "landmark"], groups=["cd"])
    enrol = await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    reply = enrol.json()
    expected = {"region": "510107", "tier": "hall", "groups": ["cd"], "tags": ["4k", "landmark"]}
    assert reply["audience"] == expected
    token = {"Authorization": f"Bearer {reply['token']}"}
    keys = {k["key_id"]: k["public_key"] for k in reply["keys"]}

    # What the player checks: its own manifest passes against that audience.
    manifest = await env.client.get("/terminal/v1/manifest", headers=token)
    verified = verify(manifest.text, keys, now=env.clock.now(), audience=reply["audience"])
    assert verified.version

    beat = await env.client.post("/terminal/v1/heartbeat", json={}, headers=token)
    assert beat.status_code == 200 and beat.json()["audience"] == expected

    # An operator moves the screen: the manifest it fetches now is made for
    # the new audience, which later heartbeat replies carry (they may lag an
    # edit by the heartbeat path's short terminal cache).
    moved = await env.client.patch(
        f"/api/v1/terminals/{created['id']}", json={"tier": "home"}, headers=admin
    )
    assert moved.status_code == 200
    manifest = await env.client.get("/terminal/v1/manifest", headers=token)
    audience = expected | {"tier": "home"}
    assert verify(manifest.text, keys, now=env.clock.now(), audience=audience).version
    with pytest.raises(ManifestRejected, match="audience mismatch"):
        verify(manifest.text, keys, now=env.clock.now(), audience=expected)
