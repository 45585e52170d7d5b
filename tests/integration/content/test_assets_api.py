"""Upload, dedup, tickers/streams, bad input, jurisdiction, resumable upload."""

from __future__ import annotations

import base64
import hashlib

import pytest

from lianbo.domain.roles import Role
from tests.support.content import png, upload
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def test_upload_types_by_content_and_dedups(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "510107")
    data = png()
    first = await env.client.post(
        "/api/v1/assets",
        files={"file": ("poster.mp4", data, "video/mp4")},
        data={"name": "春节海报"},
        headers=operator,
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["kind"] == "image"  # by content, not by the .mp4 name
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["review_state"] == "draft" and body["qc_status"] == "pending"
    assert body["name"] == "春节海报"
    again = await upload(env, operator, data, filename="copy.png")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    stored = env.container.blobs.path(body["sha256"])
    assert stored.read_bytes() == data
    media = await env.client.get(f"/media/{body['sha256']}")
    assert media.status_code == 200 and media.content == data
    assert media.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert media.headers["content-type"] == "image/png"
    listed = (await env.client.get("/api/v1/assets?kind=image", headers=operator)).json()
    assert listed["total"] == 1


@pytest.mark.parametrize(
    ("data", "filename", "status", "words"),
    [
        (b"", "empty.png", 400, "empty"),
        (b"%PDF-1.4 not media at all" * 20, "clip.mp4", 400, "unsupported"),
        (png(), "../../x", 400, "path"),
    ],
)
async def test_bad_files_are_refused_and_nothing_is_kept(
    env: Env, data: bytes, filename: str, status: int, words: str
) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    response = await upload(env, operator, data, filename=filename)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]["message"]
    assert (await env.client.get("/api/v1/assets", headers=operator)).json()["total"] == 0
    leftovers = [p for p in env.container.blobs.root.rglob("*") if p.is_file()]
    assert leftovers == []


async def test_over_the_size_limit_is_413(env: Env) -> None:
    env.container.settings.max_upload_bytes = 1000
    operator = await env.as_role(Role.OPERATOR, "51")
    response = await upload(env, operator, png(size=(400, 400)) + b"\0" * 2000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert [p for p in env.container.blobs.root.rglob("*") if p.is_file()] == []


async def test_tickers_and_streams(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    ticker = await env.client.post(
        "/api/v1/assets",
        json={"kind": "ticker", "name": "天气", "text": "今晚有大雨"},
        headers=operator,
    )
    assert ticker.status_code == 201 and ticker.json()["sha256"] is None
    stream = await env.client.post(
        "/api/v1/assets",
        json={"kind": "stream", "name": "直播", "url": "rtmp://live.example/app"},
        headers=operator,
    )
    assert stream.status_code == 201 and stream.json()["qc_status"] == "n/a"
    bad = await env.client.post(
        "/api/v1/assets",
        json={"kind": "stream", "name": "x", "url": "file:///etc/passwd"},
        headers=operator,
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "url"
    wrong = await env.client.post(
        "/api/v1/assets", json={"kind": "video", "name": "x"}, headers=operator
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "kind"


async def test_assets_outside_the_jurisdiction_are_not_found(env: Env) -> None:
    wuhou = await env.as_role(Role.OPERATOR, "510107")
    jinjiang = await env.as_role(Role.OPERATOR, "510104")
    asset = (await upload(env, wuhou, png())).json()
    assert (
        await env.client.get(f"/api/v1/assets/{asset['id']}", headers=jinjiang)
    ).status_code == 404
    assert (await env.client.get("/api/v1/assets", headers=jinjiang)).json()["total"] == 0
    submit = await env.client.post(f"/api/v1/assets/{asset['id']}/submit", headers=jinjiang)
    assert submit.status_code == 404
    # The same bytes in another jurisdiction are that jurisdiction's own asset.
    theirs = await upload(env, jinjiang, png())
    assert theirs.status_code == 201 and theirs.json()["id"] != asset["id"]


async def test_viewers_cannot_upload(env: Env) -> None:
    viewer = await env.as_role(Role.VIEWER, "51")
    assert (await upload(env, viewer, png())).status_code == 403


def tus(headers: dict[str, str], **extra: str) -> dict[str, str]:
    return headers | {"Tus-Resumable": "1.0.0"} | extra


async def test_a_broken_resumable_upload_continues_from_the_last_byte(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    data = png(size=(640, 360)) + b""
    name = base64.b64encode("宣传海报.png".encode()).decode()
    created = await env.client.post(
        "/api/v1/uploads",
        headers=tus(
            operator, **{"Upload-Length": str(len(data)), "Upload-Metadata": f"name {name}"}
        ),
    )
    assert created.status_code == 201
    url = created.headers["location"]
    half = len(data) // 2
    part = {"Content-Type": "application/offset+octet-stream"}
    first = await env.client.patch(
        url, content=data[:half], headers=tus(operator, **part, **{"Upload-Offset": "0"})
    )
    assert first.status_code == 204 and first.headers["upload-offset"] == str(half)
    # The connection "broke"; the client asks where to resume.
    head = await env.client.head(url, headers=tus(operator))
    assert head.headers["upload-offset"] == str(half)
    wrong = await env.client.patch(
        url, content=data[half:], headers=tus(operator, **part, **{"Upload-Offset": "0"})
    )
    assert wrong.status_code == 409
    rest = await env.client.patch(
        url, content=data[half:], headers=tus(operator, **part, **{"Upload-Offset": str(half)})
    )
    assert rest.status_code == 204
    asset_id = rest.headers["lianbo-asset-id"]
    asset = (await env.client.get(f"/api/v1/assets/{asset_id}", headers=operator)).json()
    assert asset["sha256"] == hashlib.sha256(data).hexdigest()
    assert asset["name"] == "宣传海报.png" and asset["kind"] == "image"


async def test_resumable_upload_bad_input(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    env.container.settings.max_upload_bytes = 10_000
    too_big = await env.client.post(
        "/api/v1/uploads", headers=tus(operator, **{"Upload-Length": "20000"})
    )
    assert too_big.status_code == 413
    no_version = await env.client.post(
        "/api/v1/uploads", headers=operator | {"Upload-Length": "10"}
    )
    assert no_version.status_code == 400
    created = await env.client.post(
        "/api/v1/uploads", headers=tus(operator, **{"Upload-Length": "10"})
    )
    url = created.headers["location"]
    wrong_type = await env.client.patch(
        url,
        content=b"x",
        headers=tus(operator, **{"Upload-Offset": "0", "Content-Type": "text/plain"}),
    )
    assert wrong_type.status_code == 415
    other = await env.as_role(Role.OPERATOR, "51")
    assert (await env.client.head(url, headers=tus(other))).status_code == 404
    too_long = await env.client.patch(
        url,
        content=b"x" * 11,
        headers=tus(
            operator, **{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
        ),
    )
    assert too_long.status_code == 400
