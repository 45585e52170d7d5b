"""Camera shots registered with a terminal's screen quad; the quad's API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pytest

from lianbo.domain.roles import Role
from tests.integration.monitoring import corpus
from tests.integration.monitoring.conftest import Clip
from tests.integration.monitoring.helpers import clip_asset, moment, origin_of, scheduled, screen
from tests.support.env import Env

pytestmark = pytest.mark.integration

SEED = 11  # one camera geometry: corpus.camera draws it before the picture matters


class Camera:
    """A screen playing the scene clip, watched by a camera."""

    def __init__(self, env: Env, admin: dict[str, str], terminal_id: str, headers: dict[str, str]):
        self.env, self.admin, self.terminal_id, self.headers = env, admin, terminal_id, headers
        self.url = f"/api/v1/terminals/{terminal_id}/screen-quad"
        self.origin: datetime | None = None

    def photo(self, picture: Any) -> tuple[bytes, list[list[float]]]:
        data, quad = corpus.camera(picture, np.random.default_rng(SEED))
        return data, [[x, y] for x, y in quad]

    async def post(self, data: bytes, second: int, **fields: str) -> Any:
        assert self.origin is not None
        taken = moment(self.origin, self.env.clock.now(), second)
        return await self.env.client.post(
            "/terminal/v1/screenshot",
            files={"file": ("photo.jpg", data, "image/jpeg")},
            data={"taken_at": taken.isoformat(), "source": "camera", **fields},
            headers=self.headers,
        )

    async def latest(self) -> Any:
        async with self.env.container.uow() as uow:
            return await uow.screenshots.screenshot(self.terminal_id)


async def watched(env: Env, clip: Clip) -> Camera:
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await clip_asset(env, operator, clip.path, clip.track)
    await scheduled(env, operator, asset["id"])
    terminal_id, headers = await screen(env, admin, tier="outdoor")
    camera = Camera(env, admin, terminal_id, headers)
    camera.origin = await origin_of(env, headers)
    return camera


async def test_camera_shots_are_registered_with_the_stored_quad(env: Env, scene_clip: Clip) -> None:
    camera = await watched(env, scene_clip)
    _, quad = camera.photo(scene_clip.scenes[0])
    put = await env.client.put(camera.url, json={"quad": quad}, headers=camera.admin)
    assert put.status_code == 200, put.text
    assert put.json() == {"terminal_id": camera.terminal_id, "quad": quad}
    assert (await env.client.get(camera.url, headers=camera.admin)).json()["quad"] == quad
    for second in (1, 3):
        data, _ = camera.photo(scene_clip.scenes[second])
        answer = await camera.post(data, second)
        assert answer.status_code == 200, answer.text
        assert answer.json()["verdict"] == "match", answer.json()
    hijack, _ = camera.photo(corpus.picture(104))
    answer = await camera.post(hijack, 2)
    assert answer.status_code == 200 and answer.json()["verdict"] == "mismatch", answer.json()
    stored = await camera.latest()
    assert (stored.source, stored.verdict, stored.sha256) == (
        "camera",
        "mismatch",
        answer.json()["sha256"],
    )


async def test_a_camera_shot_without_a_quad_is_refused_and_nothing_stored(
    env: Env, scene_clip: Clip
) -> None:
    camera = await watched(env, scene_clip)
    data, quad = camera.photo(scene_clip.scenes[1])
    refused = await camera.post(data, 1)
    assert refused.status_code == 409, refused.text
    assert "screen quad" in refused.json()["error"]["message"]
    assert await camera.latest() is None
    assert (await env.client.put(camera.url, json={"quad": quad}, headers=camera.admin)).is_success
    assert (await camera.post(data, 1)).json()["verdict"] == "match"
    deleted = await env.client.delete(camera.url, headers=camera.admin)
    assert deleted.status_code == 204
    assert (await camera.post(data, 1)).status_code == 409
    assert (await env.client.get(camera.url, headers=camera.admin)).status_code == 404
    assert (await env.client.delete(camera.url, headers=camera.admin)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"quad": [[0, 0], [800, 0], [800, 450]]},
        {"quad": [[0, 0], [800, 0], [800, 450], [0, 450], [1, 1]]},
        {"quad": [[0, 0], [800, 0], [800, "450"], [0, 450]]},
        {"quad": [[0, 0], [800, 0], [800, 450], [0]]},
        {"quad": [[0, 0], [800, 450], [800, 0], [0, 450]]},  # a bow-tie
        {"quad": [[0, 0], [0, 450], [800, 450], [800, 0]]},  # anticlockwise
        {"quad": [[0, 0], [400, 0], [800, 0], [0, 450]]},  # three corners on a line
        {"quad": [[0, 0], [1, 0], [1, 1], [0, 1]]},  # a speck
        {"quad": [[0, 0], [1e12, 0], [1e12, 450], [0, 450]]},
        {"corners": [[0, 0], [800, 0], [800, 450], [0, 450]]},
        {},
    ],
    ids=[
        "three",
        "five",
        "string",
        "short-point",
        "bow-tie",
        "anticlockwise",
        "collinear",
        "speck",
        "huge",
        "wrong-key",
        "empty",
    ],
)
async def test_a_quad_that_is_no_screen_is_refused(
    env: Env, scene_clip: Clip, body: dict[str, Any]
) -> None:
    camera = await watched(env, scene_clip)
    answer = await env.client.put(camera.url, json=body, headers=camera.admin)
    assert answer.status_code == 422, answer.text
    assert "error" in answer.json()
    assert (await env.client.get(camera.url, headers=camera.admin)).status_code == 404


async def test_a_stub_cannot_come_from_a_camera(env: Env, scene_clip: Clip) -> None:
    camera = await watched(env, scene_clip)
    data, quad = camera.photo(scene_clip.scenes[2])
    await env.client.put(camera.url, json={"quad": quad}, headers=camera.admin)
    answer = await camera.post(data, 2, stub="true")
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "stub"
    assert await camera.latest() is None


async def test_a_quad_outside_the_photo_is_refused_and_nothing_stored(
    env: Env, scene_clip: Clip
) -> None:
    camera = await watched(env, scene_clip)
    data, _ = camera.photo(scene_clip.scenes[2])
    beyond = [[100, 100], [3000, 100], [3000, 1000], [100, 1000]]  # the photo is 1600×1200
    await env.client.put(camera.url, json={"quad": beyond}, headers=camera.admin)
    answer = await camera.post(data, 2)
    assert answer.status_code == 400, answer.text
    assert "outside" in answer.json()["error"]["message"]
    assert await camera.latest() is None


async def test_only_managers_inside_the_jurisdiction_set_a_quad(env: Env, scene_clip: Clip) -> None:
    camera = await watched(env, scene_clip)
    _, quad = camera.photo(scene_clip.scenes[0])
    outsider = await env.as_role(Role.OPERATOR, "510104")
    assert (
        await env.client.put(camera.url, json={"quad": quad}, headers=outsider)
    ).status_code == 404
    viewer = await env.as_role(Role.VIEWER, "5101")
    assert (
        await env.client.put(camera.url, json={"quad": quad}, headers=viewer)
    ).status_code == 403
    insider = await env.as_role(Role.OPERATOR, "510107")
    assert (await env.client.put(camera.url, json={"quad": quad}, headers=insider)).is_success
    assert (await env.client.delete(camera.url, headers=outsider)).status_code == 404
    assert (await env.client.delete(camera.url, headers=viewer)).status_code == 403
    assert (await env.client.get(camera.url, headers=outsider)).status_code == 404
    assert (await env.client.get(camera.url, headers=viewer)).json()["quad"] == quad


async def test_setting_and_clearing_a_quad_is_audited(env: Env, scene_clip: Clip) -> None:
    camera = await watched(env, scene_clip)
    first = [[100, 100], [900, 120], [880, 560], [90, 540]]
    second = [[110, 100], [900, 120], [880, 560], [90, 540]]
    for quad in (first, second):
        await env.client.put(camera.url, json={"quad": quad}, headers=camera.admin)
    await env.client.delete(camera.url, headers=camera.admin)
    entries = (
        await env.client.get(
            "/api/v1/audit", params={"target_id": camera.terminal_id}, headers=camera.admin
        )
    ).json()["items"]
    acts = [(e["action"], e["before"], e["after"]) for e in entries if "quad" in e["action"]]
    assert acts == [
        ("terminal.screen_quad.clear", {"quad": second}, None),
        ("terminal.screen_quad.set", {"quad": first}, {"quad": second}),
        ("terminal.screen_quad.set", None, {"quad": first}),
    ]
    assert all(e["region"] == "510107" for e in entries)
    assert (await env.client.get("/api/v1/audit/verify", headers=camera.admin)).json()["ok"]
