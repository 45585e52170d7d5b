"""The built-in hub end to end: a real server, real sockets."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from lianbo.domain.roles import Role
from lianbo.protocol.messages import MAX_MESSAGE_BYTES
from tests.integration.fleet.conftest import Served
from tests.support.content import approved_asset
from tests.support.metrics import value
from tests.support.waiting import HANG_GUARD_S, until

pytestmark = pytest.mark.integration


async def next_message(ws: ClientConnection, within: float = HANG_GUARD_S) -> dict[str, Any]:
    """The next message, the alert list after a ``hello`` (ADR 0021) skipped."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), within))
        if message["type"] != "alerts":
            return message


async def closed_code(ws: ClientConnection) -> int | None:
    """How the server closed ``ws`` (what it sent before, such as the alert
    list after the hello, is skipped)."""
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), HANG_GUARD_S)
    return ws.close_code


async def test_a_bad_token_is_closed_with_policy_violation(served: Served) -> None:
    headers = {"Authorization": "Bearer not-a-token"}
    async with connect(served.ws_url, additional_headers=headers) as ws:
        assert await closed_code(ws) == 1008
    async with connect(f"{served.ws_url}?token=nope") as ws:
        assert await closed_code(ws) == 1008
    async with connect(served.ws_url) as ws:
        assert await closed_code(ws) == 1008


async def test_hello_then_time_is_answered_at_once(served: Served) -> None:
    admin = await served.env.as_role(Role.ADMIN)
    terminal_id, token = await served.screen(admin)
    async with connect(f"{served.ws_url}?token={token}") as ws:
        hello = await next_message(ws)
        assert hello["type"] == "hello" and hello["terminal_id"] == terminal_id
        await ws.send(json.dumps({"type": "time", "t0": 1234.5}))
        reply = await next_message(ws)
        assert reply["type"] == "time" and reply["t0"] == 1234.5
        assert abs(reply["server_time"] - served.env.clock.now().timestamp()) < 1e-3
    headers = {"Authorization": f"Bearer {token}"}
    async with connect(served.ws_url, additional_headers=headers) as ws:
        assert (await next_message(ws))["type"] == "hello"


async def test_a_malformed_message_is_dropped_and_the_socket_kept(served: Served) -> None:
    admin = await served.env.as_role(Role.ADMIN)
    _, token = await served.screen(admin)
    async with connect(f"{served.ws_url}?token={token}") as ws:
        await next_message(ws)
        for bad in ("not json", "[1, 2]", '{"type": "launch"}', '{"type": "time"}', b"\xff\xfe"):
            await ws.send(bad)
        await ws.send(json.dumps({"type": "status", "playing": "x"}))
        assert (await next_message(ws))["type"] == "heartbeat"  # a status is a heartbeat
        await ws.send(json.dumps({"type": "ack", "id": "c1"}))
        await ws.send(json.dumps({"type": "time", "t0": 1.0}))
        reply = await next_message(ws)
        assert reply == {"type": "time", "t0": 1.0, "server_time": reply["server_time"]}


async def test_refused_messages_and_logins_are_counted_by_reason_on_metrics(
    served: Served,
) -> None:
    admin = await served.env.as_role(Role.ADMIN)
    _, token = await served.screen(admin)
    async with connect(f"{served.ws_url}?token=not-a-token") as ws:
        assert await closed_code(ws) == 1008
    async with connect(f"{served.ws_url}?token={token}", max_size=None) as ws:
        await next_message(ws)
        await ws.send("not json")
        await ws.send(json.dumps({"type": "status", "pad": "x" * (MAX_MESSAGE_BYTES + 1)}))
        await ws.send(json.dumps({"type": "time", "t0": 2.0}))
        assert (await next_message(ws))["type"] == "time"  # the handler goes on
    text = (await served.env.client.get("/metrics")).text
    refused = "lianbo_fleet_messages_refused_total"
    assert value(text, refused, reason="malformed") == 1
    assert value(text, refused, reason="oversized") == 1
    assert value(text, refused, reason="rate_limited") == 0  # every reason, from the start
    assert value(text, "lianbo_fleet_logins_total", outcome="refused") == 1
    assert value(text, "lianbo_fleet_logins_total", outcome="accepted") == 1
    assert value(text, "lianbo_fleet_connected") is None  # the hub has no broker


async def test_publishing_pushes_the_new_version_to_that_audience_only(served: Served) -> None:
    env = served.env
    admin = await env.as_role(Role.ADMIN)
    operator = await env.as_role(Role.OPERATOR, "51")
    asset = await approved_asset(env, operator)
    playlist = await env.client.post(
        "/api/v1/playlists",
        json={"name": "晚间", "items": [{"asset_id": asset["id"], "duration_ms": 15000}]},
        headers=operator,
    )
    _, wuhou = await served.screen(admin, region="510107")
    _, jinjiang = await served.screen(admin, region="510104")
    now = datetime.now(UTC)
    schedule = await env.client.post(
        "/api/v1/schedules",
        json={
            "name": "新闻",
            "playlist_id": playlist.json()["id"],
            "targets": {"regions": ["510107"]},
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
            "priority": "local",
        },
        headers=operator,
    )
    async with (
        connect(f"{served.ws_url}?token={wuhou}") as reached,
        connect(f"{served.ws_url}?token={jinjiang}") as other,
    ):
        await next_message(reached), await next_message(other)
        published = await env.client.post(
            f"/api/v1/schedules/{schedule.json()['id']}/publish", headers=operator
        )
        assert published.status_code == 200, published.text
        push = await next_message(reached)  # pushed: the screen's next poll is minutes away
        fetched = await env.client.get(
            "/terminal/v1/manifest", headers={"Authorization": f"Bearer {wuhou}"}
        )
        version = fetched.headers["etag"].strip('"')
        url = push.pop("url")
        assert push == {"type": "manifest", "version": version}
        base = env.container.settings.public_url
        assert url.startswith(f"{base}/manifests/") and url.endswith(f"/{version}")
        document = await env.client.get(url.removeprefix(base))  # no token
        assert document.status_code == 200, document.text
        authenticated = json.loads(fetched.text)
        assert json.loads(document.text) == {
            k: v for k, v in authenticated.items() if k != "server_time"
        }
        with pytest.raises(TimeoutError):
            await next_message(other, within=0.3)


async def test_a_second_connection_of_a_terminal_replaces_the_first(served: Served) -> None:
    admin = await served.env.as_role(Role.ADMIN)
    terminal_id, token = await served.screen(admin)
    async with connect(f"{served.ws_url}?token={token}") as first:
        await next_message(first)
        async with connect(f"{served.ws_url}?token={token}") as second:
            await next_message(second)
            assert await closed_code(first) == 4001
            assert served.env.container.fleet.online() == {terminal_id}
    await until(lambda: served.env.container.fleet.online() == set(), "the socket filed out")


async def test_a_connected_screen_is_marked_online(served: Served) -> None:
    env = served.env
    admin = await env.as_role(Role.ADMIN)
    terminal_id, token = await served.screen(admin)
    async with connect(f"{served.ws_url}?token={token}") as ws:
        await next_message(ws)

        async def online() -> bool:
            found = await env.client.get(f"/api/v1/terminals/{terminal_id}", headers=admin)
            return bool(found.json()["status"] == "online")

        await until(online, "online in the store")
        found = await env.client.get(f"/api/v1/terminals/{terminal_id}", headers=admin)
        assert found.json()["last_seen_at"] is not None
