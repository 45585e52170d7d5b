"""The screens the composer previews and the maps plot, read through services."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lianbo.domain.roles import Role
from lianbo.domain.terminals import TerminalStatus
from lianbo.services import area_preview, fleet_reads
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def _fleet(env: Env) -> None:
    """Screens in Chengdu (5101) in every status, and one in Zigong (5103)."""
    admin = await env.as_role(Role.ADMIN, "51")
    wanted = [
        ("on", "510107", TerminalStatus.ONLINE),
        ("off", "510104", TerminalStatus.OFFLINE),
        ("new", "510107", TerminalStatus.PENDING),
        ("gone", "510107", TerminalStatus.RETIRED),
        ("zigong", "510303", TerminalStatus.ONLINE),
    ]
    for name, region, status in wanted:
        made = await env.terminal(admin, name=name, region=region)
        async with env.container.uow() as uow:
            terminal = await uow.terminals.get(made["id"])
            assert terminal is not None
            await uow.terminals.update(replace(terminal, status=status))
            await uow.commit()


async def test_the_composer_sees_the_enrolled_screens_of_the_subtree(env: Env) -> None:
    await _fleet(env)
    async with env.container.uow() as uow:
        screens = await area_preview.screens_within(uow, "5101")
        one = await area_preview.screens_within(uow, "5101", limit=1)
    assert {(s.name, s.status, s.region) for s in screens} == {
        ("on", "online", "510107"),
        ("off", "offline", "510104"),
    }
    assert len(one) == 1


async def test_the_dashboard_map_plots_every_screen_of_the_subtree_not_retired(env: Env) -> None:
    await _fleet(env)
    async with env.container.uow() as uow:
        positions = await fleet_reads.positions(uow, "5101", 100)
    assert {(p[1], p[3]) for p in positions} == {
        ("on", "online"),
        ("off", "offline"),
        ("new", "pending"),
    }
    assert all(len(p) == 6 for p in positions)
