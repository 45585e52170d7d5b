"""POST /terminal/v1/screenshot against a scheduled clip with a real pHash track."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from lianbo.domain.roles import Role
from tests.integration.monitoring import corpus
from tests.integration.monitoring.conftest import Clip
from tests.integration.monitoring.helpers import clip_asset, moment, origin_of, scheduled, screen
from tests.support.env import Env

pytestmark = pytest.mark.integration


class Scene:
    """A screen playing the scene clip, and how to post shots from it."""

    def __init__(
        self, env: Env, headers: dict[str, str], terminal_id: str, origin: datetime
    ) -> None:
        self.env, self.headers, self.terminal_id, self.origin = env, headers, terminal_id, origin

    async def post(self, data: bytes, second: int, **fields: str) -> Any:
        taken = moment(self.origin, self.env.clock.now(), second)
        return await self.env.client.post(
            "/terminal/v1/screenshot",
            files={"file": ("shot.bin", data, "application/octet-stream")},
            data={"taken_at": taken.isoformat(), **fields},
            headers=self.headers,
        )


async def playing(
    env: Env, clip: Clip, tier: str = "outdoor"
) -> tuple[Scene, dict[str, str], dict[str, Any]]:
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await clip_asset(env, operator, clip.path, clip.track)
    await scheduled(env, operator, asset["id"])
    terminal_id, headers = await screen(env, admin, tier=tier)
    return Scene(env, headers, terminal_id, await origin_of(env, headers)), admin, asset


async def latest(env: Env, terminal_id: str) -> Any:
    async with env.container.uow() as uow:
        return await uow.screenshots.screenshot(terminal_id)


async def test_shots_of_the_expected_scene_match(env: Env, scene_clip: Clip) -> None:
    scene, admin, asset = await playing(env, scene_clip)
    kinds = [(1920, 1.0, False), (1280, 0.7, False), (1920, 1.3, False), (1280, 1.0, True)]
    for second, kind in zip([0, 1, 2, 3], kinds, strict=True):
        answer = await scene.post(corpus.framebuffer(scene_clip.scenes[second], *kind), second)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["expected"]["asset_id"] == asset["id"]
        assert abs(body["expected"]["at_s"] - (second + 0.5)) < 0.01
        assert body["verdict"] == "match", (kind, body)
    out = io.BytesIO()
    scene_clip.scenes[4].save(out, "PNG")
    assert (await scene.post(out.getvalue(), 4)).json()["verdict"] == "match"
    alarms = (await env.client.get("/api/v1/alarms", headers=admin)).json()
    assert alarms["items"] == []
    wall = (await env.client.get("/api/v1/monitoring/wall", headers=admin)).json()
    [item] = [i for i in wall["items"] if i["terminal_id"] == scene.terminal_id]
    assert item["verdict"] == "match" and item["tier"] == "outdoor"
    shown = await env.client.get(item["screenshot_url"])
    assert shown.status_code == 200 and shown.content.startswith(b"\x89PNG")


async def test_other_content_is_a_mismatch_then_a_critical_alarm(
    env: Env, scene_clip: Clip
) -> None:
    scene, admin, asset = await playing(env, scene_clip, tier="home")
    first = await scene.post(corpus.framebuffer(corpus.picture(101), 1920, 1.0, False), 1)
    assert first.json()["verdict"] == "mismatch" and first.json()["alarms"] == []
    env.clock.advance(seconds=5)
    second = await scene.post(corpus.framebuffer(corpus.picture(102), 1920, 1.0, False), 2)
    assert second.json()["verdict"] == "mismatch"
    [alarm_id] = second.json()["alarms"]
    alarm = (await env.client.get(f"/api/v1/alarms/{alarm_id}", headers=admin)).json()
    assert (alarm["type"], alarm["severity"]) == ("content-mismatch", "critical")
    evidence = alarm["evidence"]
    assert evidence["screenshot"] == second.json()["sha256"]
    assert evidence["expected"]["asset_id"] == asset["id"]
    assert abs(evidence["expected"]["at_s"] - 2.5) < 0.01
    shot = await env.client.get(evidence["screenshot_url"], headers=admin)
    assert shot.status_code == 200 and shot.headers["content-type"] == "image/jpeg"
    expected = await env.client.get(evidence["expected_url"], headers=admin)
    assert expected.status_code == 200, expected.text
    assert Image.open(io.BytesIO(expected.content)).width == 640
    for url in (evidence["screenshot_url"], evidence["expected_url"]):  # Range refused as JSON
        bad = await env.client.get(url, headers={**admin, "Range": "bytes=abc"})
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "Range"
        beyond = await env.client.get(url, headers={**admin, "Range": "bytes=99999999-"})
        assert beyond.status_code == 416 and "error" in beyond.json()
    outsider = await env.as_role(Role.MONITOR, "510104")
    hidden = await env.client.get(evidence["screenshot_url"], headers=outsider)
    assert hidden.status_code == 404


async def test_black_screen_while_a_bright_clip_is_expected(env: Env, scene_clip: Clip) -> None:
    scene, _, _ = await playing(env, scene_clip)
    black = corpus.jpeg(Image.new("RGB", (1920, 1080), (4, 4, 4)))
    answer = await scene.post(black, 2)
    assert answer.status_code == 200 and answer.json()["verdict"] == "black"


async def test_a_stub_shot_is_kept_but_proves_nothing(env: Env, scene_clip: Clip) -> None:
    scene, admin, _ = await playing(env, scene_clip)
    data = corpus.framebuffer(corpus.picture(103), 1280, 1.0, False)
    for second in (1, 2):
        answer = await scene.post(data, second, stub="true")
        assert answer.json()["verdict"] == "unknown"
    assert (await env.client.get("/api/v1/alarms", headers=admin)).json()["items"] == []


@pytest.mark.parametrize(
    ("data", "fields", "status"),
    [
        (b"GIF89a" + b"\x00" * 64, {}, 400),
        (b"just some text pretending to be a picture", {}, 400),
        (b"\xff\xd8\xff" + b"\x00" * 100, {}, 400),  # a JPEG signature, then nothing
        (b"\xff\xd8\xff" + b"\x00" * (8 * 1024 * 1024), {}, 413),
        (None, {"taken_at": "yesterday"}, 400),
        (None, {"source": "satellite"}, 400),
    ],
    ids=["gif", "text", "broken-jpeg", "too-large", "bad-time", "bad-source"],
)
async def test_a_bad_screenshot_is_refused_and_nothing_stored(
    env: Env, scene_clip: Clip, data: bytes | None, fields: dict[str, str], status: int
) -> None:
    scene, _, _ = await playing(env, scene_clip)
    good = corpus.framebuffer(scene_clip.scenes[0], 1280, 1.0, False)
    if "taken_at" in fields:
        answer = await env.client.post(
            "/terminal/v1/screenshot",
            files={"file": ("s.jpg", good, "image/jpeg")},
            data=fields,
            headers=scene.headers,
        )
    else:
        answer = await scene.post(data if data is not None else good, 0, **fields)
    assert answer.status_code == status, answer.text
    assert "error" in answer.json()
    assert await latest(env, scene.terminal_id) is None


async def test_a_screenshot_for_another_terminal_is_refused(env: Env, scene_clip: Clip) -> None:
    scene, admin, _ = await playing(env, scene_clip)
    other_id, _ = await screen(env, admin)
    good = corpus.framebuffer(scene_clip.scenes[0], 1280, 1.0, False)
    answer = await scene.post(good, 0, terminal_id=other_id)
    assert answer.status_code == 403
    assert await latest(env, scene.terminal_id) is None and await latest(env, other_id) is None
    missing = await env.client.post(
        "/terminal/v1/screenshot",
        data={"taken_at": (env.clock.now() - timedelta(seconds=1)).isoformat()},
        headers=scene.headers,
    )
    assert missing.status_code == 400
    unauthenticated = await env.client.post(
        "/terminal/v1/screenshot", files={"file": ("s.jpg", good, "image/jpeg")}
    )
    assert unauthenticated.status_code == 401
