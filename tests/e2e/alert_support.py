"""Set-up shared by the alert and monitoring console tests: a township of
our own (no other e2e test puts screens there), users with the roles these
pages need, enrolled screens at known positions, and map clicks by lat/lon."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.content import headers
from tests.e2e.helpers import ADMIN, Server
from tests.support.waiting import HANG_GUARD_S

PASSWORD = "e2e-console-pass-51"


@dataclass(frozen=True)
class Screen:
    id: str
    name: str
    tier: str
    lat: float
    lon: float
    token: str


def add_township(server: Server, code: str, name: str) -> None:
    """A 9-digit township under a built-in county (201, or 409 on a rerun)."""
    with server.client(headers=headers(server, ADMIN)) as api:
        answer = api.post("/api/v1/regions", json={"code": code, "name": name})
    assert answer.status_code in (201, 409), answer.text


def add_user(server: Server, role: str, region: str) -> tuple[str, str]:
    """A fresh user with ``role`` over ``region``; (username, password)."""
    name = f"{role}-{uuid.uuid4().hex[:6]}"
    body = {"username": name, "password": PASSWORD, "role": role, "region": region}
    with server.client(headers=headers(server, ADMIN)) as api:
        answer = api.post("/api/v1/users", json=body)
    assert answer.status_code == 201, answer.text
    return name, PASSWORD


def enrolled_screen(
    server: Server, name: str, tier: str, region: str, lat: float, lon: float
) -> Screen:
    """A terminal created through the API and enrolled with its code."""
    body = {"name": name, "tier": tier, "region": region, "latitude": lat, "longitude": lon}
    with server.client(headers=headers(server, ADMIN)) as api:
        created = api.post("/api/v1/terminals", json=body)
        assert created.status_code == 201, created.text
        enrolled = api.post("/terminal/v1/enrol", json={"code": created.json()["enrolment_code"]})
    assert enrolled.status_code == 200, enrolled.text
    return Screen(created.json()["id"], name, tier, lat, lon, enrolled.json()["token"])


def map_point(
    page: Any, lat: float, lon: float, box: str = "[data-alert-map]"
) -> tuple[float, float]:
    """Page coordinates of (lat, lon) on the composer's map, from its projection."""
    found: list[float] = page.evaluate(
        """([selector, lat, lon]) => {
            const box = document.querySelector(selector);
            const p = name => parseFloat(box.getAttribute("data-" + name));
            const svg = box.querySelector("svg.map-draw");
            const pt = svg.createSVGPoint();
            pt.x = p("x0") + (lon - p("west")) * p("kx") * p("scale");
            pt.y = p("y0") + (p("north") - lat) * p("scale");
            const s = pt.matrixTransform(svg.getScreenCTM());
            return [s.x, s.y];
        }""",
        [box, lat, lon],
    )
    return found[0], found[1]


def csrf(client: httpx.Client) -> str:
    return hashlib.sha256(("csrf:" + client.cookies["lianbo_session"]).encode()).hexdigest()


def unapproved_play(server: Server, screen: Screen) -> None:
    """The screen reports a file with a sha256 nobody ever uploaded."""
    now = datetime.now(UTC)
    entry = {
        "sha256": uuid.uuid4().hex * 2,
        "started_at": (now - timedelta(seconds=30)).isoformat(),
        "ended_at": (now - timedelta(seconds=5)).isoformat(),
    }
    answer = httpx.post(
        f"{server.url}/terminal/v1/playlog",
        json={"entries": [entry]},
        headers={"Authorization": f"Bearer {screen.token}"},
        timeout=HANG_GUARD_S,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["unauthorised"], answer.text


def alarm_of(server: Server, screen: Screen) -> dict[str, Any]:
    with server.client(headers=headers(server, ADMIN)) as api:
        found = api.get("/api/v1/alarms", params={"terminal_id": screen.id}).json()["items"]
    assert found, "no alarm was raised"
    alarm: dict[str, Any] = found[0]
    return alarm
