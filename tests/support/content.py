"""Factories for content: uploaded images, approved assets."""

from __future__ import annotations

import io
import itertools
import uuid
from typing import Any

from PIL import Image, PngImagePlugin

from lianbo.domain.roles import Role
from tests.support.env import Env

_colours = itertools.count(1)


def png(colour: tuple[int, int, int] | None = None, size: tuple[int, int] = (64, 36)) -> bytes:
    """A small PNG; each call without a colour gives different bytes."""
    unique = colour is None
    if colour is None:
        n = next(_colours)
        colour = ((n * 37) % 256, (n * 91) % 256, (n * 151) % 256)
    out = io.BytesIO()
    # The colour repeats every 256 calls: a unique text chunk keeps the bytes
    # apart (a given colour stays reproducible, for duplicate tests).
    info = PngImagePlugin.PngInfo()
    if unique:
        info.add_text("lianbo-test", uuid.uuid4().hex)
    Image.new("RGB", size, colour).save(out, "PNG", pnginfo=info)
    return out.getvalue()


async def upload(env: Env, headers: dict[str, str], data: bytes, filename: str = "海报.png") -> Any:
    return await env.client.post(
        "/api/v1/assets",
        files={"file": (filename, data, "application/octet-stream")},
        headers=headers,
    )


async def approved_asset(
    env: Env, operator: dict[str, str], region: str = "51", data: bytes | None = None
) -> dict[str, Any]:
    """An image (``data``, else a small PNG) taken through all three review
    levels by three reviewers."""
    asset: dict[str, Any] = (await upload(env, operator, data or png())).json()
    url = f"/api/v1/assets/{asset['id']}"
    await env.client.post(f"{url}/submit", headers=operator)
    for _ in range(3):
        reviewer = await env.as_role(Role.REVIEWER, region)
        response = await env.client.post(
            f"{url}/review", json={"decision": "approve"}, headers=reviewer
        )
        assert response.status_code == 200, response.text
    return asset
