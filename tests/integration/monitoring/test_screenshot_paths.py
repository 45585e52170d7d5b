"""The screenshot fast path answers as the route does; latest rows are batched."""

from __future__ import annotations

from typing import Any

import pytest

from lianbo.domain.roles import Role
from tests.integration.monitoring import corpus
from tests.integration.monitoring.conftest import Clip
from tests.integration.monitoring.helpers import clip_asset, moment, origin_of, scheduled, screen
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def _playing(env: Env, clip: Clip) -> tuple[str, dict[str, str], Any]:
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await clip_asset(env, operator, clip.path, clip.track)
    await scheduled(env, operator, asset["id"])
    terminal_id, headers = await screen(env, admin)
    origin = await origin_of(env, headers)

    async def post(data: bytes, second: int, **fields: str) -> Any:
        taken = moment(origin, env.clock.now(), second)
        return await env.client.post(
            "/terminal/v1/screenshot",
            files={"file": ("shot.jpg", data, "image/jpeg")},
            data={"taken_at": taken.isoformat(), **fields},
            headers=headers,
        )

    return terminal_id, headers, post


async def test_the_fast_path_and_the_route_give_one_answer(env: Env, scene_clip: Clip) -> None:
    """A plain form is verified before routing once the caches know the token;
    an extra field sends the same shot through the route."""
    _, _, post = await _playing(env, scene_clip)
    for second, picture in ((1, scene_clip.scenes[1]), (2, corpus.picture(105))):
        data = corpus.framebuffer(picture, 1920, 1.0, corpus.BOTTOM)
        fast, routed = await post(data, second), await post(data, second, note="routed")
        assert fast.status_code == routed.status_code == 200, (fast.text, routed.text)
        assert fast.headers["content-type"] == routed.headers["content-type"]
        same = {k: v for k, v in fast.json().items() if k != "alarms"}
        assert same == {k: v for k, v in routed.json().items() if k != "alarms"}
    assert fast.json()["verdict"] == "mismatch"
    assert fast.json()["alarms"] == [] and len(routed.json()["alarms"]) == 1  # twice in a row
    refused = await post(b"GIF89a" + bytes(64), 1)  # the service refuses: the route answers
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "file"
    late = await post(corpus.framebuffer(scene_clip.scenes[1], 1280, 1.0, ""), 1, taken_at="now")
    assert late.status_code == 400 and late.json()["error"]["field"] == "taken_at"


async def test_latest_screenshots_wait_for_the_flusher_when_batching(
    env: Env, scene_clip: Clip
) -> None:
    terminal_id, _, post = await _playing(env, scene_clip)
    monitor = env.container.monitor
    monitor.batching = True  # as under the server's background job
    try:
        first = await post(corpus.framebuffer(scene_clip.scenes[0], 1280, 1.0, ""), 0)
        second = await post(corpus.framebuffer(scene_clip.scenes[3], 1280, 1.0, ""), 3)
        assert first.json()["verdict"] == second.json()["verdict"] == "match"
        async with env.container.uow() as uow:
            assert await uow.screenshots.screenshot(terminal_id) is None
        await monitor.flush()
    finally:
        monitor.batching = False
    async with env.container.uow() as uow:
        stored = await uow.screenshots.screenshot(terminal_id)
    assert stored is not None and stored.sha256 == second.json()["sha256"]
    assert stored.expected is not None and stored.expected["at_s"] == 3.5
