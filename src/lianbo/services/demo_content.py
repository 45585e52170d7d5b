"""Demo programme: a few approved slides, a playlist and a published schedule.

Made the way an operator would make them: uploaded (here: rendered with
Pillow), QC'd by the worker, passed by three different reviewers, put in a
playlist and published to the whole province. Idempotent.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from lianbo.domain.playlists import Fit
from lianbo.domain.review import Decision, ReviewState
from lianbo.domain.roles import Role
from lianbo.domain.schedules import PriorityClass, Targets, parse_window
from lianbo.domain.users import SYSTEM, Actor
from lianbo.services import playlists, review, schedules, users
from lianbo.services.auth import actor_of
from lianbo.services.context import Context
from lianbo.services.ingest import ingest_blob
from lianbo.services.playlists import ItemRequest
from lianbo.services.schedules import ScheduleRequest

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SLIDES = (
    ("联播 · 四川省超高清联播网", "Sichuan UHD broadcast network", (12, 36, 84)),
    ("大屏进户外城市地标", "Landmark screens", (120, 30, 40)),
    ("中屏进社区影厅", "Community halls", (20, 90, 60)),
    ("小屏进千家万户客厅", "Living rooms", (90, 60, 10)),
)
REVIEWERS = ("demo-reviewer-1", "demo-reviewer-2", "demo-reviewer-3")
OPERATOR = "demo-operator"
PASSWORD = "lianbo-demo"


def slide(title: str, subtitle: str, colour: tuple[int, int, int]) -> bytes:
    """A 1920×1080 PNG title slide."""
    image = Image.new("RGB", (1920, 1080), colour)
    draw = ImageDraw.Draw(image)
    big = ImageFont.truetype(str(FONT), 110) if FONT.exists() else ImageFont.load_default(110)
    small = ImageFont.truetype(str(FONT), 56) if FONT.exists() else ImageFont.load_default(56)
    text = title if FONT.exists() else subtitle
    draw.text((960, 480), text, font=big, fill="white", anchor="mm")
    draw.text((960, 640), subtitle, font=small, fill=(220, 230, 240), anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def _people(container: Context) -> tuple[Actor, list[Actor]]:
    found: list[Actor] = []
    for name, role in [(OPERATOR, Role.OPERATOR), *[(r, Role.REVIEWER) for r in REVIEWERS]]:
        async with container.uow() as uow:
            existing = await uow.users.by_username(name)
            user = (
                existing[0]
                if existing
                else await users.create_user(
                    uow,
                    container.clock,
                    SYSTEM,
                    username=name,
                    password=PASSWORD,
                    role=role,
                    region="51",
                )
            )
        found.append(actor_of(user, None))
    return found[0], found[1:]


async def seed_programme(container: Context) -> int:
    """Returns how many slides were added (0 when the demo already has them)."""
    operator, reviewers = await _people(container)
    async with container.uow() as uow:
        existing, _ = await uow.assets.search(
            within="51", states=None, kind=None, query="demo-", fit_tier=None, limit=1, offset=0
        )
    if existing:
        return 0
    asset_ids = []
    for index, (title, subtitle, colour) in enumerate(SLIDES):
        writer = container.blobs.writer(1 << 30)
        writer.write(slide(title, subtitle, colour))
        added = await ingest_blob(container, operator, writer.finish(), f"demo-{index + 1}.png")
        asset_ids.append(added.asset.id)
        async with container.uow() as uow:
            await review.submit(uow, container.clock, operator, added.asset.id)
            for reviewer in reviewers:
                asset = await review.review(
                    uow, container.clock, reviewer, added.asset.id, Decision.APPROVE, None
                )
        assert asset.review_state is ReviewState.APPROVED
    await _publish(container, operator, asset_ids)
    return len(asset_ids)


async def _publish(container: Context, operator: Actor, asset_ids: list[str]) -> None:
    async with container.uow() as uow:
        playlist = await playlists.create_playlist(
            uow,
            container.clock,
            operator,
            "演示节目单",
            [ItemRequest(a, 8000, Fit.COVER) for a in asset_ids],
        )
    now = container.clock.now()
    request = ScheduleRequest(
        name="全省联播演示",
        playlist_id=playlist.id,
        targets=Targets(("51",)),
        starts_at=now - timedelta(days=7),
        ends_at=now + timedelta(days=30),
        priority=PriorityClass.LOCAL,
        timezone="Asia/Shanghai",
        rrule=None,
        daily_window=parse_window("06:00", "00:00"),
        sync=True,
    )
    async with container.uow() as uow:
        schedule = await schedules.create_schedule(uow, container.clock, operator, request)
        await schedules.publish(uow, container.clock, operator, schedule.id)
