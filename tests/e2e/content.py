"""Setting up content and programming through the JSON API (bearer tokens),
so the browser tests can start from an approved asset, a playlist, a
published schedule and a terminal without clicking through all of it."""

from __future__ import annotations

import io
import itertools
import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, PngImagePlugin

from tests.e2e.helpers import OPERATOR, REVIEWERS, Server

BEIJING = ZoneInfo("Asia/Shanghai")
_colours = itertools.count(1)
_tokens: dict[tuple[str, str], dict[str, str]] = {}


def headers(server: Server, user: tuple[str, str]) -> dict[str, str]:
    """Bearer headers for ``user``, signed in once per server (hashing is slow)."""
    key = (server.url, user[0])
    if key not in _tokens:
        _tokens[key] = server.api_headers(user)
    return _tokens[key]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def png(size: tuple[int, int] = (320, 180)) -> bytes:
    """A small PNG with different bytes on every call (assets dedup by sha256)."""
    n = next(_colours) + uuid.uuid4().int % 10_000
    colour = ((n * 37) % 256, (n * 91) % 256, (n * 151) % 256)
    out = io.BytesIO()
    # The colour repeats every 256 calls: a unique text chunk keeps the bytes apart.
    info = PngImagePlugin.PngInfo()
    info.add_text("lianbo-test", uuid.uuid4().hex)
    Image.new("RGB", size, colour).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def upload(server: Server, name: str, user: tuple[str, str] = OPERATOR) -> dict[str, Any]:
    """A fresh image asset (a draft) owned by ``user``'s jurisdiction."""
    with server.client(headers=headers(server, user)) as api:
        answer = api.post("/api/v1/assets", files={"file": (name, png(), "image/png")})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def approve(server: Server, asset_id: str, owner: tuple[str, str] = OPERATOR) -> None:
    """Submit, then pass 初审, 复审 and 终审 with three different reviewers."""
    with server.client(headers=headers(server, owner)) as api:
        submitted = api.post(f"/api/v1/assets/{asset_id}/submit")
    assert submitted.status_code == 200, submitted.text
    for reviewer in REVIEWERS:
        with server.client(headers=headers(server, reviewer)) as api:
            passed = api.post(f"/api/v1/assets/{asset_id}/review", json={"decision": "approve"})
        assert passed.status_code == 200, passed.text


def approved_asset(server: Server, name: str, owner: tuple[str, str] = OPERATOR) -> str:
    asset = upload(server, name, owner)
    approve(server, asset["id"], owner)
    return str(asset["id"])


def playlist(
    server: Server, name: str, asset_ids: list[str], owner: tuple[str, str] = OPERATOR
) -> str:
    with server.client(headers=headers(server, owner)) as api:
        answer = api.post(
            "/api/v1/playlists",
            json={"name": name, "items": [{"asset_id": a, "duration_ms": 8000} for a in asset_ids]},
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def playlist_order(
    server: Server, playlist_id: str, owner: tuple[str, str] = OPERATOR
) -> list[str]:
    with server.client(headers=headers(server, owner)) as api:
        answer = api.get(f"/api/v1/playlists/{playlist_id}")
    assert answer.status_code == 200, answer.text
    return [item["asset_id"] for item in answer.json()["items"]]


def today_at(hour: int, days: int = 0) -> datetime:
    """Today's (Beijing) date at ``hour``:00, shifted by ``days``."""
    today = datetime.now(BEIJING).date() + timedelta(days=days)
    return datetime.combine(today, time(hour, 0), BEIJING)


def published_schedule(
    server: Server,
    name: str,
    playlist_id: str,
    region: str,
    *,
    priority: str = "public",
    window: tuple[str, str] | None = None,
    owner: tuple[str, str] = OPERATOR,
) -> str:
    """A schedule from today 00:00 for three days (Beijing), published."""
    body: dict[str, Any] = {
        "name": name,
        "playlist_id": playlist_id,
        "targets": {"regions": [region]},
        "starts_at": today_at(0).isoformat(),
        "ends_at": today_at(0, days=3).isoformat(),
        "priority": priority,
    }
    if window:
        body["daily_window"] = {"start": window[0], "end": window[1]}
    with server.client(headers=headers(server, owner)) as api:
        made = api.post("/api/v1/schedules", json=body)
        assert made.status_code == 201, made.text
        schedule_id = str(made.json()["id"])
        published = api.post(f"/api/v1/schedules/{schedule_id}/publish")
    assert published.status_code == 200, published.text
    return schedule_id


def terminal(
    server: Server, name: str, region: str, owner: tuple[str, str] = OPERATOR
) -> dict[str, Any]:
    with server.client(headers=headers(server, owner)) as api:
        answer = api.post(
            "/api/v1/terminals",
            json={
                "name": name,
                "tier": "outdoor",
                "region": region,
                "latitude": 30.66,
                "longitude": 104.1,
            },
        )
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made
