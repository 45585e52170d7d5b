"""Every process sees every event: two processes on one PostgreSQL database
(``LISTEN/NOTIFY``). Each test fails when events stay in their process."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect

from lianbo.domain.roles import Role
from lianbo.domain.tokens import digest
from tests.integration.alerts.support import at_sample_day, issue
from tests.integration.alerts.test_alert_push import next_push
from tests.integration.bus.conftest import Pair, ServedPair, listener
from tests.integration.programming.test_publish_to_manifest import (
    playlist,
    schedule_body,
    screen,
)
from tests.support.content import approved_asset
from tests.support.metrics import value
from tests.support.waiting import until

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def test_a_publish_on_a_gives_b_the_new_version(pair: Pair) -> None:
    a, b = pair.a, pair.b
    admin = await a.as_role(Role.ADMIN, "51")
    operator = await a.as_role(Role.OPERATOR, "5101")
    pid = await playlist(a, operator, (await approved_asset(a, operator))["id"])
    _, terminal = await screen(a, admin, region="510107")
    created = await a.client.post("/api/v1/schedules", json=schedule_body(pid), headers=operator)
    before = await b.client.get("/terminal/v1/manifest", headers=terminal)
    assert before.status_code == 200
    old = before.headers["etag"]
    holder = b.container.manifest_cache.terminal(digest(_token(terminal)))
    assert holder is not None  # B knows the screen and its version

    published = await a.client.post(
        f"/api/v1/schedules/{created.json()['id']}/publish", headers=operator
    )
    assert published.status_code == 200, published.text
    async with a.container.uow() as uow:
        row = await uow.programming.manifest(holder.audience_key)
    assert row is not None and f'"{row.version}"' != old
    await until(
        lambda: b.container.manifest_cache.version(holder.audience_key) == row.version,
        "B's cache holds the new version",
    )
    after = await b.client.get("/terminal/v1/manifest", headers=terminal | {"If-None-Match": old})
    assert after.status_code == 200  # not a stale 304
    assert after.headers["etag"] == f'"{row.version}"'
    assert json.loads(after.text)["manifest"]["playlists"] != {}


async def test_a_retire_on_a_makes_b_refuse_the_token(pair: Pair) -> None:
    a, b = pair.a, pair.b
    admin = await a.as_role(Role.ADMIN, "51")
    terminal_id, terminal = await screen(a, admin, region="510107")
    assert (await b.client.get("/terminal/v1/manifest", headers=terminal)).status_code == 200
    token_hash = digest(_token(terminal))
    assert b.container.manifest_cache.terminal(token_hash) is not None  # cached on B

    retired = await a.client.post(f"/api/v1/terminals/{terminal_id}/retire", headers=admin)
    assert retired.status_code == 200, retired.text
    await until(
        lambda: b.container.manifest_cache.terminal(token_hash) is None, "B forgets the token"
    )
    assert (await b.client.get("/terminal/v1/manifest", headers=terminal)).status_code == 401
    beat = await b.client.post("/terminal/v1/heartbeat", json={}, headers=terminal)
    assert beat.status_code == 401


async def test_an_alert_on_a_reaches_b_and_a_cancel_on_b_reaches_a(served_pair: ServedPair) -> None:
    a, b = served_pair.pair.a, served_pair.pair.b
    at_sample_day(a)
    b.container.settings.alert_confirm_severities = []
    admin_a = await a.as_role(Role.ADMIN)
    admin_b = await b.login(await b.user(Role.ADMIN))
    _, on_a = await screen(a, admin_a, region="510104", latitude=30.6, longitude=104.05)
    _, on_b = await screen(a, admin_a, region="510104", latitude=30.61, longitude=104.06)
    async with (
        connect(f"{served_pair.ws_url('a')}?token={_token(on_a)}") as socket_a,
        connect(f"{served_pair.ws_url('b')}?token={_token(on_b)}") as socket_b,
    ):
        await next_push(socket_a, "hello"), await next_push(socket_b, "hello")
        alert = await issue(a, admin_a)  # issued on A
        assert (await next_push(socket_b, "alert"))["id"] == alert["id"]  # held by B
        assert (await next_push(socket_a, "alert"))["id"] == alert["id"]
        cancelled = await b.client.post(f"/api/v1/alerts/{alert['id']}/cancel", headers=admin_b)
        assert cancelled.status_code == 200, cancelled.text  # cancelled on B
        assert (await next_push(socket_a, "alert-cancel"))["id"] == alert["id"]  # held by A
        assert (await next_push(socket_b, "alert-cancel"))["id"] == alert["id"]


async def test_a_listener_that_reconnects_drops_its_caches(pair: Pair) -> None:
    a, b = pair.a, pair.b
    admin = await a.as_role(Role.ADMIN, "51")
    terminal_id, terminal = await screen(a, admin, region="510107")
    assert (await b.client.get("/terminal/v1/manifest", headers=terminal)).status_code == 200
    token_hash = digest(_token(terminal))
    assert b.container.manifest_cache.terminal(token_hash) is not None

    await b.container.bus.stop()  # B is away: it misses the retirement
    retired = await a.client.post(f"/api/v1/terminals/{terminal_id}/retire", headers=admin)
    assert retired.status_code == 200, retired.text
    assert b.container.manifest_cache.terminal(token_hash) is not None  # missed
    await b.container.bus.start()
    await until(lambda: b.container.bus.connected, "B listens again")
    assert b.container.manifest_cache.terminal(token_hash) is None
    assert (await b.client.get("/terminal/v1/manifest", headers=terminal)).status_code == 401


async def test_a_broken_connection_is_noticed_and_revalidated(pair: Pair) -> None:
    b = pair.b
    bus = listener(b.container)
    admin = await pair.a.as_role(Role.ADMIN, "51")
    _, terminal = await screen(pair.a, admin, region="510107")
    assert (await b.client.get("/terminal/v1/manifest", headers=terminal)).status_code == 200
    token_hash = digest(_token(terminal))
    connects = bus.connects
    await bus.interrupt()  # as a network fault would
    await until(lambda: bus.connects > connects and bus.connected, "the listener is back")
    assert b.container.manifest_cache.terminal(token_hash) is None  # revalidated


async def test_a_command_on_a_reaches_a_screen_held_by_b(served_pair: ServedPair) -> None:
    a = served_pair.pair.a
    admin = await a.as_role(Role.ADMIN)
    terminal_id, on_b = await screen(a, admin, region="510104")
    async with connect(f"{served_pair.ws_url('b')}?token={_token(on_b)}") as socket_b:
        await next_push(socket_b, "hello")
        sent = await a.client.post(
            f"/api/v1/terminals/{terminal_id}/commands", json={"command": "reload"}, headers=admin
        )
        assert sent.status_code == 202, sent.text
        assert (await next_push(socket_b, "command"))["id"] == sent.json()["id"]


async def test_a_publish_on_a_tells_a_screen_held_by_b(served_pair: ServedPair) -> None:
    a = served_pair.pair.a
    admin = await a.as_role(Role.ADMIN, "51")
    operator = await a.as_role(Role.OPERATOR, "5101")
    pid = await playlist(a, operator, (await approved_asset(a, operator))["id"])
    _, on_b = await screen(a, admin, region="510107")
    created = await a.client.post("/api/v1/schedules", json=schedule_body(pid), headers=operator)
    async with connect(f"{served_pair.ws_url('b')}?token={_token(on_b)}") as socket_b:
        await next_push(socket_b, "hello")
        published = await a.client.post(
            f"/api/v1/schedules/{created.json()['id']}/publish", headers=operator
        )
        assert published.status_code == 200, published.text
        told = await next_push(socket_b, "manifest")
        current = await a.client.get("/terminal/v1/manifest", headers=on_b)
        assert current.headers["etag"] == f'"{told["version"]}"'


async def test_after_a_missed_retirement_b_closes_the_screens_socket(
    served_pair: ServedPair,
) -> None:
    a, b = served_pair.pair.a, served_pair.pair.b
    admin = await a.as_role(Role.ADMIN)
    terminal_id, on_b = await screen(a, admin, region="510104")
    async with connect(f"{served_pair.ws_url('b')}?token={_token(on_b)}") as socket_b:
        await next_push(socket_b, "hello")
        await b.container.bus.stop()  # B misses the retirement
        retired = await a.client.post(f"/api/v1/terminals/{terminal_id}/retire", headers=admin)
        assert retired.status_code == 200, retired.text
        assert terminal_id in b.container.fleet.online()
        await b.container.bus.start()
        await until(lambda: terminal_id not in b.container.fleet.online(), "B closes it")


async def test_metrics_report_the_bus_of_each_process(pair: Pair) -> None:
    for env in (pair.a, pair.b):
        text = (await env.client.get("/metrics")).text
        assert value(text, "lianbo_bus_connected") == 1  # listening
        lag = value(text, "lianbo_bus_lag_seconds")
        assert lag is not None and lag >= 0
