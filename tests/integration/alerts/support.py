"""Helpers for the alert API tests: a clock set to the CAP samples' day,
enrolled screens placed around Chengdu, issuing and fetching alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lianbo.domain.roles import Role
from tests.support.env import Env

# 2026-07-10 15:00+08:00: after the samples' "sent", before their expiry.
SAMPLE_DAY = datetime(2026, 7, 10, 7, 0, tzinfo=UTC)
CAP = {"Content-Type": "application/cap+xml"}

# Screens at the corners of the samples' areas (so the convex hull of the
# issuer's screens, which bounds what polygons they may draw, holds them).
CORNERS = (
    ("510104", 29.9, 103.4),
    ("510104", 29.9, 105.0),
    ("510703", 31.7, 105.0),
    ("510604", 31.7, 103.4),
)


def at_sample_day(env: Env, *, confirm: list[str] | None = None) -> None:
    """Move the clock to the samples' day; ``confirm`` sets the severities
    needing a second issuer (none by default, so alerts go out at once)."""
    env.clock.current = SAMPLE_DAY
    env.container.settings.alert_confirm_severities = confirm or []


async def screen(env: Env, admin: dict[str, str], **fields: Any) -> tuple[str, dict[str, str]]:
    """A terminal created and enrolled: (id, its bearer headers)."""
    created = await env.terminal(admin, **fields)
    response = await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    assert response.status_code == 200, response.text
    return created["id"], {"Authorization": f"Bearer {response.json()['token']}"}


async def corner_screens(env: Env, admin: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    return [
        await screen(env, admin, region=r, latitude=lat, longitude=lon) for r, lat, lon in CORNERS
    ]


def alert_body(**fields: Any) -> dict[str, Any]:
    """A JSON alert: Extreme (no confirmation), region 510104, 6 hours."""
    return {
        "severity": "Extreme",
        "event": "地震",
        "headline": "地震预警",
        "description": "预计30秒后有强烈震感。",
        "instruction": "请立即就近避险。",
        "area": {"regions": ["510104"]},
        "expires_at": (SAMPLE_DAY + timedelta(hours=6)).isoformat(),
    } | fields


async def issue(env: Env, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await env.client.post("/api/v1/alerts", json=alert_body(**fields), headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def fetch(env: Env, terminal: dict[str, str]) -> list[dict[str, Any]]:
    response = await env.client.get("/terminal/v1/alerts", headers=terminal)
    assert response.status_code == 200, response.text
    alerts: list[dict[str, Any]] = response.json()["alerts"]
    return alerts


async def keys(env: Env) -> dict[str, str]:
    response = await env.client.get("/terminal/v1/keys")
    return {k["key_id"]: k["public_key"] for k in response.json()["keys"]}


async def issuer(env: Env, region: str = "51") -> dict[str, str]:
    return await env.as_role(Role.ISSUER, region)
