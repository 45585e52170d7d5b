"""What a map draws (``services.outlines.map_outlines``), on both stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from shapely.geometry import box

from lianbo.adapters.geo.outlines import to_geojson
from lianbo.domain.regions import Region
from lianbo.services import outlines
from tests.support.env import Env

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 8, tzinfo=UTC)


async def test_a_nationwide_map_draws_provinces_and_nothing_is_home(env: Env) -> None:
    async with env.container.uow() as uow:
        drawn = await outlines.map_outlines(uow, "")
    assert {o.role for o in drawn} == {"part"} and len(drawn) >= 34
    assert {len(o.code) for o in drawn} == {2} and not any(o.pickable for o in drawn)


async def test_a_city_map_picks_counties_among_neighbouring_cities(env: Env) -> None:
    async with env.container.uow() as uow:
        picking = await outlines.map_outlines(uow, "5101", pick=True)
        viewing = await outlines.map_outlines(uow, "5101")
    roles = {o.code: (o.role, o.pickable, o.shipped) for o in picking}
    assert roles["5101"] == ("home", False, True)
    assert roles["510107"] == ("part", True, True)
    assert roles["5103"] == ("context", False, True)
    assert picking[-1].code == "5101"  # drawn last, on top
    assert next(o.name for o in picking if o.code == "510107") == "武侯区"
    assert {o.role for o in viewing} == {"home", "part", "context"}


async def test_a_county_map_picks_the_townships_an_admin_loaded(env: Env) -> None:
    township = Region("510107001", "浆洗街街道", "510107", "四川省 成都市 武侯区 浆洗街街道")
    async with env.container.uow() as uow:
        await uow.regions.add_many([township], builtin=False)
        await uow.outlines.put_many(
            [("510107001", to_geojson(box(104.0, 30.6, 104.04, 30.65)))], NOW, "admin"
        )
        await uow.commit()
    async with env.container.uow() as uow:
        drawn = await outlines.map_outlines(uow, "510107", pick=True)
        loaded = await outlines.outline(uow, "510107001")
    roles = {o.code: (o.role, o.pickable, o.shipped) for o in drawn}
    assert roles["510107001"] == ("part", True, False)
    assert roles["510107"] == ("home", False, True)
    assert loaded is not None and loaded.equals(box(104.0, 30.6, 104.04, 30.65))
