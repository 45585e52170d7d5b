"""``lianbo regions outlines load`` and ``lianbo regions import`` on both
stores, and what they load seen by another process (a second container and
app on the same store)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from shapely.geometry import Point

from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from lianbo.domain.audit import AuditQuery
from lianbo.domain.roles import Role
from lianbo.services import outlines
from tests.support.env import PASSWORD, Env

pytestmark = pytest.mark.integration

LIANBO = str(Path(sys.executable).with_name("lianbo"))
NBS = Path(__file__).parents[2] / "data" / "regions" / "nbs_510107.csv"
# Two made-up 街道 inside 武侯区 (lon, lat), side by side.
WEST = [[104.00, 30.60], [104.04, 30.60], [104.04, 30.65], [104.00, 30.65], [104.00, 30.60]]
EAST = [[104.04, 30.60], [104.08, 30.60], [104.08, 30.65], [104.04, 30.65], [104.04, 30.60]]


def lianbo(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    """The command as an admin runs it, on this test's store."""
    settings = env.container.settings
    extra = {"LIANBO_DATA_DIR": str(settings.data_dir), "COLUMNS": "200"}
    if settings.database_url:
        extra["LIANBO_DATABASE_URL"] = settings.database_url
    return subprocess.run(
        [LIANBO, *args], capture_output=True, text=True, env=os.environ | extra, timeout=300
    )


def collection(*features: tuple[str, list[list[float]]], prop: str = "code") -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {prop: code, "name": "街道"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
            for code, ring in features
        ],
    }


@asynccontextmanager
async def second_process(env: Env) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """Another container and app on the same store: what another process sees."""
    other = bootstrap(env.container.settings, clock=env.clock)
    transport = httpx.ASGITransport(app=create_app(container=other), client=("203.0.113.9", 1))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://b.test") as client:
            yield other, client
    finally:
        await other.close()


async def test_townships_import_then_their_outlines_load_and_every_process_sees_them(
    env: Env, tmp_path: Path
) -> None:
    imported = lianbo(env, "regions", "import", str(NBS))
    assert imported.returncode == 0, imported.stderr
    assert "9 regions added from nbs_510107.csv (3 already known)" in imported.stdout
    async with env.container.uow() as uow:
        village = await uow.regions.get("510107021201")
        township = await uow.regions.get("510107021")
    assert village is not None and village.category == "121"
    assert village.parent_code == "510107021"
    assert village.full_name == "四川省 成都市 武侯区 簇桥街道 龙井村委会"
    assert township is not None and township.category is None
    again = lianbo(env, "regions", "import", str(NBS))
    assert "0 regions added from nbs_510107.csv (12 already known)" in again.stdout

    file = tmp_path / "townships.geojson"
    file.write_text(json.dumps(collection(("510107001000", WEST), ("510107021", EAST))))
    loaded = lianbo(env, "regions", "outlines", "load", str(file))
    assert loaded.returncode == 0, loaded.stderr
    assert "2 region outlines loaded from townships.geojson" in loaded.stdout

    async with second_process(env) as (other, client):
        async with other.uow() as uow:
            west = await outlines.outline(uow, "510107001")
            county = await outlines.outline(uow, "510107")  # still the shipped one
        assert west is not None and west.contains(Point(104.02, 30.62))
        assert county is not None and county.contains(Point(104.043, 30.642))
        issuer = await env.user(Role.ISSUER, "510107")
        page = await _composer(client, issuer.username)
    assert 'data-outline="510107" data-role="home"' in page
    assert 'data-pick="510107001"' in page and 'data-pick="510107021"' in page
    assert 'data-role="context"' in page  # 武侯区's neighbours in Chengdu


async def test_an_admin_outline_overrides_the_shipped_one(env: Env, tmp_path: Path) -> None:
    file = tmp_path / "wuhou.geojson"
    file.write_text(json.dumps(collection(("510107", WEST), prop="adcode")))
    loaded = lianbo(env, "regions", "outlines", "load", str(file), "--property", "adcode")
    assert loaded.returncode == 0, loaded.stderr
    async with env.container.uow() as uow:
        wuhou = await outlines.outline(uow, "510107")
        query = AuditQuery(action="region.outlines.load")
        entries, _ = await uow.audit.search(query, limit=5, offset=0)
    assert wuhou is not None and not wuhou.contains(Point(104.06, 30.62))  # the square only
    assert [e.after for e in entries] == [{"count": 1, "first": "510107", "last": "510107"}]


async def test_a_bad_file_is_one_line_and_changes_nothing(env: Env, tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.geojson"
    unknown.write_text(json.dumps(collection(("510107", WEST), ("510107999", EAST))))
    refused = lianbo(env, "regions", "outlines", "load", str(unknown))
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: file: feature 2: unknown region code 510107999"
    missing = tmp_path / "missing.geojson"
    missing.write_text(json.dumps(collection(("510107", WEST), prop="adcode")))
    no_code = lianbo(env, "regions", "outlines", "load", str(missing))
    assert no_code.returncode == 1
    assert no_code.stderr.strip() == (
        "error: missing.geojson: feature 1: no region code in property 'code'"
    )
    orphan = tmp_path / "orphan.csv"
    orphan.write_text("统计用区划代码,城乡分类代码,名称\n510107999001,220,某村\n", encoding="utf-8")
    no_parent = lianbo(env, "regions", "import", str(orphan))
    assert no_parent.returncode == 1
    assert no_parent.stderr.strip() == (
        "error: file: region 510107999001: its parent 510107999 is unknown"
    )
    async with env.container.uow() as uow:
        assert await uow.outlines.codes_within("") == []
        assert await uow.regions.get("510107999001") is None


async def _composer(client: httpx.AsyncClient, username: str) -> str:
    login = await client.post("/login", data={"username": username, "password": PASSWORD})
    assert login.status_code == 303, login.text
    csrf = hashlib.sha256(("csrf:" + client.cookies["lianbo_session"]).encode()).hexdigest()
    page = await client.get("/alerts/new", headers={"X-CSRF-Token": csrf})
    assert page.status_code == 200, page.text
    return page.text


def test_a_data_dir_never_initialised_is_one_line(tmp_path: Path) -> None:
    env = os.environ | {"LIANBO_DATA_DIR": str(tmp_path / "none"), "COLUMNS": "200"}
    env.pop("LIANBO_DATABASE_URL", None)
    answer = subprocess.run(
        [LIANBO, "regions", "import", str(NBS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert answer.returncode == 1
    assert (
        answer.stderr.strip()
        == f"error: no database in {tmp_path / 'none'} (run lianbo init first)"
    )
