"""The demo province: an admin, 四川省, and screens in several cities."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass

from lianbo.domain.roles import Role
from lianbo.domain.terminals import TerminalDraft, TerminalFilter, Tier
from lianbo.domain.users import SYSTEM
from lianbo.services import presence, terminals, users
from lianbo.services.context import Context

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "lianbo-demo"

# (county code, place, latitude, longitude): real districts and rough centres.
PLACES: tuple[tuple[str, str, float, float], ...] = (
    ("510104", "成都春熙路", 30.6570, 104.0810),
    ("510105", "成都宽窄巷子", 30.6690, 104.0550),
    ("510106", "成都金牛万达", 30.7060, 104.0530),
    ("510107", "成都武侯祠", 30.6460, 104.0480),
    ("510108", "成都建设路", 30.6720, 104.1050),
    ("510116", "成都双流机场", 30.5780, 103.9560),
    ("510303", "自贡彩灯公园", 29.3500, 104.7780),
    ("510411", "攀枝花仁和", 26.4980, 101.7380),
    ("510502", "泸州江阳", 28.8780, 105.4420),
    ("510603", "德阳旌阳", 31.1280, 104.3970),
    ("510703", "绵阳涪城", 31.4640, 104.7570),
    ("510802", "广元利州", 32.4360, 105.8260),
    ("511002", "内江市中", 29.5870, 105.0580),
    ("511102", "乐山市中", 29.5520, 103.7660),
    ("511302", "南充顺庆", 30.7960, 106.0920),
    ("511502", "宜宾翠屏", 28.7660, 104.6300),
    ("511602", "广安广安", 30.4560, 106.6330),
    ("511702", "达州通川", 31.2140, 107.5010),
    ("511802", "雅安雨城", 29.9810, 103.0010),
    ("513401", "西昌邛海", 27.8940, 102.2640),
)
TIER_NAMES = {Tier.OUTDOOR: "户外大屏", Tier.HALL: "社区影厅", Tier.HOME: "家庭客厅"}
TAGS = {Tier.OUTDOOR: ("landmark", "4k"), Tier.HALL: ("community",), Tier.HOME: ("stb",)}


@dataclass(frozen=True, slots=True)
class DemoReport:
    admin_created: bool
    terminals_created: int
    slides_created: int = 0


def demo_drafts(per_place: int = 4, seed: int = 51) -> list[TerminalDraft]:
    """Terminals over three tiers around each place, repeatable by seed."""
    rng = random.Random(seed)
    drafts = []
    for code, place, lat, lon in PLACES:
        for index in range(per_place):
            tier = (Tier.OUTDOOR, Tier.HALL, Tier.HOME)[index % 3]
            drafts.append(
                TerminalDraft(
                    name=f"{place}{TIER_NAMES[tier]}{index // 3 + 1:02d}",
                    tier=tier,
                    region=code,
                    latitude=round(lat + rng.uniform(-0.03, 0.03), 5),
                    longitude=round(lon + rng.uniform(-0.03, 0.03), 5),
                    tags=TAGS[tier],
                    groups=("sichuan-demo",),
                )
            )
    return drafts


async def seed(container: Context) -> DemoReport:
    """Idempotent: a second run finds everything there and adds nothing."""
    clock = container.clock
    admin_created = False
    async with container.uow() as uow:
        if not await uow.users.exists(ADMIN_USERNAME):
            await users.create_user(
                uow,
                clock,
                SYSTEM,
                username=ADMIN_USERNAME,
                password=ADMIN_PASSWORD,
                role=Role.ADMIN,
                region="51",
                display_name="演示管理员",
            )
            admin_created = True
    created = 0
    async with container.uow() as uow:
        _, existing = await terminals.list_terminals(
            uow, SYSTEM, TerminalFilter(group="sichuan-demo"), limit=1, offset=0
        )
        if existing == 0:
            for draft in demo_drafts():
                await terminals.create_terminal(uow, clock, SYSTEM, draft)
                created += 1
    from lianbo.services.demo_content import seed_programme

    return DemoReport(admin_created, created, await seed_programme(container))


FLEET_FILE = "demo-fleet.json"


async def enrol_fleet(container: Context) -> dict[str, str]:
    """Enrol the demo screens as installers would (new code, then exchange it).

    Every ninth screen is left awaiting installation. Tokens are kept in the
    data dir so the simulated screens survive a restart of ``lianbo demo``.
    """
    path = container.settings.data_dir / FLEET_FILE
    tokens: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    async with container.uow() as uow:
        found, _ = await terminals.list_terminals(
            uow, SYSTEM, TerminalFilter(group="sichuan-demo"), limit=1000, offset=0
        )
    for index, terminal in enumerate(sorted(found, key=lambda t: t.name)):
        if index % 9 == 8 or terminal.id in tokens or terminal.enrolled_at is not None:
            continue
        async with container.uow() as uow:
            issued = await terminals.reissue_code(uow, container.clock, SYSTEM, terminal.id)
        async with container.uow() as uow:
            done = await terminals.enrol(uow, container.clock, container.keys, issued.code)
        tokens[done.terminal_id] = done.token
    path.write_text(json.dumps(tokens))
    path.chmod(0o600)
    return tokens


async def simulate_fleet(container: Context) -> None:
    """Heartbeat for the enrolled demo screens, except every seventh (dark)."""
    tokens = await enrol_fleet(container)
    alive = [tid for index, tid in enumerate(sorted(tokens)) if index % 7 != 3]
    while True:
        async with container.uow() as uow:
            now = container.clock.now()
            await presence.record_heartbeats(uow, [(t, now) for t in alive])
        await asyncio.sleep(container.settings.heartbeat_seconds)
