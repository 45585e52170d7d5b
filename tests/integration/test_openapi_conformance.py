"""A bounded schemathesis run over /openapi.json, on both stores.

Every operation in the document is called with generated requests, valid
and invalid (schemathesis' boundary cases and a few random ones), as an
admin (with a screen's token on /terminal/v1), again on things that exist
(real ids in the path), and without credentials. The run fails on any 5xx
and on any answer the document does not describe (status code, content
type, headers, body). Seeds are fixed (``derandomize``) and the budget is
small, so the run is the same every time and fits CI.

Not covered: ``WS /terminal/v1/ws`` (not an OpenAPI operation; see
tests/integration/fleet). Generated strings include NUL and other control
characters; tests/integration/test_text_sweep.py puts one into every field.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from lianbo.adapters.fleet.topics import audience_key
from lianbo.domain.roles import Role
from tests.integration.alerts.support import at_sample_day, issue
from tests.support import fuzz
from tests.support.content import approved_asset
from tests.support.env import Env
from tests.support.waiting import until

pytestmark = pytest.mark.integration

AS_ADMIN = fuzz.Budget(positive=5, negative=5, coverage=True)
ANONYMOUS = fuzz.Budget(positive=3, negative=0)
# Each login checks a password hash (slow on purpose) and ten failures a
# minute meet the rate limit: the boundary cases cover it.
SLOW = {"POST /api/v1/auth/token": fuzz.Budget(positive=2, negative=2, coverage=True)}


async def _world(env: Env) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Credentials by path prefix, and one real id per path parameter."""
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN, "51")
    leaving = await env.as_role(Role.ADMIN, "51")  # logout revokes it, once
    enrolled = await env.client.post(
        "/terminal/v1/enrol", json={"code": (await env.terminal(admin))["enrolment_code"]}
    )
    screen = {"Authorization": f"Bearer {enrolled.json()['token']}"}
    asset = await approved_asset(env, admin)
    playlist = await _created(env, admin, "/api/v1/playlists", _playlist(asset["id"]))
    schedule = await _created(env, admin, "/api/v1/schedules", _schedule(env, playlist["id"]))
    upload = await env.client.post(
        "/api/v1/uploads", headers=admin | {"Tus-Resumable": "1.0.0", "Upload-Length": "10"}
    )
    known = {
        "user_id": (await env.client.get("/api/v1/users?limit=1", headers=admin)).json()["items"][
            0
        ]["id"],
        "code": "510107",
        "terminal_id": (await env.terminal(admin))["id"],  # not the screen's: it may be retired
        "asset_id": asset["id"],
        "sha256": asset["sha256"],
        "playlist_id": playlist["id"],
        "schedule_id": schedule["id"],
        "alert_id": (await issue(env, admin))["id"],
        "upload_id": upload.headers["Location"].rsplit("/", 1)[1],
        **(await _published(env, screen)),
    }
    credentials = {"/api/v1/auth/logout": leaving, "/terminal/v1/": screen, "/api/v1/": admin}
    return credentials, known


async def _published(env: Env, screen: dict[str, str]) -> dict[str, str]:
    """The screen's audience key and manifest version (GET /manifests/...)."""
    text = (await env.client.get("/terminal/v1/manifest", headers=screen)).text
    manifest = json.loads(text)["manifest"]
    return {"audience_key": audience_key(manifest["audience"]), "version": manifest["version"]}


async def _created(env: Env, headers: dict[str, str], url: str, body: Any) -> Any:
    response = await env.client.post(url, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _playlist(asset_id: str) -> dict[str, Any]:
    return {"name": "晚间", "items": [{"asset_id": asset_id, "duration_ms": 15000}]}


def _schedule(env: Env, playlist_id: str) -> dict[str, Any]:
    now = env.clock.now()
    return {
        "name": "新闻联播",
        "playlist_id": playlist_id,
        "targets": {"regions": ["510107"]},
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat(),
        "priority": "local",
    }


def _report(failures: dict[str, str]) -> str:
    return "\n\n".join(f"=== {label}\n{text}" for label, text in sorted(failures.items()))


async def test_every_answer_is_in_the_document(env: Env) -> None:
    document = (await env.client.get("/openapi.json")).json()
    schema = fuzz.load(document)
    session = fuzz.session_for(asyncio.get_running_loop(), env.client)
    credentials, known = await _world(env)
    runs = [
        fuzz.Run(schema, session, credentials, AS_ADMIN, SLOW, known),
        fuzz.Run(schema, session, {}, ANONYMOUS),
    ]
    failures: dict[str, str] = {}
    # As in a served process: on PostgreSQL it hears the other processes'
    # events, else /healthz rightly answers 503 (not ready) to every probe.
    await env.container.bus.start()
    try:
        await until(lambda: env.container.bus.connected, "the bus listener connected")
        for run in runs:
            failures |= await asyncio.to_thread(run.all)
    finally:
        await env.container.bus.stop()
    assert not failures, _report(failures)
