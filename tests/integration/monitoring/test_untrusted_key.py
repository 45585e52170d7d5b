"""A screen that refused a signature by a key it has not pinned raises an alarm."""

from __future__ import annotations

import pytest

from tests.integration.monitoring.helpers import screen
from tests.integration.monitoring.test_heartbeats import alarms_of
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def test_an_untrusted_key_report_opens_a_critical_alarm_and_clears(env: Env) -> None:
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin, tier="home")
    refused = {"key_id": "f" * 16, "reason": "untrusted", "at": env.clock.now().isoformat()}
    await env.client.post(
        "/terminal/v1/heartbeat", headers=headers, json={"untrusted_key": refused}
    )
    [alarm] = await alarms_of(env, admin, terminal_id=terminal_id, type="untrusted-key")
    assert alarm["severity"] == "critical" and alarm["state"] == "open"
    assert alarm["evidence"]["key_id"] == "f" * 16
    for _ in range(2):  # trusted again, long enough
        await env.client.post(
            "/terminal/v1/heartbeat", headers=headers, json={"untrusted_key": None}
        )
        env.clock.advance(seconds=301)
    [alarm] = await alarms_of(env, admin, terminal_id=terminal_id, type="untrusted-key")
    assert alarm["state"] == "resolved"


async def test_a_status_without_the_field_says_nothing_about_keys(env: Env) -> None:
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin)
    await env.client.post("/terminal/v1/heartbeat", headers=headers, json={"push": "polling"})
    assert await alarms_of(env, admin, terminal_id=terminal_id, type="untrusted-key") == []
