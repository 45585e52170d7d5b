"""Upload → background QC job → findings, screening, derived files, via the API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from lianbo.adapters.jobs.inprocess import InProcessJobQueue
from lianbo.domain.roles import Role
from lianbo.services.qc_job import Progress, run_qc
from tests.integration.conftest import Media
from tests.support.env import Env

pytestmark = pytest.mark.integration


def waiting(env: Env) -> list[str]:
    """Asset ids the in-process job queue holds (the SQLite default)."""
    assert isinstance(env.container.jobs, InProcessJobQueue)
    return env.container.jobs.waiting()


async def ingest(env: Env, headers: dict[str, str], path: Path) -> dict[str, Any]:
    """Upload through the API, then run the job the worker would run."""
    data = await asyncio.to_thread(path.read_bytes)
    response = await env.client.post(
        "/api/v1/assets", files={"file": (path.name, data)}, headers=headers
    )
    assert response.status_code == 201, response.text
    asset_id = response.json()["id"]
    assert waiting(env) == [asset_id]
    await run_qc(env.container, asset_id, Progress())
    detail: dict[str, Any] = (
        await env.client.get(f"/api/v1/assets/{asset_id}", headers=headers)
    ).json()
    return detail


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
async def test_a_clip_with_black_gets_findings_renditions_and_a_hash_track(
    env: Env, media: Media
) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    detail = await ingest(env, operator, media.get("black_clip"))
    assert detail["qc_status"] == "warnings" and detail["qc_progress"] == 1.0
    black = [f for f in detail["qc"]["findings"] if f["rule"] == "black"]
    assert len(black) == 1
    assert black[0]["start_s"] == pytest.approx(1.0, abs=0.05)
    assert black[0]["end_s"] == pytest.approx(4.0, abs=0.05)
    assert detail["phash_seconds"] == 5
    names = {r["name"] for r in detail["renditions"]}
    assert names == {"poster", "sprite", "home-1080p"}
    for rendition in detail["renditions"]:
        served = await env.client.get(f"/media/{rendition['sha256']}")
        assert served.status_code == 200 and len(served.content) == rendition["size"]
    assert detail["probe"]["width"] and detail["probe"]["frame_rate"]


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
async def test_an_image_with_a_listed_word_is_flagged(
    env: Env, media: Media, cjk_font: Path
) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    detail = await ingest(env, operator, media.get("text_image"))
    hits = detail["screening"]["hits"]
    assert any(h["word"] == "赌博" and h["source"] == "image" for h in hits)


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
async def test_truncated_media_is_kept_with_qc_failed_and_a_reason(env: Env, media: Media) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    detail = await ingest(env, operator, media.get("truncated_clip"))
    assert detail["qc_status"] == "failed", detail["qc"]["findings"]
    assert detail["qc_error"], detail["qc"]["findings"]
    assert any(f["rule"] == "decode" for f in detail["qc"]["findings"])


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
async def test_tickers_are_screened_too(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    created = await env.client.post(
        "/api/v1/assets",
        json={"kind": "ticker", "name": "广告", "text": "线上赌博平台"},
        headers=operator,
    )
    asset_id = created.json()["id"]
    assert waiting(env) == [asset_id]
    await run_qc(env.container, asset_id, Progress())
    detail = (await env.client.get(f"/api/v1/assets/{asset_id}", headers=operator)).json()
    assert detail["qc_status"] == "passed"
    assert [h["word"] for h in detail["screening"]["hits"]] == ["赌博"]


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
async def test_a_decompression_bomb_is_refused_at_upload(env: Env, media: Media) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    data = await asyncio.to_thread(media.get("decompression_bomb").read_bytes)
    response = await env.client.post(
        "/api/v1/assets", files={"file": ("poster.png", data)}, headers=operator
    )
    assert response.status_code == 400 and response.json()["error"]["field"] == "file"
    assert (await env.client.get("/api/v1/assets", headers=operator)).json()["total"] == 0
    assert [p for p in env.container.blobs.root.rglob("*") if p.is_file()] == []
