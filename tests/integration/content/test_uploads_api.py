"""Resumable uploads under abuse: odd digits, two writers at once, wrong types."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest

from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from lianbo.domain.roles import Role
from tests.support.content import png
from tests.support.env import Env

OCTETS = {"Content-Type": "application/offset+octet-stream"}


def tus(headers: dict[str, str], **extra: str | bytes) -> dict[str, str | bytes]:
    return headers | {"Tus-Resumable": "1.0.0"} | extra


def error_of(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    error: dict[str, str] = response.json()["error"]
    assert error["code"] and error["message"]
    return error


async def started(env: Env, headers: dict[str, str], length: int) -> str:
    created = await env.client.post(
        "/api/v1/uploads", headers=tus(headers, **{"Upload-Length": str(length)})
    )
    assert created.status_code == 201, created.text
    return created.headers["location"]


@pytest.mark.parametrize(
    "text", ["²", "¹", "+1", "-1", "1" * 19], ids=["sup2", "sup1", "plus", "minus", "19-digits"]
)
async def test_counts_take_ascii_digits_only(env: Env, text: str) -> None:
    # Sent as Latin-1 bytes: the server reads header bytes as Latin-1, and "²"
    # (0xB2) is a character ``str.isdigit`` accepts and ``int`` refuses.
    digits = text.encode("latin-1")
    operator = await env.as_role(Role.OPERATOR, "51")
    created = await env.client.post(
        "/api/v1/uploads", headers=tus(operator, **{"Upload-Length": digits})
    )
    assert error_of(created, 400)["field"] == "upload-length"
    url = await started(env, operator, 10)
    patched = await env.client.patch(
        url, content=b"x", headers=tus(operator, **OCTETS, **{"Upload-Offset": digits})
    )
    assert error_of(patched, 400)["field"] == "upload-offset"


async def test_a_patch_of_the_wrong_type_answers_the_error_shape(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    url = await started(env, operator, 10)
    wrong = await env.client.patch(
        url,
        content=b"x",
        headers=tus(operator, **{"Upload-Offset": "0", "Content-Type": "text/plain"}),
    )
    assert error_of(wrong, 415)["field"] == "Content-Type"
    assert wrong.headers["tus-resumable"] == "1.0.0"


class HeldBody:
    """A PATCH body that sends its first half, then waits for ``release``:
    ``reading`` is set once the server has taken the first half and asks for more."""

    def __init__(self, first: bytes, rest: bytes) -> None:
        self.first, self.rest = first, rest
        self.reading, self.release = asyncio.Event(), asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        self.reading.set()
        await self.release.wait()
        yield self.rest


async def _second_writer_is_refused(env: Env, second: httpx.AsyncClient) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    data = png(size=(320, 180))
    url = await started(env, operator, len(data))
    half = len(data) // 2
    held = HeldBody(data[:half], data[half:])
    headers = tus(operator, **OCTETS, **{"Upload-Offset": "0"})
    first = asyncio.create_task(env.client.patch(url, content=held, headers=headers))
    await held.reading.wait()
    rival = await second.patch(url, content=b"\0" * half, headers=headers)
    error_of(rival, 409)
    error_of(await second.delete(url, headers=tus(operator)), 409)  # nor cancelled meanwhile
    held.release.set()
    done = await first
    assert done.status_code == 204, done.text
    asset_id = done.headers["lianbo-asset-id"]
    asset = (await env.client.get(f"/api/v1/assets/{asset_id}", headers=operator)).json()
    assert asset["sha256"] == hashlib.sha256(data).hexdigest()


async def test_one_writer_per_upload_the_second_gets_409(env: Env) -> None:
    await _second_writer_is_refused(env, env.client)


async def test_one_writer_per_upload_across_server_processes(env: Env) -> None:
    """A second app over the same store and data dir (another ``lianbo serve``)
    shares no memory with the first: the guard is the part file's lock."""
    other = bootstrap(env.container.settings, clock=env.clock)
    transport = httpx.ASGITransport(app=create_app(container=other))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://lianbo.test") as second:
            await _second_writer_is_refused(env, second)
    finally:
        await other.close()


async def test_an_upload_lives_where_its_first_patch_landed_and_starts_again_elsewhere(
    env: Env,
) -> None:
    """Two processes on different hosts: one store, each its own disk. The
    upload is made on one and PATCHed on the other (HAProxy hashes PATCHes on
    the id, not the POST); a PATCH that then lands where the bytes are not
    (their process died) starts the upload again at 0, never over a hole."""
    elsewhere = env.container.settings.media_dir.parent / "media-elsewhere"
    other = bootstrap(
        env.container.settings.model_copy(update={"media_dir": elsewhere}), clock=env.clock
    )
    transport = httpx.ASGITransport(app=create_app(container=other))
    operator = await env.as_role(Role.OPERATOR, "51")
    data = png(size=(320, 180))
    half = len(data) // 2
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://lianbo.test") as second:
            url = await started(env, operator, len(data))  # made here, no part file yet
            first = await second.patch(
                url, content=data[:half], headers=tus(operator, **OCTETS, **{"Upload-Offset": "0"})
            )
            assert first.status_code == 204, first.text  # the part is made there
            headers = tus(operator, **OCTETS, **{"Upload-Offset": str(half)})
            lost = await env.client.patch(url, content=data[half:], headers=headers)
            assert "offset 0" in error_of(lost, 409)["message"]
            head = await env.client.head(url, headers=tus(operator))
            assert head.headers["upload-offset"] == "0"
            again = tus(operator, **OCTETS, **{"Upload-Offset": "0"})
            done = await env.client.patch(url, content=data, headers=again)
    finally:
        await other.close()
    assert done.status_code == 204, done.text
    asset_id = done.headers["lianbo-asset-id"]
    asset = (await env.client.get(f"/api/v1/assets/{asset_id}", headers=operator)).json()
    assert asset["sha256"] == hashlib.sha256(data).hexdigest()
