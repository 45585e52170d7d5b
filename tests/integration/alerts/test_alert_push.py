"""Dissemination over the built-in hub: real server, real WebSockets; and
``lianbo alert send`` against it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from websockets.asyncio.client import ClientConnection, connect

from lianbo.cli import app as cli
from lianbo.domain.roles import Role
from lianbo.protocol.alerts import verify_notice
from tests.integration.alerts.samples import write_samples
from tests.integration.alerts.support import at_sample_day, corner_screens, issue, keys
from tests.integration.fleet.conftest import Served, enrolled, served  # noqa: F401
from tests.support.env import PASSWORD
from tests.support.waiting import HANG_GUARD_S

pytestmark = pytest.mark.integration


async def next_push(
    ws: ClientConnection, kind: str, within: float = HANG_GUARD_S
) -> dict[str, Any]:
    """The next message of ``kind`` (skipping hello, time, manifest)."""
    async with asyncio.timeout(within):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if message["type"] == kind:
                return message


async def nothing_of(ws: ClientConnection, kind: str, within: float = 0.5) -> bool:
    try:
        await next_push(ws, kind, within)
    except TimeoutError:
        return True
    return False


async def test_an_alert_reaches_screens_in_its_regions_only(served: Served) -> None:  # noqa: F811
    env = served.env
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    _, jinjiang = await enrolled(env, admin, region="510104", latitude=30.6, longitude=104.05)
    _, wuhou = await enrolled(env, admin, region="510107", latitude=30.64, longitude=104.04)
    async with (
        connect(f"{served.ws_url}?token={jinjiang}") as reached,
        connect(f"{served.ws_url}?token={wuhou}") as other,
    ):
        await next_push(reached, "hello"), await next_push(other, "hello")
        alert = await issue(env, admin)
        push = await next_push(reached, "alert")
        assert push["id"] == alert["id"]
        notice = verify_notice(push, await keys(env))
        assert notice.body["area"]["regions"] == ["510104"]
        assert await nothing_of(other, "alert")
        response = await env.client.post(f"/api/v1/alerts/{alert['id']}/cancel", headers=admin)
        assert response.status_code == 200
        cancel = await next_push(reached, "alert-cancel")
        assert verify_notice(cancel, await keys(env)).kind == "cancel"


async def test_a_polygon_is_published_to_the_counties_of_its_screens(served: Served) -> None:  # noqa: F811
    env = served.env
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    _, inside = await enrolled(env, admin, region="510104", latitude=30.60, longitude=104.05)
    _, beside = await enrolled(env, admin, region="510104", latitude=30.40, longitude=104.05)
    _, away = await enrolled(env, admin, region="510107", latitude=30.40, longitude=104.05)
    ring = [[30.55, 103.95], [30.55, 104.10], [30.70, 104.10], [30.70, 103.95], [30.55, 103.95]]
    async with (
        connect(f"{served.ws_url}?token={inside}") as a,
        connect(f"{served.ws_url}?token={beside}") as b,
        connect(f"{served.ws_url}?token={away}") as c,
    ):
        for ws in (a, b, c):
            await next_push(ws, "hello")
        alert = await issue(env, admin, area={"polygons": [ring]})
        assert alert["topics"] == ["510104"] and alert["targeted"] == 1
        assert (await next_push(a, "alert"))["id"] == alert["id"]
        # Same county topic: it hears the alert and geofences itself out.
        assert (await next_push(b, "alert"))["id"] == alert["id"]
        assert await nothing_of(c, "alert")
        outside = await env.client.post(
            f"/terminal/v1/alerts/{alert['id']}/ack",
            json={"state": "outside-area", "at": env.clock.now().isoformat()},
            headers={"Authorization": f"Bearer {beside}"},
        )
        assert outside.status_code == 200 and outside.json()["changed"] is False


async def test_cli_sends_a_cap_file(served: Served, tmp_path: Path) -> None:  # noqa: F811
    env = served.env
    at_sample_day(env)
    admin = await env.user(Role.ADMIN)
    await corner_screens(env, await env.login(admin))
    files = write_samples(tmp_path)
    base = f"http://127.0.0.1:{served.port}"
    runner = CliRunner()
    args = ["alert", "send", "--server", base, "--user", admin.username, "--password", PASSWORD]
    result = await asyncio.to_thread(runner.invoke, cli, [*args, str(files["alert_multilang.xml"])])
    assert result.exit_code == 0, result.output
    assert "issued" in result.output and "active" in result.output
    assert "warning" in result.output  # its SAME geocode is kept, not targeted by
    assert "reach 510104" in result.output  # the corner screens its area reaches
    again = await asyncio.to_thread(runner.invoke, cli, [*args, str(files["alert_multilang.xml"])])
    assert again.exit_code == 0 and "already issued" in again.output
    bad = tmp_path / "bad.cap"
    bad.write_text(files["update.xml"].read_text().replace("<status>Actual</status>", ""))
    for path in (bad, tmp_path / "missing.cap"):
        refused = await asyncio.to_thread(runner.invoke, cli, [*args, str(path)])
        assert refused.exit_code == 1
        assert len(refused.output.strip().splitlines()) == 1, refused.output
    refused = await asyncio.to_thread(runner.invoke, cli, [*args, str(bad)])
    assert "alert/status" in refused.output
