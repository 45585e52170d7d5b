"""From publishing a schedule to the signed manifest a screen fetches."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lianbo.domain.canonical import canonical_json
from lianbo.domain.roles import Role
from lianbo.services import manifests
from tests.support.content import approved_asset, png, upload
from tests.support.env import Env
from tests.support.waiting import blocked_behind, until

pytestmark = pytest.mark.integration


async def screen(env: Env, admin: dict[str, str], **fields: Any) -> tuple[str, dict[str, str]]:
    created = await env.terminal(admin, **fields)
    body = (
        await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    ).json()
    return created["id"], {"Authorization": f"Bearer {body['token']}"}


def schedule_body(playlist_id: str, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "name": "新闻联播",
        "playlist_id": playlist_id,
        "targets": {"regions": ["510107"]},
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat(),
        "priority": "local",
    } | extra


async def playlist(env: Env, operator: dict[str, str], *asset_ids: str) -> str:
    response = await env.client.post(
        "/api/v1/playlists",
        json={"name": "晚间", "items": [{"asset_id": a, "duration_ms": 15000} for a in asset_ids]},
        headers=operator,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def verify(envelope: dict[str, Any], raw: bytes, keys: list[dict[str, str]]) -> None:
    key = next(k for k in keys if k["key_id"] == envelope["key_id"])
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
    public.verify(base64.b64decode(envelope["signature"]), raw)


def manifest_bytes(text: str) -> bytes:
    """The manifest exactly as embedded (the canonical bytes that were signed)."""
    start = text.index('{"manifest":') + len('{"manifest":')
    end = text.rindex(',"signature":')
    return text[start:end].encode()


async def test_publish_reaches_the_screen_signed_and_cacheable(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN, "51")
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await approved_asset(env, operator)
    pid = await playlist(env, operator, asset["id"])
    terminal_id, token = await screen(env, admin, region="510107")
    _, elsewhere = await screen(env, admin, region="510104")

    created = await env.client.post("/api/v1/schedules", json=schedule_body(pid), headers=operator)
    assert created.status_code == 201, created.text
    before = await env.client.get("/terminal/v1/manifest", headers=token)
    assert json.loads(before.text)["manifest"]["playlists"] == {}  # a draft reaches no screen

    published = await env.client.post(
        f"/api/v1/schedules/{created.json()['id']}/publish", headers=operator
    )
    assert published.json()["state"] == "published"
    response = await env.client.get("/terminal/v1/manifest", headers=token)
    envelope = json.loads(response.text)
    body = envelope["manifest"]
    assert pid in body["playlists"]
    assert body["files"][0]["sha256"] == asset["sha256"]
    assert any(e["schedule_id"] == created.json()["id"] for e in body["timeline"])
    raw = manifest_bytes(response.text)
    assert raw == canonical_json(body)
    keys = (await env.client.get("/terminal/v1/keys")).json()["keys"]
    verify(envelope, raw, keys)
    tampered = raw.replace(asset["sha256"].encode(), asset["sha256"][::-1].encode())
    with pytest.raises(InvalidSignature):
        verify(envelope, tampered, keys)

    etag = response.headers["etag"]
    again = await env.client.get("/terminal/v1/manifest", headers=token | {"If-None-Match": etag})
    assert again.status_code == 304
    other = json.loads((await env.client.get("/terminal/v1/manifest", headers=elsewhere)).text)
    assert other["manifest"]["playlists"] == {}

    media = await env.client.get(f"/media/{asset['sha256']}")
    assert media.status_code == 200
    admin_audit = (await env.client.get("/api/v1/audit?action=schedule.", headers=admin)).json()
    assert {e["action"] for e in admin_audit["items"]} == {"schedule.create", "schedule.publish"}
    assert terminal_id


async def test_revoking_an_asset_takes_it_out_of_every_manifest(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN, "51")
    operator = await env.as_role(Role.OPERATOR, "51")
    kept, revoked = await approved_asset(env, operator), await approved_asset(env, operator)
    pid = await playlist(env, operator, kept["id"], revoked["id"])
    _, wuhou = await screen(env, admin, region="510107")
    _, jinjiang = await screen(env, admin, region="510104", tier="home")
    sid = (
        await env.client.post(
            "/api/v1/schedules",
            json=schedule_body(pid, targets={"regions": ["51"]}),
            headers=operator,
        )
    ).json()["id"]
    await env.client.post(f"/api/v1/schedules/{sid}/publish", headers=operator)
    for token in (wuhou, jinjiang):
        files = json.loads((await env.client.get("/terminal/v1/manifest", headers=token)).text)
        assert {f["sha256"] for f in files["manifest"]["files"]} == {
            kept["sha256"],
            revoked["sha256"],
        }
    reviewer = await env.as_role(Role.REVIEWER, "51")
    out = await env.client.post(
        f"/api/v1/assets/{revoked['id']}/revoke", json={"reason": "侵权"}, headers=reviewer
    )
    assert out.status_code == 200
    for token in (wuhou, jinjiang):
        body = json.loads((await env.client.get("/terminal/v1/manifest", headers=token)).text)[
            "manifest"
        ]
        assert {f["sha256"] for f in body["files"]} == {kept["sha256"]}
        assert [i["asset_id"] for i in body["playlists"][pid]["items"]] == [kept["id"]]


async def test_bad_programming_input(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "510107")
    draft = (await upload(env, operator, png())).json()
    unapproved = await env.client.post(
        "/api/v1/playlists",
        json={"name": "x", "items": [{"asset_id": draft["id"]}]},
        headers=operator,
    )
    assert unapproved.status_code == 409 and draft["id"] in unapproved.json()["error"]["message"]
    asset = await approved_asset(env, operator, region="510107")
    pid = await playlist(env, operator, asset["id"])
    cases = [
        ({"ends_at": "2020-01-01T00:00:00+08:00"}, 422, "ends_at"),
        ({"rrule": "FREQ=SOMETIMES"}, 422, "rrule"),
        ({"timezone": "Mars/Olympus"}, 422, "timezone"),
        ({"priority": "emergency"}, 422, "priority"),
        ({"starts_at": "2026-11-23T08:00:00"}, 422, "starts_at"),
        ({"targets": {"regions": ["510104"]}}, 404, "targets.regions.0"),
        ({"daily_window": {"start": "8am", "end": "09:00"}}, 422, "daily_window.start"),
        ({"playlist_id": "nope"}, 404, "playlist_id"),
    ]
    for change, status, field in cases:
        response = await env.client.post(
            "/api/v1/schedules", json=schedule_body(pid) | change, headers=operator
        )
        assert response.status_code == status, (change, response.text)
        assert response.json()["error"]["field"] == field, change
    listed = (await env.client.get("/api/v1/schedules", headers=operator)).json()
    assert listed["total"] == 0


async def test_gaps_play_the_tiers_default_filler(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN, "51")
    operator = await env.as_role(Role.OPERATOR, "51")
    pid = await playlist(env, operator, (await approved_asset(env, operator))["id"])
    env.container.settings.filler_playlists = {"home": pid}
    _, living_room = await screen(env, admin, region="510107", tier="home")
    _, landmark = await screen(env, admin, region="510107", tier="outdoor")
    home = json.loads((await env.client.get("/terminal/v1/manifest", headers=living_room)).text)
    assert {(e["priority"], e["playlist_id"]) for e in home["manifest"]["timeline"]} == {
        ("filler", pid)
    }
    assert pid in home["manifest"]["playlists"]
    outdoor = json.loads((await env.client.get("/terminal/v1/manifest", headers=landmark)).text)
    assert {e["playlist_id"] for e in outdoor["manifest"]["timeline"]} == {None}


async def test_two_processes_building_one_audiences_manifest_at_once_both_succeed(
    env: Env,
) -> None:
    # Another process is mid-rebuild of the same audience (its row written,
    # not yet committed) when this one builds it on a first fetch.
    admin = await env.as_role()
    await screen(env, admin, region="510107")
    async with env.container.uow() as uow:
        [key] = await uow.terminals.audiences()
    now = env.clock.now()
    theirs = {"audience_key": key, "audience": {}, "version": "theirs", "body": "{}"}
    theirs |= {"signature": "-", "key_id": "-", "built_at": now, "in_force_from": now}
    other = env.container.uow()
    async with other:
        await other.programming.lock_manifests()
        await other.programming.put_manifests([theirs])
        building = asyncio.create_task(manifests.rebuild(env.container, {key}))
        await until(lambda: blocked_behind(env, building), "the rebuild waits for the other")
        await other.commit()
    built = await building  # a key error here was a 500 for the screen
    async with env.container.uow() as uow:
        stored = await uow.programming.manifest(key)
    assert built.changed == 1 and stored is not None and stored.version != "theirs"
